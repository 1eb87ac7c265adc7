"""HostVirtual, NephoScale, Hetzner and Vultr have no volumes, volume snapshots or images made
from nodes in cloudkit: each storage method raises NotImplementedError (NotSupportedError)
with the reason ``supports()`` gives, before any request (no HTTP mock is registered, so a
request would fail differently)."""

from __future__ import annotations

from typing import Any

import pytest
import responses

from cloudkit.capabilities import _instantiate
from cloudkit.errors import NotSupportedError
from cloudkit.models import Node, NodeState, StorageVolume, StorageVolumeState, VolumeSnapshot
from cloudkit.providers import get_driver

PROVIDERS = ("hostvirtual", "nephoscale", "hetzner", "vultr")


def _calls(driver: Any) -> dict[str, tuple[Any, ...]]:
    node = Node("101", "n", NodeState.RUNNING, [], [], driver)
    volume = StorageVolume("201", "v", 10, driver, StorageVolumeState.AVAILABLE, {})
    snapshot = VolumeSnapshot("301", driver)
    return {
        "list_volumes": (), "create_volume": (10, "v"), "attach_volume": (node, volume),
        "detach_volume": (volume,), "destroy_volume": (volume,), "list_volume_snapshots": (volume,),
        "create_volume_snapshot": (volume,), "destroy_volume_snapshot": (snapshot,),
        "create_image": (node, "img"), "delete_image": ("401",),
    }


@pytest.mark.parametrize("provider", PROVIDERS)
def test_storage_methods_raise_with_the_reason(provider: str) -> None:
    driver = _instantiate(get_driver(provider))
    with responses.RequestsMock(assert_all_requests_are_fired=False):  # any request would raise
        for method, args in _calls(driver).items():
            answer = driver.supports(method)
            assert not answer.supported and answer.reason, (provider, method)
            with pytest.raises(NotImplementedError) as caught:
                getattr(driver, method)(*args)
            assert isinstance(caught.value, NotSupportedError), (provider, method)
            assert answer.reason in str(caught.value), (provider, method, str(caught.value))
