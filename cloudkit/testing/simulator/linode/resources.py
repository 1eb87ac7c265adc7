"""Linode's SSH keys, tags and events: a part of :class:`~.api.LinodeAPI`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cloudkit.errors import ValidationError
from cloudkit.sshkeys import parse_public_key
from cloudkit.testing.simulator import jsonfilter
from cloudkit.testing.simulator._http import SimRequest, SimResponse
from cloudkit.testing.simulator.base import ProviderAPI, iso_now
from cloudkit.testing.simulator.linode.catalog import Instance
from cloudkit.testing.simulator.paging import Page, PageSpec

__all__ = ["KeysTagsEvents"]


class KeysTagsEvents(ProviderAPI):
    """The ``/profile/sshkeys``, ``/tags`` and ``/account/events`` handlers, and the shared
    request-body, paging and filter conventions."""

    page_spec = PageSpec("page_size", 100, 500, minimum=25, clamp=False, size_error="Must be 25-500")
    instances: dict[int, Instance]
    tags: dict[str, set[int]]
    keys: dict[int, dict[str, Any]]
    events: dict[int, dict[str, Any]]
    _key_ids: Iterator[int]
    _tails: dict[str, bytes]

    def page_body(self, request: SimRequest, page: Page, items: bytes, **shape: Any) -> bytes:
        return b"".join([b'{"data":[', items, b'],"page":', str(page.number).encode(), b',"pages":',
                         str(page.pages).encode(), b',"results":', str(page.total).encode(), b"}"])

    def _body(self, request: SimRequest, required: bool = True) -> dict[str, Any]:
        body = request.json()
        if body is None and not required:
            return {}
        if not isinstance(body, dict):
            self.fail(400, "Request body must be a JSON object")
        return body

    def _filter(self, request: SimRequest) -> dict[str, Any] | None:
        """The ``X-Filter`` header's object (None when absent), or a 400."""
        try:
            return jsonfilter.parse(request)
        except jsonfilter.FilterError as exc:
            self.fail(400, str(exc))

    def _check_tag(self, tag: Any) -> str:
        if not isinstance(tag, str) or not 3 <= len(tag) <= 50:
            self.fail(400, "Length must be 3-50 characters", field="tags")
        return tag

    def _set_tags(self, inst: Instance, tags: list[str]) -> None:
        for old in inst.tags:
            if old not in tags and old in self.tags:
                self.tags[old].discard(inst.id)
        for new in tags:
            self.tags.setdefault(new, set()).add(inst.id)
        inst.tags = tags
        inst.touch()


    # -- SSH keys ---------------------------------------------------------------------------------

    def _key(self, key_id: str) -> dict[str, Any]:
        key = self.found(self.keys, int(key_id), "Not found")
        return key

    def list_keys(self, request: SimRequest) -> SimResponse:
        return self.paged_list(request, list(self.keys.values()))

    def create_key(self, request: SimRequest) -> SimResponse:
        body = self._body(request)
        label, text = body.get("label", ""), body.get("ssh_key")
        if not isinstance(label, str) or len(label) > 64:
            self.fail(400, "Length must be 0-64 characters", field="label")
        try:
            parse_public_key(text if isinstance(text, str) else "")
        except ValidationError:
            self.fail(400, "Invalid SSH key", field="ssh_key")
        key_id = next(self._key_ids)
        key: dict[str, Any] = {"id": key_id, "label": label, "ssh_key": str(text).strip(),
                               "created": iso_now(with_z=False)}
        self.keys[key_id] = key
        return self.json_response(200, key)

    def get_key(self, request: SimRequest, key_id: str) -> SimResponse:
        return self.json_response(200, self._key(key_id))

    def update_key(self, request: SimRequest, key_id: str) -> SimResponse:
        key = self._key(key_id)
        body = self._body(request)
        label = body.get("label")
        if label is not None:
            if not isinstance(label, str) or len(label) > 64:
                self.fail(400, "Length must be 0-64 characters", field="label")
            key["label"] = label
        return self.json_response(200, key)

    def delete_key(self, request: SimRequest, key_id: str) -> SimResponse:
        key = self._key(key_id)
        del self.keys[key["id"]]
        return self.json_response(200, {})

    # -- tags -------------------------------------------------------------------------------------

    def list_tags(self, request: SimRequest) -> SimResponse:
        return self.paged_list(request, [{"label": label} for label in self.tags])

    def create_tag(self, request: SimRequest) -> SimResponse:
        body = self._body(request)
        label = body.get("label")
        if not isinstance(label, str) or not 3 <= len(label) <= 50:
            self.fail(400, "Length must be 3-50 characters", field="label")
        linodes = body.get("linodes") or []
        if not isinstance(linodes, list) or any(isinstance(i, bool) or not isinstance(i, int) for i in linodes):
            self.fail(400, "linodes must be a list of Linode ids", field="linodes")
        for linode_id in linodes:
            if linode_id not in self.instances:
                self.fail(400, f"Linode {linode_id} not found", field="linodes")
        self.tags.setdefault(label, set())
        for linode_id in linodes:
            inst = self.instances[linode_id]
            if label not in inst.tags:
                self._set_tags(inst, [*inst.tags, label])
        self.changed()
        return self.json_response(200, {"label": label})

    def get_tag(self, request: SimRequest, label: str) -> SimResponse:
        ids = self.found(self.tags, label, "Not found")
        items = [self.instances[i] for i in sorted(ids) if i in self.instances]
        tails = self._tails
        return self.paged(request, len(items), lambda s, e: [
            b'{"type":"linode","data":' + i.render(tails) + b"}" for i in items[s:e]])

    def delete_tag(self, request: SimRequest, label: str) -> SimResponse:
        ids = self.found(self.tags, label, "Not found")
        for linode_id in list(ids):
            inst = self.instances.get(linode_id)
            if inst is not None:
                inst.tags = [t for t in inst.tags if t != label]
                inst.touch()
        del self.tags[label]
        self.changed()
        return self.json_response(200, {})


    # -- events -----------------------------------------------------------------------------------

    def list_events(self, request: SimRequest) -> SimResponse:
        events = sorted(self.events.values(), key=lambda e: e["id"], reverse=True)
        flt = self._filter(request)
        if flt is not None:
            order_by = flt.pop("+order_by", None)
            order = flt.pop("+order", "desc")
            events = [e for e in events if jsonfilter.matches(flt, jsonfilter.getter(e))]
            if order_by is not None:
                events.sort(key=lambda e: jsonfilter.sort_key(jsonfilter.dotted(e, order_by)),
                            reverse=order == "desc")
        return self.paged_list(request, events)

    def get_event(self, request: SimRequest, event_id: str) -> SimResponse:
        event = self.found(self.events, int(event_id), "Not found")
        return self.json_response(200, event)

