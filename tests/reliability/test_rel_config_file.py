"""The CLI's config file: credentials in a URL stay hidden, and unsafe or odd files are
refused with exit status 2 and one line (issue 16, item 6).

* ``base_url = "http://admin:PASSWORD@host"`` never shows PASSWORD: not in ``accounts list``
  (table or JSON), not in an error, not with ``--debug``;
* a config holding a secret that group or others can write (or read), or that belongs to
  another user (root excepted, as OpenSSH does), is refused;
* a non-regular file (``/dev/zero``, a FIFO, a directory) and a file over 1 MiB are refused
  without being read.
"""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest
from _hostile import PROVIDERS, HostileServer, echo

from cloudkit.cli import main

pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

PASSWORD = "Url-Pass+w0rd-93f1c2"
#: A password written with a raw "/" (not URL-encoded): urlsplit would misread its host.
SLASHED = "Url-Slash/w0rd-5b7e"
TOKEN = "cfg-token-7d1e44a9b0"


def account_text(provider: str, base_url: str, *, token: bool = True) -> str:
    fields = f'provider = "{provider}"\nbase_url = "{base_url}"\n'
    if token:
        fields += (f'user = "cfg-user"\npassword = "{TOKEN}"\n' if provider == "nephoscale"
                   else f'token = "{TOKEN}"\n')
    return f'default_account = "acc"\n\n[accounts.acc]\n{fields}'


def write(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    os.chmod(path, mode)
    return path


def run(tmp_path: Path, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), env={"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "xdg")},
                stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_url_credentials_never_shown(provider: str, tmp_path: Path) -> None:
    with HostileServer(echo(401)) as server:  # echoes the request back, credentials and all
        base = server.url.replace("http://", f"http://admin:{PASSWORD}@") + "/api"
        config = write(tmp_path / "c.toml", account_text(provider, base))
        for argv in (["accounts", "list"], ["-o", "json", "accounts", "list"], ["--debug", "accounts", "list"],
                     ["--debug", "nodes", "list"], ["nodes", "list"], ["-o", "json", "nodes", "list"]):
            code, out, err = run(tmp_path, "--config", str(config), *argv)
            shown = out + err
            assert PASSWORD not in shown and "Url-Pass" not in shown, argv
            assert TOKEN not in shown, argv
            if argv[-2] == "accounts":
                assert code == 0 and "127.0.0.1" in out
            else:
                assert code == 1 and "401" in err  # the echoing server refused the credentials


@pytest.mark.parametrize("password", [SLASHED, "Url%2FEnc%40ded-77a1"])
def test_odd_url_credentials_hidden_in_accounts_list(password: str, tmp_path: Path) -> None:
    config = write(tmp_path / "c.toml", account_text("linode", f"https://admin:{password}@api.example.net/v4"))
    for argv in (["accounts", "list"], ["-o", "json", "accounts", "list"]):
        code, out, err = run(tmp_path, "--config", str(config), *argv)
        assert code == 0, err
        assert "Url-" not in out + err and "api.example.net" in out


def test_url_credentials_make_the_file_secret(tmp_path: Path) -> None:
    base = f"http://admin:{PASSWORD}@127.0.0.1:9"
    config = write(tmp_path / "c.toml", account_text("digitalocean", base, token=False), 0o644)
    code, _, err = run(tmp_path, "--config", str(config), "accounts", "list")
    assert code == 2 and "readable by" in one_line(err)
    assert PASSWORD not in err


@pytest.mark.parametrize("mode", [0o620, 0o602, 0o660, 0o622, 0o606])
def test_writable_by_others_is_refused(mode: int, tmp_path: Path) -> None:
    config = write(tmp_path / "c.toml", account_text("digitalocean", "http://127.0.0.1:1"), mode)
    code, _, err = run(tmp_path, "--config", str(config), "accounts", "list")
    assert code == 2
    line = one_line(err)
    assert "refusing" in line and ("writable by" in line or "readable by" in line)
    assert f"chmod 600 {config}" in line


def test_writable_but_secret_free_config_is_accepted(tmp_path: Path) -> None:
    config = write(tmp_path / "c.toml", '[accounts.mem]\nprovider = "dummy"\n', 0o666)
    code, out, err = run(tmp_path, "--config", str(config), "accounts", "list")
    assert code == 0, err
    assert "mem" in out


def test_owned_by_another_user_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write(tmp_path / "c.toml", account_text("digitalocean", "http://127.0.0.1:1"))
    if os.getuid() == 0:
        os.chown(config, 65534, 65534)  # as root: really give it away
    else:
        real = os.getuid()
        monkeypatch.setattr(os, "getuid", lambda: real + 1)  # as anyone else: pretend to be another
    code, _, err = run(tmp_path, "--config", str(config), "accounts", "list")
    assert code == 2
    assert "belongs to another user" in one_line(err)


@pytest.mark.parametrize("kind", ["dev-zero", "fifo", "directory", "big"])
def test_non_regular_and_huge_files_are_refused(kind: str, tmp_path: Path) -> None:
    if kind == "dev-zero":
        path = Path("/dev/zero")
    elif kind == "fifo":
        path = tmp_path / "fifo.toml"
        os.mkfifo(path, 0o600)  # no writer: reading it would block forever
    elif kind == "directory":
        path = tmp_path / "dir.toml"
        path.mkdir()
    else:
        path = write(tmp_path / "big.toml", "# padding\n" * 110_000)  # just over 1 MiB
    started = time.monotonic()
    code, _, err = run(tmp_path, "--config", str(path), "accounts", "list")
    assert code == 2
    line = one_line(err)
    assert "refusing" in line and ("regular file" in line or "1 MiB" in line)
    assert time.monotonic() - started < 10
