"""HostVirtual ("VR", vapi v1) compute driver.

The API key travels in the ``key`` query parameter of every request (POSTs included); the
connection declares it as its ``key_param`` so the core redacts it from every log line, and
this module also scrubs it from any error text a provider might echo it in.

A HostVirtual server lives on a *package* (``mbpkgid``, the node id): ``create_node``
orders a package for the plan, then builds an OS on it. If the build fails (or its outcome
is unknown) the package is cancelled again so nobody is billed for an empty package, and
``CreateNodeError`` reports both steps (and says so plainly, with the package id, when the
cancel fails too).

Readings chosen where the fact sheet (``shared/api/hostvirtual.md``) is uncertain or silent:

* Request paths and id placement follow libcloud's v1 driver (the "body form":
  ``mbpkgid`` in the JSON body, or in the query string for ``GET /cloud/server``); the
  path form is used only where it is the sole attested one (``/cloud/package/ID``).
* Bodies are JSON with ``Content-Type: application/json``, ``key`` stays in the query.
* Action replies are ``{"status": "success"}``; a job reference (``{"id": ...}``) or an
  empty 2xx body also counts as success. The build reply's ``id`` is kept as
  ``node.extra["job_id"]`` (read it with ``ex_get_job``).
* ``price`` is USD per month (every example is a round monthly figure); ``NodeSize.price``
  is that divided by ``HOURS_PER_MONTH`` (730), the monthly figure stays in
  ``extra["price_monthly"]``.
* Status ``STOPPING`` maps to ``NodeState.STOPPING`` (cloudkit has that state; the sheet's
  suggestion predates it), ``TERMINATING`` to ``TERMINATED``, ``ERROR`` to ``ERROR``,
  anything else to ``UNKNOWN``.
* ``TERMINATED`` means "OS uninstalled, package still ordered and billed": such a node can
  still be destroyed (cancelled) or rebuilt (``ex_build_node``), see ``NODE_ACTIONS``.
* ``ipv6`` is reported next to ``ip`` in ``public_ips`` (libcloud mapped only ``ip``).
* Locations come as an object keyed by name (2017+) or as a plain array (before): both
  are accepted. ``country`` is the text after the first comma of the name (often a US
  state code, as libcloud read it); a name without a comma gets ``None``.
* A 404 or 412 on a listing means "nothing there" (an empty list); a 412 on
  ``GET /cloud/server`` means the package has no server record, so ``get_node`` raises
  ``NotFoundError``. Any other 412 (a business-rule refusal) is a ``ValidationError``.
* ``destroy_node`` stops a running server (best effort), cancels the package (the step
  that ends billing; its failure is raised) and unlinks it (best effort: after a cancel
  the API may refuse it, which is harmless).
* SSH keys use ``/server/sshkeys`` (no ``/cloud`` prefix), seen only in HostVirtual's Go
  client; the example bodies support that shape. ``create_node`` passes the public key
  itself as ``ssh_key`` (the portable path), or a stored key's id via ``ex_ssh_key_id``.
* The API has no tags: ``Node.tags`` is always empty and ``list_nodes(tag=...)`` filters
  on the client (so it returns nothing).
* When no location is given, ``create_node`` uses location ``21`` as libcloud did.
"""


from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Mapping
from typing import Any, ClassVar

from cloudkit.connection import QueryKeyConnection
from cloudkit.driver import ACTIONS, NodeDriver, object_id
from cloudkit.errors import (
    CloudkitError,
    CreateNodeError,
    MalformedResponseError,
    NetworkError,
    NotFoundError,
    OutcomeUnknownError,
    ProviderError,
    ServerError,
    ValidationError,
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
from cloudkit.parsing import as_dict, as_list, opt_float, opt_int, parser, req, req_id, split_ips
from cloudkit.redact import redact_exception
from cloudkit.response import STATUS_ERRORS, JsonResponse, Response
from cloudkit.secrets_gen import generate_password
from cloudkit.sshkeys import fingerprint_md5, parse_public_key

__all__ = ["HostVirtualConnection", "HostVirtualNodeDriver", "HostVirtualResponse"]

log = logging.getLogger("cloudkit.drivers.hostvirtual")

API_HOST = "vapi.vr.org"

#: HostVirtual ``status`` → NodeState (fact sheet §6; choices explained in the module doc).
NODE_STATE_MAP: dict[str, NodeState] = {
    "BUILDING": NodeState.PENDING,
    "PENDING": NodeState.PENDING,
    "RUNNING": NodeState.RUNNING,
    "STARTING": NodeState.STARTING,
    "STOPPING": NodeState.STOPPING,
    "REBOOTING": NodeState.REBOOTING,
    "STOPPED": NodeState.STOPPED,
    "TERMINATED": NodeState.TERMINATED,
    "TERMINATING": NodeState.TERMINATED,
    "ERROR": NodeState.ERROR,
}

_ALL_ACTIONS = frozenset(ACTIONS) | {"ex_delete_node", "ex_build_node"}

#: Which actions make sense in which state. A TERMINATED server is an uninstalled OS on a
#: package that is still billed: it can be cancelled (destroy_node) or rebuilt.
NODE_ACTIONS: dict[NodeState, frozenset[str]] = {
    NodeState.RUNNING: frozenset({"reboot_node", "stop_node", "destroy_node", "ex_delete_node"}),
    NodeState.STOPPED: frozenset({"start_node", "destroy_node", "ex_delete_node"}),
    NodeState.PENDING: frozenset({"destroy_node"}),
    NodeState.STARTING: frozenset({"destroy_node"}),
    NodeState.STOPPING: frozenset({"destroy_node"}),
    NodeState.REBOOTING: frozenset({"destroy_node"}),
    NodeState.TERMINATED: frozenset({"destroy_node", "ex_build_node"}),
    NodeState.ERROR: _ALL_ACTIONS,
    NodeState.UNKNOWN: _ALL_ACTIONS,
}

_NO_TAGS = "HostVirtual's API has no tags (Node.tags is always empty)"

_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_PLAN_NAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
_AMOUNT = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGT]?)(I?B)?\s*", re.IGNORECASE)
_UNIT_POWER = {"": 0, "K": 1, "M": 2, "G": 3, "T": 4}
_FAILED_STATUSES = frozenset({"error", "fail", "failed", "failure"})


# -- errors ---------------------------------------------------------------------------------

def _error_fields(body: Any) -> tuple[str, str | None] | None:
    """(message, code) from ``{"error": {"code": 404, "message": "..."}}`` (or looser shapes)."""
    if not isinstance(body, dict):
        return None
    err = body.get("error")
    if isinstance(err, dict):
        message = err.get("message")
        code = err.get("code")
        text = message.strip()[:500] if isinstance(message, str) and message.strip() else None
        code_text = (str(code).strip()[:40] if isinstance(code, (int, str)) and not isinstance(code, bool)
                     and str(code).strip() else None)
        if text is None and code_text is None:
            return None
        return (text or f"error code {code_text}", code_text)
    if isinstance(err, str) and err.strip():
        return (err.strip()[:500], None)
    message = body.get("message")
    if isinstance(message, str) and message.strip() and "mbpkgid" not in body:
        return (message.strip()[:500], None)
    return None


def _error_class(status: int) -> type[ProviderError]:
    if status == 412:  # Precondition Failed: HostVirtual's validation / business-rule refusal
        return ValidationError
    cls = STATUS_ERRORS.get(status)
    if cls is not None:
        return cls
    return ServerError if status >= 500 else ProviderError


def _describe(exc: BaseException) -> str:
    """One line about a failed step, without the driver prefix."""
    if isinstance(exc, ProviderError):
        status = f"HTTP {exc.status}: " if exc.status is not None else ""
        return f"{status}{exc.message or type(exc).__name__}"
    return f"{type(exc).__name__}: {exc}"


class HostVirtualResponse(JsonResponse):
    """HostVirtual answers: JSON; errors look like ``{"error": {"code", "message"}}``."""

    def parse_body(self) -> Any:
        body = super().parse_body()
        # Defensive: an error object delivered with a 2xx status is still an error.
        if isinstance(body, dict) and isinstance(body.get("error"), dict) and "mbpkgid" not in body:
            found = _error_fields(body)
            if found is not None:
                message, code = found
                status = opt_int(code)
                status = status if status is not None and 400 <= status <= 599 else self.status
                cls = _error_class(status) if status >= 400 else ProviderError
                raise cls(message, status, code=code, body=self.body, driver=self.driver_name,
                          headers=dict(self.headers))
        return body

    def parse_error(self) -> tuple[str, str | None]:
        found = _error_fields(self.json_error_body())
        return found if found is not None else (self._fallback_message(), None)

    def to_exception(self) -> ProviderError:
        if self.status == 412:
            try:
                message, code = self.parse_error()
            except Exception:
                message, code = self._fallback_message(), None
            return ValidationError(message, 412, code=code, body=self.body, driver=self.driver_name,
                                   headers=dict(self.headers))
        return super().to_exception()


class HostVirtualConnection(QueryKeyConnection):
    """``https://vapi.vr.org`` with the API key in the ``key`` query parameter."""

    host = API_HOST
    key_param = "key"
    responseCls = HostVirtualResponse

    def request(self, *args: Any, **kwargs: Any) -> Response:
        """As ``Connection.request``; any error text that echoes the API key is scrubbed."""
        try:
            return super().request(*args, **kwargs)
        except CloudkitError as exc:
            redact_exception(exc, [self.key])
            raise


# -- small parsing helpers ------------------------------------------------------------------

def _opt_id(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    text = str(value).strip()
    return text or None


def _opt_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _flag(value: Any) -> bool | None:
    """HostVirtual flags are "0"/"1" strings (sometimes ints or bools)."""
    if isinstance(value, bool):
        return value
    number = opt_int(value)
    return None if number is None else number != 0


def _amount(value: Any, unit: str) -> float | None:
    """``"2048MB"``, ``"40GB"``, ``"1.5TB"`` (or a bare number, already in ``unit``) in ``unit``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        match = _AMOUNT.fullmatch(value)
        if match is None:
            return None
        number = float(match.group(1))
        prefix = match.group(2).upper()
        if prefix or match.group(3):  # a bare number is already in ``unit``; "B" alone is bytes
            number *= 1024.0 ** (_UNIT_POWER[prefix] - _UNIT_POWER[unit[0]])
    else:
        return None
    return number if math.isfinite(number) and number >= 0 else None


def _country(name: str) -> str | None:
    """The text after the first comma of ``"LAX - Los Angeles, CA"`` (None without a comma)."""
    if "," not in name:
        return None
    region = name.split(",", 1)[1].strip()
    return region or None


def _location_sort_key(location: NodeLocation) -> tuple[int, int, str]:
    return (0, int(location.id), "") if location.id.isdigit() else (1, 0, location.id)


def _check_fqdn(name: Any) -> str:
    """Refuse names HostVirtual would refuse: it wants a fully qualified domain name."""
    if not isinstance(name, str) or not name.strip():
        raise ValidationError("node name is required: a fully qualified domain name such as "
                              "'web1.example.com'")
    host = name[:-1] if name.endswith(".") else name
    labels = host.split(".")
    if len(name) > 255 or len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        raise ValidationError(
            f"HostVirtual node names must be fully qualified domain names such as 'web1.example.com' "
            f"(at least two dot-separated labels of 1-63 letters, digits or hyphens, no hyphen at "
            f"either end, 255 characters at most); got {name[:80]!r}")
    return name


def _seconds(value: Any, default: float, what: str) -> float:
    """A non-negative number of seconds (``default`` when None)."""
    if value is None:
        return default
    number = opt_float(value)
    if number is None or not math.isfinite(number) or number < 0:
        raise ValidationError(f"{what} must be a number of seconds (0 or more), not {value!r}")
    return number


def _reply_ok(body: Any, what: str, driver: str) -> bool:
    """Action replies are ``{"status": "success"}``; refuse an explicit failure status."""
    if isinstance(body, dict):
        status = body.get("status")
        if isinstance(status, str) and status.strip().lower() in _FAILED_STATUSES:
            message = body.get("message")
            detail = f": {message[:300]}" if isinstance(message, str) and message else ""
            raise ProviderError(f"{what} answered status {status!r}{detail}", driver=driver)
    return True


# -- the driver -----------------------------------------------------------------------------

class HostVirtualNodeDriver(NodeDriver):
    """HostVirtual (VR) vapi v1: ``get_driver(Provider.HOSTVIRTUAL)(api_key)``."""

    name = "HostVirtual"
    type = "hostvirtual"
    website = "https://www.hostvirtual.com"
    credential_names: ClassVar[tuple[str, ...]] = ("KEY",)
    demo_defaults: ClassVar[dict[str, str]] = {"name": "cloudkit-demo-1.example.com"}
    connectionCls = HostVirtualConnection
    features: ClassVar[dict[str, list[str]]] = {
        "create_node": ["ssh_key", "password", "generates_password"]}
    NODE_STATE_MAP: ClassVar[dict[str, NodeState]] = NODE_STATE_MAP
    NODE_ACTIONS: ClassVar[dict[NodeState, frozenset[str]]] = NODE_ACTIONS
    UNSUPPORTED: ClassVar[dict[str, str]] = {
        "ex_create_tag": _NO_TAGS,
        "ex_tag_node": _NO_TAGS,
        "ex_untag_node": _NO_TAGS,
        "ex_list_tags": _NO_TAGS,
        "ex_delete_tag": _NO_TAGS,
    }

    #: Location used when create_node gets none (libcloud's default).
    DEFAULT_LOCATION_ID: ClassVar[str] = "21"
    #: Monthly plan price → hourly ``NodeSize.price``.
    HOURS_PER_MONTH: ClassVar[float] = 730.0
    #: How long create_node waits for the new server record, and the longest pause between looks.
    CREATE_WAIT_TIMEOUT: ClassVar[float] = 30.0
    CREATE_POLL_INTERVAL: ClassVar[float] = 5.0

    # -- ids ------------------------------------------------------------------------------

    @staticmethod
    def _id(value: Any, kind: str) -> str:
        """The id of a model or id string; refused client-side unless it looks like an id."""
        text = object_id(value, kind)
        if not _SAFE_ID.fullmatch(text):
            raise ValidationError(f"{kind} id {text[:80]!r} is not a HostVirtual id "
                                  "(letters, digits, '.', '_' or '-')")
        return text

    # -- listings -------------------------------------------------------------------------

    def _list(self, action: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        """GET a listing; HostVirtual answers an empty one with 404 (or 412): that is []."""
        try:
            body = self.connection.request(action, params=params).object
        except (NotFoundError, ValidationError) as exc:
            if exc.status in (404, 412):
                return []
            raise
        if body is None:
            return []
        return as_list(body, f"{action} listing")

    def list_nodes(self, tag: str | None = None) -> list[Node]:
        """Every server on the account (HostVirtual has no tags: ``tag`` matches nothing)."""
        if tag is not None and (not isinstance(tag, str) or not tag):
            raise ValidationError("tag must be a non-empty string")
        nodes = [self._to_node(item) for item in self._list("/cloud/servers/")]
        return nodes if tag is None else [node for node in nodes if tag in node.tags]

    def get_node(self, node_id: str) -> Node:
        """One server by package id (``mbpkgid``); NotFoundError when it has no server record."""
        wanted = self._id(node_id, "node")
        try:
            body = self.connection.request("/cloud/server", params={"mbpkgid": wanted}).object
        except ValidationError as exc:
            if exc.status == 412:  # a package without a server record (not built yet)
                raise NotFoundError(f"node {wanted} not found: {exc.message}", exc.status, code=exc.code,
                                    driver=self.name) from None
            raise
        if isinstance(body, list):  # some deployments answer a one-element array
            if not body:
                raise NotFoundError(f"node {wanted} not found", 404, driver=self.name)
            body = body[0]
        return self._to_node(body)

    def verify_credentials(self) -> bool:
        """List the servers (the cheapest call that needs a valid key); True when accepted."""
        self._list("/cloud/servers/")
        return True

    def list_sizes(self, location: NodeLocation | str | None = None) -> list[NodeSize]:
        """Plans, with the hourly price derived from the monthly one."""
        params = {"location": self._id(location, "location")} if location is not None else None
        sizes = [self._to_size(item) for item in self._list("/cloud/sizes/", params)]
        if params:
            for size in sizes:
                size.extra["location"] = params["location"]
        return sizes

    def list_images(self, location: NodeLocation | str | None = None) -> list[NodeImage]:
        """Operating systems a package can be built with (the same everywhere)."""
        return [self._to_image(item) for item in self._list("/cloud/images/")]

    def list_locations(self) -> list[NodeLocation]:
        """Data centres, sorted by id (both the keyed-object and the older array reply)."""
        body = self.connection.request("/cloud/locations/").object
        if body is None:
            return []
        if isinstance(body, dict):
            pairs: list[tuple[Any, Any]] = list(body.items())
        elif isinstance(body, list):
            pairs = [(None, item) for item in body]
        else:
            raise MalformedResponseError(
                f"location listing: expected an object or an array, got {type(body).__name__}",
                driver=self.name)
        locations = [self._to_location(value, key) for key, value in pairs]
        return sorted(locations, key=_location_sort_key)

    # -- create ---------------------------------------------------------------------------

    def create_node(self, name: str, size: NodeSize | str, image: NodeImage | str,
                    location: NodeLocation | str | None = None, auth: Any = None, *,
                    ex_ssh_key_id: str | None = None, ex_wait_timeout: float | None = None,
                    ex_poll_interval: float | None = None, **kwargs: Any) -> Node:
        """Order a package for ``size`` and build ``image`` on it in ``location``.

        ``auth``: ``NodeAuthSSHKey`` (its public key is installed), ``NodeAuthPassword``, or
        None (a strong root password is generated and returned once in
        ``node.extra["password"]``, unless ``ex_ssh_key_id`` names a stored key). The new
        server record is awaited up to ``ex_wait_timeout`` seconds; if it does not show up
        in time the node is returned as PENDING all the same (it exists).

        If the build fails after the order, the package is cancelled and ``CreateNodeError``
        tells both outcomes (``cleaned_up`` False, with the package id, if cancelling failed).
        If the build request gets no answer (the server may exist), nothing is cancelled:
        ``OutcomeUnknownError`` names the server and the package to look for.
        """
        if kwargs:
            raise ValidationError(f"unknown create_node arguments: {', '.join(sorted(kwargs))}")
        fqdn = _check_fqdn(name)
        image_id = self._id(image, "image")
        location_id = self._id(location, "location") if location is not None else self.DEFAULT_LOCATION_ID
        auth_fields, password = self._auth_fields(auth, ex_ssh_key_id, generate=True)
        timeout = _seconds(ex_wait_timeout, self.CREATE_WAIT_TIMEOUT, "ex_wait_timeout")
        interval = _seconds(ex_poll_interval, self.CREATE_POLL_INTERVAL, "ex_poll_interval")
        size_id, plan = self._resolve_plan(size)

        package_id = self._order(plan, fqdn)
        log.info("ordered package %s (plan %s) for %s", package_id, plan, fqdn)
        build = {"mbpkgid": package_id, "fqdn": fqdn, "image": image_id, "location": location_id,
                 **auth_fields}
        try:
            job_id = self._build(build, fqdn)
        except OutcomeUnknownError as exc:
            # The build may have happened: cancelling now could destroy a server the user has.
            # Keep the package and say exactly what to look for.
            redact_exception(exc, [password])
            raise OutcomeUnknownError(
                f"creating node {fqdn!r}: package {package_id} was ordered, then the build request got "
                "no answer, so the server may have been built",
                hint=(f"look for a server named {fqdn!r} on package {package_id}; if none appears, cancel "
                      f"the order with ex_cancel_package({package_id!r}) so it is not billed"),
                method=exc.method, url=exc.url, sent=True) from None
        except CloudkitError as exc:
            raise self._cancel_after_failed_build(package_id, fqdn, exc, password) from None
        log.info("build of %s on package %s accepted (job %s)", fqdn, package_id, job_id or "-")

        node = self._wait_for_server(package_id, timeout, interval)
        if node is None:
            node = Node(package_id, fqdn, NodeState.PENDING, [], [], self, extra={"fqdn": fqdn})
        for key, value in (("size", size_id), ("image", image_id), ("location", location_id),
                           ("package", plan)):
            if value is not None:
                node.extra.setdefault(key, value)
        if job_id is not None:
            node.extra["job_id"] = job_id
        if isinstance(size, NodeSize):
            node.size = size
        if isinstance(image, NodeImage):
            node.image = image
        if password and (auth is None or getattr(auth, "generated", False)):
            node.extra["password"] = password  # made by cloudkit: the only time it is shown
        return node

    def _auth_fields(self, auth: Any, ssh_key_id: str | None, *,
                     generate: bool) -> tuple[dict[str, str], str | None]:
        """The build body's credential fields, and the password in use (if any)."""
        fields: dict[str, str] = {}
        if ssh_key_id is not None:
            fields["ssh_key_id"] = self._id(ssh_key_id, "SSH key")
        if isinstance(auth, NodeAuthSSHKey):
            parse_public_key(auth.pubkey)
            fields["ssh_key"] = auth.pubkey.strip()
            return fields, None
        if isinstance(auth, NodeAuthPassword):
            if not isinstance(auth.password, str) or not auth.password.strip():
                raise ValidationError("the root password must not be empty")
            fields["password"] = auth.password
            return fields, auth.password
        if auth is not None:
            raise ValidationError("auth must be a NodeAuthSSHKey or a NodeAuthPassword")
        if fields:
            return fields, None
        if not generate:
            raise ValidationError("building needs auth (NodeAuthSSHKey or NodeAuthPassword) "
                                  "or ex_ssh_key_id")
        password = generate_password(24)  # letters and digits
        fields["password"] = password
        return fields, password

    def _resolve_plan(self, size: NodeSize | str) -> tuple[str | None, str]:
        """(plan id if known, plan name): HostVirtual orders by plan *name*, e.g. "VR1G"."""
        if isinstance(size, NodeSize):
            if size.name and _PLAN_NAME.fullmatch(size.name):
                return size.id, size.name
            wanted = self._id(size.id, "size")
        else:
            wanted = self._id(size, "size")
            if not wanted.isdigit():  # a plan name already
                return None, wanted
        sizes = self.list_sizes()
        for candidate in sizes:
            if candidate.id == wanted:
                return candidate.id, candidate.name
        raise ValidationError(f"unknown size {wanted!r}; HostVirtual plans: "
                              f"{', '.join(f'{s.id} ({s.name})' for s in sizes) or 'none listed'}")

    def _order(self, plan: str, fqdn: str | None = None) -> str:
        hint = (f"a package of plan {plan!r} may have been ordered: look for it with "
                "ex_list_packages() and cancel it with ex_cancel_package() before trying again")
        if fqdn:
            hint = f"creating {fqdn!r}: {hint}"
        body = self.connection.request("/cloud/buy/", data={"plan": plan}, method="POST",
                                       outcome_hint=hint).object
        try:
            return req_id(as_dict(body, "order reply"), "id", "order reply")
        except MalformedResponseError as exc:
            raise MalformedResponseError(f"{exc.message}; {hint}", driver=self.name) from None

    def _build(self, fields: dict[str, str], fqdn: str) -> str | None:
        """POST the build; returns the job id when the reply carries one."""
        try:
            body = self.connection.request(
                "/cloud/server/build", data=fields, method="POST",
                outcome_hint=f"the build of {fqdn!r} on package {fields['mbpkgid']} may have started").object
        except MalformedResponseError as exc:
            if exc.status is not None and 200 <= exc.status < 300:
                return None  # accepted; the reply just is not JSON
            raise
        _reply_ok(body, "build", self.name)
        return _opt_id(body.get("id")) if isinstance(body, dict) else None

    def _cancel_after_failed_build(self, package_id: str, fqdn: str, build_error: CloudkitError,
                                   password: str | None) -> CreateNodeError:
        redact_exception(build_error, [password])
        built = _describe(build_error)
        status = build_error.status if isinstance(build_error, ProviderError) else None
        code = build_error.code if isinstance(build_error, ProviderError) else None
        try:
            self._post("/cloud/cancel", package_id)
        except CloudkitError as cancel_error:
            log.error("building %s failed and cancelling package %s failed too: it may still be billed",
                      fqdn, package_id)
            return CreateNodeError(
                f"creating node {fqdn!r} failed: package {package_id} was ordered, then building it failed "
                f"({built}); cancelling the order ALSO failed ({_describe(cancel_error)}): package "
                f"{package_id} is still ordered and may be billed; cancel it with "
                f"ex_cancel_package({package_id!r}) or in the HostVirtual control panel",
                status, resource_id=package_id, cause=build_error, cleaned_up=False,
                cleanup_error=cancel_error, code=code, driver=self.name)
        log.warning("building %s failed; package %s was cancelled", fqdn, package_id)
        return CreateNodeError(
            f"creating node {fqdn!r} failed: package {package_id} was ordered, then building it failed "
            f"({built}); the order was cancelled, so package {package_id} is not billed",
            status, resource_id=package_id, cause=build_error, cleaned_up=True, code=code,
            driver=self.name)

    def _wait_for_server(self, package_id: str, timeout: float, interval: float) -> Node | None:
        """Poll get_node until the package has a server record; None when it does not in time."""
        deadline = time.monotonic() + timeout
        delay = min(1.0, interval)
        while True:
            try:
                return self.get_node(package_id)
            except NotFoundError:
                pass  # no server record yet
            except CloudkitError as exc:
                log.warning("package %s was built but reading its server failed (%s); returning it as "
                            "pending", package_id, _describe(exc))
                return None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                log.info("package %s has no server record after %.0fs; returning it as pending",
                         package_id, timeout)
                return None
            time.sleep(min(delay, remaining))
            delay = min(max(interval, 0.01), delay * 2 or 0.01)

    # -- power and lifecycle --------------------------------------------------------------

    def _post(self, action: str, node_id: str, extra: Mapping[str, Any] | None = None) -> bool:
        body = self.connection.request(action, data={"mbpkgid": node_id, **(extra or {})},
                                       method="POST").object
        return _reply_ok(body, f"{action} for {node_id}", self.name)

    def reboot_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """Reboot (``ex_force`` also skips the state check and asks for a hard reboot)."""
        self._check_action(node, "reboot_node", ex_force)
        return self._post("/cloud/server/reboot", self._id(node, "node"), {"force": 1 if ex_force else 0})

    def start_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """Power a stopped server on."""
        self._check_action(node, "start_node", ex_force)
        return self._post("/cloud/server/start", self._id(node, "node"))

    def stop_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """Shut a server down (``ex_force``: hard power-off, and no state check)."""
        self._check_action(node, "stop_node", ex_force)
        return self._post("/cloud/server/shutdown", self._id(node, "node"), {"force": 1 if ex_force else 0})

    def destroy_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """Stop the server if it runs, cancel its package (ends billing; permanent), unlink it.

        Stopping and unlinking are best effort; the cancel is what counts and its failure
        is raised.
        """
        self._check_action(node, "destroy_node", ex_force)
        node_id = self._id(node, "node")
        current = node if isinstance(node, Node) else self._peek(node_id)
        if current is not None and current.state not in (
                NodeState.STOPPED, NodeState.TERMINATED, NodeState.PENDING, NodeState.STOPPING):
            self._best_effort("stop", "/cloud/server/shutdown", node_id, {"force": 1})
        self._post("/cloud/cancel", node_id)
        self._best_effort("unlink", "/cloud/unlink", node_id)
        log.info("package %s cancelled", node_id)
        return True

    def _peek(self, node_id: str) -> Node | None:
        try:
            return self.get_node(node_id)
        except CloudkitError:
            return None

    def _best_effort(self, what: str, action: str, node_id: str,
                     extra: Mapping[str, Any] | None = None) -> bool:
        try:
            return self._post(action, node_id, extra)
        except (ProviderError, NetworkError) as exc:
            log.info("%s of package %s did not succeed (%s); carrying on", what, node_id, _describe(exc))
            return False

    # -- HostVirtual extras ---------------------------------------------------------------

    def ex_list_packages(self) -> list[dict[str, Any]]:
        """Every package (plan slot) on the account, built or not, as the API gives them."""
        return [self._to_package(item) for item in self._list("/cloud/packages")]

    def ex_get_package(self, package_id: Node | str) -> dict[str, Any]:
        """One package by id."""
        wanted = self._id(package_id, "package")
        return self._to_package(self.connection.request(f"/cloud/package/{wanted}").object)

    def ex_order_package(self, size: NodeSize | str) -> str:
        """Order (and start paying for) a package of plan ``size``; returns its id."""
        return self._order(self._resolve_plan(size)[1])

    def ex_build_node(self, node: Node | str, image: NodeImage | str,
                      location: NodeLocation | str | None = None, auth: Any = None, *,
                      name: str | None = None, ex_ssh_key_id: str | None = None,
                      ex_force: bool = False) -> str | None:
        """Build (install) ``image`` on an existing package: a new order or a TERMINATED
        server. Returns the build job id when the API gives one."""
        self._check_action(node, "ex_build_node", ex_force)
        node_id = self._id(node, "node")
        existing = node if isinstance(node, Node) else None
        fqdn = _check_fqdn(name if name is not None else existing.name if existing else None)
        if location is not None:
            location_id = self._id(location, "location")
        elif existing is not None and existing.extra.get("location"):
            location_id = self._id(existing.extra["location"], "location")
        else:
            raise ValidationError("location is required to build a package that is not a Node "
                                  "with a known location")
        auth_fields, _ = self._auth_fields(auth, ex_ssh_key_id, generate=False)
        return self._build({"mbpkgid": node_id, "fqdn": fqdn, "image": self._id(image, "image"),
                            "location": location_id, **auth_fields}, fqdn)

    def ex_delete_node(self, node: Node | str, ex_force: bool = False) -> bool:
        """Uninstall the OS but keep (and keep paying for) the package: it becomes TERMINATED."""
        self._check_action(node, "ex_delete_node", ex_force)
        return self._post("/cloud/server/delete", self._id(node, "node"))

    def ex_cancel_package(self, package: Node | str) -> bool:
        """Cancel a package: billing ends, permanently."""
        return self._post("/cloud/cancel", self._id(package, "package"))

    def ex_unlink_package(self, package: Node | str) -> bool:
        """Release the location and IPs of an uninstalled package."""
        return self._post("/cloud/unlink", self._id(package, "package"))

    def ex_get_job(self, node: Node | str, job_id: str) -> dict[str, Any]:
        """A server job (e.g. the build's ``extra["job_id"]``): ``status`` 5 is success,
        6 failure, 3 or less still working; ``done``/``succeeded`` say so."""
        params = {"mbpkgid": self._id(node, "node"), "job_id": self._id(job_id, "job")}
        return self._to_job(self.connection.request("/cloud/serverjob", params=params).object)

    # -- SSH keys -------------------------------------------------------------------------

    def list_key_pairs(self) -> list[KeyPair]:
        """SSH keys stored on the account."""
        return [self._to_key_pair(item) for item in self._list("/server/sshkeys")]

    def import_key_pair_from_string(self, name: str, key_material: str) -> KeyPair:
        """Store a public key under ``name``."""
        if not isinstance(name, str) or not name.strip() or len(name) > 255:
            raise ValidationError("key pair name must be a non-empty string of at most 255 characters")
        parse_public_key(key_material)
        material = key_material.strip()
        body = self.connection.request(
            "/server/sshkeys", data={"name": name, "ssh_key": material}, method="POST",
            outcome_hint=f"look for a key named {name!r} with list_key_pairs() before trying again").object
        if isinstance(body, dict) and "id" in body:
            return self._to_key_pair({"name": name, "ssh_key": material, **body})
        _reply_ok(body, "SSH key import", self.name)
        return KeyPair(name, material, fingerprint_md5(material), self)

    def delete_key_pair(self, key_pair: KeyPair | str) -> bool:
        """Remove a stored key (found by name when the KeyPair has no id)."""
        if isinstance(key_pair, KeyPair) and key_pair.id:
            key_id = key_pair.id
        else:
            wanted = key_pair.name if isinstance(key_pair, KeyPair) else object_id(key_pair, "key pair")
            key_id = self.get_key_pair(wanted).id or wanted
        key_id = self._id(key_id, "key pair")
        body = self.connection.request(f"/server/sshkeys/{key_id}", method="DELETE").object
        return _reply_ok(body, f"deleting SSH key {key_id}", self.name)

    # -- parsing --------------------------------------------------------------------------

    @parser("server")
    def _to_node(self, data: Any) -> Node:
        obj = as_dict(data, "server")
        node_id = req_id(obj, "mbpkgid", "server")
        fqdn = _opt_str(obj.get("fqdn")) or ""
        addresses = [value.strip() for value in (obj.get("ip"), obj.get("ipv6"))
                     if isinstance(value, str) and value.strip()]
        public, private = split_ips(addresses)
        extra: dict[str, Any] = {}
        for field, key in (("plan_id", "size"), ("os_id", "image"), ("location_id", "location")):
            value = _opt_id(obj.get(field))
            if value is not None:
                extra[key] = value
        for key in ("fqdn", "status", "state", "os", "package", "city", "host", "ipv6", "pkg_id"):
            raw = obj.get(key)
            if isinstance(raw, (str, int, float)) and not isinstance(raw, bool):
                extra[key] = raw
        for key in ("installed", "rescue", "locked"):
            flag = _flag(obj.get(key))
            if flag is not None:
                extra[key] = flag
        status = obj.get("status")
        state = self._state(status.strip().upper() if isinstance(status, str) else status)
        return Node(node_id, fqdn, state, public, private, self, extra=extra)

    @parser("plan")
    def _to_size(self, data: Any) -> NodeSize:
        obj = as_dict(data, "plan")
        size_id = req_id(obj, "plan_id", "plan")
        name = req(obj, "plan", str, "plan")
        ram = _amount(obj.get("ram"), "MB")
        disk = _amount(obj.get("disk"), "GB")
        if ram is None or disk is None:
            raise MalformedResponseError(
                f"plan {size_id}: ram {obj.get('ram')!r} / disk {obj.get('disk')!r} are not sizes",
                driver=self.name)
        monthly = opt_float(obj.get("price"))
        if monthly is not None and (not math.isfinite(monthly) or monthly < 0):
            monthly = None
        hourly = monthly / self.HOURS_PER_MONTH if monthly is not None else None
        extra: dict[str, Any] = {"price_monthly": monthly, "available": opt_int(obj.get("available")),
                                 "ram": obj.get("ram"), "disk": obj.get("disk"),
                                 "transfer": obj.get("transfer")}
        return NodeSize(size_id, name, round(ram), round(disk), _amount(obj.get("transfer"), "GB"), hourly,
                        self, {k: v for k, v in extra.items() if v is not None})

    @parser("image")
    def _to_image(self, data: Any) -> NodeImage:
        obj = as_dict(data, "image")
        image_id = req_id(obj, "id", "image")
        name = req(obj, "os", str, "image")
        extra = {key: value for key, value in obj.items() if key not in ("id", "os")
                 and (value is None or isinstance(value, (str, int, float, bool)))}
        return NodeImage(image_id, name, self, extra)

    @parser("location")
    def _to_location(self, data: Any, key: Any = None) -> NodeLocation:
        obj = as_dict(data, "location")
        location_id = req_id(obj, "id", "location")
        name = obj.get("name")
        if not isinstance(name, str) or not name.strip():
            name = key if isinstance(key, str) and key.strip() else None
        if name is None:
            raise MalformedResponseError(f"location {location_id}: no name", driver=self.name)
        code, sep, place = name.partition(" - ")
        extra: dict[str, Any] = {}
        if sep:
            extra["code"] = code.strip()
            extra["city"] = place.split(",", 1)[0].strip()
        country = _country(name)
        if country is not None:
            extra["region"] = country
        return NodeLocation(location_id, name, country, self, extra)

    @parser("SSH key")
    def _to_key_pair(self, data: Any) -> KeyPair:
        obj = as_dict(data, "SSH key")
        key_id = req_id(obj, "id", "SSH key")
        name = req(obj, "name", str, "SSH key")
        public = req(obj, "ssh_key", str, "SSH key").strip()
        fingerprint = _opt_str(obj.get("fingerprint"))
        if not fingerprint:
            try:
                fingerprint = fingerprint_md5(public)
            except ValidationError:
                fingerprint = None
        return KeyPair(name, public, fingerprint, self, id=key_id)

    @parser("package")
    def _to_package(self, data: Any) -> dict[str, Any]:
        obj = dict(as_dict(data, "package"))
        obj["mbpkgid"] = req_id(obj, "mbpkgid", "package")
        return obj

    @parser("job")
    def _to_job(self, data: Any) -> dict[str, Any]:
        obj = dict(as_dict(data, "job"))
        obj["id"] = req_id(obj, "id", "job")
        status = opt_int(obj.get("status"))
        obj["status"] = status
        obj["done"] = status is not None and status >= 5
        obj["succeeded"] = status == 5
        return obj
