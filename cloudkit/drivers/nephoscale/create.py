"""Creating a NephoScale server: keys made for it, the create job, waiting until it is listed."""

from __future__ import annotations

import ipaddress
import logging
from typing import Any

from cloudkit.drivers.nephoscale.keys import NephoscaleKeys
from cloudkit.drivers.nephoscale.parsing import NephoscalePasswordKey
from cloudkit.drivers.nephoscale.rules import (
    KEY_GROUP_CONSOLE,
    KEY_GROUP_SERVER,
    _check_hostname,
    _check_name,
    _default_hostname,
    _key_material,
    _key_name,
    _numeric_id,
)
from cloudkit.errors import (
    CloudkitError,
    ForbiddenError,
    InvalidCredsError,
    MalformedResponseError,
    ProviderError,
    ValidationError,
    WaitTimeoutError,
)
from cloudkit.models import KeyPair, Node, NodeAuthPassword, NodeAuthSSHKey, NodeImage, NodeLocation, NodeSize
from cloudkit.secrets_gen import generate_password
from cloudkit.sshkeys import parse_public_key

log = logging.getLogger("cloudkit.drivers.nephoscale")

class NephoscaleCreate(NephoscaleKeys):
    """``create_node`` and the steps it takes."""

    def create_node(
        self,
        name: str,
        size: NodeSize | str,
        image: NodeImage | str,
        location: NodeLocation | str | None = None,
        auth: NodeAuthSSHKey | NodeAuthPassword | None = None,
        *,
        ex_hostname: str | None = None,
        ex_server_key: KeyPair | NephoscalePasswordKey | str | None = None,
        ex_console_key: NephoscalePasswordKey | str | bool | None = None,
        ex_key_name: str | None = None,
        ex_ips: list[str] | None = None,
        ex_networks: list[str] | None = None,
        ex_wait_timeout: float | None = None,
        ex_poll_interval: float | None = None,
        ex_max_poll_interval: float | None = None,
        **kwargs: Any,
    ) -> Node:
        """Create a cloud server and return it once it is listed with an address.

        See the module docstring for the key handling. ``ex_wait_timeout`` (default 600 s)
        bounds the wait; polling starts every ``ex_poll_interval`` seconds (default 5) and
        backs off to ``ex_max_poll_interval`` (default 30).
        """
        if kwargs:
            raise ValidationError(f"unknown create_node arguments: {', '.join(sorted(kwargs))}")
        name = _check_name(name)
        hostname = _check_hostname(ex_hostname) if ex_hostname is not None else _default_hostname(name)
        form: dict[str, Any] = {
            "name": name,
            "hostname": hostname,
            "service_type": _numeric_id(size, "size"),
            "image": _numeric_id(image, "image"),
            "zone": _numeric_id(location, "location") if location is not None else None,
        }
        if ex_ips:
            if not ex_networks:
                raise ValidationError("ex_ips needs ex_networks (the network domain ids of the addresses)")
            for ip in ex_ips:
                try:
                    ipaddress.ip_address(str(ip))
                except ValueError:
                    raise ValidationError(f"ex_ips: {str(ip)[:45]!r} is not an IP address") from None
            form["ips"] = [str(ip) for ip in ex_ips]
        if ex_networks:
            form["networks"] = [_numeric_id(n, "network") for n in ex_networks]
        timeout = self._positive(ex_wait_timeout, self.DEFAULT_WAIT_TIMEOUT, "ex_wait_timeout")
        interval = self._positive(ex_poll_interval, self.DEFAULT_POLL_INTERVAL, "ex_poll_interval")
        max_interval = max(interval, self._positive(ex_max_poll_interval, self.DEFAULT_MAX_POLL_INTERVAL,
                                                    "ex_max_poll_interval"))
        if auth is not None and ex_server_key is not None:
            raise ValidationError("pass either auth or ex_server_key, not both")
        if auth is not None and not isinstance(auth, (NodeAuthSSHKey, NodeAuthPassword)):
            raise ValidationError("auth must be a NodeAuthSSHKey or a NodeAuthPassword")
        if isinstance(auth, NodeAuthSSHKey):
            parse_public_key(auth.pubkey)
        if isinstance(auth, NodeAuthPassword) and (not isinstance(auth.password, str) or not auth.password):
            raise ValidationError("the password of NodeAuthPassword must not be empty")
        server_key_id = self._key_id(ex_server_key, "server key") if ex_server_key is not None else None
        console_key_id: str | None = None
        if ex_console_key is not None and not isinstance(ex_console_key, bool):
            console_key_id = self._key_id(ex_console_key, "console key")
        if ex_key_name is not None and (not isinstance(ex_key_name, str) or not ex_key_name.strip()):
            raise ValidationError("ex_key_name must be a non-empty string")

        # Everything is checked: now talk to the API.
        before = {n.id for n in self.list_nodes()}
        created: list[tuple[str, str]] = []  # (kind, id) of keys made for this server
        generated: str | None = None
        try:
            if server_key_id is None:
                if isinstance(auth, NodeAuthSSHKey):
                    server_key_id = self._find_or_import_ssh_key(
                        auth.pubkey, ex_key_name or _key_name("cloudkit-", name), created)
                else:
                    password = auth.password if isinstance(auth, NodeAuthPassword) else generate_password(16)
                    if auth is None:
                        generated = password
                    key = self.ex_create_password_key(ex_key_name or _key_name("server-", name), password,
                                                      KEY_GROUP_SERVER)
                    created.append(("password", key.id))
                    server_key_id = key.id
            if console_key_id is None and ex_console_key is not False:
                key = self.ex_create_password_key(_key_name("console-", name), None, KEY_GROUP_CONSOLE)
                created.append(("password", key.id))
                console_key_id = key.id
        except ProviderError as exc:
            if exc.status is not None and exc.status >= 400:
                self._cleanup_keys(created)
            raise
        form["server_key"] = server_key_id
        form["console_key"] = console_key_id

        job = self._post_create(form, created)
        node = self._wait_for_new_node(name, hostname, job, before, timeout, interval, max_interval)
        node.extra["job_id"] = job
        if generated is not None:
            node.extra["password"] = generated
        return node

    @staticmethod
    def _positive(value: float | None, default: float, what: str) -> float:
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
            raise ValidationError(f"{what} must be a positive number of seconds")
        return float(value)

    def _key_id(self, key: Any, what: str) -> str:
        if isinstance(key, NephoscalePasswordKey):
            return key.id
        if isinstance(key, KeyPair):
            found = key if key.id is not None else self.get_key_pair(key.name)
            return _numeric_id(found.id, what)
        return _numeric_id(key, what)

    def _find_or_import_ssh_key(self, pubkey: str, key_name: str, created: list[tuple[str, str]]) -> str:
        wanted = _key_material(pubkey)
        for pair in self.list_key_pairs():
            if pair.id and pair.public_key and _key_material(pair.public_key) == wanted:
                log.debug("reusing NephoScale SSH key %s (%s)", pair.id, pair.name)
                return pair.id
        pair = self.import_key_pair_from_string(key_name, pubkey)
        assert pair.id is not None
        created.append(("ssh", pair.id))
        return pair.id

    def _post_create(self, form: dict[str, Any], created: list[tuple[str, str]]) -> str | None:
        name = form["name"]
        try:
            resp = self.connection.request(
                "/server/cloud/", data=form, method="POST",
                outcome_hint=f"look for a server named {name!r} before trying again")
        except MalformedResponseError as exc:
            if exc.status is None or not 200 <= exc.status < 300:
                raise
            # Accepted (2xx) with a body that does not parse: do not lose track of the server.
            log.warning("create server %r: the reply does not parse; polling anyway", name)
            return None
        except ProviderError as exc:
            # The API refused the create outright: remove the keys made for it.
            if exc.status is not None and exc.status >= 400:
                self._cleanup_keys(created)
            raise
        try:
            job = self._job_reply(resp.object, f"create server {name!r}")
        except ProviderError as exc:
            # HTTP and envelope said success: whatever else the body says, look for the server.
            log.warning("create server %r: unexpected reply (%s); polling anyway", name, exc.message)
            job = None
        log.info("create server %r: job %s; waiting for it to be listed", name, job)
        return job

    def _cleanup_keys(self, created: list[tuple[str, str]]) -> None:
        for kind, ident in reversed(created):
            path = f"/key/{'sshrsa' if kind == 'ssh' else 'password'}/{ident}/"
            try:
                self.connection.request(path, method="DELETE")
            except CloudkitError as exc:
                log.warning("could not delete the %s key %s made for a refused create: %s",
                            kind, ident, type(exc).__name__)

    def _wait_for_new_node(self, name: str, hostname: str, job: str | None, before: set[str],
                           timeout: float, interval: float, max_interval: float) -> Node:
        seen: Node | None = None
        last_error: CloudkitError | None = None
        job_text = f"job {job}" if job else "a job the reply did not name"

        def listed_with_address() -> Node | None:
            nonlocal seen, last_error
            try:
                nodes = self.list_nodes()
            except (InvalidCredsError, ForbiddenError) as exc:
                raise WaitTimeoutError(
                    f"NephoScale create of server {name!r} ({job_text}) was accepted, but listing "
                    f"servers now fails: {exc}; look for a server named {name!r}",
                    condition="listing refused", job=job) from exc
            except CloudkitError as exc:
                last_error = exc
                log.info("create server %r (%s): listing failed (%s); polling on", name, job_text,
                         type(exc).__name__)
                return None
            last_error = None
            fresh = [n for n in nodes if n.name == name and n.id not in before]
            if not fresh:
                return None
            fresh.sort(key=lambda n: (n.extra.get("hostname") == hostname,
                                      n.created_at.timestamp() if n.created_at else 0.0,
                                      int(n.id) if n.id.isdigit() else 0), reverse=True)
            seen = fresh[0]
            return seen if seen.public_ips or seen.private_ips else None

        def timed_out() -> WaitTimeoutError:
            if seen is not None:
                condition = "an IP address"
                message = (f"NephoScale {job_text}: server {name!r} is listed as node {seen.id} but has no "
                           f"IP address after {timeout:g}s")
            else:
                condition = "listed"
                message = (f"NephoScale {job_text}: no new server named {name!r} was listed within "
                           f"{timeout:g}s; it may still appear, look for it before trying again")
            if last_error is not None:
                message += f" (last listing error: {type(last_error).__name__})"
            return WaitTimeoutError(message, nodes=[seen] if seen is not None else [], condition=condition,
                                    last_states={seen.id: seen.state.value} if seen is not None else {}, job=job)

        return self.poll_until(listed_with_address, timeout=timeout, interval=max_interval,
                               what=f"server {name!r} listed with an address", first_interval=interval,
                               factor=1.5, on_timeout=timed_out)
