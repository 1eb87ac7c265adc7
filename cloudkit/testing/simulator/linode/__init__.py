"""Simulated Linode API v4 account, per ``shared/api/linode.md`` and the OpenAPI cut.

Behaviour worth knowing:

- paths under ``/v4`` (and ``/v4beta``); Bearer token; ``GET /regions``, ``/linode/types``
  (and their items) answer without a token, as the real API does;
- create answers 200 with the full instance in ``provisioning`` and its ``ipv4`` already
  filled (public: the simulator's ``public_ip``; with ``private_ip: true`` also a
  192.168.128.0/17 address, Linode's private range); after ``boot_seconds`` it is
  ``running`` (``offline`` with ``booted: false``);
- boot/reboot/shutdown/resize answer ``{}`` and pass through ``booting``/``rebooting``/
  ``shutting_down``/``migrating`` for ``action_seconds``; a busy Linode refuses another job;
- labels are unique per account, ``root_pass`` is required with ``image``;
- lists page with ``page``/``page_size`` (25..500, default 100) and ``X-Filter`` on
  instances (``label``, ``tags``, ``id``, ``region``, ``group``, ``ipv4``, ``image``,
  ``type``, ``status``; ``+and``/``+or``, ``+contains``/``+neq``/``+gt``..., ``+order_by``);
- events (``/account/events``) record each job: ``started`` then ``finished``.
"""


from cloudkit.testing.simulator.linode.api import LinodeAPI

__all__ = ["LinodeAPI"]
