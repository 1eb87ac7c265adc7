"""NephoScale compute driver (``get_driver(Provider.NEPHOSCALE)(username, password)``).

The API (``https://api.nephoscale.com``, every path ending in ``/``) takes HTTP Basic auth
with the account's user name and password, form-encoded request bodies, and answers JSON
wrapped in an envelope ``{success, response, message, subcode, data[, total_count]}``.
Facts come from ``shared/api/nephoscale.md``; where the sheet marks something uncertain
this driver takes the reading the example bodies support:

* **Bodies** are sent form-urlencoded (``Content-Type: application/x-www-form-urlencoded``);
  fields without a value are omitted (never the text ``None``).
* **Errors**: any non-2xx status maps as usual (401 bad user name or password, 404 missing,
  ...). The provider's message is the envelope's ``message``, its code the ``subcode``. A
  2xx answer whose envelope says ``success: false`` (or a non-2xx ``response``) is an error
  too, mapped by the envelope's ``response`` code.
* **Action replies** (create, power actions, delete, rename, key create/delete) are job
  envelopes: any 2xx HTTP status with an envelope ``response`` of 200/201/202/204 is success.
* ``GET /server/cloud/{id}/`` may answer with ``data`` as a one-element array (the examples)
  or an object; both are accepted, and the server is picked by its id. No surviving client
  relied on it, so on a 404 or an unexpected shape ``get_node`` looks in the listing too.
  Server ids are numbers: other ids are refused before any request (NotFoundError from
  ``get_node``, ValidationError from actions).
* **Power actions** are asynchronous jobs; ``start_node``/``stop_node`` may be retried on a
  dropped connection (repeating them is harmless), ``reboot_node`` and creates never are.
* **States**: ``power_status`` ``on`` → RUNNING, ``off`` → STOPPED, anything else UNKNOWN.
  ``postinit_state`` is kept in ``extra`` and does not change the state (its values are not
  known). The API has no transitional states; ``NODE_ACTIONS`` allows everything while UNKNOWN.
* **Locations**: every zone is listed, as the API returns them (libcloud did the same);
  ``extra["activated"]`` carries the flag and ``list_locations(ex_include_inactive=False)``
  leaves out zones marked ``activated: false`` (as mist.io's fork did). The API gives no
  country; every NephoScale data centre was in the US.
* **Prices**: the API has none; ``cloudkit.pricing.get_size_price("nephoscale", id)`` gives
  them (libcloud's 2013 table covers 13 cloud sizes; later SSD sizes have ``price=None``).
* **Times** (``create_time``, ``YYYY-MM-DD HH:MM:SS``) carry no zone and are read as UTC.

**create_node** (the reply holds a job id, not the server): the server list is read first
(a snapshot), keys are found or created, ``POST /server/cloud/`` is sent once (never
retried), then ``GET /server/cloud/`` is polled with backoff until a server with the
requested ``name`` that was not in the snapshot appears with an IP address (several: the one
whose hostname matches, then the newest). It is returned with ``extra["job_id"]``. After
``ex_wait_timeout`` seconds a ``WaitTimeoutError`` names the job and the name (``job`` and,
when the server was seen without an address, ``nodes`` are set). Keys:

* ``auth=NodeAuthSSHKey(pub)``: an SSH key with the same key material is looked up in
  ``GET /key/sshrsa/`` and reused, otherwise imported (named ``ex_key_name``, default
  ``cloudkit-<name>``) and its id sent as ``server_key``;
* ``auth=NodeAuthPassword(pw)``: a password key in the server group (1) is created (named
  ``ex_key_name``, default ``server-<name>``) and sent as ``server_key``;
* no ``auth`` and no ``ex_server_key``: cloudkit generates a root password the same way and
  returns it once in ``node.extra["password"]``;
* ``ex_server_key`` (a KeyPair, password key or id) uses an existing key instead;
* a console password key (group 4, random password, ``console-<name>``) is created for
  every server unless ``ex_console_key`` names one (``ex_console_key=False`` sends none).
  Its password is never put in the node; read it with ``ex_list_password_keys()``.

Keys that create_node made are deleted again when the API refuses the create (or a later
key) outright; after a dropped connection or a timeout they are kept, as the server may exist.
The match by name is reliable unless another client creates a server of the same name at
the same moment.
The SSH endpoint is called ``sshrsa``; other key types are passed on for the API to judge,
and ``create_key_pair`` generates an RSA key so it is accepted either way.

Password keys (root and console passwords) are exposed through ``ex_list_password_keys``,
``ex_create_password_key`` and ``ex_delete_password_key`` as ``NephoscalePasswordKey``
objects whose repr never shows the password. Passwords never appear in log lines or errors.
"""

from __future__ import annotations

from cloudkit.drivers.nephoscale.connection import NephoscaleConnection, NephoscaleResponse
from cloudkit.drivers.nephoscale.driver import NephoscaleNodeDriver
from cloudkit.drivers.nephoscale.parsing import NephoscalePasswordKey
from cloudkit.drivers.nephoscale.rules import KEY_GROUP_CONSOLE, KEY_GROUP_SERVER

__all__ = [
    "KEY_GROUP_CONSOLE",
    "KEY_GROUP_SERVER",
    "NephoscaleConnection",
    "NephoscaleNodeDriver",
    "NephoscalePasswordKey",
    "NephoscaleResponse",
]
