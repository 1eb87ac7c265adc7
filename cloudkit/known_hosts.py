"""SSH host keys, as OpenSSH's ``StrictHostKeyChecking=accept-new`` treats them.

Files consulted for a host (``host`` on port 22, ``[host]:port`` otherwise; hashed entries
included):

* the user's ``~/.ssh/known_hosts``, or instead the file given as ``known_hosts=`` (the CLI's
  ``--known-hosts PATH``), like OpenSSH's ``UserKnownHostsFile``;
* cloudkit's own file, where the keys of hosts trusted on first use are remembered:
  ``$CLOUDKIT_KNOWN_HOSTS``, else ``$XDG_CONFIG_HOME/cloudkit/known_hosts``, else
  ``~/.config/cloudkit/known_hosts``. The user's file is never written to.

A key listed for the host in any consulted file is accepted. A host listed with other keys
only is refused (``SSHHostKeyError``: the key changed, or someone is in between). A host
listed nowhere is refused under ``"strict"``, and under ``"accept-new"`` trusted and
remembered in cloudkit's own file.

A node ``deploy_node`` has just created is new by definition (``fresh=True``): its address
may be a recycled one, still listed with the key of a destroyed server, so the user's file
and cloudkit's own file are not consulted for it; only a ``known_hosts=`` file the caller gave
is (the caller then says which key the new node has). The key the new node presents is
remembered in cloudkit's own file, replacing the entries for that address, so that every
later connection (``probe_node``, ``cloudkit run``) checks against it.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cloudkit.errors import SSHHostKeyError

if TYPE_CHECKING:  # pragma: no cover
    import paramiko

__all__ = ["KnownHosts", "key_fingerprint", "own_known_hosts_path", "user_known_hosts_path"]

log = logging.getLogger("cloudkit.ssh")

_write_lock = threading.Lock()
_CERT = "-cert-v01@openssh.com"


def key_fingerprint(key: paramiko.PKey) -> str:
    """The OpenSSH-style ``SHA256:...`` fingerprint of a (public or private) key."""
    return str(key.fingerprint)


def _home(env: Mapping[str, str]) -> str:
    return env.get("HOME") or os.path.expanduser("~")


def own_known_hosts_path(env: Mapping[str, str] | None = None) -> str:
    """cloudkit's own known_hosts file (see the module's text)."""
    env = os.environ if env is None else env
    if env.get("CLOUDKIT_KNOWN_HOSTS"):
        return os.path.expanduser(env["CLOUDKIT_KNOWN_HOSTS"])
    base = env.get("XDG_CONFIG_HOME") or os.path.join(_home(env), ".config")
    return os.path.join(base, "cloudkit", "known_hosts")


def user_known_hosts_path(env: Mapping[str, str] | None = None) -> str:
    """The user's OpenSSH known_hosts file, ``~/.ssh/known_hosts``."""
    return os.path.join(_home(os.environ if env is None else env), ".ssh", "known_hosts")


def _family(algorithm: str) -> str:
    """The known_hosts key type an algorithm signs with (``rsa-sha2-512`` -> ``ssh-rsa``)."""
    name = algorithm.removesuffix(_CERT)
    return "ssh-rsa" if name in ("rsa-sha2-256", "rsa-sha2-512") else name


@dataclass
class KnownHosts:
    """Which files are consulted for host keys, and where new ones are remembered."""

    #: Files consulted (those missing are skipped).
    check: list[str] = field(default_factory=list)
    #: cloudkit's own file: keys trusted on first use are added here (None: never written).
    own: str | None = None
    #: The host was just created: implicit files are not consulted, its entries in ``own``
    #: are replaced by the key it presents.
    fresh: bool = False

    @classmethod
    def default(cls, known_hosts: str | os.PathLike[str] | None = None, *, fresh: bool = False,
                env: Mapping[str, str] | None = None) -> KnownHosts:
        """The user's file (or ``known_hosts`` instead) and cloudkit's own, as the module says."""
        own = own_known_hosts_path(env)
        if known_hosts is not None:
            given = os.path.expanduser(os.fspath(known_hosts))
            return cls([given] if fresh else [given, own], own, fresh)
        return cls([] if fresh else [user_known_hosts_path(env), own], own, fresh)

    # ------------------------------------------------------------------ reading

    def _entries(self, name: str) -> list[tuple[str, Any]]:
        """(file, paramiko key) for every entry of ``name`` in the consulted files."""
        import paramiko

        found: list[tuple[str, Any]] = []
        for path in self.check:
            if not os.path.isfile(path):
                continue
            keys: Any = paramiko.HostKeys()
            try:
                keys.load(path)
            except (OSError, UnicodeDecodeError) as exc:
                raise SSHHostKeyError(f"cannot read known_hosts file {path}: {exc}") from None
            found.extend((path, e.key) for e in keys._entries if _names(e, name, keys))
        return found

    def known_types(self, name: str) -> set[str]:
        """Key types listed for ``name`` (to offer only those in the key exchange, as OpenSSH
        prefers the algorithms it already knows for a host)."""
        return {key.get_name() for _, key in self._entries(name)}

    def disabled_algorithms(self, name: str) -> dict[str, list[str]] | None:
        """For paramiko's ``disabled_algorithms``: the host key algorithms whose key type is not
        listed for ``name`` (None when nothing is listed: any algorithm is fine)."""
        import paramiko

        known = self.known_types(name)
        if not known:
            return None
        transport: Any = paramiko.Transport
        return {"keys": [alg for alg in transport._preferred_keys if _family(alg) not in known]}

    # ------------------------------------------------------------------ deciding

    def verify(self, name: str, key: paramiko.PKey, policy: str) -> None:
        """Accept ``key`` for ``name``, or raise ``SSHHostKeyError`` (see the module's text)."""
        entries = self._entries(name)
        presented = f"{key.get_name()} {key_fingerprint(key)}"
        if any(known == key for _, known in entries):
            if self.fresh:
                self.remember(name, key)
            return
        if entries:
            listed = "; ".join(sorted({f"{known.get_name()} {key_fingerprint(known)} in {path}"
                                       for path, known in entries}))
            raise SSHHostKeyError(
                f"host key of {name} ({presented}) does not match the known host key ({listed}): "
                "the host key has changed, or someone is in between; refused. If the host was "
                "reinstalled on purpose, remove its old entry (ssh-keygen -R)")
        if policy == "strict":
            where = " or ".join(self.check) if self.check else "any known_hosts file"
            raise SSHHostKeyError(
                f"host key of {name} ({presented}) is not in known_hosts ({where}); refused by the "
                "strict host key policy")
        self.remember(name, key)
        log.info("accepted new host key for %s: %s (remembered in %s)", name, presented,
                 self.own or "memory only")

    def offered_no_known_type(self, name: str, reason: str) -> SSHHostKeyError:
        """The error for a server that offers none of the key types listed for it."""
        types = ", ".join(sorted(self.known_types(name)))
        return SSHHostKeyError(f"host key of {name}: the server offers none of the key types known for it "
                               f"({types}): {reason}; refused")

    # ------------------------------------------------------------------ remembering

    def remember(self, name: str, key: paramiko.PKey) -> None:
        """Record ``key`` for ``name`` in cloudkit's own file (replacing the entries of ``name``
        when the host is fresh). Written whole to a temporary file then renamed, mode 0600."""
        if self.own is None:
            return
        import paramiko

        with _write_lock:
            keys: Any = paramiko.HostKeys()
            if os.path.isfile(self.own):
                try:
                    keys.load(self.own)
                except (OSError, UnicodeDecodeError) as exc:
                    log.warning("cannot read %s, not remembering the host key: %s", self.own, exc)
                    return
            mine = [e for e in keys._entries if _names(e, name, keys)]
            if self.fresh:
                keys._entries = [e for e in keys._entries if not _names(e, name, keys)]
            elif any(e.key == key for e in mine):
                return
            keys.add(name, key.get_name(), key)
            try:
                directory = os.path.dirname(self.own) or "."
                os.makedirs(directory, mode=0o700, exist_ok=True)
                fd, tmp = tempfile.mkstemp(prefix=".known_hosts.", dir=directory)
                os.close(fd)
                try:
                    os.chmod(tmp, 0o600)
                    keys.save(tmp)
                    os.replace(tmp, self.own)
                finally:
                    if os.path.exists(tmp):
                        os.unlink(tmp)
            except OSError as exc:
                log.warning("cannot remember the host key of %s in %s: %s", name, self.own, exc)


def _names(entry: Any, name: str, keys: Any) -> bool:
    """True when a HostKeys entry is for ``name`` (plain or hashed)."""
    return bool(keys._hostname_matches(name, entry))
