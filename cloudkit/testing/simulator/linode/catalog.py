"""Linode's simulated catalog (types, regions, images, profile, account) and its instance record
with cached JSON."""

from __future__ import annotations

from typing import Any

from cloudkit.testing.simulator.base import enc, enc_list

__all__ = ["BASE_TIME", "Instance", "make_account", "make_images", "make_profile", "make_regions", "make_types"]

# id, label, class, vcpus, memory MB, disk MB, transfer GB, network_out Mbps, hourly, monthly, backups monthly
_TYPES = [
    ("g6-nanode-1", "Nanode 1GB", "nanode", 1, 1024, 25600, 1000, 1000, 0.0075, 5.0, 2.0),
    ("g6-standard-1", "Linode 2GB", "standard", 1, 2048, 51200, 2000, 2000, 0.018, 12.0, 2.5),
    ("g6-standard-2", "Linode 4GB", "standard", 2, 4096, 81920, 4000, 4000, 0.036, 24.0, 5.0),
    ("g6-standard-4", "Linode 8GB", "standard", 4, 8192, 163840, 5000, 5000, 0.072, 48.0, 10.0),
    ("g6-standard-6", "Linode 16GB", "standard", 6, 16384, 327680, 8000, 6000, 0.144, 96.0, 20.0),
    ("g6-dedicated-2", "Dedicated 4GB", "dedicated", 2, 4096, 81920, 4000, 4000, 0.054, 36.0, 5.0),
    ("g6-dedicated-4", "Dedicated 8GB", "dedicated", 4, 8192, 163840, 5000, 5000, 0.108, 72.0, 10.0),
    ("g7-highmem-1", "Linode 24GB", "highmem", 2, 24576, 20480, 5000, 5000, 0.09, 60.0, 5.0),
]
# id, label, country, extra capabilities
_REGIONS = [
    ("us-east", "Newark, NJ, USA", "us"), ("us-central", "Dallas, TX, USA", "us"),
    ("us-west", "Fremont, CA, USA", "us"), ("us-southeast", "Atlanta, GA, USA", "us"),
    ("us-iad", "Washington, DC, USA", "us"), ("ca-central", "Toronto, ON, CA", "ca"),
    ("eu-west", "London, UK", "gb"), ("eu-central", "Frankfurt, DE", "de"),
    ("ap-south", "Singapore, SG", "sg"), ("ap-northeast", "Tokyo, JP", "jp"),
    ("br-gru", "Sao Paulo, BR", "br"),
]
# id, label, vendor, size MB
_IMAGES = [
    ("linode/debian12", "Debian 12", "Debian", 1300), ("linode/debian11", "Debian 11", "Debian", 1200),
    ("linode/ubuntu24.04", "Ubuntu 24.04 LTS", "Ubuntu", 2500),
    ("linode/ubuntu22.04", "Ubuntu 22.04 LTS", "Ubuntu", 2300),
    ("linode/almalinux9", "AlmaLinux 9", "AlmaLinux", 1800), ("linode/rocky9", "Rocky Linux 9", "Rocky", 1800),
    ("linode/fedora40", "Fedora 40", "Fedora", 1900), ("linode/alpine3.20", "Alpine 3.20", "Alpine", 300),
    ("linode/arch", "Arch Linux", "Arch", 1500),
]
BASE_TIME = "2024-04-25T12:00:00"
_HEAD = ('{"id":%d,"label":%s,"group":%s,"status":"%s","type":%s,"region":%s,"image":%s,'
         '"ipv4":%s,"ipv6":%s,"created":"%s","updated":"%s","tags":%s,"host_uuid":"%s",')
_TAIL = ('"hypervisor":"kvm","watchdog_enabled":true,"has_user_data":false,"capabilities":[],'
         '"lke_cluster_id":null,"placement_group":null,'
         '"alerts":{"cpu":%d,"io":10000,"network_in":10,"network_out":10,"transfer_quota":80},'
         '"backups":{"enabled":false,"available":false,"last_successful":null,'
         '"schedule":{"day":null,"window":null}},'
         '"specs":{"disk":%d,"memory":%d,"vcpus":%d,"gpus":0,"transfer":%d}}')



class Instance:
    """One Linode; its JSON is cached until it changes."""

    __slots__ = ("_json", "created", "group", "id", "image", "ipv4", "ipv6", "label", "region", "seq", "status",
                 "tags", "type", "updated")

    def __init__(self, linode_id: int, seq: int, label: str, type_: dict[str, Any], region: str,
                 image: str | None, ipv4: list[str], ipv6: str | None, created: str, tags: list[str],
                 status: str = "provisioning") -> None:
        self.id = linode_id
        self.seq = seq
        self.label = label
        self.type = type_
        self.region = region
        self.image = image
        self.ipv4 = ipv4
        self.ipv6 = ipv6
        self.created = created
        self.updated = created
        self.tags = tags
        self.status = status
        self.group = ""
        self._json: bytes | None = None

    def touch(self) -> None:
        self._json = None

    def render(self, tails: dict[str, bytes]) -> bytes:
        data = self._json
        if data is None:
            t = self.type
            data = (_HEAD % (
                self.id, enc(self.label), enc(self.group), self.status, enc(t["id"]), enc(self.region),
                enc(self.image) if self.image is not None else "null", enc_list(self.ipv4),
                enc(self.ipv6) if self.ipv6 is not None else "null", self.created, self.updated,
                enc_list(self.tags), f"{self.seq:040x}",
            )).encode("ascii")
            tail = tails.get(t["id"])
            if tail is None:
                tail = tails[t["id"]] = (_TAIL % (90 * t["vcpus"], t["disk"], t["memory"], t["vcpus"],
                                                  t["transfer"])).encode("ascii")
            data = self._json = data + tail
        return data

    def field(self, name: str) -> Any:
        if name == "type":
            return self.type["id"]
        if name == "placement_group.label":
            return None
        return getattr(self, name)



def make_types() -> dict[str, dict[str, Any]]:
    """The ``/linode/types`` records by id."""
    types: dict[str, dict[str, Any]] = {}
    for tid, label, klass, vcpus, mem, disk, transfer, net, hourly, monthly, backups in _TYPES:
        types[tid] = {
            "id": tid, "label": label, "class": klass, "vcpus": vcpus, "memory": mem, "disk": disk,
            "transfer": transfer, "network_out": net, "gpus": 0, "successor": None,
            "price": {"hourly": hourly, "monthly": monthly},
            "region_prices": [{"id": "br-gru", "hourly": round(hourly * 1.4, 4),
                               "monthly": round(monthly * 1.4, 2)}],
            "addons": {"backups": {"price": {"hourly": round(backups / 730, 4), "monthly": backups},
                                   "region_prices": []}},
        }
    return types


def make_regions() -> dict[str, dict[str, Any]]:
    """The ``/regions`` records by id."""
    return {
        rid: {"id": rid, "label": label, "country": country,
              "capabilities": ["Linodes", "Block Storage", "Cloud Firewall", "Metadata", "Placement Groups"],
              "status": "ok", "site_type": "core",
              "resolvers": {"ipv4": "192.0.2.10,192.0.2.11", "ipv6": "2001:db8::10,2001:db8::11"},
              "placement_group_limits": {"maximum_linodes_per_pg": 5, "maximum_pgs_per_customer": 100}}
        for rid, label, country in _REGIONS
    }


def make_images() -> dict[str, dict[str, Any]]:
    """The ``/images`` records by id."""
    return {
        iid: {"id": iid, "label": label, "description": f"{label} base image", "created": BASE_TIME,
              "updated": BASE_TIME, "created_by": "linode", "vendor": vendor, "is_public": True,
              "deprecated": False, "size": size, "total_size": size, "status": "available", "type": "manual",
              "capabilities": ["cloud-init"],
              "tags": [], "eol": "2029-06-30T04:00:00", "expiry": None, "regions": []}
        for iid, label, vendor, size in _IMAGES
    }


def make_profile() -> dict[str, Any]:
    """The ``/profile`` record."""
    return {
        "uid": 4242, "username": "simuser", "email": "simuser@example.com", "timezone": "UTC",
        "email_notifications": True, "restricted": False, "two_factor_auth": False,
        "ip_whitelist_enabled": False, "lish_auth_method": "keys_only", "authorized_keys": None,
        "authentication_type": "password", "verified_phone_number": None,
        "referrals": {"code": "0" * 40, "url": "https://www.linode.com/?r=" + "0" * 40, "total": 0,
                      "completed": 0, "pending": 0, "credit": 0},
    }


def make_account() -> dict[str, Any]:
    """The ``/account`` record."""
    return {
        "email": "simuser@example.com", "first_name": "Sim", "last_name": "User", "company": "",
        "address_1": "1 Example Street", "address_2": "", "city": "Philadelphia", "state": "PA",
        "zip": "19106", "country": "US", "phone": "", "tax_id": "", "balance": 0, "balance_uninvoiced": 0,
        "active_since": BASE_TIME, "capabilities": ["Linodes", "Block Storage", "Cloud Firewall"],
        "credit_card": {"last_four": "1111", "expiry": "12/2030"}, "active_promotions": [],
        "billing_source": "akamai", "euuid": "E1AF5EEC-526F-487D-B317EBEB34C87D71",
    }
