"""The parts of the ``cloudkit`` command (:mod:`cloudkit.cli` is its entry point).

Private: the command line is the interface, not these modules.
"""

from __future__ import annotations

__all__ = ["UsageError"]


class UsageError(Exception):
    """The command line, the environment or the config file asks for something impossible
    (exit status 2). Not a ``CloudkitError``: nothing was sent to a provider."""
