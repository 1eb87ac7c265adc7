"""HostVirtual ("VR", vapi v1) compute driver.

The API key travels in the ``key`` query parameter of every request (POSTs included); the
connection declares it as its ``key_param`` so the core redacts it from every log line, and
this module also scrubs it from any error text a provider might echo it in.

A HostVirtual server lives on a *package* (``mbpkgid``, the node id): ``create_node``
orders a package for the plan, then builds an OS on it. If the build fails (or its outcome
is unknown) the package is cancelled again so nobody is billed for an empty package, and
``CreateNodeError`` reports both steps (and says so plainly, with the package id, when the
cancel fails too).

Readings chosen where the fact sheet (``shared/api/hostvirtual.md``) is uncertain or silent:

* Request paths and id placement follow libcloud's v1 driver (the "body form":
  ``mbpkgid`` in the JSON body, or in the query string for ``GET /cloud/server``); the
  path form is used only where it is the sole attested one (``/cloud/package/ID``).
* Bodies are JSON with ``Content-Type: application/json``, ``key`` stays in the query.
* Action replies are ``{"status": "success"}``; a job reference (``{"id": ...}``) or an
  empty 2xx body also counts as success. The build reply's ``id`` is kept as
  ``node.extra["job_id"]`` (read it with ``ex_get_job``).
* ``price`` is USD per month (every example is a round monthly figure); ``NodeSize.price``
  is that divided by ``HOURS_PER_MONTH`` (730), the monthly figure stays in
  ``extra["price_monthly"]``.
* Status ``STOPPING`` maps to ``NodeState.STOPPING`` (cloudkit has that state; the sheet's
  suggestion predates it), ``TERMINATING`` to ``TERMINATED``, ``ERROR`` to ``ERROR``,
  anything else to ``UNKNOWN``.
* ``TERMINATED`` means "OS uninstalled, package still ordered and billed": such a node can
  still be destroyed (cancelled) or rebuilt (``ex_build_node``), see ``NODE_ACTIONS``.
* ``ipv6`` is reported next to ``ip`` in ``public_ips`` (libcloud mapped only ``ip``).
* Locations come as an object keyed by name (2017+) or as a plain array (before): both
  are accepted. ``country`` is the text after the first comma of the name (often a US
  state code, as libcloud read it); a name without a comma gets ``None``.
* A 404 or 412 on a listing means "nothing there" (an empty list); a 412 on
  ``GET /cloud/server`` means the package has no server record, so ``get_node`` raises
  ``NotFoundError``. Any other 412 (a business-rule refusal) is a ``ValidationError``.
* ``destroy_node`` stops a running server (best effort), cancels the package (the step
  that ends billing; its failure is raised) and unlinks it (best effort: after a cancel
  the API may refuse it, which is harmless).
* SSH keys use ``/server/sshkeys`` (no ``/cloud`` prefix), seen only in HostVirtual's Go
  client; the example bodies support that shape. ``create_node`` passes the public key
  itself as ``ssh_key`` (the portable path), or a stored key's id via ``ex_ssh_key_id``.
* The API has no tags: ``Node.tags`` is always empty and ``list_nodes(tag=...)`` filters
  on the client (so it returns nothing).
* When no location is given, ``create_node`` uses location ``21`` as libcloud did.
"""

from __future__ import annotations

from cloudkit.drivers.hostvirtual.connection import API_HOST, HostVirtualConnection, HostVirtualResponse
from cloudkit.drivers.hostvirtual.driver import NODE_ACTIONS, NODE_STATE_MAP, HostVirtualNodeDriver
from cloudkit.drivers.hostvirtual.rules import _amount, _check_fqdn

__all__ = [
    "API_HOST",
    "NODE_ACTIONS",
    "NODE_STATE_MAP",
    "HostVirtualConnection",
    "HostVirtualNodeDriver",
    "HostVirtualResponse",
    "_amount",
    "_check_fqdn",
]
