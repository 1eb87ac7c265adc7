"""Nothing twice: a create whose answer is lost is never repeated, and the caller is told
what to look for.

For every driver the simulator carries the create out and then drops the connection (or
answers after the read timeout, or sends half the answer): the call raises
``OutcomeUnknownError`` naming the node, exactly one create request reached the API, and
the account holds exactly one such server, which the caller can find by that name.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from fnmatch import fnmatchcase
from typing import Any

import pytest
from _rel_support import CREATE_PATHS, PROVIDERS, create_kwargs, fast_retry, running_sim, start_sim

from cloudkit.errors import OutcomeUnknownError
from cloudkit.models import Node, NodeAuthSSHKey
from cloudkit.sshkeys import fingerprint_md5, generate_key_pair
from cloudkit.testing.simulator import Simulator

#: A default bound for every test here (tests that need less say so themselves).
pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]


@pytest.fixture(params=PROVIDERS)
def sim(request: pytest.FixtureRequest) -> Iterator[Simulator]:
    yield from running_sim(request.param)


def _posts(sim: Simulator, glob: str) -> int:
    return sum(1 for r in sim.requests if r.method == "POST" and fnmatchcase(r.path, glob))


def _servers_named(sim: Simulator, name: str) -> list[Node]:
    driver = sim.driver()
    return [n for n in driver.list_nodes() if n.name == name]


def _made(sim: Simulator) -> int:
    """Billable things on the account: servers, or HostVirtual packages (ordered or built)."""
    if sim.provider == "hostvirtual":
        return int(sim.api.package_count())  # type: ignore[attr-defined]
    return sim.node_count()


@pytest.mark.timeout(30)
@pytest.mark.parametrize("fault", ["drop_after", "slow", "incomplete"])
def test_a_lost_create_answer_is_never_repeated(sim: Simulator, fault: str) -> None:
    driver = fast_retry(sim.driver(timeout=(2.0, 0.5)), max_retries=4)
    args = create_kwargs(sim.provider, f"rel-once-{fault.replace('_', '-')}")
    path = CREATE_PATHS[sim.provider]
    sim.faults.queue(fault, method="POST", path=path, seconds=2.0)
    started = time.monotonic()
    with pytest.raises(OutcomeUnknownError) as info:
        driver.create_node(**args)
    assert time.monotonic() - started < 5.0
    err = info.value
    text = str(err)
    assert args["name"] in text, f"the error must name what to look for: {text}"
    assert "may have been carried out" in text and "not repeated" in text
    assert err.hint and args["name"] in err.hint
    assert err.sent is True and err.method == "POST"
    assert _posts(sim, path) == 1, "the create request was sent more than once"
    assert _made(sim) == 1, "exactly one server (HostVirtual: one package) must exist"
    if sim.provider == "hostvirtual":
        # The order went through, the build was never sent: the package is there to find.
        packages = driver.ex_list_packages()  # type: ignore[attr-defined]
        assert len(packages) == 1
        assert _posts(sim, "/cloud/server/build*") == 0
    else:
        assert len(_servers_named(sim, args["name"])) == 1


@pytest.mark.timeout(30)
def test_hostvirtual_lost_build_answer_keeps_the_server_and_names_it() -> None:
    """HostVirtual creates in two steps (order a package, build on it). When the build's
    answer is lost, the server may exist: nothing is cancelled or repeated, and the error
    names the server and its package."""
    sim = start_sim("hostvirtual")
    try:
        driver = fast_retry(sim.driver(timeout=(2.0, 0.5)))
        args = create_kwargs("hostvirtual", "rel-build-lost")
        sim.faults.queue("drop_after", method="POST", path="/cloud/server/build*")
        with pytest.raises(OutcomeUnknownError) as info:
            driver.create_node(**args)
        err = info.value
        package = sim.node_ids()[0]
        assert args["name"] in str(err) and package in str(err)
        assert _posts(sim, "/cloud/buy*") == 1 and _posts(sim, "/cloud/server/build*") == 1
        assert _posts(sim, "/cloud/cancel*") == 0, "a server that may exist must not be cancelled blindly"
        assert sim.api.package_count() == 1  # type: ignore[attr-defined]
        assert sim.node_count() == 1
        assert [n.id for n in _servers_named(sim, args["name"])] == [package]
    finally:
        sim.stop()


@pytest.mark.timeout(30)
def test_digitalocean_lost_key_import_is_not_repeated_and_no_droplet_is_made() -> None:
    """create_node(auth=NodeAuthSSHKey) first stores the key; a lost answer there stops the
    create before the droplet, naming the key's fingerprint."""
    sim = start_sim("digitalocean")
    try:
        driver = fast_retry(sim.driver())
        _, public = generate_key_pair("ed25519", comment="rel-once")
        sim.faults.queue("drop_after", method="POST", path="/v2/account/keys")
        with pytest.raises(OutcomeUnknownError) as info:
            driver.create_node(**create_kwargs("digitalocean", "rel-key-lost"), auth=NodeAuthSSHKey(public))
        assert fingerprint_md5(public) in str(info.value)
        assert _posts(sim, "/v2/account/keys") == 1
        assert _posts(sim, "/v2/droplets") == 0 and sim.node_count() == 0
        assert len(driver.list_key_pairs()) == 1
    finally:
        sim.stop()


@pytest.mark.timeout(30)
def test_nephoscale_lost_password_key_answer_stops_before_the_server() -> None:
    """NephoScale's create_node first stores the root password as a key; a lost answer there
    stops the create before the server, naming the key to look for."""
    sim = start_sim("nephoscale")
    try:
        driver = fast_retry(sim.driver())
        sim.faults.queue("drop_after", method="POST", path="/key/password/")
        with pytest.raises(OutcomeUnknownError) as info:
            driver.create_node(**create_kwargs("nephoscale", "rel-pwkey-lost"))
        assert "rel-pwkey-lost" in str(info.value)
        assert _posts(sim, "/key/password/") == 1
        assert _posts(sim, "/server/cloud/") == 0 and sim.node_count() == 0
    finally:
        sim.stop()


@pytest.mark.timeout(60)
def test_concurrent_creates_under_lost_answers_make_each_server_once(sim: Simulator) -> None:
    """Six creates at once, half of their answers lost after the server acted: every name
    exists exactly once, and every call either returned its node or said the outcome is
    unknown."""
    driver = fast_retry(sim.driver(timeout=(3.0, 5.0)), max_retries=4)
    path = CREATE_PATHS[sim.provider]
    sim.faults.configure(drop_after_receipt_rate=0.5, method="POST", path=path, seed=1)
    names = [create_kwargs(sim.provider, f"rel-many-{i}")["name"] for i in range(6)]

    def create(i: int) -> Any:
        try:
            return driver.create_node(**create_kwargs(sim.provider, f"rel-many-{i}"))
        except OutcomeUnknownError as exc:
            return exc

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(create, range(6)))
    sim.faults.clear()
    lost = [r for r in results if isinstance(r, OutcomeUnknownError)]
    made = [r for r in results if isinstance(r, Node)]
    assert len(lost) + len(made) == 6
    assert lost, "the fault did not fire; the test proved nothing"
    assert _posts(sim, path) == 6
    assert _made(sim) == 6
    if sim.provider != "hostvirtual":
        listed = [n.name for n in sim.driver().list_nodes()]
        assert sorted(listed) == sorted(names)
    for node, name in zip(results, names, strict=True):
        if isinstance(node, Node):
            assert node.name == name
        else:
            assert name in str(node)
