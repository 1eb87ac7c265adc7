"""The CLI, the scaffold and the README learn the built-in providers from the registry alone.

A new built-in provider is its registry line (``cloudkit.providers``) and its driver's
``credential_names`` / ``demo_defaults``: nothing else in cloudkit lists providers by hand.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from _cli_support import CliRunner

from cloudkit import get_driver
from cloudkit._cli.config import (
    CREDENTIALS_END,
    CREDENTIALS_START,
    credential_names,
    credentials_table,
    env_credentials,
    env_names,
)
from cloudkit.capabilities import readme_section
from cloudkit.providers import builtin_providers

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_credentials_table_is_generated_from_the_registry() -> None:
    section = readme_section(README.read_text(encoding="utf-8"), start=CREDENTIALS_START, end=CREDENTIALS_END)
    assert section is not None, f"README.md lacks the {CREDENTIALS_START} ... {CREDENTIALS_END} section"
    assert section == credentials_table(), (
        "the credentials table in README.md is stale: run python -m cloudkit.capabilities --write README.md")
    for provider in env_credentials():
        assert f"| {get_driver(provider).name} | `CLOUDKIT_{provider.upper()}_" in section


def test_the_builtin_drivers_declare_their_credentials() -> None:
    assert env_names("digitalocean") == ("CLOUDKIT_DIGITALOCEAN_TOKEN", None)
    assert env_names("linode") == ("CLOUDKIT_LINODE_TOKEN", None)
    assert env_names("hostvirtual") == ("CLOUDKIT_HOSTVIRTUAL_KEY", None)
    assert env_names("nephoscale") == ("CLOUDKIT_NEPHOSCALE_USER", "CLOUDKIT_NEPHOSCALE_PASSWORD")
    assert credential_names("dummy") == ()  # in memory: no credentials
    assert "dummy" not in env_credentials()
    assert list(env_credentials()) == [p for p in builtin_providers() if p != "dummy"]
    # a provider without a driver of its own declaration (or unknown) gets KEY and SECRET
    assert env_names("acme-cloud") == ("CLOUDKIT_ACME_CLOUD_KEY", "CLOUDKIT_ACME_CLOUD_SECRET")
    assert get_driver("hostvirtual").demo_defaults == {"name": "cloudkit-demo-1.example.com"}


NEW_DRIVER = '''
from typing import ClassVar

from cloudkit.drivers.dummy import DummyNodeDriver


class NewcloudNodeDriver(DummyNodeDriver):
    name = "Newcloud"
    type = "newcloud"
    credential_names: ClassVar[tuple[str, ...]] = ("APITOKEN",)
    demo_defaults: ClassVar[dict[str, str]] = {"name": "demo.newcloud.example"}
'''


@pytest.fixture
def newcloud(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A built-in provider added the way a new one is: one registry line (and its driver)."""
    import cloudkit.providers as providers

    (tmp_path / "newcloud_driver.py").write_text(NEW_DRIVER)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setitem(providers._BUILTIN, "newcloud", ("newcloud_driver", "NewcloudNodeDriver"))
    yield "newcloud"


def test_a_new_builtin_provider_needs_only_its_registry_line(newcloud: str, bare_cli: CliRunner,
                                                              home: Path) -> None:
    assert "newcloud" in builtin_providers() and builtin_providers()[-1] == "dummy"
    assert env_names(newcloud) == ("CLOUDKIT_NEWCLOUD_APITOKEN", None)
    assert "| Newcloud | `CLOUDKIT_NEWCLOUD_APITOKEN` |" in credentials_table()

    # its variable alone chooses it (no --provider), and its token is never shown
    token = "newcloud-secret-token-7f3a9c"
    env = {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "CLOUDKIT_NEWCLOUD_APITOKEN": token}
    result = CliRunner(env).ok("sizes", "-o", "json", "--debug")
    assert result.json() and token not in result.out + result.err
    # and an error without credentials names its variable
    err = bare_cli.run("sizes").err
    assert "CLOUDKIT_NEWCLOUD_APITOKEN" in err and "CLOUDKIT_DIGITALOCEAN_TOKEN" in err

    # `cloudkit providers` lists it with the built-in ones, before the dummy
    rows = [r["provider"] for r in bare_cli.ok("providers", "-o", "json").json()]
    assert rows.index("newcloud") < rows.index("dummy")
    assert "newcloud" in bare_cli.ok("--help").out

    # the scaffold refuses its name, as for every built-in driver
    from cloudkit.scaffold import DriverNames

    with pytest.raises(ValueError, match="built-in cloudkit driver"):
        DriverNames.parse("newcloud")

    # the demo asks the simulator's own registry (no simulator here for it)
    demo = bare_cli.run("demo", "--provider", "newcloud")
    assert demo.code == 2 and "no simulator for 'newcloud'" in demo.err


def test_the_scaffold_refuses_every_builtin_name() -> None:
    from cloudkit.scaffold import DriverNames

    for provider in builtin_providers():
        with pytest.raises(ValueError, match="built-in cloudkit driver"):
            DriverNames.parse(provider)


def test_python_m_capabilities_writes_both_readme_tables(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    from cloudkit._cli.readme import main
    from cloudkit.capabilities import END_MARKER, START_MARKER, render_markdown_table

    readme = tmp_path / "README.md"
    readme.write_text(f"# x\n\n{START_MARKER}\nold\n{END_MARKER}\n\nmiddle\n\n"
                      f"{CREDENTIALS_START}\nold\n{CREDENTIALS_END}\n\nend\n")
    assert main(["--write", str(readme)]) == 0
    assert capsys.readouterr().out == f"{readme}: updated\n"
    text = readme.read_text()
    assert readme_section(text) == render_markdown_table()
    assert readme_section(text, start=CREDENTIALS_START, end=CREDENTIALS_END) == credentials_table()
    assert text.startswith("# x\n\n") and "\n\nmiddle\n\n" in text and text.endswith(f"{CREDENTIALS_END}\n\nend\n")
    assert main(["--write", str(readme)]) == 0
    assert capsys.readouterr().out == f"{readme}: already up to date\n"


def test_python_m_capabilities_still_runs_as_documented(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from cloudkit.capabilities import render_markdown_table

    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(repo)}
    done = subprocess.run([sys.executable, "-m", "cloudkit.capabilities"], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == render_markdown_table() and done.stderr == ""
