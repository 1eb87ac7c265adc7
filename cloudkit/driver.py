"""NodeDriver: the contract every provider driver fulfils, and the generic parts of it.

A driver subclass sets ``name``, ``type``, ``connectionCls``, its state map and
``features``, and implements the contract methods its API supports. Methods it does not
implement raise ``NotSupportedError`` (a ``NotImplementedError``) naming the driver and the
method, and ``supports()`` answers the same question without raising.
"""

from __future__ import annotations

import builtins
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, NoReturn, TypeVar

from cloudkit._pickling import restore_state, travelling_state
from cloudkit.connection import Connection, Timeout
from cloudkit.errors import (
    ActionNotAllowedError,
    ConfigurationError,
    NotFoundError,
    NotSupportedError,
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
from cloudkit.parsing import as_dict
from cloudkit.surface import LibcloudSurface
from cloudkit.waiting import Waiting, refresh_in_place, refresh_node

if TYPE_CHECKING:  # pragma: no cover
    import paramiko

    from cloudkit._deploy import DeployEvent, ProbeResult
    from cloudkit.deployment import Deployment

    SSHKeySource = str | os.PathLike[str] | paramiko.PKey

__all__ = ["ACTIONS", "DEFAULT_NODE_ACTIONS", "NodeDriver", "Support", "object_id", "refresh_in_place", "refresh_node"]

log = logging.getLogger("cloudkit.driver")

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")

#: The node actions whose availability depends on the node's state.
ACTIONS = ("reboot_node", "start_node", "stop_node", "destroy_node")

#: A sensible default table of which actions each state allows; drivers refine it.
DEFAULT_NODE_ACTIONS: dict[NodeState, frozenset[str]] = {
    NodeState.RUNNING: frozenset({"reboot_node", "stop_node", "destroy_node"}),
    NodeState.STOPPED: frozenset({"start_node", "destroy_node"}),
    NodeState.PENDING: frozenset({"destroy_node"}),
    NodeState.STARTING: frozenset({"destroy_node"}),
    NodeState.REBOOTING: frozenset({"destroy_node"}),
    NodeState.STOPPING: frozenset({"destroy_node"}),
    NodeState.ERROR: frozenset({"destroy_node", "reboot_node", "start_node", "stop_node"}),
    NodeState.UNKNOWN: frozenset(ACTIONS),
    NodeState.TERMINATED: frozenset(),
}


def _unsupported(fn: F) -> F:
    """Mark a base-class method as 'not implemented unless a driver overrides it'."""
    fn.__dict__["_cloudkit_unsupported"] = True  # marker read by supports()
    return fn


def _declared_unsupported(capability: str) -> Callable[..., NoReturn]:
    """The method given to a driver for a capability it declares in ``UNSUPPORTED`` but has
    no method for: calling it raises NotSupportedError with the declared reason."""

    def method(self: NodeDriver, *args: Any, **kwargs: Any) -> NoReturn:
        raise self._not_supported(capability)

    method.__name__ = method.__qualname__ = capability
    method.__doc__ = f"Not supported: the provider's API cannot do this (see ``supports({capability!r})``)."
    return _unsupported(method)


def object_id(value: Any, kind: str) -> str:
    """The id of a model object, or the id/slug string (or int) given in its place."""
    if isinstance(value, (Node, NodeSize, NodeImage, NodeLocation)):
        return value.id
    if isinstance(value, KeyPair):
        return value.id or value.name
    if isinstance(value, bool) or value is None:
        raise ValidationError(f"{kind} is required (a {kind} object or its id)")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        if value.strip():
            return value.strip()
        raise ValidationError(f"{kind} id must not be empty (give a {kind} object or its id)")
    raise ValidationError(f"{kind} must be a {kind} object or an id string, not {type(value).__name__}")


class Support(NamedTuple):
    """The answer of ``driver.supports(...)``; truthy when supported."""

    supported: bool
    reason: str = ""

    def __bool__(self) -> bool:
        return self.supported


class NodeDriver(LibcloudSurface, Waiting):
    """Base class of every compute driver (libcloud's ``NodeDriver`` contract)."""

    #: Human-readable provider name, e.g. "DigitalOcean".
    name: ClassVar[str] = "Base"
    #: The Provider value (registry name), e.g. "digitalocean".
    type: ClassVar[str] = ""
    website: ClassVar[str] = ""
    connectionCls: ClassVar[builtins.type[Connection]] = Connection
    #: How ``create_node`` can give access to a new node, e.g. {"create_node": ["ssh_key", "password"]}:
    #: "ssh_key" (accepts NodeAuthSSHKey), "password" (accepts NodeAuthPassword),
    #: "generates_password" (the provider makes one; it is in node.extra["password"]).
    features: ClassVar[dict[str, list[str]]] = {"create_node": []}
    #: Provider status → NodeState.
    NODE_STATE_MAP: ClassVar[dict[str, NodeState]] = {}
    #: NodeState → actions allowed in it (see ``node_actions``).
    NODE_ACTIONS: ClassVar[dict[NodeState, frozenset[str]]] = DEFAULT_NODE_ACTIONS
    #: Capability → reason, for things the provider's API cannot do at all.
    UNSUPPORTED: ClassVar[dict[str, str]] = {}
    #: What the ``cloudkit`` command reads from the environment: variable suffixes, the first for
    #: ``key``, the optional second for ``secret`` (CLOUDKIT_<TYPE>_KEY / _SECRET by default).
    credential_names: ClassVar[tuple[str, ...]] = ("KEY", "SECRET")
    #: create_node arguments ``cloudkit demo`` needs beyond a size, image and location.
    demo_defaults: ClassVar[dict[str, str]] = {}
    #: Attributes that do not travel when the driver is pickled (caches, clients made on
    #: first use): a dict, list or set arrives empty, anything else as None. A subclass adds
    #: to its bases' names. Locks, events and executors never travel (made anew on arrival).
    transient_attributes: ClassVar[frozenset[str]] = frozenset()

    connection: Connection

    def __init__(
        self,
        key: str,
        secret: str | None = None,
        secure: bool = True,
        host: str | None = None,
        port: int | None = None,
        *,
        base_url: str | None = None,
        timeout: Timeout | None = None,
        max_retries: int | None = None,
        retry_budget: float | None = None,
        verify: bool | str = True,
        proxies: Mapping[str, str] | None = None,
        max_body_bytes: int | None = None,
        page_workers: int | None = None,
        page_size: int | None = None,
        user_agent_extra: str | None = None,
        api_version: str | None = None,
        **kwargs: Any,
    ) -> None:
        #: The API version talked (``API_VERSIONS``; libcloud's ``api_version=`` argument).
        self.api_version = self._api_version(api_version)
        if kwargs:
            names = ", ".join(sorted(kwargs))
            raise ConfigurationError(f"{type(self).__name__} got unknown keyword arguments: {names}")
        self.key = key
        self.secret = secret
        self.connection = self.connectionCls(
            key, secret, secure, host, port, base_url=base_url, timeout=timeout,
            max_retries=max_retries, retry_budget=retry_budget, verify=verify, proxies=proxies,
            max_body_bytes=max_body_bytes, page_workers=page_workers, page_size=page_size,
            user_agent_extra=user_agent_extra, driver_name=self.name)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A capability the driver declares in ``UNSUPPORTED`` without having a method for it
        (an ``ex_`` extra of other drivers, say) gets one that raises NotSupportedError with
        the declared reason, as unsupported contract methods do: callers get a
        NotImplementedError, never an AttributeError."""
        super().__init_subclass__(**kwargs)
        for capability in cls.UNSUPPORTED:
            missing = getattr(cls, capability, None) is None
            if missing and capability.isidentifier() and not capability.startswith("_"):
                setattr(cls, capability, _declared_unsupported(capability))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.connection.base_url}>"

    def __getstate__(self) -> dict[str, Any]:
        """Pickling sends the driver's configuration, its credentials included (treat a
        pickled driver like the token itself); its connection's session, pools and locks
        are made afresh on first use where it arrives (see ``cloudkit._pickling``)."""
        return travelling_state(self)

    def __setstate__(self, state: dict[str, Any]) -> None:
        restore_state(self, state)

    # -- capability questions ---------------------------------------------------------------

    def supports(self, capability: str) -> Support:
        """Whether this driver can do ``capability`` (a method name, ``ex_`` extras included),
        with the reason when it cannot."""
        reason = self.UNSUPPORTED.get(capability)
        if reason:
            return Support(False, reason)
        attr = getattr(type(self), capability, None)
        if attr is None or not callable(attr):
            return Support(False, f"the {self.name} driver has no {capability}")
        if getattr(attr, "_cloudkit_unsupported", False):
            reason = getattr(attr, "_cloudkit_reason", None)
            return Support(False, reason or f"the {self.name} driver does not implement {capability}")
        return Support(True)

    def node_actions(self, node: Node) -> frozenset[str]:
        """The actions that make sense for ``node`` in its current state."""
        allowed = self.NODE_ACTIONS.get(node.state, frozenset())
        return frozenset(a for a in allowed if self.supports(a))

    def _check_action(self, node: Node | str, action: str, ex_force: bool = False) -> None:
        """Raise ActionNotAllowedError (before the action is sent) when ``node``'s state, as the
        API reports it now, forbids ``action``.

        The state cached in a ``Node`` the caller holds is stale by design (libcloud code keeps
        the object it got from ``create_node`` or an old listing), so it is never the reason
        for a refusal: when it forbids the action, the node is fetched once, the caller's
        object refreshed in place, and the decision made on what the API says now. A node
        that no longer exists raises NotFoundError. ``ex_force=True`` skips the check; an id
        string is not checked (the API decides).
        """
        if ex_force or not isinstance(node, Node):
            return
        if action in self.node_actions(node):
            return
        fresh = self.get_node(node.id)
        refresh_node(node, fresh)
        allowed = self.node_actions(node)
        if action not in allowed:
            raise ActionNotAllowedError(action, node.id, node.state.value, allowed)

    def _not_supported(self, method: str) -> NotSupportedError:
        reason = self.UNSUPPORTED.get(method) or getattr(getattr(type(self), method, None), "_cloudkit_reason", None)
        return NotSupportedError(self.name, method, reason)

    # -- the contract -----------------------------------------------------------------------

    @_unsupported
    def list_nodes(self, tag: str | None = None) -> list[Node]:
        """Every node on the account (only those carrying ``tag`` when given)."""
        raise self._not_supported("list_nodes")

    def get_node(self, node_id: str) -> Node:
        """One node by id (default: found in ``list_nodes``); NotFoundError when absent."""
        node_id = object_id(node_id, "node")
        for node in self.list_nodes():
            if node.id == node_id:
                return node
        raise NotFoundError(f"node {node_id} not found", 404, driver=self.name)

    @_unsupported
    def create_node(self, name: str, size: NodeSize | str, image: NodeImage | str,
                    location: NodeLocation | str | None = None,
                    auth: NodeAuthSSHKey | NodeAuthPassword | None = None) -> Node:
        """Create a node and return it (usually still pending). Drivers add ``ex_`` keywords."""
        raise self._not_supported("create_node")

    @_unsupported
    def reboot_node(self, node: Node, ex_force: bool = False) -> bool:
        """Reboot a node."""
        raise self._not_supported("reboot_node")

    @_unsupported
    def start_node(self, node: Node, ex_force: bool = False) -> bool:
        """Power a stopped node on."""
        raise self._not_supported("start_node")

    @_unsupported
    def stop_node(self, node: Node, ex_force: bool = False) -> bool:
        """Shut a running node down."""
        raise self._not_supported("stop_node")

    @_unsupported
    def destroy_node(self, node: Node, ex_force: bool = False) -> bool:
        """Destroy a node (its data is gone)."""
        raise self._not_supported("destroy_node")

    @_unsupported
    def list_sizes(self, location: NodeLocation | str | None = None) -> list[NodeSize]:
        """Machine types (only those offered in ``location`` when given)."""
        raise self._not_supported("list_sizes")

    @_unsupported
    def list_images(self, location: NodeLocation | str | None = None) -> list[NodeImage]:
        """Images a node can be created from."""
        raise self._not_supported("list_images")

    def get_image(self, image_id: NodeImage | str) -> NodeImage:
        """One image by id (default: found in ``list_images``); NotFoundError when absent."""
        wanted = object_id(image_id, "image")
        for image in self.list_images():
            if image.id == wanted:
                return image
        raise NotFoundError(f"image {wanted[:80]!r} not found", 404, driver=self.name)

    @_unsupported
    def list_locations(self) -> list[NodeLocation]:
        """Regions / data centres."""
        raise self._not_supported("list_locations")

    @_unsupported
    def list_key_pairs(self) -> list[KeyPair]:
        """SSH keys stored on the account."""
        raise self._not_supported("list_key_pairs")

    def get_key_pair(self, name: str) -> KeyPair:
        """One stored key by name (or id); NotFoundError when absent."""
        for pair in self.list_key_pairs():
            if name in (pair.name, pair.id):
                return pair
        raise NotFoundError(f"key pair {name!r} not found", 404, driver=self.name)

    @staticmethod
    def _checked_public_key(name: str, key_material: str) -> str:
        """The OpenSSH public key line to store under ``name``, both checked before any request
        (ValidationError for an empty name or a line that is not a public key)."""
        if not isinstance(name, str) or not name.strip():
            raise ValidationError("an SSH key name must be a non-empty string")
        from cloudkit.sshkeys import parse_public_key

        parse_public_key(key_material)
        return key_material.strip()

    def _key_pair_id(self, key_pair: KeyPair | str) -> str:
        """The provider's id of a stored key: a KeyPair's own id, else the key found by the id or
        name given (NotFoundError when no stored key has it)."""
        if isinstance(key_pair, KeyPair) and key_pair.id:
            return key_pair.id
        wanted = key_pair.name if isinstance(key_pair, KeyPair) else object_id(key_pair, "key pair")
        return object_id(self.get_key_pair(wanted), "key pair")

    def _stored_key_id(self, public_key: str) -> str:
        """The provider's id of the stored key with this public key (an OpenSSH line), stored
        first when no stored key has it: for providers whose create_node takes key ids only."""
        from cloudkit.sshkeys import fingerprint_md5, parse_public_key

        parse_public_key(public_key)
        fingerprint = fingerprint_md5(public_key)
        for pair in self.list_key_pairs():
            if pair.fingerprint == fingerprint and pair.id:
                return pair.id
        stored = self.import_key_pair_from_string(f"cloudkit-{fingerprint.replace(':', '')[:12]}", public_key)
        return object_id(stored.id, "key pair")

    @_unsupported
    def import_key_pair_from_string(self, name: str, key_material: str) -> KeyPair:
        """Store a public key (OpenSSH line) under ``name``."""
        raise self._not_supported("import_key_pair_from_string")

    def import_key_pair_from_file(self, name: str, key_file_path: str) -> KeyPair:
        """Store the public key read from ``key_file_path`` (``~`` expanded)."""
        path = os.path.expanduser(key_file_path)
        try:
            with open(path, encoding="utf-8") as fh:
                material = fh.read()
        except OSError as exc:
            raise ValidationError(f"cannot read public key file {path}: {exc.strerror}") from None
        return self.import_key_pair_from_string(name, material.strip())

    def create_key_pair(self, name: str, public_key: str = "") -> KeyPair:
        """Store ``public_key`` (an OpenSSH line) under ``name``, as libcloud's DigitalOcean
        and Linode drivers do; without one, generate a key pair locally, store its public
        half and return it with the private half in ``private_key`` (the only time it is
        available)."""
        if not self.supports("import_key_pair_from_string"):
            raise self._not_supported("create_key_pair")
        if public_key:
            return self.import_key_pair_from_string(name, public_key)
        from cloudkit.sshkeys import generate_key_pair

        private, public = generate_key_pair("ed25519", comment=name)
        pair = self.import_key_pair_from_string(name, public)
        pair.private_key = private
        return pair

    @_unsupported
    def delete_key_pair(self, key_pair: KeyPair) -> bool:
        """Remove a stored key."""
        raise self._not_supported("delete_key_pair")

    @_unsupported
    def verify_credentials(self) -> bool:
        """One cheap authenticated call: True for good credentials; InvalidCredsError or
        ForbiddenError for bad or under-scoped ones; other errors as themselves."""
        raise self._not_supported("verify_credentials")

    # -- generic behaviour ------------------------------------------------------------------

    def deploy_node(
        self,
        name: str | None = None,
        size: NodeSize | str | None = None,
        image: NodeImage | str | None = None,
        location: NodeLocation | str | None = None,
        deploy: Deployment | None = None,
        *,
        ssh_username: str = "root",
        ssh_alternate_usernames: Sequence[str] | None = None,
        ssh_port: int = 22,
        ssh_timeout: float = 10.0,
        ssh_key: SSHKeySource | Sequence[SSHKeySource] | None = None,
        ssh_key_password: str | None = None,
        auth: NodeAuthSSHKey | NodeAuthPassword | None = None,
        timeout: float = 600.0,
        max_tries: int = 1,
        ssh_interface: str = "public_ips",
        at_exit_func: Callable[..., Any] | None = None,
        wait_period: float = 3.0,
        ex_destroy_on_failure: bool = False,
        progress: Callable[[DeployEvent], Any] | None = None,
        ssh_host_key_policy: str = "accept-new",
        ssh_known_hosts: str | os.PathLike[str] | None = None,
        ssh_password: str | None = None,
        ssh_auth_grace: float = 5.0,
        **create_node_kwargs: Any,
    ) -> Node:
        """Create a node, wait until it runs and answers SSH, run ``deploy`` on it.

        libcloud's keywords keep libcloud's meaning: ``ssh_alternate_usernames`` are tried
        after ``ssh_username`` when the login is refused; ``ssh_key`` is a private key (path,
        text or paramiko key) or a list of them, tried in turn; ``max_tries`` runs a step
        again when it raises (not when a script exits non-zero); ``at_exit_func(driver=,
        node=)`` is registered with :mod:`atexit` once the node exists and unregistered when
        deploy_node returns or raises (so it runs only if the process ends mid-deploy).
        Other keywords go to ``create_node``. ``location`` may be omitted where the provider
        picks one. See ``cloudkit._deploy.deploy_node`` for the rest.
        """
        from cloudkit import _deploy

        if deploy is None:
            raise ConfigurationError("deploy_node needs deploy= (a Deployment)")
        return _deploy.deploy_node(
            self, name, size, image, location, deploy, ssh_key=ssh_key, ssh_username=ssh_username,
            ssh_port=ssh_port, ssh_interface=ssh_interface, timeout=timeout, ssh_timeout=ssh_timeout,
            ex_destroy_on_failure=ex_destroy_on_failure, progress=progress,
            ssh_host_key_policy=ssh_host_key_policy, ssh_known_hosts=ssh_known_hosts,
            ssh_password=ssh_password, wait_period=wait_period, ssh_key_password=ssh_key_password,
            auth=auth, ssh_auth_grace=ssh_auth_grace, ssh_alternate_usernames=ssh_alternate_usernames,
            max_tries=max_tries, at_exit_func=at_exit_func, **create_node_kwargs)

    def probe_node(self, node: Node, **kwargs: Any) -> ProbeResult:
        """Is SSH on ``node`` reachable and does the key work? Never raises for a down host."""
        from cloudkit import _deploy

        return _deploy.probe_node(self, node, **kwargs)

    # -- helpers for subclasses -------------------------------------------------------------

    def _member(self, path: str, key: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The object under ``key`` in the JSON object that GET ``path`` answers
        (MalformedResponseError naming the path when either is not an object)."""
        body = as_dict(self.connection.request(path, params=params).object, f"GET {path}")
        return as_dict(body.get(key), f"GET {path}: '{key}'")

    def _state(self, status: Any) -> NodeState:
        """Map a provider status to a NodeState (UNKNOWN when unmapped)."""
        if isinstance(status, str):
            return self.NODE_STATE_MAP.get(status, NodeState.UNKNOWN)
        return NodeState.UNKNOWN
