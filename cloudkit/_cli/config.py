"""Where the ``cloudkit`` command finds credentials: environment variables or named accounts.

Environment: one variable per provider (two for a key and a secret), named
``CLOUDKIT_<PROVIDER>_<NAME>`` after the driver's ``credential_names``: DigitalOcean's
``("TOKEN",)`` gives ``CLOUDKIT_DIGITALOCEAN_TOKEN``, NephoScale's ``("USER", "PASSWORD")``
gives ``CLOUDKIT_NEPHOSCALE_USER`` + ``CLOUDKIT_NEPHOSCALE_PASSWORD``, and a driver that
declares nothing (a third-party ``acme``) reads ``CLOUDKIT_ACME_KEY`` (and
``CLOUDKIT_ACME_SECRET``). ``credentials_table()`` is the README's table of them;
``CLOUDKIT_BASE_URL`` points any of them at a simulator or proxy.

Config file (``~/.config/cloudkit/config.toml``; ``--config PATH`` or ``CLOUDKIT_CONFIG``
chooses another), a table of named accounts::

    default_account = "personal"

    [accounts.personal]
    provider = "digitalocean"
    token = "..."
    base_url = "http://127.0.0.1:8080"   # optional

A file holding a secret (a token, a password, or credentials inside a ``base_url``) must not
be readable or writable by group or others, and must belong to the user (or root), as
OpenSSH demands of its own files: it is refused otherwise. Whatever it holds, the file must
be a regular file of at most 1 MiB (``--config /dev/zero`` is refused, not read). Credentials
inside a ``base_url`` (``http://user:password@host``) are never shown.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cloudkit._cli import UsageError

if TYPE_CHECKING:  # pragma: no cover
    from cloudkit.driver import NodeDriver

__all__ = [
    "Account",
    "Config",
    "Credentials",
    "credential_names",
    "credentials_table",
    "default_config_path",
    "env_credentials",
    "env_names",
    "load_config",
    "resolve",
]

#: Account fields that hold the key (first found wins) and the secret.
KEY_FIELDS = ("token", "api_key", "user", "key")
SECRET_FIELDS = ("password", "secret")
#: Fields whose values are secrets (never shown, and they make the file's mode matter).
SECRETIVE = frozenset({"token", "api_key", "key", "password", "secret"})
ACCOUNT_FIELDS = frozenset({"provider", "base_url", *KEY_FIELDS, *SECRET_FIELDS})
#: A key variable named so holds a user name, not a secret (NephoScale's USER + PASSWORD).
_USER_NAME = "USER"


def _driver_class(provider: str) -> type[NodeDriver] | None:
    """The driver class of ``provider``, or None when it cannot be loaded (reported later,
    when the command builds the driver; here the defaults do)."""
    from cloudkit.providers import get_driver

    try:
        return get_driver(provider)
    except Exception:  # a missing or broken plugin must not break choosing credentials
        return None


def credential_names(provider: str) -> tuple[str, ...]:
    """The driver's ``credential_names`` (variable suffixes for key and secret); ``()`` for a
    driver that needs no credentials (the in-memory dummy)."""
    from cloudkit.driver import NodeDriver

    cls = _driver_class(provider)
    return (cls or NodeDriver).credential_names


def _declares_secret(provider: str) -> bool:
    """True when the driver itself declares two credentials (then both are needed)."""
    from cloudkit.driver import NodeDriver

    cls = _driver_class(provider)
    return (cls is not None and cls.credential_names is not NodeDriver.credential_names
            and len(cls.credential_names) > 1)


def needs_credentials(provider: str) -> bool:
    """False for a driver that declares no credentials (``credential_names = ()``)."""
    return bool(credential_names(provider))


def _stem(provider: str) -> str:
    return "CLOUDKIT_" + re.sub(r"[^A-Z0-9]+", "_", provider.upper()).strip("_")


def env_names(provider: str) -> tuple[str, str | None]:
    """The environment variables holding ``provider``'s key and secret:
    ``CLOUDKIT_<PROVIDER>_<NAME>`` for each of the driver's ``credential_names``."""
    from cloudkit.driver import NodeDriver

    names = credential_names(provider) or NodeDriver.credential_names
    stem = _stem(provider)
    return f"{stem}_{names[0]}", (f"{stem}_{names[1]}" if len(names) > 1 else None)


def env_credentials() -> dict[str, tuple[str, str | None]]:
    """Built-in provider → (variable holding the key/token, variable holding the secret or
    None), for every built-in provider that needs credentials, in the registry's order."""
    from cloudkit.providers import builtin_providers

    return {p: env_names(p) for p in builtin_providers() if needs_credentials(p)}


CREDENTIALS_START = "<!-- credentials:start -->"
CREDENTIALS_END = "<!-- credentials:end -->"


def credentials_table() -> str:
    """The README's Markdown table of each built-in provider's variables (and a plugin's)."""
    from cloudkit.providers import get_driver

    lines = ["| Provider | Environment |", "|---|---|"]
    for provider, (key, secret) in env_credentials().items():
        lines.append(f"| {get_driver(provider).name} | `{key}`" + (f" and `{secret}`" if secret else "") + " |")
    from cloudkit.driver import NodeDriver

    key, secret = (f"{_stem('acme')}_{name}" for name in NodeDriver.credential_names)
    lines.append(f"| a plugin driver `acme` | `{key}` (and `{secret}`) |")
    return "\n".join(lines) + "\n"


def default_config_path(env: Mapping[str, str]) -> Path:
    """``$XDG_CONFIG_HOME/cloudkit/config.toml``, else ``~/.config/cloudkit/config.toml``."""
    base = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "cloudkit" / "config.toml"


@dataclass(frozen=True, repr=False)
class Credentials:
    """What a driver is built with. ``source`` says where they came from (for messages)."""

    provider: str
    key: str
    secret: str | None = None
    base_url: str | None = None
    account: str | None = None
    source: str = ""

    def secrets(self) -> list[str]:
        """The values that must never be printed."""
        values = [self.secret] if self.secret else []
        values += url_secrets(self.base_url)
        names = credential_names(self.provider)
        if not names and self.key == self.provider:
            return values  # a placeholder, not a secret
        if names[:1] != (_USER_NAME,) or not self.secret:
            values.append(self.key)  # a user name (NephoScale's) is not a secret
        return [v for v in values if v]

    def __repr__(self) -> str:
        shown = hide_url_credentials(self.base_url)
        return f"<Credentials provider={self.provider} source={self.source!r} base_url={shown!r}>"


@dataclass(frozen=True, repr=False)
class Account:
    """One named account of the config file."""

    name: str
    provider: str
    fields: dict[str, str] = field(default_factory=dict)

    def credentials(self, path: Path) -> Credentials:
        """The account as driver credentials (an unknown provider is reported first)."""
        from cloudkit.providers import check_provider

        check_provider(self.provider)
        key = next((self.fields[f] for f in KEY_FIELDS if self.fields.get(f)), None)
        secret = next((self.fields[f] for f in SECRET_FIELDS if self.fields.get(f)), None)
        if key is None:
            if not needs_credentials(self.provider):
                key = self.provider
            else:
                raise UsageError(f"account {self.name!r} in {path} has no credentials "
                                 f"(set one of: {', '.join(KEY_FIELDS)})")
        return Credentials(self.provider, key, secret, self.fields.get("base_url"), self.name,
                           f"account {self.name!r} in {path}")

    def public(self) -> dict[str, Any]:
        """The account without its secrets (for ``accounts list``)."""
        shown = {k: v for k, v in self.fields.items() if k not in SECRETIVE}
        return {"name": self.name, "provider": self.provider,
                "base_url": hide_url_credentials(shown.get("base_url")),
                "user": shown.get("user"),
                "credentials": sorted({k for k in self.fields if k in SECRETIVE}
                                      | ({"base_url"} if url_secrets(self.fields.get("base_url")) else set()))}


@dataclass
class Config:
    """A parsed config file (empty when there is none)."""

    path: Path
    accounts: dict[str, Account] = field(default_factory=dict)
    default_account: str | None = None
    exists: bool = False

    def account(self, name: str) -> Account:
        """The named account, or a UsageError listing the known ones."""
        found = self.accounts.get(name)
        if found is None:
            if not self.exists:
                raise UsageError(f"account {name!r} asked for, but there is no config file at {self.path}")
            known = ", ".join(sorted(self.accounts)) or "none"
            raise UsageError(f"no account {name!r} in {self.path} (accounts: {known})")
        return found


def _userinfo(url: str) -> tuple[str, str, str] | None:
    """(scheme and "//", userinfo, the rest) of ``url``, or None when it names no user.

    Split by hand rather than with ``urlsplit``: a password written with a raw ``/`` or ``?``
    (``http://admin:pa/ss@host``) would otherwise be taken for part of the path."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return None
    at = rest.rfind("@")
    while at != -1:
        before, host = rest[:at], rest[at + 1:].split("/", 1)[0]
        # userinfo has no "/" unless a password holds one (then a ":" precedes it), and the
        # host that follows has no "?" or "#"; when in doubt, more is hidden, never less.
        looks_like_userinfo = "/" not in before or ":" in before.split("/", 1)[0]
        if looks_like_userinfo and not any(c in host for c in "?#"):
            return scheme + sep, before, rest[at + 1:]
        at = rest.rfind("@", 0, at)
    return None


def url_secrets(url: str | None) -> list[str]:
    """The credentials inside a URL's userinfo (``user:password@``): the password (as written
    and decoded) and the whole userinfo, so that none is ever shown."""
    if not url:
        return []
    split = _userinfo(url)
    if split is None:
        return []
    from urllib.parse import unquote

    userinfo = split[1]
    password = userinfo.partition(":")[2]
    found = [v for v in (password, unquote(password), userinfo) if v]
    return list(dict.fromkeys(found))


def hide_url_credentials(url: str | None) -> str | None:
    """``url`` with its userinfo (``user:password@``) and secret query values replaced."""
    if not url:
        return url
    from cloudkit.redact import REDACTED, redact_url

    split = _userinfo(url)
    if split is not None:
        url = f"{split[0]}{REDACTED}@{split[2]}"
    try:
        return redact_url(url)
    except ValueError:
        return "<unparsable URL>"


def _has_secret(data: dict[str, Any]) -> bool:
    accounts = data.get("accounts")
    if not isinstance(accounts, dict):
        return False
    return any(isinstance(acc, dict) and any(
        (k in SECRETIVE and acc.get(k)) or (k == "base_url" and isinstance(v, str) and url_secrets(v))
        for k, v in acc.items()) for acc in accounts.values())


def _check_mode(path: Path, data: dict[str, Any], st: os.stat_result | None = None) -> None:
    """Refuse a file with secrets that group or others can read or write, or that belongs to
    another user than the one running cloudkit (root excepted, as OpenSSH does)."""
    if os.name == "nt":  # pragma: no cover - no POSIX modes there
        return
    if not _has_secret(data):
        return
    st = st or path.stat()
    mode = stat.S_IMODE(st.st_mode)
    if mode & 0o044:
        who = " and ".join(w for w, bit in (("group", 0o040), ("others", 0o004)) if mode & bit)
        raise UsageError(
            f"refusing to use {path}: it holds secrets but is readable by {who} (mode {mode:04o}); "
            f"fix it with: chmod 600 {path}")
    if mode & 0o022:
        who = " and ".join(w for w, bit in (("group", 0o020), ("others", 0o002)) if mode & bit)
        raise UsageError(
            f"refusing to use {path}: it holds secrets but is writable by {who} (mode {mode:04o}); "
            f"fix it with: chmod 600 {path}")
    uid = os.getuid()
    if st.st_uid not in (uid, 0):
        raise UsageError(
            f"refusing to use {path}: it holds secrets but belongs to another user (uid {st.st_uid}, "
            f"not {uid}); fix it with: chown {uid} {path}")


#: The largest config file read (a real one is a few hundred bytes).
MAX_CONFIG_BYTES = 1024 * 1024


def _read_config_bytes(path: Path) -> tuple[bytes, os.stat_result]:
    """The file's bytes, read only when it is a regular file of at most ``MAX_CONFIG_BYTES``
    (checked on the open file, so that nothing is swapped in between)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except OSError as exc:
        raise UsageError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UsageError(f"refusing to use {path}: it is not a regular file")
        if st.st_size > MAX_CONFIG_BYTES:
            raise UsageError(f"refusing to use {path}: it is larger than 1 MiB ({st.st_size} bytes)")
        chunks = []
        total = 0
        while total <= MAX_CONFIG_BYTES:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > MAX_CONFIG_BYTES:
            raise UsageError(f"refusing to use {path}: it is larger than 1 MiB")
        return b"".join(chunks), st
    except OSError as exc:
        raise UsageError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


def _parse_accounts(path: Path, data: dict[str, Any]) -> dict[str, Account]:
    raw = data.get("accounts", {})
    if not isinstance(raw, dict):
        raise UsageError(f"{path}: 'accounts' must be a table of [accounts.NAME] sections")
    accounts = {}
    for name, table in raw.items():
        if not isinstance(table, dict):
            raise UsageError(f"{path}: accounts.{name} must be a table")
        unknown = sorted(set(table) - ACCOUNT_FIELDS)
        if unknown:
            raise UsageError(f"{path}: accounts.{name} has unknown field(s) {', '.join(unknown)} "
                             f"(known: {', '.join(sorted(ACCOUNT_FIELDS))})")
        provider = table.get("provider")
        if not isinstance(provider, str) or not provider.strip():
            raise UsageError(f"{path}: accounts.{name} needs provider = \"digitalocean\" (or another)")
        bad = [k for k, v in table.items() if not isinstance(v, str)]
        if bad:
            raise UsageError(f"{path}: accounts.{name}: {', '.join(sorted(bad))} must be strings")
        fields = {k: v for k, v in table.items() if k != "provider"}
        accounts[name] = Account(name, provider.strip().lower(), fields)
    return accounts


def load_config(path: Path, *, required: bool = False) -> Config:
    """Read and check the config file. A missing file is an empty config unless ``required``."""
    import tomllib

    if not path.exists():
        if required:
            raise UsageError(f"config file {path} does not exist")
        return Config(path)
    raw, st = _read_config_bytes(path)
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise UsageError(f"config file {path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"config file {path} is not valid TOML: {exc}") from None
    _check_mode(path, data, st)
    unknown = sorted(set(data) - {"accounts", "default_account"})
    if unknown:
        raise UsageError(f"{path}: unknown top-level key(s) {', '.join(unknown)} "
                         f"(known: accounts, default_account)")
    default = data.get("default_account")
    if default is not None and not isinstance(default, str):
        raise UsageError(f"{path}: default_account must be a string")
    config = Config(path, _parse_accounts(path, data), default, True)
    if default is not None and default not in config.accounts:
        raise UsageError(f"{path}: default_account {default!r} is not one of the accounts")
    return config


def _from_env(provider: str, env: Mapping[str, str]) -> Credentials | None:
    key_var, secret_var = env_names(provider)
    key = env.get(key_var)
    if not key:
        return None
    secret = env.get(secret_var) if secret_var else None
    if secret_var is not None and not secret and _declares_secret(provider):
        raise UsageError(f"{key_var} is set but {secret_var} is not: {provider} needs both")
    source = f"environment ({key_var}{' + ' + secret_var if secret and secret_var else ''})"
    return Credentials(provider, key, secret or None, None, None, source)


def _providers_in(env: Mapping[str, str]) -> list[str]:
    """The built-in providers that need credentials and have a variable of theirs set (only
    those drivers are loaded to learn their variables' names)."""
    from cloudkit.providers import builtin_providers

    set_names = [name for name, value in env.items() if value and name.startswith("CLOUDKIT_")]
    return [p for p in builtin_providers()
            if any(name.startswith(_stem(p) + "_") for name in set_names) and needs_credentials(p)]


def _env_hint() -> str:
    names = [f"{k}" if s is None else f"{k} + {s}" for k, s in env_credentials().values()]
    return ", ".join(names)


@dataclass
class Choice:
    """What the command line and environment ask for."""

    provider: str | None
    account: str | None
    config_path: Path
    config_required: bool
    base_url: str | None


def choice_from(provider: str | None, account: str | None, config: str | None, base_url: str | None,
                env: Mapping[str, str]) -> Choice:
    """Combine options and environment variables (options win)."""
    path_text = config or env.get("CLOUDKIT_CONFIG")
    path = Path(os.path.expanduser(path_text)) if path_text else default_config_path(env)
    return Choice(
        provider=(provider or env.get("CLOUDKIT_PROVIDER") or None),
        account=(account or env.get("CLOUDKIT_ACCOUNT") or None),
        config_path=path,
        config_required=bool(path_text),
        base_url=base_url or env.get("CLOUDKIT_BASE_URL") or None,
    )


def _with_base_url(creds: Credentials, base_url: str | None) -> Credentials:
    if not base_url:
        return creds
    return Credentials(creds.provider, creds.key, creds.secret, base_url, creds.account, creds.source)


def resolve(choice: Choice, env: Mapping[str, str]) -> Credentials:
    """Pick the credentials a command uses.

    ``--account`` names an account of the config file. Otherwise ``--provider`` takes that
    provider's environment variables, else its account in the config file (the default
    account, or the only one). With neither, the one provider whose variables are set is
    used, else the config file's default (or only) account.
    """
    provider = choice.provider.strip().lower() if choice.provider else None
    if choice.account:
        config = load_config(choice.config_path, required=True)
        creds = config.account(choice.account).credentials(config.path)
        if provider and provider != creds.provider:
            raise UsageError(f"account {choice.account!r} is a {creds.provider} account, "
                             f"not {provider}")
        return _with_base_url(creds, choice.base_url)
    if provider:
        from_env = _from_env(provider, env)
        if from_env is not None:
            return _with_base_url(from_env, choice.base_url)
        if not needs_credentials(provider):
            return Credentials(provider, provider, None, choice.base_url, None, "no credentials needed")
        config = load_config(choice.config_path, required=choice.config_required)
        matching = [a for a in config.accounts.values() if a.provider == provider]
        if config.default_account and config.accounts[config.default_account].provider == provider:
            matching = [config.accounts[config.default_account]]
        if len(matching) == 1:
            return _with_base_url(matching[0].credentials(config.path), choice.base_url)
        key_var, secret_var = env_names(provider)
        if matching:
            names = ", ".join(sorted(a.name for a in matching))
            raise UsageError(f"several {provider} accounts in {config.path} ({names}): choose one "
                             f"with --account NAME")
        needed = key_var + (f" and {secret_var}" if secret_var else "")
        raise UsageError(f"no credentials for {provider}: set {needed}, or add an account to "
                         f"{config.path} and pass --account NAME")
    found = [c for c in (_from_env(p, env) for p in _providers_in(env)) if c is not None]
    if len(found) == 1:
        return _with_base_url(found[0], choice.base_url)
    if len(found) > 1:
        names = ", ".join(c.provider for c in found)
        raise UsageError(f"credentials for several providers are set ({names}): choose one with "
                         f"--provider NAME")
    config = load_config(choice.config_path, required=choice.config_required)
    if config.default_account:
        return _with_base_url(config.accounts[config.default_account].credentials(config.path),
                              choice.base_url)
    if len(config.accounts) == 1:
        only = next(iter(config.accounts.values()))
        return _with_base_url(only.credentials(config.path), choice.base_url)
    if config.accounts:
        raise UsageError(f"several accounts in {config.path} and no default_account: choose one with "
                         f"--account NAME ({', '.join(sorted(config.accounts))})")
    raise UsageError(f"no provider chosen: pass --provider NAME with its credentials in the "
                     f"environment ({_env_hint()}), or --account NAME from {config.path} "
                     f"(try 'cloudkit demo' for a local simulator)")
