"""Bad input from callers is refused before anything is sent.

For every driver, invalid names, sizes, images, regions, credentials, key material and node
ids raise ``ValidationError`` (status None) with a message naming what is wrong, and the
provider's simulator receives no request at all. Input that only the provider can judge
(a well-formed but unknown size) comes back as the provider's 4xx mapped to
``ValidationError``, and no server is left behind.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from _rel_support import PROVIDERS, create_kwargs, running_sim

from cloudkit.driver import NodeDriver
from cloudkit.errors import CreateNodeError, NotFoundError, ProviderError, ValidationError
from cloudkit.models import KeyPair, Node, NodeAuthPassword, NodeAuthSSHKey, NodeState
from cloudkit.sshkeys import generate_key_pair
from cloudkit.testing.simulator import Simulator

#: A default bound for every test here (tests that need less say so themselves).
pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

PRIVATE_KEY, PUBLIC_KEY = generate_key_pair("ed25519", comment="rel-input")
_, RSA_PUBLIC = generate_key_pair("rsa", comment="rel-input-rsa")
_ED_BLOB = PUBLIC_KEY.split()[1]

#: (field, bad value, words one of which the message must contain). Bad for every provider.
BAD_CREATE: list[tuple[str, Any, tuple[str, ...]]] = [
    ("name", "", ("name", "label")),
    ("name", " ", ("name", "label")),
    ("name", "a b", ("name", "label")),
    ("name", 42, ("name", "label")),
    ("name", "x" * 300, ("name", "label")),
    ("name", "../etc", ("name", "label")),
    ("name", "web\n1", ("name", "label")),
    ("name", "web;rm -rf /", ("name", "label")),
    ("size", "", ("size",)),
    ("size", None, ("size",)),
    ("size", 3.5, ("size",)),
    ("size", "../../v2/account", ("size", "type")),
    ("size", "a b", ("size", "type")),
    ("size", "a?b=c", ("size", "type")),
    ("image", "", ("image",)),
    ("image", "../x", ("image",)),
    ("image", "a?b=c&key=1", ("image",)),
    ("image", ["linode/debian12"], ("image",)),
    ("location", "", ("location",)),
    ("location", "../x", ("location", "region")),
    ("location", "NYC 1", ("location", "region")),
    ("location", {"id": "nyc1"}, ("location",)),
    ("auth", NodeAuthSSHKey("not a key"), ("key",)),
    ("auth", NodeAuthSSHKey(PRIVATE_KEY), ("private key",)),
    ("auth", NodeAuthSSHKey("ssh-ed25519 !!!not-base64!!!"), ("base64",)),
    ("auth", NodeAuthSSHKey("ssh-ed25519 " + _ED_BLOB[:20]), ("key",)),
    ("auth", NodeAuthSSHKey("ssh-rsa " + _ED_BLOB), ("key", "says")),
    ("auth", "hunter2-password", ("auth",)),
    ("auth", NodeAuthPassword(""), ("password",)),
    ("kwarg", {"ex_no_such_option": 1}, ("unknown",)),
]

BAD_KEY_MATERIAL: list[tuple[Any, tuple[str, ...]]] = [
    ("", ("empty",)),
    ("   ", ("empty",)),
    ("not a key", ("key",)),
    (PRIVATE_KEY, ("private key",)),
    ("ssh-ed25519", ("look like",)),
    ("ssh-ed25519 !!!", ("base64",)),
    ("ssh-ed25519 " + _ED_BLOB[:16], ("truncated", "corrupt", "base64", "says")),
    ("ssh-ed25519 " + _ED_BLOB[:20], ("truncated", "corrupt")),  # the type name and nothing else
    ("ssh-foo " + _ED_BLOB, ("unknown",)),
    ("ssh-rsa " + _ED_BLOB, ("says",)),
    (None, ("empty",)),
]

BAD_NODE_IDS: list[Any] = ["", " ", "../1", "1 OR 1=1", "1/reboot", "1?key=x", None, 3.5, ["1"]]


@pytest.fixture(scope="module", params=PROVIDERS)
def sim(request: pytest.FixtureRequest) -> Iterator[Simulator]:
    yield from running_sim(request.param)


@pytest.fixture
def driver(sim: Simulator) -> NodeDriver:
    return sim.driver(max_retries=0)


def _refused_before_sending(sim: Simulator, call: Callable[[], Any], words: tuple[str, ...],
                            errors: tuple[type[ProviderError], ...] = (ValidationError,)) -> ProviderError:
    before = sim.request_count
    with pytest.raises(errors) as info:
        call()
    err = info.value
    message = str(err)
    assert err.status is None, f"refused client-side, yet status {err.status}: {message}"
    assert any(w in message.lower() for w in words), f"message {message!r} should mention one of {words}"
    assert sim.request_count == before, f"{sim.request_count - before} request(s) sent before refusing: {message}"
    assert "PRIVATE KEY" not in message and PRIVATE_KEY.splitlines()[1] not in message
    return err


@pytest.mark.timeout(30)
@pytest.mark.parametrize("field,bad,words", BAD_CREATE, ids=[f"{f}-{i}" for i, (f, _, _) in enumerate(BAD_CREATE)])
def test_create_node_refuses_bad_input_before_any_request(sim: Simulator, driver: NodeDriver, field: str, bad: Any,
                                                          words: tuple[str, ...]) -> None:
    if field == "auth" and isinstance(bad, NodeAuthPassword) and sim.provider == "digitalocean":
        words = ("password",)  # DigitalOcean sets no passwords at all: refused as such
    args = create_kwargs(sim.provider)
    if field == "kwarg":
        args.update(bad)
    else:
        args[field] = bad
    explicit = not any(p.kind is p.VAR_KEYWORD for p in inspect.signature(driver.create_node).parameters.values())
    if field == "kwarg" and explicit:
        # Drivers that name every parameter (libcloud's surface, issue 15): Python refuses it.
        before = sim.request_count
        with pytest.raises(TypeError, match="ex_no_such_option"):
            driver.create_node(**args)
        assert sim.request_count == before
        return
    _refused_before_sending(sim, lambda: driver.create_node(**args), words)
    assert sim.node_count() == 0


@pytest.mark.timeout(30)
@pytest.mark.parametrize("material,words", BAD_KEY_MATERIAL, ids=[str(i) for i in range(len(BAD_KEY_MATERIAL))])
def test_key_import_refuses_bad_material_before_any_request(sim: Simulator, driver: NodeDriver, material: Any,
                                                            words: tuple[str, ...]) -> None:
    _refused_before_sending(sim, lambda: driver.import_key_pair_from_string("rel-key", material), words)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("name", ["", "   ", None])
def test_key_import_refuses_an_empty_name(sim: Simulator, driver: NodeDriver, name: Any) -> None:
    _refused_before_sending(sim, lambda: driver.import_key_pair_from_string(name, PUBLIC_KEY), ("name", "label"))


@pytest.mark.timeout(30)
@pytest.mark.parametrize("node_id", BAD_NODE_IDS, ids=[repr(v) for v in BAD_NODE_IDS])
@pytest.mark.parametrize("method", ["get_node", "reboot_node", "stop_node", "start_node", "destroy_node"])
def test_bad_node_ids_are_refused_before_any_request(sim: Simulator, driver: NodeDriver, method: str,
                                                     node_id: Any) -> None:
    """ValidationError; ``get_node`` of a well-typed id that cannot exist may instead say
    NotFoundError (the conformance contract for missing nodes), still without a request."""
    call = getattr(driver, method)
    errors: tuple[type[ProviderError], ...] = (ValidationError,)
    if method == "get_node" and isinstance(node_id, str) and node_id.strip():
        errors = (ValidationError, NotFoundError)
    _refused_before_sending(sim, lambda: call(node_id), ("node", "id"), errors)


@pytest.mark.timeout(30)
def test_a_node_object_with_a_forged_id_is_refused(sim: Simulator, driver: NodeDriver) -> None:
    """A Node whose id was tampered with (path traversal) is refused like a bad id string."""
    forged = Node("../../account", "forged", NodeState.UNKNOWN, [], [], driver)
    for method in ("reboot_node", "destroy_node"):
        _refused_before_sending(sim, lambda m=method: getattr(driver, m)(forged), ("node", "id"))


@pytest.mark.timeout(30)
def test_delete_key_pair_refuses_a_forged_id(sim: Simulator, driver: NodeDriver) -> None:
    forged = KeyPair("k", PUBLIC_KEY, None, driver, id="../../account")
    before = sim.request_count
    with pytest.raises((ValidationError, NotFoundError)):
        driver.delete_key_pair(forged)
    # Some drivers look an id they cannot use up by name (NotFoundError); none sends the forged id.
    assert all("../" not in r.path and "account" not in r.path.split("/")[-1] for r in sim.requests[before:])


@pytest.mark.timeout(30)
def test_a_valid_public_key_is_accepted(sim: Simulator, driver: NodeDriver) -> None:
    """The same checks let a real key through (RSA for NephoScale's sshrsa endpoint)."""
    material = RSA_PUBLIC if sim.provider == "nephoscale" else PUBLIC_KEY
    pair = driver.import_key_pair_from_string(f"rel-good-{sim.provider}", material)
    assert pair.public_key.split()[:2] == material.split()[:2]
    assert driver.delete_key_pair(pair) is True


_UNKNOWN = {
    "digitalocean": {"size": "s-99vcpu-1tb", "image": "no-such-image", "location": "xyz9"},
    "linode": {"size": "g6-fake-99", "image": "linode/nothing", "location": "mars-1"},
    "hostvirtual": {"size": "VR999G", "image": "99999", "location": "99999"},
    "nephoscale": {"size": "999", "image": "99999", "location": "99999"},
}


@pytest.mark.timeout(30)
@pytest.mark.parametrize("field", ["size", "image", "location"])
def test_unknown_but_well_formed_ids_get_the_providers_4xx(sim: Simulator, driver: NodeDriver, field: str) -> None:
    args = create_kwargs(sim.provider, "rel-unknown")
    args[field] = _UNKNOWN[sim.provider][field]
    with pytest.raises((ValidationError, CreateNodeError)) as info:
        driver.create_node(**args)
    err = info.value
    assert err.status is not None and 400 <= err.status < 500
    assert field in str(err).lower() or (field == "size" and ("plan" in str(err) or "type" in str(err))) or (
        field == "location" and ("region" in str(err) or "zone" in str(err)))
    if isinstance(err, CreateNodeError):  # HostVirtual: the package was ordered, then given back
        assert err.cleaned_up is True and isinstance(err.cause, ValidationError)
        assert sim.api.package_count() == 0  # type: ignore[attr-defined]
    assert sim.node_count() == 0
