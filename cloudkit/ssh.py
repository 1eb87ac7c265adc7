"""The SSH client used by ``deploy_node``: a small layer over paramiko.

* Keys come from a path (``~`` expanded), from the key text itself, or from the SSH agent,
  optionally with a passphrase. RSA, ECDSA (nistp256/384/521) and Ed25519 keys load in the
  OpenSSH format and in PEM (traditional or PKCS#8, encrypted or not). A key that cannot be
  used (unreadable, malformed, encrypted without passphrase, wrong passphrase, unsupported
  type) raises :class:`~cloudkit.errors.SSHAuthenticationError` at once, before any network
  traffic: such a failure cannot get better by retrying.
* ``connect(retry_until=deadline)`` retries while the host refuses, does not answer, or has
  not sent its banner yet, with a short growing backoff (0.2 s growing to 0.8 s).
* Host keys follow OpenSSH's ``StrictHostKeyChecking=accept-new`` (see
  :mod:`cloudkit.known_hosts`): keys listed in the user's ``~/.ssh/known_hosts`` (or the
  ``known_hosts`` file given instead) and in cloudkit's own known_hosts file are checked, and a
  changed key raises :class:`~cloudkit.errors.SSHHostKeyError`; ``"accept-new"`` (default)
  trusts an unknown host on first use, logs its fingerprint at INFO on the ``cloudkit.ssh``
  logger and remembers it in cloudkit's own file; ``"strict"`` refuses unknown hosts. The
  user's own known_hosts file is never written to.
* Passwords and key material never appear in reprs, log lines or error messages.
"""

from __future__ import annotations

import io
import logging
import os
import shlex
import shutil
import socket
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import paramiko
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import SSHPrivateKeyTypes

from cloudkit.errors import (
    ConfigurationError,
    SSHAuthenticationError,
    SSHCommandTimeoutError,
    SSHConnectError,
    SSHError,
    SSHHostKeyError,
)
from cloudkit.known_hosts import KnownHosts, key_fingerprint

__all__ = [
    "HOST_KEY_POLICIES",
    "KeySource",
    "SSHClient",
    "key_fingerprint",
    "load_private_key",
    "public_key_line",
]

log = logging.getLogger("cloudkit.ssh")

#: The host-key policies ``SSHClient`` understands.
HOST_KEY_POLICIES = ("accept-new", "strict")

#: A private key: a path (``str`` or ``PathLike``), the key text, or a loaded paramiko key.
KeySource = str | os.PathLike[str] | paramiko.PKey

_PUBKEY_TYPES = ("ssh-rsa", "ssh-ed25519", "ecdsa-sha2-", "sk-ssh-ed25519", "sk-ecdsa-sha2-",
                 "rsa-sha2-")
_EC_CURVES = ("secp256r1", "secp384r1", "secp521r1")
_MIN_DELAY, _MAX_DELAY = 0.2, 0.8
_RETRY_TCP_TIMEOUT = 2.0


# --------------------------------------------------------------------------------- keys


def _is_key_text(value: str) -> bool:
    return "-----BEGIN" in value


def _passphrase_bytes(passphrase: str | bytes | None) -> bytes | None:
    if not passphrase:
        return None
    return passphrase.encode("utf-8") if isinstance(passphrase, str) else passphrase


def _deserialize(data: bytes, password: bytes | None) -> PrivateKeyTypes | SSHPrivateKeyTypes:
    if b"BEGIN OPENSSH PRIVATE KEY" in data:
        return serialization.load_ssh_private_key(data, password)
    return serialization.load_pem_private_key(data, password)


def _parse_private_key(data: bytes, passphrase: str | bytes | None, origin: str) -> paramiko.PKey:
    password = _passphrase_bytes(passphrase)
    try:
        try:
            obj = _deserialize(data, password)
        except TypeError as exc:
            if password is not None and "not encrypted" in str(exc):
                obj = _deserialize(data, None)  # a passphrase for a plain key is harmless
            else:
                raise
    except TypeError:
        raise SSHAuthenticationError(f"{origin} is encrypted: a passphrase is needed") from None
    except UnsupportedAlgorithm:
        raise SSHAuthenticationError(f"{origin} uses an unsupported key algorithm") from None
    except ValueError:
        if password is not None:
            raise SSHAuthenticationError(
                f"cannot decrypt {origin}: wrong passphrase or corrupt key") from None
        raise SSHAuthenticationError(f"{origin} is not a valid private key") from None
    return _to_paramiko(obj, origin)


def _to_paramiko(obj: PrivateKeyTypes | SSHPrivateKeyTypes, origin: str) -> paramiko.PKey:
    if isinstance(obj, rsa.RSAPrivateKey):
        return paramiko.RSAKey(key=obj)
    if isinstance(obj, ec.EllipticCurvePrivateKey):
        if obj.curve.name not in _EC_CURVES:
            raise SSHAuthenticationError(f"{origin} uses the unsupported curve {obj.curve.name}")
        return paramiko.ECDSAKey(vals=(obj, obj.public_key()))
    if isinstance(obj, ed25519.Ed25519PrivateKey):
        # paramiko reads Ed25519 keys only in the OpenSSH container: re-encode in memory.
        text = obj.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH,
                                 serialization.NoEncryption()).decode("ascii")
        return paramiko.Ed25519Key(file_obj=io.StringIO(text))
    kind = type(obj).__name__.lstrip("_")
    raise SSHAuthenticationError(
        f"{origin} holds an unsupported key type ({kind}); use RSA, ECDSA or Ed25519")


def load_private_key(key: KeySource, passphrase: str | bytes | None = None) -> paramiko.PKey:
    """Load a private key from a path (``~`` expanded), from its text, or pass a paramiko key
    through. Raises :class:`SSHAuthenticationError` (never retried) when it cannot be used."""
    if isinstance(key, paramiko.PKey):
        return key
    if isinstance(key, str) and _is_key_text(key):
        return _parse_private_key(key.encode("utf-8"), passphrase, "the private key text")
    path = Path(os.path.expanduser(os.fspath(key)))
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SSHAuthenticationError(
            f"cannot read private key file {path}: {exc.strerror or type(exc).__name__}") from None
    return _parse_private_key(data, passphrase, f"private key file {path}")


def _check_pubkey_line(line: str, origin: str) -> str:
    line = line.strip()
    if not line or "\n" in line or "\r" in line or len(line.split()) < 2:
        raise ConfigurationError(f"{origin} is not a single OpenSSH public key line")
    return line


def _is_pubkey_text(value: str) -> bool:
    return value.strip().split(None, 1)[0].startswith(_PUBKEY_TYPES) if value.strip() else False


def public_key_line(key: KeySource, passphrase: str | bytes | None = None,
                    comment: str | None = None) -> str:
    """The OpenSSH public key line (``ssh-ed25519 AAAA... [comment]``) for ``key``.

    ``key`` may be a public key line (returned as is), a ``.pub`` file path, a private key
    path or text, or a paramiko key. Private keys are loaded as :func:`load_private_key` does.
    """
    if isinstance(key, str) and _is_pubkey_text(key):
        return _check_pubkey_line(key, "the public key")
    if not isinstance(key, paramiko.PKey) and not (isinstance(key, str) and _is_key_text(key)):
        path = Path(os.path.expanduser(os.fspath(key)))
        if path.suffix == ".pub":
            try:
                text = path.read_text("utf-8")
            except OSError as exc:
                raise ConfigurationError(
                    f"cannot read public key file {path}: {exc.strerror or type(exc).__name__}"
                ) from None
            return _check_pubkey_line(text, f"public key file {path}")
    pkey = load_private_key(key, passphrase)
    line = f"{pkey.get_name()} {pkey.get_base64()}"
    return f"{line} {comment}" if comment else line


# ------------------------------------------------------------------------ host-key policy


class _KnownHostsPolicy(paramiko.MissingHostKeyPolicy):
    """Decide on every host key with ``KnownHosts.verify`` (no key is loaded into paramiko's
    own tables, so paramiko asks this policy each time)."""

    def __init__(self, store: KnownHosts, policy: str) -> None:
        self.store = store
        self.policy = policy

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        self.store.verify(hostname, key, self.policy)


# --------------------------------------------------------------------------------- client


def _close_quietly(client: paramiko.SSHClient, sock: socket.socket | None) -> None:
    client.close()
    if sock is not None:
        try:
            sock.close()
        except OSError:
            pass


class _RetryableConnectError(SSHConnectError):
    """One attempt failed in a way that may get better (refused, no answer, no banner yet)."""


class SSHClient:
    """An SSH connection to one host (tried in turn among ``hostname`` when it is a list).

    ``timeout`` bounds the TCP connect (at most 2 s per attempt while ``connect`` retries) and
    the key exchange of one attempt, ``banner_timeout`` the
    wait for the server's banner, ``auth_timeout`` the login, ``command_timeout`` each
    :meth:`run` (unless given per call). ``deadline`` (a :func:`time.monotonic` value), when set,
    caps every one of them. ``auth_grace`` > 0 keeps retrying a login the server refused for
    that many seconds (a fresh server may install its keys a moment after sshd starts);
    a key that cannot be loaded is never retried. ``keepalive`` is the interval in seconds
    of SSH keepalive messages (0 disables them).
    """

    def __init__(
        self,
        hostname: str | Sequence[str],
        port: int = 22,
        username: str = "root",
        *,
        password: str | None = None,
        key: KeySource | None = None,
        passphrase: str | bytes | None = None,
        use_agent: bool | None = None,
        timeout: float = 10.0,
        banner_timeout: float = 15.0,
        auth_timeout: float = 15.0,
        command_timeout: float | None = None,
        host_key_policy: str = "accept-new",
        known_hosts: str | os.PathLike[str] | None = None,
        host_keys: KnownHosts | None = None,
        keepalive: float = 30.0,
        auth_grace: float = 0.0,
        deadline: float | None = None,
    ) -> None:
        hosts = [hostname] if isinstance(hostname, str) else [h for h in hostname if h]
        if not hosts:
            raise ConfigurationError("SSHClient needs at least one host address")
        if host_key_policy not in HOST_KEY_POLICIES:
            raise ConfigurationError(
                f"unknown ssh host key policy {host_key_policy!r}; use one of {', '.join(HOST_KEY_POLICIES)}")
        self.hostnames = hosts
        self.hostname = hosts[0]
        self.port = int(port)
        self.username = username
        self.timeout = timeout
        self.banner_timeout = banner_timeout
        self.auth_timeout = auth_timeout
        self.command_timeout = command_timeout
        self.host_key_policy = host_key_policy
        self.known_hosts = os.path.expanduser(os.fspath(known_hosts)) if known_hosts is not None else None
        if self.known_hosts is not None and not os.path.isfile(self.known_hosts):
            raise ConfigurationError(f"known_hosts file {self.known_hosts} does not exist")
        #: The files consulted for host keys and where new ones are remembered.
        self.host_keys = host_keys if host_keys is not None else KnownHosts.default(self.known_hosts)
        self.keepalive = keepalive
        self.auth_grace = auth_grace
        self.deadline = deadline
        self._password = password
        self._pkey = load_private_key(key, passphrase) if key is not None else None
        self._use_agent = use_agent if use_agent is not None else (key is None and password is None)
        self._client: paramiko.SSHClient | None = None
        #: Number of connection attempts the last :meth:`connect` made.
        self.attempts = 0
        #: ``SHA256:...`` fingerprint of the server's host key once connected.
        self.host_key_fingerprint: str | None = None

    def __repr__(self) -> str:
        state = "connected" if self.connected else "not connected"
        return f"<SSHClient {self.username}@{self.hostname}:{self.port} {state}>"

    # ------------------------------------------------------------------ connection

    @property
    def connected(self) -> bool:
        """True while the SSH transport is up."""
        transport = self._client.get_transport() if self._client is not None else None
        return transport is not None and transport.is_active()

    def _cap(self, seconds: float | None, deadline: float | None = None) -> float | None:
        """``seconds`` capped by the time left until ``deadline`` (or ``self.deadline``)."""
        ends = self.deadline if deadline is None else deadline
        if ends is None:
            return seconds
        remaining = max(ends - time.monotonic(), 0.05)
        return remaining if seconds is None else min(seconds, remaining)

    def _target(self, host: str) -> str:
        return f"{self.username}@{host}:{self.port}"

    def connect(self, retry_until: float | None = None) -> SSHClient:
        """Connect and log in; returns ``self``.

        Without ``retry_until`` one attempt per address is made. With it (a
        :func:`time.monotonic` deadline), attempts repeat while the host refuses the
        connection, does not answer, or has no SSH banner yet, until the deadline; then
        :class:`SSHConnectError` is raised. Login refusals raise :class:`SSHAuthenticationError`
        (after ``auth_grace`` seconds of retrying, if set); untrusted host keys
        :class:`SSHHostKeyError` at once.
        """
        if self.connected:
            return self
        if self._pkey is None and self._password is None and not self._use_agent:
            raise SSHAuthenticationError("no SSH credentials: give a key, a password or use the agent")
        ends = retry_until
        if self.deadline is not None and (ends is None or self.deadline < ends):
            ends = self.deadline
        hosts = len(self.hostnames)
        delay = _MIN_DELAY
        first_refusal: float | None = None
        self.attempts = 0
        while True:
            host = self.hostnames[self.attempts % hosts]
            self.attempts += 1
            try:
                self._connect_once(host, ends, retry_until is not None)
                return self
            except SSHAuthenticationError as exc:
                now = time.monotonic()
                first_refusal = now if first_refusal is None else first_refusal
                out_of_time = ends is None or now >= ends or now - first_refusal >= self.auth_grace
                if retry_until is None or out_of_time:
                    raise
                log.debug("login to %s refused, retrying (attempt %d): %s",
                          self._target(host), self.attempts, exc)
            except _RetryableConnectError as exc:
                now = time.monotonic()
                if retry_until is None and self.attempts < hosts:
                    continue
                if retry_until is None or ends is None or now >= ends:
                    raise SSHConnectError(
                        f"cannot reach {self._target(host)} after {self.attempts} attempt(s): {exc}"
                    ) from exc
                log.debug("%s not ready (attempt %d): %s", self._target(host), self.attempts, exc)
            if ends is not None and self.attempts % hosts == 0:
                time.sleep(max(0.0, min(delay, ends - time.monotonic())))
                delay = min(delay * 1.5, _MAX_DELAY)

    def _connect_once(self, host: str, deadline: float | None, retrying: bool = False) -> None:
        client = paramiko.SSHClient()
        client.set_missing_host_key_policy(_KnownHostsPolicy(self.host_keys, self.host_key_policy))
        target = self._target(host)
        key_name = host if self.port == 22 else f"[{host}]:{self.port}"
        disabled = self.host_keys.disabled_algorithms(key_name)
        sock: socket.socket | None = None
        try:
            # TCP first, with a short timeout while retrying: a SYN lost to a host that is
            # still booting must not hold the next attempt back for the whole ``timeout``.
            tcp_timeout = min(self.timeout, _RETRY_TCP_TIMEOUT) if retrying else self.timeout
            sock = socket.create_connection((host, self.port), timeout=self._cap(tcp_timeout, deadline))
            client.connect(
                hostname=host, port=self.port, username=self.username, password=self._password,
                sock=sock, pkey=self._pkey, timeout=self._cap(self.timeout, deadline),
                banner_timeout=self._cap(self.banner_timeout, deadline),
                auth_timeout=self._cap(self.auth_timeout, deadline),
                channel_timeout=self._cap(self.timeout, deadline),
                allow_agent=self._use_agent, look_for_keys=False, disabled_algorithms=disabled,
            )
        except SSHHostKeyError:
            _close_quietly(client, sock)
            raise
        except paramiko.BadHostKeyException as exc:
            _close_quietly(client, sock)
            raise SSHHostKeyError(
                f"host key of {target} ({exc.key.get_name()} {key_fingerprint(exc.key)}) does not match "
                f"the known_hosts entry ({key_fingerprint(exc.expected_key)})") from None
        except paramiko.AuthenticationException as exc:
            _close_quietly(client, sock)
            raise SSHAuthenticationError(f"{target} refused the login: {exc}") from None
        except socket.gaierror as exc:
            _close_quietly(client, sock)
            raise SSHConnectError(f"cannot resolve {host}: {exc.strerror}") from None
        except paramiko.SSHException as exc:
            _close_quietly(client, sock)
            if disabled is not None and "host key" in str(exc).lower():
                raise self.host_keys.offered_no_known_type(key_name, str(exc)) from None
            if "no authentication methods" in str(exc).lower():
                raise SSHAuthenticationError(
                    f"no usable credentials for {target} (no key, password or agent key)") from None
            raise _RetryableConnectError(f"{type(exc).__name__}: {exc}") from None
        except (OSError, EOFError) as exc:
            _close_quietly(client, sock)
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise _RetryableConnectError(f"{type(exc).__name__}: {reason}") from None
        except BaseException:
            _close_quietly(client, sock)
            raise
        self._client = client
        self.hostname = host
        transport = client.get_transport()
        if transport is not None:
            if self.keepalive:
                transport.set_keepalive(int(max(1, self.keepalive)))
            remote_key = transport.get_remote_server_key()
            self.host_key_fingerprint = key_fingerprint(remote_key)
        log.debug("connected to %s", target)

    def _transport(self) -> paramiko.Transport:
        transport = self._client.get_transport() if self._client is not None else None
        if transport is None or not transport.is_active():
            raise SSHError(f"not connected to {self._target(self.hostname)}")
        return transport

    def close(self) -> None:
        """Close the connection (idempotent)."""
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def __enter__(self) -> SSHClient:
        return self.connect()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # ------------------------------------------------------------------ commands and files

    def _wrap_sudo(self, command: str, sudo: bool) -> str:
        if not sudo or self.username == "root":
            return command
        return f"sudo -n -- sh -c {shlex.quote(command)}"

    def run(self, command: str, timeout: float | None = None, sudo: bool = False) -> tuple[str, str, int]:
        """Run ``command`` in the login shell; return ``(stdout, stderr, exit_status)``.

        ``sudo=True`` wraps it in ``sudo -n`` unless the login user is root. Past ``timeout``
        (or ``command_timeout``) seconds, the channel is closed and
        :class:`SSHCommandTimeoutError` raised. ``exit_status`` is -1 when the server
        closed the channel without reporting one.
        """
        transport = self._transport()
        limit = self._cap(timeout if timeout is not None else self.command_timeout)
        ends = None if limit is None else time.monotonic() + limit
        channel = transport.open_session(timeout=self._cap(self.timeout))
        out, err = bytearray(), bytearray()
        try:
            channel.exec_command(self._wrap_sudo(command, sudo))
            channel.shutdown_write()
            poll = 0.002
            while True:
                while channel.recv_ready():
                    out += channel.recv(65536)
                while channel.recv_stderr_ready():
                    err += channel.recv_stderr(65536)
                # the exit status may arrive before the last output: finish on EOF (or close)
                finished = channel.closed or (channel.eof_received and channel.exit_status_ready())
                if finished and not channel.recv_ready() and not channel.recv_stderr_ready():
                    break
                if not transport.is_active():
                    raise SSHError(f"connection to {self._target(self.hostname)} lost during a command")
                if ends is not None and time.monotonic() >= ends:
                    raise SSHCommandTimeoutError(
                        f"command on {self._target(self.hostname)} still running after {limit:.1f} s")
                if channel.exit_status_ready():
                    time.sleep(poll)
                else:
                    channel.status_event.wait(poll)
                poll = min(poll * 2, 0.05)
            status = channel.recv_exit_status()
        finally:
            channel.close()
        return out.decode("utf-8", "replace"), err.decode("utf-8", "replace"), status

    def put(self, path: str, data: str | bytes | None = None, *,
            local_path: str | os.PathLike[str] | None = None, mode: int | None = None,
            timeout: float | None = 60.0) -> str:
        """Write ``data`` (or the file at ``local_path``) to ``path`` over SFTP; returns ``path``.

        A relative path (or one starting ``~/``) is relative to the login user's home.
        ``mode`` (e.g. ``0o600``) is applied before any content is written.
        """
        if (data is None) == (local_path is None):
            raise ConfigurationError("put() needs exactly one of data or local_path")
        if local_path is not None:
            source = Path(os.path.expanduser(os.fspath(local_path)))
            if not source.is_file():
                raise ConfigurationError(f"local file {source} does not exist")
        remote = path[2:] if path.startswith("~/") else path
        target = self._target(self.hostname)
        sftp = paramiko.SFTPClient.from_transport(self._transport())
        if sftp is None:
            raise SSHError(f"cannot open an SFTP session to {target}")
        try:
            channel = sftp.get_channel()
            if channel is not None:
                channel.settimeout(self._cap(timeout))
            with sftp.open(remote, "wb") as handle:
                if mode is not None:
                    handle.chmod(mode)
                handle.set_pipelined(True)
                if local_path is not None:
                    with source.open("rb") as src:
                        shutil.copyfileobj(src, handle, 32768)
                else:
                    handle.write(data.encode("utf-8") if isinstance(data, str) else data or b"")
        except TimeoutError:
            raise SSHCommandTimeoutError(f"upload of {path} to {target} timed out") from None
        except OSError as exc:
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise SSHError(f"cannot write {path} on {target}: {reason}") from None
        finally:
            sftp.close()
        return path
