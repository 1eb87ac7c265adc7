"""Secrets stay secret: with DEBUG logging on for every logger (root, cloudkit, urllib3,
requests), each driver's whole flow on its simulator (listings, creates with passwords and
keys, power actions, key pairs, and the error paths: bad credentials, 404, 5xx, 429, a lost
create answer, provider and client-side validation errors) must not show a token, an API
key, a password (given or generated), a private key or a Basic-auth header in any log
record, repr, str, exception (text, attributes, traceback), recorded request or CLI output.

The one place a secret may appear is where the caller asked for it: a generated root
password in that node's ``extra["password"]`` and a generated private key in its
``KeyPair.private_key`` (both returned once, never shown in reprs).
"""

from __future__ import annotations

import io
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from _rel_support import (
    CREATE_PATHS,
    PROVIDERS,
    create_kwargs,
    exception_text,
    fast_retry,
    leaks,
    running_sim,
    secrets_of,
    sweep_logs,
)

from cloudkit.driver import NodeDriver
from cloudkit.errors import CloudkitError, InvalidCredsError, NotFoundError, OutcomeUnknownError
from cloudkit.models import KeyPair, Node, NodeAuthPassword, NodeAuthSSHKey, NodeState
from cloudkit.providers import get_driver
from cloudkit.sshkeys import generate_key_pair
from cloudkit.testing.simulator import Simulator

#: A default bound for every test here (tests that need less say so themselves).
pytestmark = [pytest.mark.integration, pytest.mark.timeout(60)]

#: A root password valid for every provider that takes one.
ROOT_PASSWORD = "Rel-Root-" + secrets.token_hex(8)
_, PUBLIC_KEY = generate_key_pair("rsa", comment="rel-secrets")  # RSA: NephoScale's key endpoint is sshrsa
_, OTHER_PUBLIC_KEY = generate_key_pair("rsa", comment="rel-secrets-import")

_UNKNOWN_SIZE = {"digitalocean": "s-99vcpu-1tb", "linode": "g6-fake-99", "hostvirtual": "VR999G", "nephoscale": "999"}


@pytest.fixture(params=PROVIDERS)
def sim(request: pytest.FixtureRequest) -> Iterator[Simulator]:
    yield from running_sim(request.param, nodes=1)


class Flow:
    """Runs calls, keeping every result and every exception for the sweep."""

    def __init__(self) -> None:
        self.objects: list[Any] = []
        self.errors: list[BaseException] = []

    def ok(self, call: Callable[[], Any]) -> Any:
        result = call()
        self.objects.append(result)
        return result

    def fails(self, call: Callable[[], Any], *expected: type[BaseException]) -> BaseException:
        try:
            call()
        except CloudkitError as exc:
            assert isinstance(exc, expected), f"{type(exc).__name__}: {exc}"
            self.errors.append(exc)
            return exc
        raise AssertionError(f"expected {expected} from the call")


def _shown(value: Any) -> list[str]:
    """What printing a value shows (repr and str, and of each item of a list)."""
    items = value if isinstance(value, (list, tuple)) else [value]
    return [text for item in items for text in (repr(item), str(item))]


_MOVING = (NodeState.PENDING, NodeState.STARTING, NodeState.REBOOTING, NodeState.STOPPING)


def _settle(driver: NodeDriver, node_id: str) -> None:
    """Wait (5 s at most) until the node is no longer between states."""
    deadline = time.monotonic() + 5
    while driver.get_node(node_id).state in _MOVING and time.monotonic() < deadline:
        time.sleep(0.02)


def _whole_flow(sim: Simulator, flow: Flow) -> list[str]:
    """Every driver's flow; returns secrets made along the way (generated passwords, keys)."""
    provider = sim.provider
    made: list[str] = []
    driver = fast_retry(sim.driver(timeout=(2.0, 3.0)))
    flow.objects += [driver, driver.connection]

    flow.ok(driver.verify_credentials)
    flow.ok(driver.list_sizes)
    flow.ok(driver.list_images)
    flow.ok(driver.list_locations)
    flow.ok(driver.list_nodes)

    # Creates: with a password the caller gives (DigitalOcean: an SSH key), then with none.
    auth: Any = NodeAuthSSHKey(PUBLIC_KEY) if provider == "digitalocean" else NodeAuthPassword(ROOT_PASSWORD)
    flow.objects.append(auth)
    given = flow.ok(lambda: driver.create_node(**create_kwargs(provider, "rel-sec-a"), auth=auth))
    assert ROOT_PASSWORD not in repr(given.extra), "a password the caller gave is never echoed in extra"
    generated_node = flow.ok(lambda: driver.create_node(**create_kwargs(provider, "rel-sec-b")))
    generated = generated_node.extra.get("password")
    if generated:
        made.append(generated)
    flow.ok(lambda: driver.wait_until_running([given], wait_period=0.05, timeout=10))

    # Power actions (forced: this is about what is logged, not about state rules).
    wait: dict[str, Any] = {}
    if provider == "digitalocean":  # a droplet action is an event to wait for; its status stays put
        driver.action_poll_interval = 0.02  # type: ignore[attr-defined]
        wait = {"ex_wait": True}
    for action in ("reboot_node", "stop_node", "start_node"):
        flow.ok(lambda a=action: getattr(driver, a)(driver.get_node(given.id), ex_force=True, **wait))
        _settle(driver, given.id)

    # Key pairs, one of them generated here with its private half.
    imported = flow.ok(lambda: driver.import_key_pair_from_string("rel-sec-imported", OTHER_PUBLIC_KEY))
    created: KeyPair = flow.ok(lambda: driver.create_key_pair("rel-sec-created"))
    assert created.private_key
    made.append(created.private_key.splitlines()[1])  # a line of the key's base64 body
    flow.ok(driver.list_key_pairs)
    flow.ok(lambda: driver.delete_key_pair(created))
    flow.ok(lambda: driver.delete_key_pair(imported))

    # Error paths.
    flow.fails(lambda: driver.get_node("987654321"), NotFoundError)
    sim.faults.queue("503", "502", method="GET")
    flow.ok(driver.list_nodes)
    sim.faults.queue("429", method="POST", retry_after=0.05, path=CREATE_PATHS[provider])
    flow.ok(lambda: driver.create_node(**create_kwargs(provider, "rel-sec-c"), auth=auth))
    sim.faults.queue("drop_after", method="POST", path=CREATE_PATHS[provider])
    flow.fails(lambda: driver.create_node(**create_kwargs(provider, "rel-sec-d"), auth=auth), OutcomeUnknownError)
    sim.faults.queue("500", method="POST", path=CREATE_PATHS[provider])
    flow.fails(lambda: driver.create_node(**create_kwargs(provider, "rel-sec-e"), auth=auth), CloudkitError)
    flow.fails(lambda: driver.create_node(**create_kwargs(provider, "rel-sec-f", size=_UNKNOWN_SIZE[provider]),
                                          auth=auth), CloudkitError)
    flow.fails(lambda: driver.create_node(**create_kwargs(provider, "bad name!"), auth=auth), CloudkitError)

    # Wrong credentials: that token (or password) is a secret too.
    wrong = "wrong-" + secrets.token_hex(16)
    made.append(wrong)
    cls = get_driver(provider)
    key, secret = sim.credentials
    bad = cls(key, wrong, base_url=sim.base_url, max_retries=0) if secret is not None else cls(
        wrong, base_url=sim.base_url, max_retries=0)
    flow.objects += [bad, bad.connection]
    flow.fails(bad.verify_credentials, InvalidCredsError)
    flow.fails(bad.list_nodes, InvalidCredsError)

    flow.ok(lambda: driver.destroy_node(driver.get_node(generated_node.id), ex_force=True))
    flow.objects += [sim.requests]  # what the simulator recorded of every request
    return made


@pytest.mark.timeout(60)
def test_no_secret_in_logs_reprs_errors_or_recordings(sim: Simulator) -> None:
    flow = Flow()
    with sweep_logs() as sweep:
        made = _whole_flow(sim, flow)
    hidden = [*secrets_of(sim), ROOT_PASSWORD, *made]
    assert len(sweep.records) > 50, "DEBUG logging did not reach the sweep"
    assert any(r.name.startswith("urllib3") for r in sweep.records), "urllib3's DEBUG lines were not seen"

    found = leaks(sweep.text(), hidden)
    assert not found, f"secrets in log records: {found}"
    for obj in flow.objects:
        for text in _shown(obj):
            assert not leaks(text, hidden), f"secret in the repr/str of {type(obj).__name__}: {leaks(text, hidden)}"
    for err in flow.errors:
        assert not leaks(exception_text(err), hidden), f"secret in {type(err).__name__}: {exception_text(err)}"


@pytest.mark.timeout(60)
def test_recorded_fixtures_hold_no_secret(sim: Simulator, tmp_path: Path) -> None:
    """The same flow recorded with ``cloudkit.testing.record`` (told no secrets: it has to
    learn them from the traffic): no file of the cassette holds one."""
    from cloudkit.testing.record import record

    cassette = tmp_path / "cassette"
    flow = Flow()
    with record(cassette) as recording:
        made = _whole_flow(sim, flow)
    hidden = [*secrets_of(sim), ROOT_PASSWORD, *made]
    files = sorted(p for p in cassette.rglob("*") if p.is_file())
    assert len(recording.exchanges) > 20 and len(files) >= 2 * len(recording.exchanges)
    for path in files:
        found = leaks(path.read_text(encoding="utf-8", errors="replace"), hidden)
        assert not found, f"secret in recorded fixture {path.name}: {found}"


@pytest.mark.timeout(30)
def test_generated_secrets_are_only_where_the_caller_asked(sim: Simulator) -> None:
    """The generated root password is in node.extra["password"] (returned once) and nowhere
    else on the node; a generated private key only in KeyPair.private_key."""
    driver = sim.driver()
    node = driver.create_node(**create_kwargs(sim.provider, "rel-sec-only"))
    password = node.extra.get("password")
    if sim.provider == "digitalocean":
        assert password is None  # DigitalOcean sets no root password at all
    else:
        assert isinstance(password, str) and len(password) >= 12
        assert password not in repr(node) and password not in str(node)
        rest = {k: v for k, v in node.extra.items() if k != "password"}
        assert password not in repr(rest)
        assert password not in repr(driver.get_node(node.id).extra), "the API never hands it back"
    pair = driver.create_key_pair("rel-sec-pair")
    assert pair.private_key and "PRIVATE KEY" in pair.private_key
    assert "PRIVATE" not in repr(pair) and "PRIVATE" not in str(pair) and "<hidden>" in repr(pair)
    listed = [p for p in driver.list_key_pairs() if p.name == "rel-sec-pair"]
    assert listed and all(p.private_key is None for p in listed)


# -- the CLI ---------------------------------------------------------------------------------

_ENV = {
    "digitalocean": ("CLOUDKIT_DIGITALOCEAN_TOKEN", None),
    "linode": ("CLOUDKIT_LINODE_TOKEN", None),
    "hostvirtual": ("CLOUDKIT_HOSTVIRTUAL_KEY", None),
    "nephoscale": ("CLOUDKIT_NEPHOSCALE_USER", "CLOUDKIT_NEPHOSCALE_PASSWORD"),
}


def _cli_env(provider: str, key: str, secret: str | None) -> dict[str, str]:
    key_var, secret_var = _ENV[provider]
    env = {key_var: key, "HOME": "/nonexistent-cloudkit-home"}
    if secret_var is not None and secret is not None:
        env[secret_var] = secret
    return env


@pytest.mark.timeout(60)
def test_cli_output_never_shows_a_secret(sim: Simulator, tmp_path: Path) -> None:
    from cloudkit.cli import main

    provider = sim.provider
    key, secret = sim.credentials
    pub = tmp_path / "rel.pub"
    pub.write_text(PUBLIC_KEY + "\n")
    node_id = sim.node_ids()[0]
    args = create_kwargs(provider, "rel-cli")
    base = ["--provider", provider, "--base-url", sim.base_url]
    commands: list[list[str]] = [
        [*base, "--debug", "nodes", "list"],
        [*base, "--debug", "-o", "json", "nodes", "list"],
        [*base, "--debug", "sizes"],
        [*base, "--debug", "-o", "json", "locations"],
        [*base, "--debug", "keys", "add", "rel-cli-key", str(pub)],
        [*base, "--debug", "-o", "json", "keys", "list"],
        [*base, "--debug", "nodes", "show", node_id],
        [*base, "--debug", "nodes", "reboot", node_id, "--force"],
        [*base, "--debug", "nodes", "show", "no-such-node-anywhere"],
        [*base, "--debug", "accounts", "check"],
    ]
    if provider != "nephoscale":  # its create polls for minutes of simulated boot; covered above
        commands.append([*base, "--debug", "nodes", "create", args["name"], "--size", args["size"],
                         "--image", args["image"], "--location", args["location"]])
    wrong = "wrong-" + secrets.token_hex(16)
    outputs: list[str] = []
    codes: list[int] = []
    with sweep_logs() as sweep:
        for argv in commands:
            out, err = io.StringIO(), io.StringIO()
            codes.append(main(argv, env=_cli_env(provider, key, secret), stdout=out, stderr=err))
            outputs.append(out.getvalue() + err.getvalue())
        bad_env = _cli_env(provider, key if secret is not None else wrong, wrong if secret is not None else None)
        out, err = io.StringIO(), io.StringIO()
        codes.append(main([*base, "--debug", "nodes", "list"], env=bad_env, stdout=out, stderr=err))
        outputs.append(out.getvalue() + err.getvalue())
    assert codes[0] == 0 and codes[-1] == 1, (codes, outputs[-1][-500:])
    assert "Traceback" in outputs[-1], "--debug prints the traceback of the failure"
    hidden = [*secrets_of(sim), wrong]
    for argv, text in zip([*commands, ["bad credentials"]], outputs, strict=True):
        assert not leaks(text, hidden), f"secret in the output of {argv[4:]}: {leaks(text, hidden)}"
    assert not leaks(sweep.text(), hidden)


@pytest.mark.timeout(30)
def test_redaction_covers_the_forms_a_secret_takes_in_a_url() -> None:
    """The query-string key (HostVirtual) in every spelling a URL can carry it."""
    from cloudkit.redact import redact_url

    key = secrets.token_hex(20)
    for url in (f"https://vapi.vr.org/cloud/servers/?key={key}", f"https://vapi.vr.org/x?a=1&KEY={key}&b=2",
                f"https://user:{key}@vapi.vr.org/x", f"https://vapi.vr.org/x?api_key={key}&token={key}"):
        assert key not in redact_url(url)


def test_models_and_auth_objects_hide_what_they_hold() -> None:
    password = NodeAuthPassword("Sup3r-" + secrets.token_hex(6))
    assert password.password not in repr(password) and password.password not in str(password)
    node = Node("1", "n", "running", [], [], None, extra={"password": password.password})
    assert password.password not in repr(node) and password.password not in str(node)
    private, public = generate_key_pair()
    pair = KeyPair("k", public, None, None, private_key=private)
    assert private.splitlines()[1] not in repr(pair) + str(pair)
    driver: NodeDriver = get_driver("linode")(secrets.token_hex(32))
    assert driver.key not in repr(driver) + repr(driver.connection)
