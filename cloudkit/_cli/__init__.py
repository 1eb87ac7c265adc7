"""The parts of the ``cloudkit`` command (:mod:`cloudkit.cli` is its entry point).

Private: the command line is the interface, not these modules.
"""

from __future__ import annotations

__all__ = ["INTERRUPTED", "PROVIDER_FAILED", "USAGE", "UsageError", "exit_status"]

#: Exit statuses: input the user can fix; the provider, the network or a remote machine failed;
#: Ctrl-C (128 + SIGINT, as shells report it).
USAGE, PROVIDER_FAILED, INTERRUPTED = 2, 1, 130


class UsageError(Exception):
    """The command line, the environment or the config file asks for something impossible
    (exit status 2). Not a ``CloudkitError``: nothing was sent to a provider."""


def exit_status(exc: BaseException) -> int:
    """The one rule: 2 when cloudkit refused the user's input before asking the provider (an
    option, argument, provider name, base URL, config file or local file), 1 when the provider,
    the network or a remote machine failed or said no (``ProviderError``, network errors,
    waits, deployments, SSH), 130 for Ctrl-C."""
    from cloudkit.errors import ConfigurationError, DriverNotFoundError, NotSupportedError, ValidationError

    if isinstance(exc, KeyboardInterrupt):
        return INTERRUPTED
    if isinstance(exc, (UsageError, ConfigurationError, DriverNotFoundError, NotSupportedError)):
        return USAGE
    if isinstance(exc, ValidationError) and exc.status is None and not _answered(exc):
        return USAGE  # refused client-side, before any request (a 400/422 answer is the provider's)
    return PROVIDER_FAILED


def _answered(exc: BaseException) -> bool:
    return getattr(exc, "body", None) not in (None, "")
