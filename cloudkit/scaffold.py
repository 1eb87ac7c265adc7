"""``cloudkit new-driver``: generate a ready driver package for a new provider.

``new_driver("acme")`` writes ``./cloudkit-acme/``: a driver module (Connection subclass
with the chosen auth hook, Response subclass with a wired error mapping, state map, the
actions each state allows, a driver class with every contract method written against an
example API), fixtures for that API (a two-page listing, error bodies, a proxy's HTML page),
tests (cloudkit's conformance suite plus error-mapping and request tests), a README, and a
``pyproject.toml`` declaring the ``cloudkit.drivers`` entry point. It installs and passes its
own tests as generated; each place the author must change is marked ``TODO(author)``.

The templates live in ``cloudkit/_scaffold/``; the command line is :mod:`cloudkit._cli.new_driver`.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from cloudkit._version import __version__
from cloudkit.providers import builtin_providers

#: cloudkit's own distribution name on the package index (the import name is ``cloudkit``).
DISTRIBUTION = "cloudkit-compute"

__all__ = ["AUTH_CHOICES", "FORMAT_CHOICES", "DriverNames", "new_driver", "render_package"]

AUTH_CHOICES = ("token", "basic", "query-key")
FORMAT_CHOICES = ("json", "xml")

_NAME_RULE = re.compile(r"^[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*$")
_PLACEHOLDER = re.compile(r"\{\{([A-Za-z_]+)\}\}")


@dataclass(frozen=True)
class DriverNames:
    """Every spelling of a provider name the generated package uses."""

    name: str       # registry name and entry point: "acme-cloud"
    name_id: str    # identifier: "acme_cloud"
    module: str     # import package: "cloudkit_acme_cloud"
    dist: str       # distribution and folder: "cloudkit-acme-cloud"
    Name: str       # class prefix: "AcmeCloud"
    NAME: str       # constant prefix: "ACME_CLOUD"
    Title: str      # human-readable: "Acme Cloud"
    host: str       # example API host: "api.acme-cloud.example"

    @classmethod
    def parse(cls, name: str) -> DriverNames:
        """Check ``name`` and derive the others; ValueError says what is wrong."""
        if not isinstance(name, str):
            raise ValueError("the provider name must be a string")
        clean = name.strip().lower()
        if not _NAME_RULE.match(clean) or len(clean) > 40:
            raise ValueError(
                f"provider name {name!r} is not usable: use 1 to 40 lowercase letters and digits, starting with "
                "a letter, words joined by single '-' or '_' (e.g. 'acme' or 'acme-cloud')")
        if clean in builtin_providers():
            raise ValueError(f"{clean!r} is a built-in cloudkit driver; get_driver({clean!r}) would never reach "
                             "a plugin of that name: choose another name")
        words = re.split(r"[-_]", clean)
        if "cloudkit-" + "-".join(words) == DISTRIBUTION:
            raise ValueError(f"a plugin named {clean!r} would be distributed as {DISTRIBUTION!r}, cloudkit's own "
                             "distribution name: choose another name")
        return cls(name=clean, name_id="_".join(words), module="cloudkit_" + "_".join(words),
                   dist="cloudkit-" + "-".join(words), Name="".join(w.capitalize() for w in words),
                   NAME="_".join(words).upper(), Title=" ".join(w.capitalize() for w in words),
                   host=f"api.{'-'.join(words)}.example")


# -- what differs per auth scheme and format ---------------------------------------------------

_AUTH: dict[str, dict[str, str]] = {
    "token": {
        "connection_base": "BearerTokenConnection",
        "credentials": '#: A test token: distinctive, so the conformance suite can search for leaks.\n'
                       'KEY = "{{name}}-test-token-4f9a2c1e"',
        "driver_args": "KEY",
        "credential_names": "KEY",
        "usage": "``{{Name}}NodeDriver(token)``: an API token from the {{Title}} control panel.",
        "readme_usage": 'driver = cls("my-api-token")',
        "auth_words": "bearer-token",
        "auth_check": '    assert request.headers["Authorization"] == f"Bearer {KEY}"',
    },
    "basic": {
        "connection_base": "BasicAuthConnection",
        "credentials": '#: Test credentials: distinctive, so the conformance suite can search for leaks.\n'
                       'KEY = "{{name}}-test-user-7c3e1a"\nSECRET = "{{name}}-test-password-9b2d5f"',
        "driver_args": "KEY, SECRET",
        "credential_names": "KEY, SECRET",
        "usage": "``{{Name}}NodeDriver(username, password)``: the account's API user name and password.",
        "readme_usage": 'driver = cls("my-user", "my-password")',
        "auth_words": "HTTP Basic",
        "auth_check": ('    expected = base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()\n'
                       '    assert request.headers["Authorization"] == f"Basic {expected}"'),
    },
    "query-key": {
        "connection_base": "QueryKeyConnection",
        "credentials": '#: A test API key: distinctive, so the conformance suite can search for leaks.\n'
                       'KEY = "{{name}}-test-key-2e8d6a0b"',
        "driver_args": "KEY",
        "credential_names": "KEY",
        "usage": "``{{Name}}NodeDriver(api_key)``: an API key from the {{Title}} control panel.",
        "readme_usage": 'driver = cls("my-api-key")',
        "auth_words": "query-string key",
        "auth_check": ('    assert query_of(request)["api_key"] == [KEY]\n'
                       '    assert "Authorization" not in request.headers'),
    },
}

_SENT_FIELDS = {
    "json": '''def sent_fields(request: Any) -> dict[str, Any]:
    """The JSON object the driver sent."""
    fields: dict[str, Any] = json.loads(request.body)
    return fields''',
    "xml": '''#: Form fields the driver sends as lists (repeated fields).
_LIST_FIELDS = {"ssh_keys", "tags"}


def sent_fields(request: Any) -> dict[str, Any]:
    """The form fields the driver sent (list fields as lists)."""
    body = request.body.decode() if isinstance(request.body, bytes) else request.body
    return {k: v if k in _LIST_FIELDS else v[0] for k, v in parse_qs(body).items()}''',
}

_ERROR_SHAPE = {
    "json": '`{"error": {"code": "not_found", "message": "Server 999 not found"}}`',
    "xml": "`<error><code>not_found</code><message>Server 999 not found</message></error>`",
}


def _template(name: str) -> str:
    return (resources.files("cloudkit") / "_scaffold" / name).read_text(encoding="utf-8")


def _render(text: str, values: Mapping[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise KeyError(f"scaffold template uses an unknown placeholder {{{{{key}}}}}")
        return values[key]

    return _PLACEHOLDER.sub(value, text)


def _test_imports(auth: str, fmt: str) -> str:
    plain = (["base64"] if auth == "basic" else []) + (["json"] if fmt == "json" else [])
    lines = [f"import {module}" for module in [*plain, "pickle"]]
    lines += ["from typing import Any", "from urllib.parse import parse_qs, urlsplit"]
    return "\n".join(lines)


def render_package(name: str, *, auth: str = "token", fmt: str = "json") -> dict[str, str | bytes]:
    """Every file of the package as {relative path: content}; no disk writes."""
    if auth not in AUTH_CHOICES:
        raise ValueError(f"auth must be one of {', '.join(AUTH_CHOICES)}, not {auth!r}")
    if fmt not in FORMAT_CHOICES:
        raise ValueError(f"format must be one of {', '.join(FORMAT_CHOICES)}, not {fmt!r}")
    n = DriverNames.parse(name)
    major, minor = __version__.split(".")[:2]
    values: dict[str, str] = {
        "name": n.name, "name_id": n.name_id, "module": n.module, "dist": n.dist, "Name": n.Name,
        "NAME": n.NAME, "Title": n.Title, "host": n.host, "site": n.host.removeprefix("api."),
        "entry_name": n.name, "auth": auth, "ext": fmt, "cloudkit_version": f"{major}.{minor}",
        "accept": f"application/{fmt}", "error_shape": _ERROR_SHAPE[fmt], "sent_fields": _SENT_FIELDS[fmt],
        "test_imports": _test_imports(auth, fmt),
    }
    stem = "CLOUDKIT_" + n.NAME
    values["env_credentials"] = (f"`{stem}_KEY` holds the user name and `{stem}_SECRET` the password"
                                 if auth == "basic" else f"the cloudkit command reads the key from `{stem}_KEY`")
    values.update({key: _render(text, values) for key, text in _AUTH[auth].items()})
    values["encode_hook"] = _render(_template("encode_xml.tmpl"), values) if fmt == "xml" else ""
    values["connection"] = _render(_template(f"connection_{auth}.tmpl"), values).rstrip() + "\n"

    files: dict[str, str | bytes] = {
        "pyproject.toml": _render(_template("pyproject.toml.tmpl"), values),
        "README.md": _render(_template("README.md.tmpl"), values),
        ".gitignore": "__pycache__/\n*.egg-info/\nbuild/\ndist/\n.pytest_cache/\n",
        f"{n.module}/__init__.py": _render(_template("package_init.py.tmpl"), values),
        f"{n.module}/driver.py": _render(_template(f"driver_{fmt}.py.tmpl"), values),
        f"{n.module}/py.typed": "",
        f"tests/_{n.name_id}_support.py": _render(_template("support.py.tmpl"), values),
        f"tests/test_{n.name_id}_conformance.py": _render(_template("test_conformance.py.tmpl"), values),
        f"tests/test_{n.name_id}_driver.py": _render(_template("test_driver.py.tmpl"), values),
        "tests/fixtures/README.md": _render(_template("fixtures_README.md.tmpl"), values),
    }
    folder = resources.files("cloudkit") / "_scaffold" / "fixtures" / fmt
    for item in sorted(folder.iterdir(), key=lambda entry: entry.name):
        if item.is_file():
            files[f"tests/fixtures/{item.name}"] = item.read_bytes()
    return files


def new_driver(name: str, *, auth: str = "token", fmt: str = "json", path: str | Path = ".",
               overwrite: bool = False) -> Path:
    """Write the package ``cloudkit-<name>/`` under ``path`` and return its folder.

    ``auth``: "token" (bearer token), "basic" (user name and password) or "query-key" (an API
    key in the query string); ``fmt``: "json" or "xml" bodies. An existing folder is an error
    unless ``overwrite``.
    """
    files = render_package(name, auth=auth, fmt=fmt)
    parent = Path(path).expanduser()
    parent.mkdir(parents=True, exist_ok=True)
    root = parent / DriverNames.parse(name).dist
    if root.exists() and not overwrite:
        raise FileExistsError(f"{root} already exists (pass --force / overwrite=True to replace it)")
    # Written to a temporary sibling first, so a failure leaves no half package behind.
    staging = Path(tempfile.mkdtemp(prefix=f".{root.name}-", dir=parent))
    try:
        for relative, content in files.items():
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        if root.exists():
            shutil.rmtree(root)
        staging.rename(root)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return root
