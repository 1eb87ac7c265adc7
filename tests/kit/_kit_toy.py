"""A small, correct JSON driver for a made-up "Toy" API, its routes, and broken variants.

The conformance tests run the suite on ``ToyNodeDriver`` (it must pass) and on each
broken subclass (each must fail with a message that says what to fix). The recorder
tests run it against a loopback server.
"""

from __future__ import annotations

import copy
from typing import Any, ClassVar
from urllib.parse import quote

from cloudkit.connection import BearerTokenConnection
from cloudkit.driver import NodeDriver, object_id
from cloudkit.errors import NotFoundError, ValidationError
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
from cloudkit.parsing import as_dict, as_list, opt_float, parse_datetime, parser, req, split_ips
from cloudkit.response import JsonResponse
from cloudkit.testing.conformance import DriverConformance
from cloudkit.testing.fixtures import Route

TOKEN = "toy-test-token-5f1c2a9e"
HOST = "https://api.toy.example"

PUBKEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHJ1c3R5LWJ1dC1vbmx5LWEtdGVzdC1rZXktZm9yLXRveQ "
          "laptop")

SERVERS: list[dict[str, Any]] = [
    {"id": 101, "name": "web-1", "status": "active", "ipv4": ["203.0.113.10", "10.0.0.10"],
     "created_at": "2024-05-01T10:00:00Z", "tags": ["web"]},
    {"id": 102, "name": "web-2", "status": "off", "ipv4": ["203.0.113.11", "10.0.0.11"],
     "created_at": "2024-05-02T10:00:00Z", "tags": ["web"]},
    {"id": 103, "name": "db-1", "status": "new", "ipv4": [], "created_at": None, "tags": []},
]
CREATED = {"id": 104, "name": "web-3", "status": "new", "ipv4": [], "created_at": "2024-05-03T10:00:00Z",
           "tags": []}
PLANS = [
    {"id": "s-1", "name": "Small", "memory_mb": 1024, "disk_gb": 25, "vcpus": 1, "price_hourly": 0.007},
    {"id": "s-2", "name": "Medium", "memory_mb": 4096, "disk_gb": 80, "vcpus": 2, "price_hourly": "0.03"},
]
IMAGES = [{"id": "debian-12", "name": "Debian 12"}, {"id": 7, "name": "Ubuntu 24.04"}]
REGIONS = [{"id": "ams1", "name": "Amsterdam 1", "country": "NL"}]
KEYS = [{"id": 9, "name": "laptop", "public_key": PUBKEY, "fingerprint": "aa:bb"}]


def error(status: int, message: str, code: str) -> dict[str, Any]:
    """A Toy error body."""
    return {"error": {"code": code, "message": message}}


def page(number: int) -> dict[str, Any]:
    """Page ``number`` (1 or 2) of the server listing: two servers a page."""
    items = SERVERS[(number - 1) * 2:number * 2]
    return {"servers": copy.deepcopy(items), "meta": {"page": number, "pages": 2, "total": len(SERVERS)}}


def routes() -> list[Route]:
    """Routes answering every happy-path call of ToyNodeDriver."""
    return [
        Route("GET", "/v1/servers", page(1), query={"page": "1"}),
        Route("GET", "/v1/servers", page(2), query={"page": "2"}),
        Route("GET", r"^/v1/servers/101$", {"server": SERVERS[0]}),
        Route("POST", "/v1/servers", {"server": CREATED}, status=202),
        Route("POST", r"^/v1/servers/\d+/actions$", {"action": {"id": 1, "status": "in-progress"}}, status=201),
        Route("DELETE", r"^/v1/servers/\d+$", status=204),
        Route("GET", "/v1/plans", {"plans": PLANS}),
        Route("GET", "/v1/images", {"images": IMAGES}),
        Route("GET", "/v1/regions", {"regions": REGIONS}),
        Route("GET", "/v1/ssh_keys", {"ssh_keys": KEYS}),
        Route("GET", "/v1/account", {"account": {"email": "someone@example.com"}}),
    ]


class ToyResponse(JsonResponse):
    """Toy error bodies: {"error": {"code", "message"}}."""

    def parse_error(self) -> tuple[str, str | None]:
        body = self.json_error_body()
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            err = body["error"]
            if isinstance(err.get("message"), str):
                code = err.get("code")
                return err["message"], code if isinstance(code, str) else None
        return self._fallback_message(), None


class ToyConnection(BearerTokenConnection):
    """Bearer token on api.toy.example."""

    host = "api.toy.example"
    responseCls = ToyResponse


def _total_pages(body: Any, page_size: int) -> int:
    meta = as_dict(as_dict(body, "listing").get("meta"), "listing meta")
    pages: int = req(meta, "pages", int, "listing meta")
    return pages


class ToyNodeDriver(NodeDriver):
    """A correct driver for the Toy API."""

    name = "Toy"
    type = "toy"
    connectionCls = ToyConnection
    features: ClassVar[dict[str, list[str]]] = {"create_node": ["ssh_key", "password"]}
    NODE_STATE_MAP: ClassVar[dict[str, NodeState]] = {
        "new": NodeState.PENDING, "active": NodeState.RUNNING, "off": NodeState.STOPPED,
        "archive": NodeState.TERMINATED,
    }

    def _extract(self, body: Any) -> list[Node]:
        return [self._to_node(s) for s in as_list(as_dict(body, "listing").get("servers"), "listing servers")]

    @parser("toy server")
    def _to_node(self, data: Any) -> Node:
        server = as_dict(data, "server")
        public, private = split_ips([str(ip) for ip in as_list(server.get("ipv4", []), "server ipv4")])
        status = req(server, "status", str, "server")
        return Node(str(req(server, "id", (int, str), "server")), req(server, "name", str, "server"),
                    self._state(status), public, private, self, created_at=parse_datetime(server.get("created_at")),
                    extra={"status": status}, tags=[str(t) for t in server.get("tags") or []])

    def list_nodes(self, tag: str | None = None) -> list[Node]:
        return self.connection.paginate("/v1/servers", self._extract, _total_pages,
                                        params={"tag": tag} if tag else None, page_size=2)

    def get_node(self, node_id: str) -> Node:
        node_id = object_id(node_id, "node")
        body = self.connection.request(f"/v1/servers/{quote(node_id, safe='')}").object
        return self._to_node(as_dict(body, "server answer").get("server"))

    def create_node(self, name: str, size: NodeSize | str, image: NodeImage | str,
                    location: NodeLocation | str | None = None, auth: Any = None, **kwargs: Any) -> Node:
        if not isinstance(name, str) or not name:
            raise ValidationError("name must not be empty")
        data: dict[str, Any] = {"name": name, "plan": object_id(size, "size"), "image": object_id(image, "image")}
        if location is not None:
            data["region"] = object_id(location, "location")
        if isinstance(auth, NodeAuthSSHKey):
            data["ssh_keys"] = [auth.pubkey]
        elif isinstance(auth, NodeAuthPassword):
            data["password"] = auth.password
        body = self.connection.request("/v1/servers", data=data, method="POST",
                                       outcome_hint=f"look for a server named {name!r}").object
        return self._to_node(as_dict(body, "create answer").get("server"))

    def _action(self, node: Node | str, action: str, kind: str, ex_force: bool) -> bool:
        self._check_action(node, action, ex_force)
        node_id = quote(object_id(node, "node"), safe="")
        self.connection.request(f"/v1/servers/{node_id}/actions", data={"type": kind}, method="POST")
        return True

    def reboot_node(self, node: Node | str, ex_force: bool = False) -> bool:
        return self._action(node, "reboot_node", "reboot", ex_force)

    def start_node(self, node: Node | str, ex_force: bool = False) -> bool:
        return self._action(node, "start_node", "power_on", ex_force)

    def stop_node(self, node: Node | str, ex_force: bool = False) -> bool:
        return self._action(node, "stop_node", "power_off", ex_force)

    def destroy_node(self, node: Node | str, ex_force: bool = False) -> bool:
        self._check_action(node, "destroy_node", ex_force)
        self.connection.request(f"/v1/servers/{quote(object_id(node, 'node'), safe='')}", method="DELETE")
        return True

    @parser("toy plan")
    def _to_size(self, plan: Any) -> NodeSize:
        plan = as_dict(plan, "plan")
        return NodeSize(plan["id"], plan["name"], int(plan["memory_mb"]), int(plan["disk_gb"]), None,
                        opt_float(plan.get("price_hourly")), self, vcpus=int(plan["vcpus"]))

    def list_sizes(self, location: NodeLocation | str | None = None) -> list[NodeSize]:
        body = as_dict(self.connection.request("/v1/plans").object, "plans")
        return [self._to_size(p) for p in as_list(body.get("plans"), "plans")]

    @parser("toy image")
    def _to_image(self, image: Any) -> NodeImage:
        return NodeImage(as_dict(image, "image")["id"], image["name"], self)

    def list_images(self, location: NodeLocation | str | None = None) -> list[NodeImage]:
        body = as_dict(self.connection.request("/v1/images").object, "images")
        return [self._to_image(i) for i in as_list(body.get("images"), "images")]

    @parser("toy region")
    def _to_location(self, region: Any) -> NodeLocation:
        return NodeLocation(as_dict(region, "region")["id"], region["name"], region.get("country"), self)

    def list_locations(self) -> list[NodeLocation]:
        body = as_dict(self.connection.request("/v1/regions").object, "regions")
        return [self._to_location(r) for r in as_list(body.get("regions"), "regions")]

    @parser("toy key")
    def _to_key(self, key: Any) -> KeyPair:
        key = as_dict(key, "key")
        return KeyPair(key["name"], key["public_key"], key.get("fingerprint"), self, id=key["id"])

    def list_key_pairs(self) -> list[KeyPair]:
        body = as_dict(self.connection.request("/v1/ssh_keys").object, "keys")
        return [self._to_key(k) for k in as_list(body.get("ssh_keys"), "keys")]

    def delete_key_pair(self, key_pair: KeyPair) -> bool:
        self.connection.request(f"/v1/ssh_keys/{quote(object_id(key_pair, 'key pair'), safe='')}", method="DELETE")
        return True

    def verify_credentials(self) -> bool:
        as_dict(self.connection.request("/v1/account").object, "account")
        return True


# -- broken variants: each has one defect the suite must name ---------------------------------


class PlainStateDriver(ToyNodeDriver):
    """Defect: states are the provider's plain strings, not NodeState."""

    NODE_STATE_MAP: ClassVar[dict[str, Any]] = {"new": "pending", "active": "running", "off": "stopped"}

    def _to_node(self, data: Any) -> Node:
        node = super()._to_node(data)
        node.state = self.NODE_STATE_MAP.get(node.extra["status"], "unknown")
        return node


class Unmapped404Driver(ToyNodeDriver):
    """Defect: a 404 on the listing is swallowed and comes back as an empty list."""

    def list_nodes(self, tag: str | None = None) -> list[Node]:
        try:
            return super().list_nodes(tag)
        except NotFoundError:
            return []


class SecretReprDriver(ToyNodeDriver):
    """Defect: the repr shows the API token."""

    def __repr__(self) -> str:
        return f"<SecretReprDriver key={self.key}>"


class RepeatPageDriver(ToyNodeDriver):
    """Defect: asks for page 1 again instead of the following pages."""

    def list_nodes(self, tag: str | None = None) -> list[Node]:
        first = self.connection.request("/v1/servers", {"page": 1, "per_page": 2}).object
        nodes = self._extract(first)
        for _ in range(2, _total_pages(first, 2) + 1):
            nodes += self._extract(self.connection.request("/v1/servers", {"page": 1, "per_page": 2}).object)
        return nodes


class ToyConformance(DriverConformance):
    """The Toy driver's conformance configuration; broken variants override make_driver."""

    expected_node_ids = {"101", "102", "103"}
    list_nodes_pages = 2
    create_node_kwargs = {"name": "web-3", "size": "s-1", "image": "debian-12", "location": "ams1"}
    driver_cls: ClassVar[type[ToyNodeDriver]] = ToyNodeDriver

    def make_driver(self, **kwargs: Any) -> NodeDriver:
        return self.driver_cls(TOKEN, **kwargs)

    def routes(self) -> list[Route]:
        return routes()

    def error_body(self, status: int) -> Any:
        return error(status, f"toy failure {status}", f"code_{status}")

    def error_message(self, status: int) -> str | None:
        return f"toy failure {status}"
