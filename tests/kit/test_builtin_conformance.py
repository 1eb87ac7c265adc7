"""Every built-in driver passes the conformance suite.

The fixtures are recorded from the simulator when the class starts (``cloudkit.testing.record``)
and served back with ``routes_from_cassette``, so the suite checks each driver against the
bodies, paging and error shapes of its provider's API as the simulator speaks them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest

from cloudkit.driver import NodeDriver
from cloudkit.drivers import digitalocean, hetzner, linode, vultr
from cloudkit.models import NodeAuthPassword, NodeAuthSSHKey
from cloudkit.providers import Provider, get_driver
from cloudkit.testing.conformance import DriverConformance
from cloudkit.testing.fixtures import Route, mock_routes
from cloudkit.testing.record import record, routes_from_cassette
from cloudkit.testing.simulator import Simulator

PUBKEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAID4brM3lNIB7nKMiFUxd0sFH49rYwWJHJsYxuJcFIQQu ci"


class SimulatorConformance(DriverConformance):
    """The suite on fixtures recorded from the simulator of ``provider``."""

    provider: ClassVar[str] = ""
    key: ClassVar[str] = ""
    secret: ClassVar[str | None] = None
    sim_options: ClassVar[dict[str, Any]] = {}
    page_size: ClassVar[tuple[Any, int] | None] = None  # (driver module, small page size)
    cassette: ClassVar[Path]
    #: The recording lists volumes but attaches, detaches and destroys none for the suite.
    volume_actions: ClassVar[tuple[str, ...]] = ()

    def make_driver(self, **kwargs: Any) -> NodeDriver:
        cls = get_driver(self.provider)
        return cls(self.key, **kwargs) if self.secret is None else cls(self.key, self.secret, **kwargs)

    def routes(self) -> list[Route]:
        return routes_from_cassette(self.cassette, repeat_last=True)

    def create_kwargs(self, driver: NodeDriver) -> dict[str, Any]:
        """Arguments for the create_node call recorded (and checked): a live simulator driver
        is at hand for providers whose ids must be looked up."""
        return dict(self.create_node_kwargs or {})

    def flow(self, driver: NodeDriver) -> None:
        """What the recording does: the calls the suite makes, in an order that keeps the
        first listing free of the node created later."""
        nodes = driver.list_nodes()
        for name in ("list_sizes", "list_images", "list_locations", "list_key_pairs"):
            if driver.supports(name):
                getattr(driver, name)()
        driver.create_node(**dict(self.create_node_kwargs or {}))
        driver.get_node(nodes[0].id)
        driver.verify_credentials()
        if driver.supports("list_volumes"):
            self.record_volumes(driver, nodes[0])
        for action in ("reboot_node", "stop_node", "start_node", "destroy_node"):
            if driver.supports(action):
                getattr(driver, action)(nodes[0], ex_force=True)

    def record_volumes(self, driver: Any, node: Any) -> None:
        """A detached and an attached volume in the node's region, listed and read once (the
        storage section's listing, cross-region and destroy-refusal checks replay these)."""
        for name in ("action_poll_interval", "storage_poll_interval"):
            if hasattr(driver, name):
                setattr(driver, name, 0.01)
        region = node.extra.get("region") if self.provider == "digitalocean" else node.extra.get("location")
        driver.create_volume(10, "vol-free", location=region)
        attached = driver.create_volume(10, "vol-used", location=region)
        driver.attach_volume(node, attached)
        driver.list_volumes()
        driver.ex_get_volume(attached.id)

    @pytest.fixture(autouse=True, scope="class")
    @classmethod
    def _recorded(cls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
        with pytest.MonkeyPatch.context() as patch:
            if cls.page_size is not None:
                patch.setattr(cls.page_size[0], "PAGE_SIZE", cls.page_size[1])
            cls.cassette = tmp_path_factory.mktemp(f"cassette-{cls.provider}")
            options = {"boot_seconds": 0, "action_seconds": 0, "nodes": 5, **cls.sim_options}
            with Simulator(cls.provider, **options) as sim:
                driver = sim.driver()
                cls.create_node_kwargs = cls().create_kwargs(driver)
                with record(cls.cassette, secrets=[cls.key, cls.secret]):
                    cls.flow(cls(), driver)
            probe = cls()
            driver = probe.make_driver()
            host = probe._host(driver)
            with mock_routes(host, probe.routes()):
                cls.expected_node_ids = {node.id for node in driver.list_nodes()}
            yield


class TestDigitalOceanConformance(SimulatorConformance):
    provider = "digitalocean"
    key = "do-conformance-token-5a5a5a5a"
    sim_options: ClassVar[dict[str, Any]] = {"token": key}
    page_size = (digitalocean.base, 2)  # the module that reads PAGE_SIZE
    list_nodes_pages = 4  # three pages of droplets and the one page of the GPU droplet listing
    create_node_kwargs: ClassVar[dict[str, Any]] = {
        "name": "conf-1", "size": "s-1vcpu-1gb", "image": "ubuntu-24-04-x64", "location": "nyc1",
        "auth": NodeAuthSSHKey(PUBKEY)}


class TestLinodeConformance(SimulatorConformance):
    provider = "linode"
    key = "linode-conformance-token-8c1f0e"
    sim_options: ClassVar[dict[str, Any]] = {"token": key, "nodes": 30}
    page_size = (linode.base, 25)  # the module that reads PAGE_SIZE
    list_nodes_pages = 2
    create_node_kwargs: ClassVar[dict[str, Any]] = {
        "name": "conf-1", "size": "g6-nanode-1", "image": "linode/debian12", "location": "us-east",
        "auth": NodeAuthPassword("Conformance-Pass-12345")}


class TestHostVirtualConformance(SimulatorConformance):
    provider = "hostvirtual"
    key = "hv-conformance-key-5b5b5b5b"
    sim_options: ClassVar[dict[str, Any]] = {"token": key}
    listing_404_is_empty = True  # the API answers an empty listing with 404
    malformed_bodies = ((b'[{"mbpkgid": 1', "application/json"), (b"<html>502</html>", "text/html"),
                        (b"{}", "application/json"), (b'"just a string"', "application/json"))

    def create_kwargs(self, driver: NodeDriver) -> dict[str, Any]:
        size, image, location = driver.list_sizes()[0], driver.list_images()[0], driver.list_locations()[0]
        return {"name": "conf-1.example.com", "size": size.id, "image": image.id, "location": location.id,
                "auth": NodeAuthSSHKey(PUBKEY)}


class TestNephoScaleConformance(SimulatorConformance):
    provider = "nephoscale"
    key = "neph-conformance-user"
    secret = "neph-conformance-pass-0123"
    sim_options: ClassVar[dict[str, Any]] = {"username": key, "token": secret}

    def create_kwargs(self, driver: NodeDriver) -> dict[str, Any]:
        size, image, location = driver.list_sizes()[0], driver.list_images()[0], driver.list_locations()[0]
        return {"name": "conf-1", "size": size.id, "image": image.id, "location": location.id,
                "auth": NodeAuthPassword("Neph0-Conformance-55"), "ex_poll_interval": 0.01,
                "ex_max_poll_interval": 0.02}


class TestHetznerConformance(SimulatorConformance):
    provider = "hetzner"
    key = "hetzner-conformance-token-3e3e3e3e"
    sim_options: ClassVar[dict[str, Any]] = {"token": key}
    page_size = (hetzner, 2)
    list_nodes_pages = 3
    create_node_kwargs: ClassVar[dict[str, Any]] = {
        "name": "conf-1", "size": "cx22", "image": "debian-12", "location": "fsn1", "auth": NodeAuthSSHKey(PUBKEY)}


class TestVultrConformance(SimulatorConformance):
    provider = "vultr"
    key = "VULTRCONFORMANCEKEY0123456789ABCDEF"
    sim_options: ClassVar[dict[str, Any]] = {"token": key}
    page_size = (vultr, 2)
    list_nodes_pages = 3
    create_node_kwargs: ClassVar[dict[str, Any]] = {
        "name": "conf-1", "size": "vc2-1c-1gb", "image": "2136", "location": "ewr", "auth": NodeAuthSSHKey(PUBKEY)}


def test_every_builtin_driver_has_a_conformance_class() -> None:
    classes: list[type[SimulatorConformance]] = [TestDigitalOceanConformance, TestLinodeConformance,
                                                 TestHostVirtualConformance, TestNephoScaleConformance,
                                                 TestHetznerConformance, TestVultrConformance]
    builtin = {p.value for p in Provider} - {"dummy"}
    assert {cls.provider for cls in classes} == builtin
