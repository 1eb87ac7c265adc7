"""Conformance checks on failures and secrets: HTTP errors, malformed bodies and network failures
raise the matching cloudkit errors, and no credential leaks into a repr, log line, error or
model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from cloudkit.driver import NodeDriver
from cloudkit.errors import (
    CloudkitError,
    MalformedResponseError,
    NetworkError,
)
from cloudkit.testing.conformance.base import (
    _MIN_SECRET,
    ERROR_STATUSES,
    ConformanceBase,
    _caller,
    _capture_logs,
    _fix,
    _mask,
)
from cloudkit.testing.fixtures import Route


class FailureChecks(ConformanceBase):
    """Errors and secrets."""

    # -- errors -----------------------------------------------------------------------------

    @pytest.mark.parametrize("status", sorted(ERROR_STATUSES))
    def test_error_status_maps_to_cloudkit_error(self, status: int) -> None:
        expected = ERROR_STATUSES[status]
        error = self._error_route(status)
        if status == 404 and self.listing_404_is_empty:
            result = self._run(lambda d: d.list_nodes(), [error, *self.routes()], max_retries=0)
            assert result == [], (f"listing_404_is_empty is set, but a 404 on list_nodes() gave {result!r}"
                                  + _fix("return [] for the provider's empty-listing 404, or unset the flag"))
            return
        try:
            result = self._run(lambda d: d.list_nodes(), [error, *self.routes()], max_retries=0)
        except expected as exc:
            assert exc.status == status, (f"{expected.__name__}.status is {exc.status}, expected {status}"
                                          + _fix("do not re-raise provider errors with another status"))
            if status == 429:
                wait = getattr(exc, "retry_after", None)
                assert wait is None or isinstance(wait, float), (
                    f"RateLimitError.retry_after is {wait!r}" + _fix("return seconds as float or None"))
            message = self.error_message(status)
            if message is not None:
                assert message in str(exc), (
                    f"HTTP {status} raised {expected.__name__} {str(exc)!r}, which does not show the provider's "
                    f"message {message!r}" + _fix("return (message, code) from your Response class's parse_error()"))
            return
        except MalformedResponseError as exc:
            pytest.fail(f"HTTP {status} raised MalformedResponseError: {exc}; expected {expected.__name__}"
                        + _fix("the error answer was parsed as data: do not make Response.success() accept "
                               "error statuses; let the Response class map them (cloudkit.response.STATUS_ERRORS)"))
        except Exception as exc:
            pytest.fail(f"HTTP {status} raised {type(exc).__name__}: {exc}; expected {expected.__name__}"
                        + _fix("let the Response class map statuses (cloudkit.response.STATUS_ERRORS) "
                               "and do not catch ProviderError in the driver"))
        pytest.fail(f"HTTP {status} on list_nodes() raised nothing and returned {result!r}; expected "
                    f"{expected.__name__}" + _fix("never turn an error status into a value (e.g. an empty list); "
                                                  "let the cloudkit error propagate (if your provider answers an "
                                                  "empty listing with 404, set listing_404_is_empty = True)"))

    def test_malformed_bodies_raise_malformed_response_error(self) -> None:
        method, path = self._list_route()
        problems: list[str] = []
        for body, content_type in self.malformed_bodies:
            route = Route(method, path, body, content_type=content_type)
            try:
                result = self._run(lambda d: d.list_nodes(), [route, *self.routes()], max_retries=0)
            except MalformedResponseError:
                continue
            except Exception as exc:
                problems.append(f"body {body[:40]!r} raised {type(exc).__name__}: {exc}")
            else:
                problems.append(f"body {body[:40]!r} was accepted as a node listing ({len(result)} nodes)")
        assert not problems, ("malformed bodies must raise MalformedResponseError:\n  " + "\n  ".join(problems)
                              + _fix("check the top-level shape of every body (cloudkit.parsing.as_dict/"
                                     "as_list/req) and wrap parsing functions with @parser(...); if one of "
                                     "these bodies is a valid listing for your API (a bare [] array), "
                                     "override malformed_bodies"))

    def test_network_failure_raises_network_error(self) -> None:
        import requests

        method, path = self._list_route()
        route = Route(method, path, raises=requests.exceptions.ConnectionError("connection reset by peer"))
        try:
            result = self._run(lambda d: d.list_nodes(), [route, *self.routes()], max_retries=0)
        except NetworkError:
            return
        except Exception as exc:
            pytest.fail(f"a dropped connection raised {type(exc).__name__}: {exc}; expected NetworkError"
                        + _fix("send requests through self.connection.request(), which translates requests' "
                               "exceptions; never call requests directly"))
        pytest.fail(f"a dropped connection returned {result!r}" + _fix("let NetworkError propagate"))

    # -- secrets ----------------------------------------------------------------------------

    def test_no_secret_in_reprs_logs_or_errors(self) -> None:
        driver = self._driver()
        secrets = self._secrets(driver)
        assert secrets, ("make_driver() built a driver without credentials"
                         + _fix("give the driver a test key (and secret) as a user would"))
        short = [value for _, value in secrets if len(value) < _MIN_SECRET]
        assert not short, (f"a test credential is shorter than {_MIN_SECRET} characters, too short to search for"
                           + _fix("use distinctive test credentials such as 'acme-test-token-7f3a9c'"))
        shown: list[tuple[str, str]] = []
        with _capture_logs() as logs:
            shown += [("repr(driver)", repr(driver)), ("str(driver)", str(driver)),
                      ("repr(driver.connection)", repr(driver.connection))]
            calls: list[tuple[str, Callable[[NodeDriver], Any]]] = [("list_nodes", lambda d: d.list_nodes())]
            for name in ("list_sizes", "list_images", "list_locations", "list_key_pairs"):
                if driver.supports(name):
                    calls.append((name, _caller(name)))
            if self.create_node_kwargs is not None:
                kwargs = dict(self.create_node_kwargs)
                calls.append(("create_node", lambda d: [d.create_node(**kwargs)]))
            for name, call in calls:
                for item in self._run(call):
                    shown += [(f"repr of a {name}() result", repr(item)), (f"str of a {name}() result", str(item)),
                              (f"extra of a {name}() result", repr(getattr(item, "extra", "")))]
            for status in (*sorted(ERROR_STATUSES), 400):
                try:
                    self._run(lambda d: d.list_nodes(), [self._error_route(status), *self.routes()], max_retries=0)
                except CloudkitError as exc:
                    shown += [(f"the HTTP {status} error message", str(exc)),
                              (f"repr of the HTTP {status} error", repr(exc)),
                              (f"the HTTP {status} error's body excerpt", str(getattr(exc, "body", "")))]
            import requests

            method, path = self._list_route()
            drop = Route(method, path, raises=requests.exceptions.ConnectionError("connection reset"))
            try:
                self._run(lambda d: d.list_nodes(), [drop, *self.routes()], max_retries=0)
            except CloudkitError as exc:
                shown += [("the network error message", str(exc)), ("repr of the network error", repr(exc))]
        shown += [("a log line", line) for line in logs.lines]
        leaks = [f"{label} shows {where}: {_mask(text, value)!r}"
                 for label, value in secrets for where, text in shown if value in text]
        assert not leaks, (
            "a credential given to the driver appears where users and logs can see it:\n  "
            + "\n  ".join(dict.fromkeys(leaks))
            + _fix("keep credentials out of __repr__, extra and messages; log URLs only through "
                   "Connection (it redacts); never echo request headers or query strings"))
