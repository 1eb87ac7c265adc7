"""DigitalOcean API v2: droplets, sizes, images, regions, SSH keys, droplet actions and tags.

``get_driver(Provider.DIGITAL_OCEAN)(token)`` talks to ``https://api.digitalocean.com`` with
``Authorization: Bearer <token>``. Listings are fetched ``per_page=200`` at a time: the first
page says how many pages there are (``links.pages.last``, else ``meta.total``) and the rest are
fetched concurrently. Errors carry DigitalOcean's own ``message`` (and its ``id`` as the code).

Model mapping (decisions recorded here, see also ``fixtures/digitalocean/README.md``):

* node id: the droplet id as a string; state from ``status`` (``NODE_STATE_MAP``);
* ``public_ips``: the public IPv4 addresses, then the public IPv6 ones; ``private_ips``: the
  private IPv4 addresses (then any private IPv6). Placeholder gateways (``"<nil>"``, ``"nil"``)
  become None in ``node.extra["addresses"]``;
* size: ``id``/``name`` = slug, ``ram`` MB, ``disk`` GB, ``bandwidth`` = ``transfer`` exactly as
  the API gives it (TB per month), ``price`` = ``price_hourly`` USD; monthly price, regions,
  availability in ``extra``;
* image: ``id`` = str(image id), ``name`` = image name, slug and distribution in ``extra``;
* location: ``id`` = region slug, ``name`` = region name, ``country`` an ISO code derived from
  the slug's city prefix where known; ``available`` in ``extra`` (every region is listed unless
  ``ex_available=True``).
"""

from __future__ import annotations

from cloudkit.drivers.digitalocean.base import DigitalOceanAction
from cloudkit.drivers.digitalocean.connection import (
    API_HOST,
    PAGE_SIZE,
    DigitalOceanConnection,
    DigitalOceanResponse,
    _total_items,
    _total_pages,
)
from cloudkit.drivers.digitalocean.driver import DigitalOceanNodeDriver

__all__ = [
    "API_HOST",
    "PAGE_SIZE",
    "DigitalOceanAction",
    "DigitalOceanConnection",
    "DigitalOceanNodeDriver",
    "DigitalOceanResponse",
    "_total_items",
    "_total_pages",
]
