"""``cloudkit new-driver``: the generated package passes its own tests for every auth scheme and
format, installs, and is found by ``get_driver`` through its entry point."""

from __future__ import annotations

import argparse
import importlib.util
import io
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import cloudkit
from cloudkit._cli.new_driver import add_new_driver_parser
from cloudkit.scaffold import AUTH_CHOICES, FORMAT_CHOICES, DriverNames, new_driver

CLOUDKIT_ROOT = str(Path(cloudkit.__file__).resolve().parents[1])


class _Collect:
    def __init__(self) -> None:
        self.passed = 0
        self.failed: dict[str, str] = {}

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.failed:
            self.failed[report.nodeid] = report.longreprtext
        elif report.when == "call" and report.passed:
            self.passed += 1


@pytest.fixture
def isolated_imports() -> Iterator[None]:
    """Undo the sys.path entries and modules a nested pytest run adds."""
    path = list(sys.path)
    modules = set(sys.modules)
    yield
    sys.path[:] = path
    for name in set(sys.modules) - modules:
        if name.startswith(("cloudkit_", "_acme", "test_acme")):
            del sys.modules[name]


def run_generated_tests(root: Path) -> _Collect:
    collect = _Collect()
    code = pytest.main([str(root), "-q", "-p", "no:cacheprovider", "--rootdir", str(root),
                        "-c", str(root / "pyproject.toml")], plugins=[collect])
    assert code == pytest.ExitCode.OK, "\n\n".join(f"{k}\n{v}" for k, v in collect.failed.items())
    return collect


@pytest.mark.parametrize("fmt", FORMAT_CHOICES)
@pytest.mark.parametrize("auth", AUTH_CHOICES)
def test_generated_package_passes_its_own_tests(tmp_path: Path, auth: str, fmt: str,
                                                isolated_imports: None) -> None:
    name = f"acme-{auth.replace('-', '')}-{fmt}"
    root = new_driver(name, auth=auth, fmt=fmt, path=tmp_path)
    module = DriverNames.parse(name).module
    assert root == tmp_path / f"cloudkit-{name}"
    driver_code = (root / module / "driver.py").read_text()
    assert ("XmlResponse" in driver_code) is (fmt == "xml")
    assert {"token": "BearerTokenConnection", "basic": "BasicAuthConnection",
            "query-key": "QueryKeyConnection"}[auth] in driver_code
    assert driver_code.count("TODO(author)") >= 15
    outcome = run_generated_tests(root)
    assert outcome.passed >= 50
    assert outcome.failed == {}


def test_generated_package_lays_out_the_expected_files(tmp_path: Path) -> None:
    root = new_driver("acme", path=tmp_path)
    files = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    assert {"pyproject.toml", "README.md", "cloudkit_acme/__init__.py", "cloudkit_acme/driver.py",
            "cloudkit_acme/py.typed", "tests/_acme_support.py", "tests/test_acme_conformance.py",
            "tests/test_acme_driver.py", "tests/fixtures/README.md", "tests/fixtures/GET_v1_servers_page1.json",
            "tests/fixtures/GET_v1_servers_page2.json", "tests/fixtures/error_404.json",
            "tests/fixtures/error_502.html"} <= files
    pyproject = (root / "pyproject.toml").read_text()
    assert '[project.entry-points."cloudkit.drivers"]\nacme = "cloudkit_acme.driver:AcmeNodeDriver"' in pyproject
    # cloudkit's distribution name ("cloudkit" on the package index is another project)
    assert 'dependencies = ["cloudkit-compute>=' in pyproject and '"cloudkit>=' not in pyproject
    assert 'test = ["pytest>=8", "responses>=0.25"]' in pyproject
    assert "TODO(author)" in (root / "README.md").read_text()


def test_names_are_checked_and_derived() -> None:
    names = DriverNames.parse("Acme-Cloud")
    assert (names.name, names.module, names.dist, names.Name, names.NAME, names.Title, names.host) == (
        "acme-cloud", "cloudkit_acme_cloud", "cloudkit-acme-cloud", "AcmeCloud", "ACME_CLOUD", "Acme Cloud",
        "api.acme-cloud.example")
    for bad in ("", "9cloud", "acme cloud", "acme--cloud", "acme-", "a" * 41):
        with pytest.raises(ValueError, match="not usable"):
            DriverNames.parse(bad)
    with pytest.raises(ValueError, match="built-in"):
        DriverNames.parse("linode")
    for clash in ("compute", "Compute"):  # would be distributed as cloudkit-compute, cloudkit's own name
        with pytest.raises(ValueError, match="cloudkit's own distribution name"):
            DriverNames.parse(clash)


def test_existing_folder_is_kept_unless_overwrite(tmp_path: Path) -> None:
    root = new_driver("acme", path=tmp_path)
    (root / "mine.txt").write_text("keep")
    with pytest.raises(FileExistsError, match="already exists"):
        new_driver("acme", path=tmp_path)
    assert (root / "mine.txt").read_text() == "keep"
    new_driver("acme", fmt="xml", path=tmp_path, overwrite=True)
    assert not (root / "mine.txt").exists()
    assert (root / "tests/fixtures/GET_v1_plans.xml").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["cloudkit-acme"]  # no staging folder left behind


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cloudkit")
    add_new_driver_parser(parser.add_subparsers(dest="command"))
    return parser


def test_command_line_generates_the_package_and_says_what_next(tmp_path: Path) -> None:
    args = _parser().parse_args(["new-driver", "acme", "--auth", "basic", "--format", "xml", "--path",
                                 str(tmp_path)])
    out, err = io.StringIO(), io.StringIO()
    ctx = argparse.Namespace(args=args, out=out, err=err)  # what cloudkit.cli hands a command
    assert args.func(ctx) == 0
    driver = (tmp_path / "cloudkit-acme" / "cloudkit_acme" / "driver.py").read_text()
    assert "class AcmeConnection(BasicAuthConnection)" in driver and "XmlResponse" in driver
    assert "created " + str(tmp_path / "cloudkit-acme") in out.getvalue()
    assert 'get_driver("acme")' in out.getvalue()
    assert err.getvalue() == ""


@pytest.mark.parametrize(("argv", "message"), [
    (["new-driver", "digitalocean"], "built-in cloudkit driver"),
    (["new-driver", "not a name"], "not usable"),
])
def test_command_line_refuses_bad_names_with_status_2(tmp_path: Path, argv: list[str], message: str) -> None:
    args = _parser().parse_args([*argv, "--path", str(tmp_path)])
    err = io.StringIO()
    assert args.func(argparse.Namespace(args=args, out=io.StringIO(), err=err)) == 2
    assert message in err.getvalue()
    assert list(tmp_path.iterdir()) == []


def test_installed_package_is_found_through_its_entry_point(tmp_path: Path) -> None:
    """pip-installs the generated package (no build isolation, no deps) and asks a fresh
    interpreter for get_driver("acme"); then runs the package's tests against the installed copy."""
    assert importlib.util.find_spec("hatchling") is not None, (
        "the install test builds with hatchling: install cloudkit's test extra")
    root = new_driver("acme", path=tmp_path / "src")
    site = tmp_path / "site"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                          "--no-build-isolation", "--no-deps", "--no-index", "--target", str(site), str(root)],
                         capture_output=True, text=True, timeout=120)
    assert pip.returncode == 0, pip.stdout + pip.stderr
    assert (site / "cloudkit_acme" / "driver.py").is_file()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), CLOUDKIT_ROOT])}
    probe = ("from cloudkit import get_driver, known_providers\n"
             "cls = get_driver('acme')\n"
             "print(cls.__module__, cls.__name__, cls.type, 'acme' in known_providers())\n"
             "print(cls('acme-user-token-123').connection.base_url)\n")
    fresh = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env,
                           cwd=tmp_path, timeout=60)
    assert fresh.returncode == 0, fresh.stderr
    assert fresh.stdout.splitlines() == ["cloudkit_acme.driver AcmeNodeDriver acme True",
                                         "https://api.acme.example"]
    # The tests, run against the installed copy: the source package is moved out of the way.
    (root / "cloudkit_acme").rename(tmp_path / "moved-away")
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], capture_output=True,
                           text=True, env=env, cwd=root, timeout=120)
    assert tests.returncode == 0, tests.stdout[-3000:] + tests.stderr[-2000:]
    assert " passed" in tests.stdout and "failed" not in tests.stdout
