"""What every part of the NephoScale driver builds on: settings and the request helpers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from cloudkit.driver import NodeDriver
from cloudkit.drivers.nephoscale.connection import NephoscaleConnection
from cloudkit.drivers.nephoscale.rules import _OK_RESPONSES, _numeric_id
from cloudkit.errors import MalformedResponseError, ProviderError
from cloudkit.models import Node
from cloudkit.parsing import as_dict, as_list, opt_text


class NephoscaleDriverBase(NodeDriver):
    """Settings and request helpers shared by the NephoScale driver's parts."""

    connection: NephoscaleConnection

    #: Default seconds create_node waits for the new server to be listed with an address.
    DEFAULT_WAIT_TIMEOUT: ClassVar[float] = 600.0
    #: First poll interval of create_node (grows by 1.5x up to DEFAULT_MAX_POLL_INTERVAL).
    DEFAULT_POLL_INTERVAL: ClassVar[float] = 5.0
    DEFAULT_MAX_POLL_INTERVAL: ClassVar[float] = 30.0

    # -- low level ----------------------------------------------------------------------------

    def _get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        return self.connection.request(path, params=params).object

    def _list(self, path: str, what: str) -> list[Any]:
        body = as_dict(self._get(path), what)
        if "data" not in body:
            raise MalformedResponseError(f"{what}: the envelope has no 'data'", driver=self.name)
        return as_list(body["data"], what)

    def _job_reply(self, body: Any, what: str) -> str | None:
        """Check an action reply; return its job (or new object) id when it names one."""
        if body is None:
            return None
        env = as_dict(body, what)
        code = env.get("response")
        if isinstance(code, int) and not isinstance(code, bool) and code not in _OK_RESPONSES:
            message = opt_text(env.get("message")) or "no message"
            raise ProviderError(f"{what}: the API answered response={code}: {message[:200]}",
                                driver=self.name)
        data = env.get("data")
        if isinstance(data, dict) and isinstance(data.get("id"), (int, str)) and not isinstance(
                data.get("id"), bool):
            ident = str(data["id"]).strip()
            return ident or None
        return None

    def _node_id(self, node: Node | str) -> str:
        return _numeric_id(node, "node")
