"""Secrets echoed back by a server are scrubbed in every form (issue 16, item 4).

The hostile server copies the whole request (line, headers, body) into its error body, its
status line and its headers, raw, URL-decoded and with ``/`` JSON-escaped. The credentials
hold ``+``, ``/`` and ``=`` so that every encoding differs. Whatever call fails, no form of a
credential (raw, URL-encoded either way, lower-case hex, base64 Basic) may appear in
``str(err)``, ``repr(err)``, ``err.args``, ``err.message``, ``err.body``, ``err.headers``,
the printed traceback, or anywhere on the ``__cause__``/``__context__`` chain; and a refused
connection keeps no requests error (with the key-bearing URL) on that chain. The CLI's
output, ``--debug`` traceback included, is checked the same way.
"""

from __future__ import annotations

import io
import socket
import traceback
from collections.abc import Callable
from typing import Any

import pytest
from _hostile import ENV_OF, KEY, PROVIDERS, SECRET, HostileServer, a_node, echo, make_driver

from cloudkit.cli import main
from cloudkit.driver import NodeDriver
from cloudkit.errors import CloudkitError
from cloudkit.scrub import secret_forms

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


def forms_for(provider: str) -> tuple[str, ...]:
    """Every form of the credentials that must never be shown (NephoScale's user name is not a
    secret, but the password and the Basic pair are)."""
    if provider == "nephoscale":
        return secret_forms([SECRET], [(KEY, SECRET)])
    return secret_forms([KEY])


def test_forms_cover_the_encodings() -> None:
    forms = forms_for("hostvirtual")
    for expected in ("Tok%2Ben%2FSecret%3DValue%2B42%2Fabcdef", "Tok%2Ben/Secret%3DValue%2B42/abcdef",
                     "Tok%2ben%2fSecret%3dValue%2b42%2fabcdef", "Tok+en\\/Secret=Value+42\\/abcdef", KEY):
        assert expected in forms
    basic = forms_for("nephoscale")
    import base64

    assert base64.b64encode(f"{KEY}:{SECRET}".encode()).decode() in basic


def everything_shown(exc: BaseException) -> str:
    """All a user, a logger or a debugger could see of ``exc`` and its chain."""
    parts = ["".join(traceback.format_exception(exc))]
    current: BaseException | None = exc
    for _ in range(20):
        if current is None:
            break
        parts += [str(current), repr(current), repr(current.args), repr(vars(current)),
                  repr(getattr(current, "__notes__", ""))]
        for name in ("message", "body", "headers", "url", "hint"):
            parts.append(repr(getattr(current, name, None)))
        current = current.__cause__ or current.__context__
    return "\n".join(parts)


CALLS: dict[str, Callable[[NodeDriver], Any]] = {
    "list_nodes": lambda d: d.list_nodes(),
    "destroy_node": lambda d: d.destroy_node(a_node(d), ex_force=True),
    "reboot_node": lambda d: d.reboot_node(a_node(d), ex_force=True),
    "list_sizes": lambda d: d.list_sizes(),
}


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("status", [400, 401, 500])
@pytest.mark.parametrize("call", sorted(CALLS))
def test_echoed_request_is_scrubbed(provider: str, status: int, call: str) -> None:
    with HostileServer(echo(status)) as server:
        driver = make_driver(provider, server.url)
        with pytest.raises(CloudkitError) as info:
            CALLS[call](driver)
    assert server.requests, "the request reached the server"
    shown = everything_shown(info.value)
    leaked = [f for f in forms_for(provider) if f in shown]
    assert not leaked, f"{len(leaked)} form(s) of a credential shown, e.g. {leaked[0][:5]}..."
    assert getattr(info.value, "status", None) == status


@pytest.mark.parametrize("provider", PROVIDERS)
def test_refused_connection_keeps_no_key_on_the_chain(provider: str) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now: connection refused
    driver = make_driver(provider, f"http://127.0.0.1:{port}")
    with pytest.raises(CloudkitError) as info:
        driver.list_nodes()
    assert info.value.__context__ is None and info.value.__cause__ is None
    shown = everything_shown(info.value)
    assert not [f for f in forms_for(provider) if f in shown]


def test_chain_and_nested_errors_are_scrubbed() -> None:
    from cloudkit.errors import CreateNodeError, ServerError
    from cloudkit.scrub import scrub_exception

    forms = forms_for("digitalocean")
    inner = ServerError(f"boom {KEY}", 500, body=f"echo {KEY}", headers={"X-Echo": KEY, "Authorization": "x"})
    try:
        try:
            raise ValueError(f"raw {KEY}")
        except ValueError:
            raise CreateNodeError(f"failed {KEY}", 500, resource_id="1", cause=inner, cleaned_up=False,
                                  body=f"b {KEY}") from inner
    except CreateNodeError as exc:
        exc.add_note(f"note {KEY}")
        scrub_exception(exc, forms)
        shown = everything_shown(exc) + repr(vars(inner))
    assert KEY not in shown
    assert inner.headers["Authorization"] == "<redacted>"


def test_truncated_excerpt_does_not_leak_a_prefix() -> None:
    from cloudkit.errors import ProviderError
    from cloudkit.scrub import scrub_exception

    err = ProviderError("x", 400, body="y" * 290 + KEY)  # cut to 300 characters mid-key
    scrub_exception(err, forms_for("digitalocean"))
    assert KEY[:5] not in err.body


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
def test_cli_output_is_scrubbed(provider: str, debug: bool, tmp_path: Any) -> None:
    with HostileServer(echo(400)) as server:
        out, err = io.StringIO(), io.StringIO()
        argv = ["--provider", provider, "--base-url", server.url, "nodes", "list"]
        code = main(argv + (["--debug"] if debug else []), env={"HOME": str(tmp_path), **ENV_OF[provider]},
                    stdout=out, stderr=err)
    assert code == 1
    shown = out.getvalue() + err.getvalue()
    assert "HTTP 400" in shown
    assert not [f for f in forms_for(provider) if f in shown]
