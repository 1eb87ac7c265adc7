"""Conformance checks on block storage: list_volumes, create_volume, attach/detach/destroy and
the refusals a driver makes before sending anything.

The section runs for every driver that declares volumes (``driver.supports("list_volumes")``),
third-party ones included; a driver without volumes passes it after showing its storage
methods raise ``NotImplementedError``. Routes come from :meth:`StorageChecks.storage_routes`
(by default :meth:`~ConformanceBase.routes`), which must answer:

- ``list_nodes()`` and ``list_volumes()``: the listing must hold at least one volume that is
  not attached (``StorageVolumeState.AVAILABLE``) and, for the detach and destroy-refusal
  checks, one attached (``INUSE``) to a listed node, in the same region as that node;
- ``create_volume(**create_volume_kwargs)`` (set ``create_volume_kwargs``, or leave it None
  to skip that check);
- ``attach_volume(node, volume)``, ``detach_volume(volume)`` and ``destroy_volume(volume)``
  for the actions named in ``volume_actions`` (None: every one the driver supports), with
  whatever the driver reads or waits on (an action or event to poll).

A volume's region is read from ``extra["region"]`` (else ``extra["location"]``) and a
node's from the same keys, as the built-in drivers write them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import pytest

from cloudkit.driver import NodeDriver
from cloudkit.errors import CloudkitError
from cloudkit.models import Node, StorageVolume, StorageVolumeState
from cloudkit.testing.conformance.base import ConformanceBase, _fix
from cloudkit.testing.fixtures import Route, UnmatchedRequestError, mock_routes

__all__ = ["VOLUME_ACTIONS", "StorageChecks"]

#: The volume actions the section can run, by method name.
VOLUME_ACTIONS = ("attach_volume", "detach_volume", "destroy_volume")
_REGION_KEYS = ("region", "location")


def _region(extra: Mapping[str, Any]) -> str | None:
    for key in _REGION_KEYS:
        value = extra.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, Mapping) and isinstance(value.get("slug") or value.get("id"), str):
            return str(value.get("slug") or value.get("id"))
    return None


class StorageChecks(ConformanceBase):
    """Volumes: listings, creation, actions and refusals."""

    #: Arguments for a create_volume call the storage routes answer (None: that check is skipped).
    create_volume_kwargs: ClassVar[Mapping[str, Any] | None] = None
    #: Volume actions the storage routes answer (None: every one of VOLUME_ACTIONS the driver supports).
    volume_actions: ClassVar[Sequence[str] | None] = None
    #: Set False when the driver lets the provider refuse a cross-region attach (then it sends it).
    cross_region_attach_refused: ClassVar[bool] = True
    #: Set False when the provider deletes attached volumes (the driver need not refuse).
    attached_destroy_refused: ClassVar[bool] = True

    def storage_routes(self) -> list[Route]:
        """Fresh routes answering the storage calls (default: :meth:`routes`)."""
        return self.routes()

    # -- helpers ----------------------------------------------------------------------------

    def _volumes_supported(self, driver: NodeDriver) -> bool:
        if driver.supports("list_volumes"):
            return True
        with mock_routes(self._host(driver), []), pytest.raises(NotImplementedError):
            driver.list_volumes()
        return False

    def _listed(self, driver: NodeDriver) -> tuple[list[Node], list[StorageVolume]]:
        try:
            return driver.list_nodes(), driver.list_volumes()
        except UnmatchedRequestError as exc:
            pytest.fail(f"list_nodes()/list_volumes() sent a request the storage routes do not answer: {exc}"
                        + _fix("answer the volume listing in storage_routes() (or routes())"))

    @staticmethod
    def _pick(volumes: list[StorageVolume], state: StorageVolumeState) -> StorageVolume | None:
        return next((v for v in volumes if v.state is state), None)

    @staticmethod
    def _node_for(nodes: list[Node], volume: StorageVolume) -> Node:
        region = _region(volume.extra)
        return next((n for n in nodes if _region(n.extra) == region), nodes[0])

    # -- checks -----------------------------------------------------------------------------

    def test_list_volumes_returns_volumes(self) -> None:
        driver = self._driver()
        if not self._volumes_supported(driver):
            return
        with mock_routes(self._host(driver), self.storage_routes()):
            _, volumes = self._listed(driver)
        assert isinstance(volumes, list), f"list_volumes() returned {type(volumes).__name__}, not a list"
        assert volumes, "the storage routes' listing gave no volume" + _fix("serve a volume listing")
        for volume in volumes:
            assert isinstance(volume, StorageVolume), f"list_volumes() item {volume!r} is not a StorageVolume"
            assert isinstance(volume.state, StorageVolumeState), (
                f"volume {volume.id} state is {volume.state!r}, not a StorageVolumeState"
                + _fix("map the provider's volume status to StorageVolumeState members"))
            assert isinstance(volume.size, int) and not isinstance(volume.size, bool), (
                f"volume {volume.id} size {volume.size!r} is not a whole number of GB")
            assert isinstance(volume.extra, dict), f"volume {volume.id} extra must be a dict"
        self._check_ids(volumes, "volume")
        self._check_bound(volumes, driver, "volume")

    def test_create_volume_returns_a_volume(self) -> None:
        driver = self._driver()
        if not driver.supports("create_volume"):
            return
        if self.create_volume_kwargs is None:
            return  # no create_volume route offered
        with mock_routes(self._host(driver), self.storage_routes()):
            volume = driver.create_volume(**dict(self.create_volume_kwargs))
        assert isinstance(volume, StorageVolume), f"create_volume() returned {type(volume).__name__}"
        assert isinstance(volume.id, str) and volume.id, "a created volume needs a non-empty str id"
        assert volume.driver is driver, "a created volume must carry driver=self"

    @pytest.mark.parametrize("action", VOLUME_ACTIONS)
    def test_volume_action_returns_true(self, action: str) -> None:
        driver = self._driver()
        if not self._volumes_supported(driver) or not driver.supports(action):
            return
        if self.volume_actions is not None and action not in self.volume_actions:
            return
        with mock_routes(self._host(driver), self.storage_routes()):
            nodes, volumes = self._listed(driver)
            wanted = StorageVolumeState.INUSE if action == "detach_volume" else StorageVolumeState.AVAILABLE
            volume = self._pick(volumes, wanted)
            assert volume is not None, (f"{action}: the volume listing has no {wanted.value} volume"
                                        + _fix(f"list a {wanted.value} volume, or leave {action} out of "
                                               "volume_actions"))
            try:
                if action == "attach_volume":
                    result = driver.attach_volume(self._node_for(nodes, volume), volume)
                else:
                    result = getattr(driver, action)(volume)
            except UnmatchedRequestError as exc:
                pytest.fail(f"{action}() sent a request the storage routes do not answer: {exc}"
                            + _fix(f"answer it (and what the driver polls), or leave {action} out of "
                                   "volume_actions"))
        assert result is True, f"{action}() returned {result!r}" + _fix("return True once the provider did it")

    def test_cross_region_attach_refused_before_sending(self) -> None:
        """A volume and a node in different regions: attach_volume raises before any request."""
        driver = self._driver()
        if not self._volumes_supported(driver) or not driver.supports("attach_volume"):
            return
        if not self.cross_region_attach_refused:
            return
        with mock_routes(self._host(driver), self.storage_routes()) as mock:
            nodes, volumes = self._listed(driver)
            volume = self._pick(volumes, StorageVolumeState.AVAILABLE)
            if volume is None or _region(volume.extra) is None or not nodes:
                pytest.fail("the cross-region check needs a listed node and an unattached volume whose "
                            "extra names its region" + _fix("serve them, or set cross_region_attach_refused "
                                                            "= False"))
            node = nodes[0]
            elsewhere = f"{_region(volume.extra)}-elsewhere"
            for key in _REGION_KEYS:
                node.extra[key] = elsewhere
            before = len(mock.calls)
            try:
                driver.attach_volume(node, volume)
                outcome: BaseException | None = None
            except (CloudkitError, UnmatchedRequestError) as exc:
                outcome = exc
            sent = [f"{c.request.method} {c.request.url}" for c in mock.calls[before:]]
        assert isinstance(outcome, CloudkitError) and not isinstance(outcome, UnmatchedRequestError), (
            f"attach_volume() of a volume in {_region(volume.extra)} to a node in {elsewhere} was not refused"
            + _fix("compare the regions before sending and raise ValidationError naming both"))
        assert sent == [], (f"attach_volume() sent {sent} before refusing a cross-region attach"
                            + _fix("decide on the objects' regions, before any request"))

    def test_destroy_attached_volume_refused(self) -> None:
        driver = self._driver()
        if not self._volumes_supported(driver) or not driver.supports("destroy_volume"):
            return
        if not self.attached_destroy_refused:
            return
        with mock_routes(self._host(driver), self.storage_routes()) as mock:
            _, volumes = self._listed(driver)
            volume = self._pick(volumes, StorageVolumeState.INUSE)
            if volume is None:
                return  # the listing has no attached volume to try
            before = len(mock.calls)
            with pytest.raises(CloudkitError):
                driver.destroy_volume(volume)
            sent = [c.request.method for c in mock.calls[before:]]
        assert "DELETE" not in sent, (
            "destroy_volume() of an attached volume sent a DELETE" + _fix("refuse it (or detach first when asked)"))
