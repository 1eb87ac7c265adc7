"""DigitalOcean's simulated catalog (regions, sizes, images, account) and its droplet and action
records with their cached JSON."""

from __future__ import annotations

import re
import uuid
from typing import Any

from cloudkit.testing.simulator.base import enc, enc_list, iso_now

__all__ = ["NAME_RE", "TAG_RE", "Action", "Droplet", "is_gpu", "make_account", "make_catalog"]

NAME_RE = re.compile(r"^[a-zA-Z0-9]?[a-z0-9A-Z.\-]*[a-z0-9A-Z]$")
TAG_RE = re.compile(r"^[a-zA-Z0-9_\-:]+$")

# slug, name, features, available
_REGIONS = [
    ("nyc1", "New York 1", True), ("nyc3", "New York 3", True), ("sfo3", "San Francisco 3", True),
    ("ams3", "Amsterdam 3", True), ("lon1", "London 1", True), ("fra1", "Frankfurt 1", True),
    ("tor1", "Toronto 1", True), ("sgp1", "Singapore 1", True), ("blr1", "Bangalore 1", True),
    ("syd1", "Sydney 1", True), ("nyc2", "New York 2", False),
]
_REGION_FEATURES = ["backups", "ipv6", "metadata", "install_agent", "storage", "image_transfer"]
# slug, memory MB, vcpus, disk GB, transfer TB, monthly USD, hourly USD, description, available
_SIZES = [
    ("s-1vcpu-512mb-10gb", 512, 1, 10, 0.5, 4.0, 0.00595, "Basic", True),
    ("s-1vcpu-1gb", 1024, 1, 25, 1.0, 6.0, 0.00893, "Basic", True),
    ("s-1vcpu-2gb", 2048, 1, 50, 2.0, 12.0, 0.01786, "Basic", True),
    ("s-2vcpu-2gb", 2048, 2, 60, 3.0, 18.0, 0.02679, "Basic", True),
    ("s-2vcpu-4gb", 4096, 2, 80, 4.0, 24.0, 0.03571, "Basic", True),
    ("s-4vcpu-8gb", 8192, 4, 160, 5.0, 48.0, 0.07143, "Basic", True),
    ("s-8vcpu-16gb", 16384, 8, 320, 6.0, 96.0, 0.14286, "Basic", True),
    ("c-2", 4096, 2, 25, 4.0, 42.0, 0.0625, "CPU-Optimized", True),
    ("g-2vcpu-8gb", 8192, 2, 25, 4.0, 63.0, 0.09375, "General Purpose", True),
    ("m-2vcpu-16gb", 16384, 2, 50, 4.0, 84.0, 0.125, "Memory-Optimized", True),
    ("s-32vcpu-192gb", 196608, 32, 3840, 12.0, 1008.0, 1.5, "Basic", False),
    ("gpu-h100x1-80gb", 245760, 20, 720, 15.0, 2522.16, 3.39, "GPU H100", True),
]
# id, name, distribution, slug, kind ("distribution" | "application"), min disk, size GB
_IMAGES = [
    (150000001, "24.04 (LTS) x64", "Ubuntu", "ubuntu-24-04-x64", "distribution", 7, 2.1),
    (150000002, "22.04 (LTS) x64", "Ubuntu", "ubuntu-22-04-x64", "distribution", 7, 2.05),
    (150000003, "12 x64", "Debian", "debian-12-x64", "distribution", 7, 1.4),
    (150000004, "11 x64", "Debian", "debian-11-x64", "distribution", 7, 1.2),
    (150000005, "40 x64", "Fedora", "fedora-40-x64", "distribution", 7, 1.9),
    (150000006, "9 x64", "Rocky Linux", "rockylinux-9-x64", "distribution", 10, 1.6),
    (150000007, "Stream 9 x64", "CentOS", "centos-stream-9-x64", "distribution", 10, 1.7),
    (150000101, "Docker on Ubuntu 22.04", "Ubuntu", "docker-20-04", "application", 25, 3.4),
    (150000102, "WordPress on Ubuntu 22.04", "Ubuntu", "wordpress-20-04", "application", 25, 4.1),
]
_BASE_TIME = "2024-05-02T10:00:00Z"

_HEAD = ('{"id":%d,"name":%s,"memory":%d,"vcpus":%d,"disk":%d,'
         '"disk_info":[{"type":"local","size":{"amount":%d,"unit":"gib"}}],'
         '"locked":%s,"status":"%s","kernel":null,"created_at":"%s","features":%s,'
         '"backup_ids":[],"next_backup_window":%s,"snapshot_ids":%s,"volume_ids":%s,'
         '"size_slug":%s,"networks":%s,"tags":%s,"vpc_uuid":"%s",')
_NO_NETWORKS = '{"v4":[],"v6":[]}'


def is_gpu(droplet: Droplet) -> bool:
    return str(droplet.size.get("slug", "")).startswith("gpu-")


class Droplet:
    """One droplet; its JSON (minus the shared size/image/region part) is cached."""

    __slots__ = ("_head", "action", "backups", "created_at", "disk", "id", "image", "ipv6", "monitoring",
                 "name", "networked", "region", "seq", "size", "snapshot_ids", "status", "tags", "volume_ids")

    def __init__(self, droplet_id: int, seq: int, name: str, size: dict[str, Any], image: dict[str, Any],
                 region: dict[str, Any], created_at: str, tags: list[str], *, status: str = "new",
                 ipv6: bool = False, monitoring: bool = False, backups: bool = False) -> None:
        self.id = droplet_id
        self.seq = seq
        self.name = name
        self.size = size
        self.disk: int = size["disk"]
        self.image = image
        self.region = region
        self.created_at = created_at
        self.tags = tags
        self.status = status
        self.ipv6 = ipv6
        self.monitoring = monitoring
        self.backups = backups
        self.networked = status != "new"
        self.action: Action | None = None
        self.snapshot_ids: list[int] = []
        #: Ids of the block storage volumes attached to it (the storage part keeps them).
        self.volume_ids: list[str] = []
        self._head: bytes | None = None

    def touch(self) -> None:
        self._head = None

    def features(self) -> list[str]:
        out = ["private_networking"]
        if self.ipv6:
            out.append("ipv6")
        if self.monitoring:
            out.append("monitoring")
        if self.backups:
            out.append("backups")
        return out

    def head(self, public_ip: str, gateway: str) -> bytes:
        h = self._head
        if h is None:
            size = self.size
            h = self._head = (_HEAD % (
                self.id, enc(self.name), size["memory"], size["vcpus"], self.disk, self.disk,
                "true" if self.action is not None else "false", self.status, self.created_at,
                enc_list(self.features()),
                '{"start":"2024-06-01T00:00:00Z","end":"2024-06-01T23:00:00Z"}' if self.backups else "null",
                "[" + ",".join(map(str, self.snapshot_ids)) + "]", enc_list(self.volume_ids),
                enc(size["slug"]), self.networks(public_ip, gateway), enc_list(self.tags), self.region["vpc_uuid"],
            )).encode("ascii")
        return h

    def networks(self, public_ip: str, gateway: str) -> str:
        if not self.networked:
            return _NO_NETWORKS
        n = self.seq
        private = f"10.{100 + (n >> 16) % 100}.{(n >> 8) & 255}.{n & 255}"
        v4 = (f'[{{"ip_address":"{private}","netmask":"255.255.0.0","gateway":"nil","type":"private"}},'
              f'{{"ip_address":"{public_ip}","netmask":"255.255.255.0",'
              f'"gateway":"{gateway}","type":"public"}}]')
        v6 = "[]"
        if self.ipv6:
            ri = self.region["index"]
            v6 = (f'[{{"ip_address":"2001:db8:{ri:x}:{(n >> 16) & 0xffff:x}::{n & 0xffff:x}",'
                  f'"netmask":64,"gateway":"2001:db8:{ri:x}::1","type":"public"}}]')
        return f'{{"v4":{v4},"v6":{v6}}}'


class Action:
    __slots__ = ("completed_at", "id", "region_slug", "resource_id", "resource_type", "started_at", "status",
                 "type")

    def __init__(self, action_id: int, kind: str, resource_id: int | None, region_slug: str | None,
                 resource_type: str = "droplet") -> None:
        self.id = action_id
        self.type = kind
        self.resource_id = resource_id
        self.resource_type = resource_type
        self.region_slug = region_slug
        self.status = "in-progress"
        self.started_at = iso_now()
        self.completed_at: str | None = None

    def complete(self, status: str = "completed") -> None:
        self.status = status
        self.completed_at = iso_now()



def make_catalog() -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]], dict[int, dict[str, Any]],
                            dict[int, str]]:
    """Fresh (regions, sizes, images, image kinds) of a new account."""
    all_sizes = [s[0] for s in _SIZES if s[8]]
    regions: dict[str, dict[str, Any]] = {}
    for index, (slug, name, available) in enumerate(_REGIONS, start=1):
        regions[slug] = {
            "name": name, "slug": slug, "features": list(_REGION_FEATURES) if available else [],
            "available": available, "sizes": all_sizes if available else [],
            "index": index, "vpc_uuid": str(uuid.uuid5(uuid.NAMESPACE_URL, f"cloudkit-sim/vpc/{slug}")),
        }
    live = [slug for slug, _, available in _REGIONS if available]
    sizes: dict[str, dict[str, Any]] = {
        slug: {"slug": slug, "memory": mem, "vcpus": cpus, "disk": disk, "transfer": transfer,
               "price_monthly": monthly, "price_hourly": hourly, "regions": live if available else [],
               "available": available, "description": description}
        for slug, mem, cpus, disk, transfer, monthly, hourly, description, available in _SIZES
    }
    images: dict[int, dict[str, Any]] = {}
    image_kind: dict[int, str] = {}
    for image_id, name, distro, slug, kind, min_disk, gigabytes in _IMAGES:
        images[image_id] = {
            "id": image_id, "name": name, "distribution": distro, "slug": slug, "public": True,
            "regions": live, "created_at": _BASE_TIME, "type": "base" if kind == "distribution" else "snapshot",
            "min_disk_size": min_disk, "size_gigabytes": gigabytes, "description": f"{distro} {name}",
            "tags": [], "status": "available", "error_message": "",
        }
        image_kind[image_id] = kind
    return regions, sizes, images, image_kind


def make_account(droplet_limit: int | None) -> dict[str, Any]:
    """The ``GET /v2/account`` record."""
    return {
        "droplet_limit": droplet_limit or 1_000_000, "floating_ip_limit": 3,
        "email": "sammy@example.com", "name": "Simulated Account",
        "uuid": uuid.uuid5(uuid.NAMESPACE_URL, "cloudkit-sim/account").hex, "email_verified": True,
        "status": "active", "status_message": "", "team": {
            "uuid": uuid.uuid5(uuid.NAMESPACE_URL, "cloudkit-sim/team").hex, "name": "Simulated Team"},
    }
