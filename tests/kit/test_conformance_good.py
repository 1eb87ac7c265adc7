"""The conformance suite passes on a correct driver (the Toy driver in _kit_toy)."""

from __future__ import annotations

from _kit_toy import ToyConformance


class TestToyConformance(ToyConformance):
    """Runs every check of the suite on the correct Toy driver."""
