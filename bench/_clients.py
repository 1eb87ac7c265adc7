"""The three clients being compared, each aimed at a simulator on 127.0.0.1.

* cloudkit: ``get_driver(provider)(token, base_url=...)``;
* raw requests (the floor): one default ``requests.Session`` making the very requests
  cloudkit makes (same paths, page sizes and headers), decoding each body with
  ``Response.json()``, building no objects;
* Apache libcloud's own driver for the provider. libcloud's DigitalOcean v2 driver drops
  ``host``/``port``/``secure`` in its constructor, so it is re-aimed the way a libcloud user
  would: set ``connection.host/port/secure`` and call ``connection.connect()`` again. Its
  Linode v4 driver takes them as arguments. Either way the connection is checked to point
  at 127.0.0.1 before any request leaves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from bench._sim import SimProcess

#: provider → (listing path, page-size parameter, page size cloudkit asks for, key of the items)
LISTING: dict[str, tuple[str, str, int, str]] = {
    "digitalocean": ("/v2/droplets", "per_page", 200, "droplets"),
    "linode": ("/v4/linode/instances", "page_size", 500, "data"),
}

#: libcloud's Provider constant name for each provider.
LIBCLOUD_PROVIDER = {"digitalocean": "DIGITAL_OCEAN", "linode": "LINODE"}


def cloudkit_driver(sim: SimProcess) -> Any:
    """A cloudkit driver for the simulated account (a new one, with a cold pool)."""
    from cloudkit import get_driver

    return get_driver(sim.provider)(sim.token, base_url=sim.base_url)


def _check_loopback(driver: Any) -> Any:
    conn = driver.connection
    target = getattr(conn.connection, "host", "") if conn.connection is not None else ""
    if conn.host != "127.0.0.1" or not str(target).startswith("http://127.0.0.1:"):
        raise RuntimeError(f"libcloud driver is not aimed at the simulator ({conn.host!r}, {target!r})")
    return driver


def libcloud_driver(sim: SimProcess, page_size: int | None = None) -> Any:
    """libcloud's driver for the simulated account.

    ``page_size`` (Linode only) replaces the page size libcloud 3.9.1 hard-codes (25) by
    subclassing its connection: not something libcloud offers, only used for an
    informational row.
    """
    from libcloud.compute.providers import get_driver
    from libcloud.compute.types import Provider

    cls = get_driver(getattr(Provider, LIBCLOUD_PROVIDER[sim.provider]))
    if sim.provider == "linode":
        if page_size is not None:
            cls = _linode_with_page_size(page_size)
        return _check_loopback(cls(sim.token, secure=False, host=sim.host, port=sim.port))
    driver = cls(sim.token)
    conn = driver.connection
    conn.host, conn.port, conn.secure = sim.host, sim.port, False
    conn.connect()  # type: ignore[no-untyped-call]
    return _check_loopback(driver)


def _linode_with_page_size(size: int) -> Any:
    from libcloud.common.linode import LinodeConnectionV4
    from libcloud.compute.drivers.linode import LinodeNodeDriverV4

    class Connection(LinodeConnectionV4):
        def add_default_params(self, params: dict[str, Any]) -> dict[str, Any]:
            params["page_size"] = size
            return params

    class Driver(LinodeNodeDriverV4):
        connectionCls = Connection

    return Driver


#: Code a fresh process runs to build each client (and to list once), for the start-up scenario.
def startup_code(lib: str, provider: str, list_nodes: bool) -> str:
    if lib == "cloudkit":
        code = ("import cloudkit\nfrom cloudkit import get_driver, Provider\n"
                f"driver = get_driver(Provider.{LIBCLOUD_PROVIDER[provider]})(TOKEN, base_url=BASE_URL)\n")
        if list_nodes:
            code += "assert len(driver.list_nodes()) == COUNT\n"
        return code
    code = ("from libcloud.compute.providers import get_driver\nfrom libcloud.compute.types import Provider\n")
    if provider == "linode":
        code += "driver = get_driver(Provider.LINODE)(TOKEN, secure=False, host=HOST, port=PORT)\n"
    else:
        code += "driver = get_driver(Provider.DIGITAL_OCEAN)(TOKEN)\n"
        if list_nodes:
            code += ("c = driver.connection\nc.host, c.port, c.secure = HOST, PORT, False\nc.connect()\n"
                     "assert c.connection.host.startswith('http://127.0.0.1:')\n")
    if list_nodes:
        code += "assert len(driver.list_nodes()) == COUNT\n"
    return code


@dataclass
class RawClient:
    """The floor: one ``requests.Session``, the same requests by hand, ``.json()`` on each."""

    sim: SimProcess

    def __post_init__(self) -> None:
        import requests

        self.session = requests.Session()
        path, self.size_param, self.page_size, self.key = LISTING[self.sim.provider]
        self.url = self.sim.base_url + path
        self.headers = {"Authorization": f"Bearer {self.sim.token}", "Accept": "application/json"}

    def page(self, number: int) -> Any:
        params = {self.size_param: self.page_size, "page": number}
        resp = self.session.get(self.url, params=params, headers=self.headers)
        resp.raise_for_status()
        return resp.json()

    def pages(self, first: Any) -> int:
        if self.sim.provider == "linode":
            return int(first["pages"])
        return max(1, math.ceil(int(first["meta"]["total"]) / self.page_size))

    def list_all(self) -> list[Any]:
        """Every item, page after page on this thread. DigitalOcean lists GPU droplets only when
        asked with ``type=gpus``: every droplet takes that listing too, as cloudkit's does."""
        first = self.page(1)
        items = list(first[self.key])
        for number in range(2, self.pages(first) + 1):
            items.extend(self.page(number)[self.key])
        if self.sim.provider == "digitalocean":
            params = {self.size_param: self.page_size, "page": 1, "type": "gpus"}
            resp = self.session.get(self.url, params=params, headers=self.headers)
            resp.raise_for_status()
            items.extend(resp.json()[self.key])
        return items

    def close(self) -> None:
        self.session.close()


def node_ids(nodes: Any) -> list[str]:
    """Ids of a listing (cloudkit or libcloud nodes, or raw dicts) as strings."""
    out = []
    for node in nodes:
        out.append(str(node["id"]) if isinstance(node, dict) else str(node.id))
    return out
