"""What every part of the DigitalOcean driver builds on: the action model, the constructor,
the request helpers and the ids the API takes."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cloudkit.driver import NodeDriver, object_id
from cloudkit.drivers.digitalocean.connection import PAGE_SIZE, DigitalOceanConnection, _total_items, _total_pages
from cloudkit.drivers.digitalocean.rules import _FINGERPRINT_RE, _REGION_RE, _SLUG_RE
from cloudkit.errors import ConfigurationError, ValidationError
from cloudkit.models import KeyPair
from cloudkit.parsing import ModelMemo, as_dict, as_list


@dataclass(eq=False)
class DigitalOceanAction:
    """A droplet action (reboot, power_off, resize, ...) as DigitalOcean reports it."""

    id: str
    type: str
    status: str
    resource_id: str | None = None
    resource_type: str | None = None
    started_at: _dt.datetime | None = None
    completed_at: _dt.datetime | None = None
    region: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def done(self) -> bool:
        """True once the action is no longer in progress."""
        return self.status != "in-progress"


class DigitalOceanDriverBase(NodeDriver):
    """The constructor, requests and references shared by the DigitalOcean driver's parts."""

    #: Seconds between polls of a droplet action (``ex_wait_for_action``).
    action_poll_interval: float = 3.0

    connection: DigitalOceanConnection

    def __init__(self, key: str, secret: str | None = None, secure: bool = True,
                 host: str | None = None, port: int | None = None, api_version: str | None = None,
                 **kwargs: Any) -> None:
        if not isinstance(key, str) or not key.strip():
            raise ConfigurationError("DigitalOcean needs an API token (a non-empty string)")
        if secret:
            raise ConfigurationError("DigitalOcean API v2 takes only a token; do not pass a secret")
        super().__init__(key.strip(), None, secure, host, port, api_version=api_version, **kwargs)
        #: The sizes and images a listing's droplets embed, parsed once (see ``_embedded``).
        self._embedded_memo = ModelMemo()

    # -- request helpers --------------------------------------------------------------------

    def _list(self, path: str, key: str, params: Mapping[str, Any] | None = None,
              transform: Callable[[Any], Any] | None = None) -> list[Any]:
        """Every item of a paged listing (``key`` names the array in each page), each
        passed through ``transform`` (a model builder with an ``id``) as its page arrives
        when given; an item seen twice (pages shift while droplets come and go) counts once."""

        def extract(body: Any) -> list[Any]:
            page = as_dict(body, f"GET {path}")
            return as_list(page.get(key), f"GET {path}: '{key}'")

        return self.connection.paginate(path, extract, _total_pages, params=params, total_items=_total_items,
                                         page_size=self.connection.page_size or PAGE_SIZE, transform=transform)

    @staticmethod
    def _droplet_id(node: Any) -> str:
        node_id = object_id(node, "node")
        if not node_id.isdigit():
            raise ValidationError(f"a droplet id is a number, not {node_id[:40]!r}")
        return node_id

    @staticmethod
    def _size_slug(size: Any) -> str:
        slug = object_id(size, "size")
        if not _SLUG_RE.match(slug):
            raise ValidationError(f"size must be a size slug like 's-1vcpu-1gb', not {slug[:40]!r}")
        return slug

    @staticmethod
    def _image_ref(image: Any) -> int | str:
        ref = object_id(image, "image")
        if ref.isdigit():
            return int(ref)
        if not _SLUG_RE.match(ref):
            raise ValidationError(
                f"image must be an image id or slug like 'ubuntu-24-04-x64', not {ref[:40]!r}")
        return ref

    @staticmethod
    def _region_slug(location: Any) -> str:
        slug = object_id(location, "location")
        if not _REGION_RE.match(slug):
            raise ValidationError(f"location must be a region slug like 'nyc3', not {slug[:40]!r}")
        return slug

    @staticmethod
    def _key_ref(key: Any) -> int | str:
        if isinstance(key, KeyPair):
            key = key.id or key.fingerprint
        if isinstance(key, int) and not isinstance(key, bool):
            return key
        if isinstance(key, str):
            text = key.strip()
            if text.isdigit():
                return int(text)
            if _FINGERPRINT_RE.match(text):
                return text.lower()
        raise ValidationError(
            f"SSH keys are given as key ids, MD5 fingerprints ('aa:bb:...') or KeyPair objects, "
            f"not {str(key)[:60]!r}")

    @staticmethod
    def _action_id(action: DigitalOceanAction | str | int) -> str:
        value = action.id if isinstance(action, DigitalOceanAction) else action
        text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
        if not text.isdigit():
            raise ValidationError(f"an action id is a number, not {str(value)[:40]!r}")
        return text
