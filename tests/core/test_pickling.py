"""Drivers and errors cross process boundaries: every built-in driver pickles and works in
another process (against the simulator); every cloudkit error pickles with its attributes
and without any secret."""

from __future__ import annotations

import multiprocessing
import pickle
import threading
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest

import cloudkit.errors as E
from cloudkit import InvalidCredsError, NodeState, get_driver
from cloudkit.driver import NodeDriver
from cloudkit.drivers.digitalocean import DigitalOceanNodeDriver
from cloudkit.models import Node, NodeSize
from cloudkit.testing.simulator import Simulator

SIMULATED = ("digitalocean", "linode", "hostvirtual", "nephoscale")
SECRET = "tok-9f2e7d1c-very-secret"


@pytest.fixture(scope="module")
def pool() -> Iterator[ProcessPoolExecutor]:
    """One spawned worker process for the module (spawn: nothing inherited but the pickles)."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as executor:
        yield executor


def use_in_worker(driver: NodeDriver) -> dict[str, Any]:
    """What the other process does with the driver it received (module-level: it pickles)."""
    arrived_without_session = driver.connection._session is None
    nodes = driver.list_nodes()
    size = driver.list_sizes()[0]
    again = driver.get_node(nodes[0].id)
    return {"ids": sorted(n.id for n in nodes), "size": size.id, "again": again.id,
            "fresh_session": arrived_without_session, "base_url": driver.connection.base_url,
            "pid": multiprocessing.current_process().pid, "nodes": nodes}


@pytest.mark.integration
@pytest.mark.parametrize("provider", SIMULATED)
def test_a_pickled_driver_works_in_another_process(provider: str, pool: ProcessPoolExecutor) -> None:
    with Simulator(provider, boot_seconds=0, nodes=3) as sim:
        driver = sim.driver(max_retries=1)
        here = sorted(n.id for n in driver.list_nodes())  # the session and its pool exist now
        assert driver.connection._session is not None
        there = pool.submit(use_in_worker, driver).result(timeout=60)
        assert there["pid"] != multiprocessing.current_process().pid
        assert there["ids"] == here and len(here) == 3
        assert there["again"] == here[0] and there["size"]
        assert there["fresh_session"] is True
        assert there["base_url"] == sim.base_url
        # the nodes came back bound to a working copy of the driver
        node = there["nodes"][0]
        assert isinstance(node, Node) and type(node.driver) is type(driver)
        assert node.driver.get_node(node.id).id == node.id
        assert driver.connection._session is not None  # the original is untouched


def use_dummy(driver: NodeDriver) -> list[str]:
    node = driver.create_node(name="made-there", size=driver.list_sizes()[0], image=driver.list_images()[0])
    assert node.state is NodeState.RUNNING
    return sorted(n.name for n in driver.list_nodes())


def test_the_dummy_driver_travels_with_its_state(pool: ProcessPoolExecutor) -> None:
    driver = get_driver("dummy")("k")
    driver.create_node(name="made-here", size=driver.list_sizes()[0], image=driver.list_images()[0])
    assert pool.submit(use_dummy, driver).result(timeout=60) == ["made-here", "made-there"]
    copy = pickle.loads(pickle.dumps(driver))
    node = copy.create_node(name="next", size=copy.list_sizes()[0], image=copy.list_images()[0])
    assert node.id == "2"  # the id counter travelled too
    assert copy._lock is not driver._lock and copy._lock.acquire(timeout=1)


@pytest.mark.parametrize(("provider", "args"), [
    ("digitalocean", (SECRET,)), ("linode", (SECRET,)), ("hostvirtual", (SECRET,)),
    ("nephoscale", ("user", SECRET)), ("dummy", (SECRET,)),
])
def test_configuration_travels_and_process_state_does_not(provider: str, args: tuple[str, ...]) -> None:
    driver = get_driver(provider)(*args, base_url="http://127.0.0.1:9", timeout=(3, 7), max_retries=2)
    driver.connection.session  # noqa: B018  (made on first use)
    copy = pickle.loads(pickle.dumps(driver))
    conn = copy.connection
    assert (copy.key, copy.secret) == (driver.key, driver.secret)  # the credential travels, by design
    assert conn.base_url == "http://127.0.0.1:9" and conn.timeout == (3.0, 7.0)
    assert conn.retry == driver.connection.retry
    assert conn._session is None and conn._session_lock is not driver.connection._session_lock
    assert conn.session is not driver.connection.session  # made afresh on first use


class _Cached(DigitalOceanNodeDriver):
    transient_attributes = frozenset({"_cache", "_client"})


def test_a_driver_attribute_can_be_declared_transient() -> None:
    driver = _Cached("t")
    # DigitalOcean's own parse cache (a cloudkit.parsing.ModelMemo since issue 17: it pickles empty)
    driver._embedded_memo.parse(("size", "s-1"), {"slug": "s-1"}, lambda v: NodeSize("s-1", "s-1", 1, 1, None, None,
                                                                                     driver))
    driver._cache = {"a": threading.Lock()}
    driver._client = threading.local()
    driver._event = threading.Event()
    driver._event.set()
    copy = pickle.loads(pickle.dumps(driver))
    assert copy._cache == {} and copy._client is None  # a cache arrives empty, anything else None
    assert isinstance(copy._event, threading.Event) and not copy._event.is_set()
    assert len(copy._embedded_memo) == 0 and len(driver._embedded_memo) == 1


# -- errors --------------------------------------------------------------------------------------

def _node() -> Node:
    driver = get_driver("dummy")(SECRET)
    size = NodeSize("s-1", "small", 1024, 25, None, 0.01, driver)
    return Node("42", "web-1", NodeState.RUNNING, ["203.0.113.5"], [], driver, size=size,
                extra={"password": SECRET, "root_pass": SECRET, "region": "nyc1"})


def _redirect() -> E.RedirectError:
    error = E.RedirectError("moved", 302, headers={"Location": "https://login.example.test:8443"})
    error.location_host = "login.example.test:8443"
    return error


def _errors() -> dict[type[E.CloudkitError], tuple[E.CloudkitError, dict[str, Any]]]:
    """One instance of every error class, with the attributes it must keep."""
    cause = InvalidCredsError("bad token", 401, code="unauthorized")
    made: list[tuple[E.CloudkitError, dict[str, Any]]] = [
        (E.CloudkitError("root"), {}),
        (E.ConfigurationError("bad config"), {}),
        (E.DriverNotFoundError("no such driver"), {}),
        (E.NotSupportedError("Dummy", "ex_thing", "cannot"), {"driver": "Dummy", "method": "ex_thing",
                                                             "reason": "cannot"}),
        (E.ActionNotAllowedError("reboot_node", "42", "stopped", ["start_node"]),
         {"action": "reboot_node", "node_id": "42", "state": "stopped", "allowed": ["start_node"]}),
        (E.ProviderError("oops", 418, code="teapot", body="short", driver="X", headers={"X-Req": "1"}),
         {"status": 418, "code": "teapot", "body": "short", "driver": "X", "headers": {"X-Req": "1"}}),
        (E.InvalidCredsError("denied", 401, code="unauthorized"), {"status": 401, "code": "unauthorized"}),
        (E.ForbiddenError("no", 403), {"status": 403}),
        (E.NotFoundError("gone", 404, code="not_found"), {"status": 404, "code": "not_found"}),
        (E.ConflictError("busy", 409), {"status": 409}),
        (E.RateLimitError("slow down", retry_after=7.5, code="too_many"),
         {"status": 429, "retry_after": 7.5, "code": "too_many"}),
        (E.ValidationError("bad name", 422), {"status": 422}),
        (E.ServerError("down", 503), {"status": 503}),
        (_redirect(), {"status": 302, "location_host": "login.example.test:8443"}),
        (E.MalformedResponseError("not json", 200, body="<html>"), {"status": 200, "body": "<html>"}),
        (E.CreateNodeError("half made", 500, resource_id="pkg-1", cause=cause, cleaned_up=False,
                           cleanup_error=E.ServerError("still down", 500)),
         {"status": 500, "resource_id": "pkg-1", "cleaned_up": False}),
        (E.NetworkError("refused", method="GET", url="http://127.0.0.1:9/x", sent=False),
         {"method": "GET", "url": "http://127.0.0.1:9/x", "sent": False}),
        (E.RequestTimeoutError("slow", method="GET", url="u", sent=True), {"sent": True, "method": "GET"}),
        (E.TLSError("bad cert", url="https://h/"), {"url": "https://h/"}),
        (E.OutcomeUnknownError("lost", hint="look for web-1", method="POST", sent=True),
         {"hint": "look for web-1", "method": "POST", "sent": True}),
        (E.WaitTimeoutError("waited", nodes=[_node()], condition="running", last_states={"42": "new"}, job="j1"),
         {"condition": "running", "last_states": {"42": "new"}, "job": "j1"}),
        (E.DeploymentError("script failed", node=_node(), step="step-1", phase="deploy", exit_status=3,
                           stderr="boom", destroyed=False, cause=OSError(5, "io")),
         {"step": "step-1", "phase": "deploy", "exit_status": 3, "stderr": "boom", "destroyed": False}),
        (E.SSHError("ssh failed"), {}),
        (E.SSHConnectError("no answer"), {}),
        (E.SSHAuthenticationError("refused"), {}),
        (E.SSHCommandTimeoutError("too long"), {}),
        (E.SSHHostKeyError("unknown host key"), {}),
    ]
    return {type(error): (error, attrs) for error, attrs in made}


def test_every_error_class_is_covered() -> None:
    classes = {getattr(E, name) for name in E.__all__ if isinstance(getattr(E, name), type)}
    assert classes == set(_errors())


@pytest.mark.parametrize("cls", list(_errors()), ids=lambda c: c.__name__)
def test_every_error_pickles_with_its_attributes_and_no_secret(cls: type[E.CloudkitError]) -> None:
    error, attrs = _errors()[cls]
    data = pickle.dumps(error)
    assert SECRET.encode() not in data
    back = pickle.loads(data)
    assert type(back) is cls and str(back) == str(error) and back.args == error.args
    for name, value in attrs.items():
        assert getattr(back, name) == value, name
    node = getattr(back, "node", None)
    if node is not None:  # the node travels without its driver (the credentials) or passwords
        assert node.id == "42" and node.driver is None and node.size.driver is None
        assert node.extra == {"region": "nyc1"} and node.size.id == "s-1"


def test_causes_travel_too() -> None:
    error, _ = _errors()[E.CreateNodeError]
    back = pickle.loads(pickle.dumps(error))
    assert isinstance(back.cause, InvalidCredsError) and back.cause.status == 401
    assert isinstance(back.cleanup_error, E.ServerError) and back.cleanup_error.status == 500
    deployment, _ = _errors()[E.DeploymentError]
    cause = pickle.loads(pickle.dumps(deployment)).cause
    assert isinstance(cause, OSError) and cause.errno == 5


class _Stubborn(Exception):
    """Cannot be pickled at all (it holds a lock), whatever pickling helpers are installed."""

    def __init__(self, a: str, b: str) -> None:
        super().__init__(f"{a}/{b}")
        self.lock = threading.Lock()


def test_a_cause_that_cannot_travel_becomes_a_plain_description() -> None:
    error = E.DeploymentError("failed", cause=_Stubborn("x", "y"))
    back = pickle.loads(pickle.dumps(error))
    assert type(back.cause) is Exception and "_Stubborn" in str(back.cause) and "x/y" in str(back.cause)


def test_the_original_error_is_left_as_it_was() -> None:
    error, _ = _errors()[E.DeploymentError]
    pickle.dumps(error)
    assert error.node.driver is not None and error.node.extra["password"] == SECRET


def test_models_pickle_by_their_fields() -> None:
    import dataclasses
    import datetime as dt

    from cloudkit.models import KeyPair, NodeImage, NodeLocation

    driver = get_driver("dummy")("k")
    size = NodeSize(7, "small", 1024, 25, 1.0, 0.01, driver, 2, {"regions": ["nyc1"]})
    image = NodeImage("img", "Ubuntu", driver, {"distribution": "Ubuntu"})
    node = Node(42, "web", "running", ["203.0.113.1"], ["10.0.0.1"], driver, size, image,
                dt.datetime(2024, 1, 2, tzinfo=dt.UTC), {"region": "nyc1"}, ["web"])
    models = [node, size, image, NodeLocation("nyc1", "New York", "US", driver, {"x": 1}),
              KeyPair("ci", "ssh-ed25519 AAAA", "fp", driver, "PRIVATE", 5, {"y": 2})]
    back = pickle.loads(pickle.dumps(models))
    assert back[0].driver is back[1].driver is back[2].driver  # one driver copy, shared as before
    for original, copy in zip(models, back, strict=True):
        assert type(copy) is type(original)
        for field in dataclasses.fields(original):
            mine, theirs = getattr(original, field.name), getattr(copy, field.name)
            if field.name == "driver":
                assert type(theirs) is type(mine)
            elif field.name in ("size", "image"):
                assert theirs.id == mine.id and theirs.extra == mine.extra
            else:
                assert theirs == mine, field.name
    assert back[0].state is NodeState.RUNNING and back[0].id == "42"
