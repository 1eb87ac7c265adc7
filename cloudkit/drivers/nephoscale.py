"""NephoScale compute driver (``get_driver(Provider.NEPHOSCALE)(username, password)``).

The API (``https://api.nephoscale.com``, every path ending in ``/``) takes HTTP Basic auth
with the account's user name and password, form-encoded request bodies, and answers JSON
wrapped in an envelope ``{success, response, message, subcode, data[, total_count]}``.
Facts come from ``shared/api/nephoscale.md``; where the sheet marks something uncertain
this driver takes the reading the example bodies support:

* **Bodies** are sent form-urlencoded (``Content-Type: application/x-www-form-urlencoded``);
  fields without a value are omitted (never the text ``None``).
* **Errors**: any non-2xx status maps as usual (401 bad user name or password, 404 missing,
  ...). The provider's message is the envelope's ``message``, its code the ``subcode``. A
  2xx answer whose envelope says ``success: false`` (or a non-2xx ``response``) is an error
  too, mapped by the envelope's ``response`` code.
* **Action replies** (create, power actions, delete, rename, key create/delete) are job
  envelopes: any 2xx HTTP status with an envelope ``response`` of 200/201/202/204 is success.
* ``GET /server/cloud/{id}/`` may answer with ``data`` as a one-element array (the examples)
  or an object; both are accepted, and the server is picked by its id. No surviving client
  relied on it, so on a 404 or an unexpected shape ``get_node`` looks in the listing too.
  Server ids are numbers: other ids are refused before any request (NotFoundError from
  ``get_node``, ValidationError from actions).
* **Power actions** are asynchronous jobs; ``start_node``/``stop_node`` may be retried on a
  dropped connection (repeating them is harmless), ``reboot_node`` and creates never are.
* **States**: ``power_status`` ``on`` → RUNNING, ``off`` → STOPPED, anything else UNKNOWN.
  ``postinit_state`` is kept in ``extra`` and does not change the state (its values are not
  known). The API has no transitional states; ``NODE_ACTIONS`` allows everything while UNKNOWN.
* **Locations**: every zone is listed, as the API returns them (libcloud did the same);
  ``extra["activated"]`` carries the flag and ``list_locations(ex_include_inactive=False)``
  leaves out zones marked ``activated: false`` (as mist.io's fork did). The API gives no
  country; every NephoScale data centre was in the US.
* **Prices**: the API has none; ``cloudkit.pricing.get_size_price("nephoscale", id)`` gives
  them (libcloud's 2013 table covers 13 cloud sizes; later SSD sizes have ``price=None``).
* **Times** (``create_time``, ``YYYY-MM-DD HH:MM:SS``) carry no zone and are read as UTC.

**create_node** (the reply holds a job id, not the server): the server list is read first
(a snapshot), keys are found or created, ``POST /server/cloud/`` is sent once (never
retried), then ``GET /server/cloud/`` is polled with backoff until a server with the
requested ``name`` that was not in the snapshot appears with an IP address (several: the one
whose hostname matches, then the newest). It is returned with ``extra["job_id"]``. After
``ex_wait_timeout`` seconds a ``WaitTimeoutError`` names the job and the name (``job`` and,
when the server was seen without an address, ``nodes`` are set). Keys:

* ``auth=NodeAuthSSHKey(pub)``: an SSH key with the same key material is looked up in
  ``GET /key/sshrsa/`` and reused, otherwise imported (named ``ex_key_name``, default
  ``cloudkit-<name>``) and its id sent as ``server_key``;
* ``auth=NodeAuthPassword(pw)``: a password key in the server group (1) is created (named
  ``ex_key_name``, default ``server-<name>``) and sent as ``server_key``;
* no ``auth`` and no ``ex_server_key``: cloudkit generates a root password the same way and
  returns it once in ``node.extra["password"]``;
* ``ex_server_key`` (a KeyPair, password key or id) uses an existing key instead;
* a console password key (group 4, random password, ``console-<name>``) is created for
  every server unless ``ex_console_key`` names one (``ex_console_key=False`` sends none).
  Its password is never put in the node; read it with ``ex_list_password_keys()``.

Keys that create_node made are deleted again when the API refuses the create (or a later
key) outright; after a dropped connection or a timeout they are kept, as the server may exist.
The match by name is reliable unless another client creates a server of the same name at
the same moment.
The SSH endpoint is called ``sshrsa``; other key types are passed on for the API to judge,
and ``create_key_pair`` generates an RSA key so it is accepted either way.

Password keys (root and console passwords) are exposed through ``ex_list_password_keys``,
``ex_create_password_key`` and ``ex_delete_password_key`` as ``NephoscalePasswordKey``
objects whose repr never shows the password. Passwords never appear in log lines or errors.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar
from urllib.parse import urlencode

from cloudkit.connection import BasicAuthConnection
from cloudkit.driver import ACTIONS, NodeDriver, object_id
from cloudkit.errors import (
    CloudkitError,
    ConfigurationError,
    ForbiddenError,
    InvalidCredsError,
    MalformedResponseError,
    NotFoundError,
    ProviderError,
    ServerError,
    ValidationError,
    WaitTimeoutError,
)
from cloudkit.models import (
    KeyPair,
    Node,
    NodeAuthPassword,
    NodeAuthSSHKey,
    NodeImage,
    NodeLocation,
    NodeSize,
    NodeState,
)
from cloudkit.parsing import as_dict, as_list, opt_int, parse_datetime, parser, req_id, split_ips
from cloudkit.pricing import get_size_price
from cloudkit.redact import redact_exception
from cloudkit.response import STATUS_ERRORS, JsonResponse
from cloudkit.secrets_gen import generate_password
from cloudkit.sshkeys import fingerprint_md5, generate_key_pair, parse_public_key

__all__ = [
    "KEY_GROUP_CONSOLE",
    "KEY_GROUP_SERVER",
    "NephoscaleConnection",
    "NephoscaleNodeDriver",
    "NephoscalePasswordKey",
    "NephoscaleResponse",
]

log = logging.getLogger("cloudkit.drivers.nephoscale")

#: Key group of server (root login) keys.
KEY_GROUP_SERVER = 1
#: Key group of console keys.
KEY_GROUP_CONSOLE = 4

_OK_RESPONSES = frozenset({200, 201, 202, 204})

# Naming rules the provider states (quoted by mist.io's create code).
_NAME_RE = re.compile(r"[A-Za-z](?:[A-Za-z0-9_-]{0,62}[A-Za-z0-9])?")
_HOSTNAME_RE = re.compile(r"[A-Za-z](?:[A-Za-z0-9-]{0,13}[A-Za-z0-9])?")
_NUMERIC_RE = re.compile(r"[0-9]+")
_KEY_NAME_MAX = 64


# -- HTTP layer -------------------------------------------------------------------------------


class NephoscaleResponse(JsonResponse):
    """A NephoScale answer: the JSON envelope, whose ``success``/``response`` also count."""

    _env_cache: Any = None
    _env_parsed = False

    def _envelope(self) -> dict[str, Any] | None:
        if not self._env_parsed:
            body = self.json_error_body()
            self._env_cache = body if isinstance(body, dict) else None
            self._env_parsed = True
        env: dict[str, Any] | None = self._env_cache
        return env

    def _envelope_code(self) -> int | None:
        env = self._envelope()
        code = env.get("response") if env is not None else None
        return code if isinstance(code, int) and not isinstance(code, bool) else None

    def _envelope_failed(self) -> bool:
        env = self._envelope()
        if env is None:
            return False
        if env.get("success") is False:
            return True
        code = self._envelope_code()
        return code is not None and not 200 <= code < 300

    def success(self) -> bool:
        """2xx/3xx HTTP status and an envelope that does not report a failure."""
        return super().success() and not self._envelope_failed()

    def parse_error(self) -> tuple[str, str | None]:
        env = self._envelope()
        message = env.get("message") if env is not None else None
        subcode = env.get("subcode") if env is not None else None
        code = None if subcode in (None, 0, "0") or isinstance(subcode, (dict, list)) else str(subcode)
        if isinstance(message, str) and message.strip():
            return (" ".join(message.split())[:500], code)
        if self.status == 401:
            return ("authorization failed: check the NephoScale user name and password", code)
        return (self._fallback_message(), code)

    def to_exception(self) -> ProviderError:
        if not super().success():
            return super().to_exception()
        # HTTP said 2xx but the envelope reports a failure: map by the envelope's code.
        try:
            message, code = self.parse_error()
        except Exception:
            message, code = self._fallback_message(), None
        status = self._envelope_code()
        kwargs: dict[str, Any] = {"code": code, "body": self.body, "driver": self.driver_name,
                                  "headers": dict(self.headers)}
        env = self._envelope() or {}
        said = ["success=false"] if env.get("success") is False else []
        if status is not None:
            said.append(f"response={status}")
        text = f"{message} (HTTP {self.status}, but the envelope says {' '.join(said) or 'it failed'})"
        if status is None or not 400 <= status < 600:
            return ProviderError(text, self.status, **kwargs)
        cls = STATUS_ERRORS.get(status) or (ServerError if status >= 500 else ProviderError)
        return cls(text, status, **kwargs)


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


class NephoscaleConnection(BasicAuthConnection):
    """HTTP Basic auth to api.nephoscale.com; bodies are form-urlencoded."""

    host = "api.nephoscale.com"
    responseCls = NephoscaleResponse
    # mist.io's fork raised the read timeout to 180 s for this API.
    default_timeout = (10.0, 180.0)

    def encode_data(self, data: Any, headers: dict[str, str]) -> bytes | str | None:
        """Form-encode a mapping (None values are left out)."""
        if data is None:
            return None
        if isinstance(data, (bytes, str)):
            return data
        if not isinstance(data, Mapping):
            raise ConfigurationError("NephoScale request bodies must be mappings of form fields")
        headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        return urlencode([(str(k), _form_value(v)) for k, v in data.items() if v is not None])


# -- password keys ----------------------------------------------------------------------------


@dataclass(eq=False, repr=False)
class NephoscalePasswordKey:
    """A NephoScale password key (a root or console password). ``password`` is the secret
    itself: never shown in repr or str."""

    id: str
    name: str
    key_group: int | None
    password: str | None = None
    driver: NodeDriver | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NephoscalePasswordKey) and self.id == other.id

    def __hash__(self) -> int:
        return hash(("nephoscale-password-key", self.id))

    def __repr__(self) -> str:
        secret = " password=<hidden>" if self.password else ""
        return f"<NephoscalePasswordKey id={self.id!r} name={self.name!r} key_group={self.key_group}{secret}>"

    __str__ = __repr__


# -- helpers ----------------------------------------------------------------------------------


def _text(obj: Mapping[str, Any], key: str) -> str | None:
    value = obj.get(key)
    return value if isinstance(value, str) else None


def _sub(obj: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = obj.get(key)
    return value if isinstance(value, dict) else {}


def _numeric_id(value: Any, kind: str) -> str:
    """A NephoScale id (a number) from a model or an id; ValidationError otherwise."""
    ident = object_id(value, kind)
    if not _NUMERIC_RE.fullmatch(ident):
        raise ValidationError(f"NephoScale {kind} ids are numbers, got {ident[:40]!r}")
    return ident


def _check_text(value: Any, pattern: re.Pattern[str], what: str, chars: str, longest: int) -> str:
    """``value`` when it is text matching ``pattern``, else a ValidationError that states the rule."""
    if not isinstance(value, str) or not pattern.fullmatch(value):
        shown = value[:70] if isinstance(value, str) else type(value).__name__
        raise ValidationError(
            f"invalid NephoScale {what} {shown!r}: it must start with a letter, contain only {chars}, "
            f"end with a letter or digit, and have at most {longest} characters")
    return value


def _check_name(name: Any) -> str:
    return _check_text(name, _NAME_RE, "server name", "letters, digits, '-' and '_'", 64)


def _check_hostname(hostname: Any) -> str:
    return _check_text(hostname, _HOSTNAME_RE, "hostname", "letters, digits and '-'", 15)


def _default_hostname(name: str) -> str:
    """A valid hostname derived from a valid server name ('_' → '-', at most 15 characters)."""
    return name.replace("_", "-")[:15].rstrip("-")


def _key_name(prefix: str, name: str) -> str:
    return f"{prefix}{name}"[:_KEY_NAME_MAX]


def _key_material(public_key: str) -> tuple[str, bytes] | str:
    """What identifies a public key: (type, blob), or the first two words when it does not parse."""
    try:
        kind, blob, _ = parse_public_key(public_key)
    except ValidationError:
        return " ".join(public_key.split()[:2])
    return (kind, blob)


@contextmanager
def _scrubbed(secrets_: tuple[str | None, ...] = (), drop_body: bool = False) -> Iterator[None]:
    """Remove ``secrets_`` (and, with ``drop_body``, the whole body excerpt) from any
    cloudkit error raised inside."""
    try:
        yield
    except CloudkitError as exc:
        redact_exception(exc, secrets_)
        if drop_body and isinstance(exc, ProviderError):
            exc.body = ""
        raise


# -- the driver -------------------------------------------------------------------------------


class NephoscaleNodeDriver(NodeDriver):
    """NephoScale cloud servers over the NephoScale REST API."""

    name = "NephoScale"
    type = "nephoscale"
    website = "https://www.nephoscale.com"
    credential_names: ClassVar[tuple[str, ...]] = ("USER", "PASSWORD")
    connectionCls = NephoscaleConnection
    features: ClassVar[dict[str, list[str]]] = {"create_node": ["ssh_key", "password"]}

    NODE_STATE_MAP: ClassVar[dict[str, NodeState]] = {
        "on": NodeState.RUNNING,
        "off": NodeState.STOPPED,
        "unknown": NodeState.UNKNOWN,
    }
    # The API has no transitional states; power actions are asynchronous jobs.
    NODE_ACTIONS: ClassVar[dict[NodeState, frozenset[str]]] = {
        NodeState.RUNNING: frozenset({"reboot_node", "stop_node", "destroy_node"}),
        NodeState.STOPPED: frozenset({"start_node", "destroy_node"}),
        NodeState.UNKNOWN: frozenset(ACTIONS),
        NodeState.PENDING: frozenset({"destroy_node"}),
        NodeState.TERMINATED: frozenset(),
    }
    UNSUPPORTED: ClassVar[dict[str, str]] = {
        "ex_create_tag": "the NephoScale API has no tags",
        "ex_tag_node": "the NephoScale API has no tags",
        "ex_untag_node": "the NephoScale API has no tags",
        "ex_list_tags": "the NephoScale API has no tags",
        "ex_delete_tag": "the NephoScale API has no tags",
    }

    #: Default seconds create_node waits for the new server to be listed with an address.
    DEFAULT_WAIT_TIMEOUT: ClassVar[float] = 600.0
    #: First poll interval of create_node (grows by 1.5x up to DEFAULT_MAX_POLL_INTERVAL).
    DEFAULT_POLL_INTERVAL: ClassVar[float] = 5.0
    DEFAULT_MAX_POLL_INTERVAL: ClassVar[float] = 30.0

    # -- low level ----------------------------------------------------------------------------

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.connection.request(path, params=params).object

    def _list(self, path: str, what: str) -> list[Any]:
        body = as_dict(self._get(path), what)
        if "data" not in body:
            raise MalformedResponseError(f"{what}: the envelope has no 'data'", driver=self.name)
        return as_list(body["data"], what)

    def _job_reply(self, body: Any, what: str) -> str | None:
        """Check an action reply; return its job (or new object) id when it names one."""
        if body is None:
            return None
        env = as_dict(body, what)
        code = env.get("response")
        if isinstance(code, int) and not isinstance(code, bool) and code not in _OK_RESPONSES:
            message = _text(env, "message") or "no message"
            raise ProviderError(f"{what}: the API answered response={code}: {message[:200]}",
                                driver=self.name)
        data = env.get("data")
        if isinstance(data, dict) and isinstance(data.get("id"), (int, str)) and not isinstance(
                data.get("id"), bool):
            ident = str(data["id"]).strip()
            return ident or None
        return None

    def _node_id(self, node: Node | str) -> str:
        return _numeric_id(node, "node")

    # -- parsing ------------------------------------------------------------------------------

    def _price(self, size_id: str) -> float | None:
        try:
            return get_size_price(self.type, size_id)
        except ConfigurationError as exc:
            if not getattr(self, "_pricing_warned", False):
                self._pricing_warned = True
                log.warning("no NephoScale prices: %s", exc)
            return None

    @parser("nephoscale zone")
    def _to_location(self, data: Any) -> NodeLocation:
        obj = as_dict(data, "nephoscale zone")
        ident = req_id(obj, "id", "nephoscale zone")
        center = _sub(obj, "datacenter")
        extra = {
            "activated": obj.get("activated"),
            "datacenter_id": center.get("id"),
            "datacenter": _text(center, "name"),
            "airport_code": _text(center, "airport_code"),
            "uri": _text(obj, "uri"),
        }
        return NodeLocation(ident, _text(obj, "name") or ident, "US", self, extra)

    @parser("nephoscale image")
    def _to_image(self, data: Any) -> NodeImage:
        obj = as_dict(data, "nephoscale image")
        ident = req_id(obj, "id", "nephoscale image")
        extra: dict[str, Any] = {key: obj.get(key) for key in (
            "architecture", "base_type", "deployable_type", "is_active", "is_default", "max_cpu",
            "max_memory", "create_time", "has_agent", "uri") if key in obj}
        return NodeImage(ident, _text(obj, "friendly_name") or ident, self, extra)

    @parser("nephoscale service type")
    def _to_size(self, data: Any) -> NodeSize:
        obj = as_dict(data, "nephoscale service type")
        ident = req_id(obj, "id", "nephoscale service type")
        sku = _sub(obj, "sku")
        name = _text(obj, "friendly_name") or _text(sku, "name") or ident
        extra = {
            "sku": _text(sku, "name"),
            "sku_description": _text(sku, "description"),
            "billable_type": obj.get("billable_type"),
            "uri": _text(obj, "uri"),
        }
        return NodeSize(ident, name, opt_int(obj.get("ram")) or 0, opt_int(obj.get("storage")) or 0,
                        None, self._price(ident), self, extra, opt_int(obj.get("vcpus")))

    @parser("nephoscale server")
    def _to_node(self, data: Any) -> Node:
        what = "nephoscale server"
        obj = as_dict(data, what)
        ident = req_id(obj, "id", what)
        name = obj.get("name")
        if not isinstance(name, str):
            raise MalformedResponseError(f"{what} {ident}: field 'name' is missing or not text")
        raw_ips = obj.get("ipaddresses")
        if raw_ips is None:
            addresses: list[str] = []
        elif isinstance(raw_ips, str):
            addresses = [part.strip() for part in raw_ips.split(",") if part.strip()]
        elif isinstance(raw_ips, list) and all(isinstance(ip, str) for ip in raw_ips):
            addresses = [ip.strip() for ip in raw_ips if ip.strip()]
        else:
            raise MalformedResponseError(f"{what} {ident}: field 'ipaddresses' is not text")
        public, private = split_ips(addresses)
        zone = _sub(obj, "zone")
        image_obj = _sub(obj, "image")
        service = _sub(obj, "service_type")
        image = None
        if image_obj.get("id") is not None:
            image = self._to_image(image_obj)
        size = None
        if service.get("id") is not None:
            sku = _sub(service, "sku")
            size_id = req_id(service, "id", f"{what} {ident} service_type")
            # Only what the server tells: ram from its memory; disk is not given (0).
            size = NodeSize(size_id, _text(service, "friendly_name") or _text(sku, "name") or size_id,
                            opt_int(obj.get("memory")) or 0, 0, None, self._price(size_id), self,
                            {"sku": _text(sku, "name"), "billable_type": service.get("billable_type"),
                             "partial": True})
        keys = {group: [k.get("id") for k in obj.get(group) or [] if isinstance(k, dict)]
                for group in ("server_keys", "console_keys") if isinstance(obj.get(group), list)}
        extra: dict[str, Any] = {
            "hostname": _text(obj, "hostname"),
            "power_status": obj.get("power_status"),
            "zone": _text(zone, "name"),
            "zone_id": str(zone["id"]) if isinstance(zone.get("id"), (int, str)) else None,
            "image": _text(image_obj, "friendly_name"),
            "service_type": _text(service, "friendly_name"),
            "memory": opt_int(obj.get("memory")),
            "create_time": _text(obj, "create_time"),
            "postinit_state": obj.get("postinit_state"),
            "is_console_enabled": obj.get("is_console_enabled"),
            "podzone": _text(obj, "podzone"),
            "uri": _text(obj, "uri"),
            "network_ports": obj.get("network_ports") if isinstance(obj.get("network_ports"), list) else [],
            "server_key_ids": keys.get("server_keys", []),
            "console_key_ids": keys.get("console_keys", []),
        }
        return Node(ident, name, self._state(obj.get("power_status")), public, private, self, size, image,
                    extra, parse_datetime(obj.get("create_time")), [])

    @parser("nephoscale ssh key")
    def _to_key_pair(self, data: Any) -> KeyPair:
        obj = as_dict(data, "nephoscale ssh key")
        ident = req_id(obj, "id", "nephoscale ssh key")
        public_key = _text(obj, "public_key") or ""
        try:
            fingerprint: str | None = fingerprint_md5(public_key)
        except ValidationError:
            fingerprint = None
        extra: dict[str, Any] = {
            key: obj.get(key) for key in ("key_group", "key_type", "create_time", "uri") if key in obj}
        return KeyPair(_text(obj, "name") or ident, public_key.strip(), fingerprint, self, id=ident,
                       extra=extra)

    @parser("nephoscale password key")
    def _to_password_key(self, data: Any) -> NephoscalePasswordKey:
        obj = as_dict(data, "nephoscale password key")
        ident = req_id(obj, "id", "nephoscale password key")
        extra: dict[str, Any] = {
            key: obj.get(key) for key in ("key_type", "create_time", "uri") if key in obj}
        return NephoscalePasswordKey(ident, _text(obj, "name") or ident, opt_int(obj.get("key_group")),
                                     _text(obj, "password"), self, extra)

    # -- catalogue ----------------------------------------------------------------------------

    def verify_credentials(self) -> bool:
        """List the zones (the smallest listing): True, or InvalidCredsError/ForbiddenError."""
        self._list("/datacenter/zone/", "nephoscale zones")
        return True

    def list_locations(self, ex_include_inactive: bool = True) -> list[NodeLocation]:
        """Every zone; ``ex_include_inactive=False`` leaves out those marked ``activated: false``."""
        zones = [self._to_location(z) for z in self._list("/datacenter/zone/", "nephoscale zones")]
        return [z for z in zones if ex_include_inactive or z.extra.get("activated") is not False]

    def list_images(self, location: NodeLocation | str | None = None) -> list[NodeImage]:
        """Server images (the API does not tell images apart by zone)."""
        return [self._to_image(i) for i in self._list("/image/server/", "nephoscale images")]

    def list_sizes(self, location: NodeLocation | str | None = None) -> list[NodeSize]:
        """Cloud server types, priced from pricing.json (the API has no prices)."""
        return [self._to_size(s) for s in self._list("/server/type/cloud/", "nephoscale sizes")]

    # -- nodes --------------------------------------------------------------------------------

    def list_nodes(self, tag: str | None = None) -> list[Node]:
        """Cloud servers. NephoScale has no tags: with ``tag`` the result is filtered on the
        client (and so is empty)."""
        if tag is not None and (not isinstance(tag, str) or not tag.strip()):
            raise ValidationError("tag must be a non-empty string")
        nodes = [self._to_node(s) for s in self._list("/server/cloud/", "nephoscale servers")]
        return nodes if tag is None else [n for n in nodes if tag in n.tags]

    def get_node(self, node_id: str) -> Node:
        """One cloud server by id; NotFoundError when absent.

        Asks ``GET /server/cloud/{id}/`` (``data`` an object or a one-element array). No
        surviving client relied on that endpoint, so when it answers 404 or an unexpected
        shape the server is looked up in the listing before giving up. An id that is not a
        number cannot exist: NotFoundError at once, without a request.
        """
        ident = object_id(node_id, "node")
        if not _NUMERIC_RE.fullmatch(ident):
            raise NotFoundError(f"node {ident[:40]!r} not found: NephoScale server ids are numbers",
                                driver=self.name)
        try:
            body = as_dict(self._get(f"/server/cloud/{ident}/"), "nephoscale server")
            data = body.get("data")
            items = [data] if isinstance(data, dict) else as_list(data, "nephoscale server")
            for item in items:
                if isinstance(item, dict) and str(item.get("id")) == ident:
                    return self._to_node(item)
            raise NotFoundError(f"node {ident} not found", 404, driver=self.name)
        except (NotFoundError, MalformedResponseError) as exc:
            for node in self.list_nodes():
                if node.id == ident:
                    return node
            if isinstance(exc, NotFoundError):
                raise
            raise NotFoundError(f"node {ident} not found", 404, driver=self.name) from None

    def _power(self, node: Node | str, action: str, verb: str, ex_force: bool, idempotent: bool) -> bool:
        self._check_action(node, action, ex_force)
        ident = self._node_id(node)
        resp = self.connection.request(f"/server/cloud/{ident}/initiator/{verb}/", method="POST",
                                       idempotent=idempotent)
        job = self._job_reply(resp.object, f"{verb} server {ident}")
        log.debug("%s server %s: job %s", verb, ident, job)
        return True

    def reboot_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """Restart a server (an asynchronous job)."""
        return self._power(node, "reboot_node", "restart", ex_force, idempotent=False)

    def start_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """Power a server on (an asynchronous job)."""
        return self._power(node, "start_node", "start", ex_force, idempotent=True)

    def stop_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """Power a server off (an asynchronous job)."""
        return self._power(node, "stop_node", "stop", ex_force, idempotent=True)

    def destroy_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """Delete a server (an asynchronous job; it then leaves the listing)."""
        self._check_action(node, "destroy_node", ex_force)
        ident = self._node_id(node)
        resp = self.connection.request(f"/server/cloud/{ident}/", method="DELETE")
        job = self._job_reply(resp.object, f"delete server {ident}")
        log.debug("delete server %s: job %s", ident, job)
        return True

    def ex_rename_node(self, node: Node | str, name: str, hostname: str | None = None) -> bool:
        """Rename a server (and optionally change its hostname)."""
        ident = self._node_id(node)
        form = {"name": _check_name(name),
                "hostname": _check_hostname(hostname) if hostname is not None else None}
        resp = self.connection.request(f"/server/cloud/{ident}/", data=form, method="PUT")
        self._job_reply(resp.object, f"rename server {ident}")
        return True

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
        deadline = time.monotonic() + timeout
        delay = interval
        seen: Node | None = None
        last_error: CloudkitError | None = None
        job_text = f"job {job}" if job else "a job the reply did not name"
        while True:
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
            else:
                last_error = None
                fresh = [n for n in nodes if n.name == name and n.id not in before]
                if fresh:
                    fresh.sort(key=lambda n: (n.extra.get("hostname") == hostname,
                                              n.created_at.timestamp() if n.created_at else 0.0,
                                              int(n.id) if n.id.isdigit() else 0), reverse=True)
                    seen = fresh[0]
                    if seen.public_ips or seen.private_ips:
                        return seen
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            time.sleep(min(delay, remaining))
            delay = min(max_interval, delay * 1.5)
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
        return self._raise_wait(message, condition, job, seen)

    @staticmethod
    def _raise_wait(message: str, condition: str, job: str | None, node: Node | None) -> Node:
        states = {node.id: node.state.value} if node is not None else {}
        raise WaitTimeoutError(message, nodes=[node] if node is not None else [], condition=condition,
                               last_states=states, job=job)

    # -- SSH keys -----------------------------------------------------------------------------

    def list_key_pairs(self) -> list[KeyPair]:
        """SSH keys (``GET /key/sshrsa/``)."""
        return [self._to_key_pair(k) for k in self._list("/key/sshrsa/", "nephoscale ssh keys")]

    def import_key_pair_from_string(self, name: str, key_material: str,
                                    ex_key_group: int = KEY_GROUP_SERVER) -> KeyPair:
        """Store an OpenSSH public key (in the server key group unless told otherwise)."""
        if not isinstance(name, str) or not name.strip():
            raise ValidationError("key pair name must be a non-empty string")
        kind, _, _ = parse_public_key(key_material)
        public_key = key_material.strip()
        form = {"name": name.strip(), "public_key": public_key, "key_group": int(ex_key_group)}
        resp = self.connection.request("/key/sshrsa/", data=form, method="POST",
                                       outcome_hint=f"look for an SSH key named {name!r} before trying again")
        ident = self._job_reply(resp.object, f"create SSH key {name!r}")
        if ident is None:
            raise MalformedResponseError(f"create SSH key {name!r}: the reply has no key id",
                                         driver=self.name)
        return KeyPair(name.strip(), public_key, fingerprint_md5(public_key), self, id=ident,
                       extra={"key_group": int(ex_key_group), "key_type": 2, "type": kind})

    def create_key_pair(self, name: str, public_key: str = "") -> KeyPair:
        """Store ``public_key`` under ``name``; without one, generate an RSA key pair locally
        (the endpoint is ``sshrsa``), store its public half and return it with the private
        half (shown only this once)."""
        if public_key:
            return self.import_key_pair_from_string(name, public_key)
        private, public = generate_key_pair("rsa", comment=name if isinstance(name, str) else "cloudkit")
        pair = self.import_key_pair_from_string(name, public)
        pair.private_key = private
        return pair

    def delete_key_pair(self, key_pair: KeyPair | str) -> bool:
        """Delete an SSH key (a KeyPair, its id, or its name)."""
        if isinstance(key_pair, KeyPair) and key_pair.id:
            ident = _numeric_id(key_pair.id, "key pair")
        elif isinstance(key_pair, str) and _NUMERIC_RE.fullmatch(key_pair.strip()):
            ident = key_pair.strip()
        else:
            name = key_pair.name if isinstance(key_pair, KeyPair) else object_id(key_pair, "key pair")
            found = self.get_key_pair(name)
            ident = _numeric_id(found.id, "key pair")
        resp = self.connection.request(f"/key/sshrsa/{ident}/", method="DELETE")
        self._job_reply(resp.object, f"delete SSH key {ident}")
        return True

    # -- password keys ------------------------------------------------------------------------

    def ex_list_password_keys(self) -> list[NephoscalePasswordKey]:
        """Password keys with their passwords (``GET /key/password/``; hidden in reprs)."""
        with _scrubbed(drop_body=True):
            items = self._list("/key/password/", "nephoscale password keys")
            return [self._to_password_key(k) for k in items]

    def ex_get_password_key(self, key: str) -> NephoscalePasswordKey:
        """One password key by id or name; NotFoundError when absent."""
        for item in self.ex_list_password_keys():
            if key in (item.id, item.name):
                return item
        raise NotFoundError(f"password key {key!r} not found", 404, driver=self.name)

    def ex_create_password_key(self, name: str, password: str | None = None,
                               key_group: int = KEY_GROUP_CONSOLE) -> NephoscalePasswordKey:
        """Store a password key (console group 4 by default; 1 for a root password). Without
        ``password`` a random one is generated; it is returned in the key, once."""
        if not isinstance(name, str) or not name.strip():
            raise ValidationError("password key name must be a non-empty string")
        if password is None:
            password = generate_password(16)
        elif not isinstance(password, str) or not password:
            raise ValidationError("password must be a non-empty string")
        if isinstance(key_group, bool) or key_group not in (KEY_GROUP_SERVER, KEY_GROUP_CONSOLE):
            raise ValidationError(f"key_group must be {KEY_GROUP_SERVER} (server) or "
                                  f"{KEY_GROUP_CONSOLE} (console)")
        form = {"name": name.strip(), "password": password, "key_group": key_group}
        with _scrubbed((password,)):
            resp = self.connection.request(
                "/key/password/", data=form, method="POST",
                outcome_hint=f"look for a password key named {name.strip()!r} before trying again")
            ident = self._job_reply(resp.object, f"create password key {name.strip()!r}")
        if ident is None:
            raise MalformedResponseError(f"create password key {name.strip()!r}: the reply has no key id",
                                         driver=self.name)
        return NephoscalePasswordKey(ident, name.strip(), key_group, password, self, {"key_type": 1})

    def ex_delete_password_key(self, key: NephoscalePasswordKey | str) -> bool:
        """Delete a password key (the object or its id)."""
        ident = key.id if isinstance(key, NephoscalePasswordKey) else _numeric_id(key, "password key")
        resp = self.connection.request(f"/key/password/{ident}/", method="DELETE")
        self._job_reply(resp.object, f"delete password key {ident}")
        return True

