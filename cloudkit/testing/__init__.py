"""Helpers for testing cloudkit drivers and code that uses them.

Import the submodules you need; this package imports nothing heavy on its own:

- :mod:`cloudkit.testing.openapi` checks every HTTP request (and optionally response) a
  driver sends during a test against the provider's OpenAPI description.
"""
