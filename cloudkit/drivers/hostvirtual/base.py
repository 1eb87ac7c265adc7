"""What every part of the HostVirtual driver builds on: settings, ids, listings, posts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from cloudkit.driver import NodeDriver, object_id
from cloudkit.drivers.hostvirtual.connection import HostVirtualConnection
from cloudkit.drivers.hostvirtual.rules import _SAFE_ID, _reply_ok
from cloudkit.errors import NotFoundError, ValidationError
from cloudkit.parsing import as_list


class HostVirtualDriverBase(NodeDriver):
    """Settings, ids and the request helpers shared by the HostVirtual driver's parts."""

    connection: HostVirtualConnection

    #: Location used when create_node gets none (libcloud's default).
    DEFAULT_LOCATION_ID: ClassVar[str] = "21"
    #: Monthly plan price → hourly ``NodeSize.price``.
    HOURS_PER_MONTH: ClassVar[float] = 730.0
    #: How long create_node waits for the new server record, and the longest pause between looks.
    CREATE_WAIT_TIMEOUT: ClassVar[float] = 30.0
    CREATE_POLL_INTERVAL: ClassVar[float] = 5.0

    # -- ids ------------------------------------------------------------------------------

    @staticmethod
    def _id(value: Any, kind: str) -> str:
        """The id of a model or id string; refused client-side unless it looks like an id."""
        text = object_id(value, kind)
        if not _SAFE_ID.fullmatch(text):
            raise ValidationError(f"{kind} id {text[:80]!r} is not a HostVirtual id "
                                  "(letters, digits, '.', '_' or '-')")
        return text

    # -- listings -------------------------------------------------------------------------

    def _list(self, action: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        """GET a listing; HostVirtual answers an empty one with 404 (or 412): that is []."""
        try:
            body = self.connection.request(action, params=params).object
        except (NotFoundError, ValidationError) as exc:
            if exc.status in (404, 412):
                return []
            raise
        if body is None:
            return []
        return as_list(body, f"{action} listing")


    def _post(self, action: str, node_id: str, extra: Mapping[str, Any] | None = None) -> bool:
        body = self.connection.request(action, data={"mbpkgid": node_id, **(extra or {})},
                                       method="POST").object
        return _reply_ok(body, f"{action} for {node_id}", self.name)
