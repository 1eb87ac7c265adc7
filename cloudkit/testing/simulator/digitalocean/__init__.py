"""Simulated DigitalOcean API v2 account (droplets, actions, sizes, images, regions,
account, SSH keys, tags), per ``shared/api/digitalocean.md`` and the OpenAPI cut.

Behaviour worth knowing:

- create answers 202 with ``status: "new"`` and empty networks; after ``boot_seconds`` the
  droplet is ``active`` with a public IPv4 (the simulator's ``public_ip``, 127.0.0.1), a
  private 10.x address and, when ``ipv6`` was asked for, a 2001:db8:: address;
- droplet actions answer 201 with an ``in-progress`` action that completes after
  ``action_seconds``; the droplet is ``locked`` meanwhile and a second action is refused
  with 422 ("Droplet already has a pending event."), as the real API does;
- ``resize`` needs the droplet powered off; ``power_on`` on an active droplet and
  ``shutdown``/``power_off``/``reboot`` on an off one are refused with 422;
- lists page with ``page``/``per_page`` (default 20, at most 200), carry ``links.pages``
  (absolute URLs on the simulator) and ``meta.total``;
- droplets of a ``gpu-`` size are GPU droplets: ``GET /v2/droplets`` leaves them out unless
  asked with ``type=gpus`` (which lists only them), as the real API does;
- every answer carries ``ratelimit-limit``/``-remaining``/``-reset``; an injected 429 adds
  ``retry-after``.
"""


from cloudkit.testing.simulator.digitalocean.api import DigitalOceanAPI

__all__ = ["DigitalOceanAPI"]
