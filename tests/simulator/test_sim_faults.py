"""Fault injection: every fault kind, matching, one-shot queues, counts, rates, run-time changes."""

from __future__ import annotations

import json
import threading
import time

import pytest
import requests
from _sim_support import Api

from cloudkit.testing.simulator import Faults, Simulator

CREATE = {"name": "web-1", "size": "s-1vcpu-1gb", "image": "ubuntu-24-04-x64"}


def test_latency_is_added_to_every_request(do_sim: Simulator, do_api: Api) -> None:
    do_sim.faults.latency = 1.0
    started = time.perf_counter()
    assert do_api.get("/v2/account").status_code == 200
    assert time.perf_counter() - started >= 1.0
    do_sim.faults.latency = 0.0
    started = time.perf_counter()
    do_api.get("/v2/account")
    # Generous on purpose: a loopback answer takes milliseconds, so only the added second can
    # reach this ceiling, however loaded the machine running the tests is.
    assert time.perf_counter() - started < 1.0


def test_latency_option_and_delay_rules_for_one_path() -> None:
    with Simulator("digitalocean", latency=0.1) as sim:
        api = Api(sim)
        started = time.perf_counter()
        api.get("/v2/account")
        assert time.perf_counter() - started >= 0.1
        sim.faults.latency = 0
        sim.faults.add("delay", seconds=0.2, path="/v2/sizes")
        started = time.perf_counter()
        api.get("/v2/account")
        fast = time.perf_counter() - started
        started = time.perf_counter()
        assert api.get("/v2/sizes").status_code == 200
        assert time.perf_counter() - started >= 0.2 > fast


def test_error_rate_answers_5xx_in_the_provider_shape_and_does_nothing(do_sim: Simulator, do_api: Api) -> None:
    do_sim.faults.configure(error_rate=1.0, error_statuses=(503,))
    resp = do_api.post("/v2/droplets", json=CREATE)
    assert resp.status_code == 503
    assert resp.json()["id"] == "service_unavailable" and resp.json()["message"]
    assert do_sim.node_count() == 0
    do_sim.faults.configure(error_rate=0.0)
    assert do_api.post("/v2/droplets", json=CREATE).status_code == 202
    assert do_sim.faults.applied["5xx"] == 1


def test_queue_answers_the_next_requests_then_behaves(do_sim: Simulator, do_api: Api) -> None:
    do_sim.faults.queue("503", "500", "ok", "502")
    assert do_sim.faults.pending == 4
    statuses = [do_api.get("/v2/account").status_code for _ in range(5)]
    assert statuses == [503, 500, 200, 502, 200]
    assert do_api.get("/v2/account").json()["account"]
    assert do_sim.faults.pending == 0
    assert [r.fault for r in do_sim.requests[:5]] == ["503", "500", None, "502", None]
    assert [r.status for r in do_sim.requests[:5]] == statuses


def test_queue_and_rules_match_method_and_path(do_sim: Simulator, do_api: Api) -> None:
    do_sim.faults.queue("503", path="/v2/sizes")
    assert do_api.get("/v2/account").status_code == 200
    assert do_api.get("/v2/sizes").status_code == 503
    assert do_api.get("/v2/sizes").status_code == 200
    rule = do_sim.faults.add("500", method="POST", path="/v2/droplets*")
    assert do_api.get("/v2/droplets").status_code == 200
    assert do_api.post("/v2/droplets", json=CREATE).status_code == 500
    assert do_api.post("/v2/droplets/1/actions", json={"type": "reboot"}).status_code == 500
    do_sim.faults.remove(rule)
    assert do_api.post("/v2/droplets", json=CREATE).status_code == 202


def test_counted_rules_expire(do_sim: Simulator, do_api: Api) -> None:
    do_sim.faults.add("504", count=2)
    assert [do_api.get("/v2/account").status_code for _ in range(3)] == [504, 504, 200]
    assert do_sim.faults.snapshot()["rules"] == []


def test_queued_401_and_404_use_the_provider_bodies(linode_sim: Simulator, linode_api: Api) -> None:
    linode_sim.faults.queue(401, 404, 409)
    assert linode_api.get("/v4/profile").json() == {"errors": [{"reason": "Invalid Token"}]}
    assert linode_api.get("/v4/profile").json() == {"errors": [{"reason": "Not found"}]}
    conflict = linode_api.get("/v4/profile")
    assert conflict.status_code == 409 and conflict.json()["errors"][0]["reason"]


def test_429_storm_carries_digitalocean_rate_limit_headers(do_sim: Simulator, do_api: Api) -> None:
    do_sim.faults.storm(3, retry_after=2)
    answers = [do_api.get("/v2/droplets") for _ in range(4)]
    assert [a.status_code for a in answers] == [429, 429, 429, 200]
    limited = answers[0]
    assert limited.json()["id"] == "too_many_requests"
    assert limited.headers["retry-after"] == "2"
    assert limited.headers["ratelimit-remaining"] == "0"
    assert int(limited.headers["ratelimit-reset"]) >= int(time.time())


def test_429_on_linode_hostvirtual_and_nephoscale(linode_sim: Simulator, hv_sim: Simulator,
                                                  nepho_sim: Simulator) -> None:
    for sim, path in ((linode_sim, "/v4/profile"), (hv_sim, "/cloud/images"), (nepho_sim, "/image/server/")):
        sim.faults.configure(rate_limit_rate=1.0, retry_after=3)
        resp = Api(sim).get(path)
        assert resp.status_code == 429 and resp.headers["Retry-After"] == "3"
        sim.faults.clear()
        assert Api(sim).get(path).status_code == 200
    linode_sim.faults.storm(1, retry_after=0.5)
    resp = Api(linode_sim).get("/v4/profile")
    assert resp.headers["X-RateLimit-Remaining"] == "0" and resp.headers["Retry-After"] == "0.5"
    assert resp.json() == {"errors": [{"reason": "Too many requests"}]}


@pytest.mark.parametrize("kind", ["drop", "reset"])
def test_dropped_connections_get_no_answer_and_nothing_happens(do_sim: Simulator, do_api: Api, kind: str) -> None:
    do_sim.faults.queue(kind)
    with pytest.raises(requests.ConnectionError):
        do_api.post("/v2/droplets", json=CREATE)
    assert do_sim.node_count() == 0
    assert do_api.post("/v2/droplets", json=CREATE).status_code == 202
    assert do_sim.requests[0].status is None and do_sim.requests[0].fault == kind


def test_drop_after_receipt_carries_the_request_out(do_sim: Simulator, do_api: Api) -> None:
    do_sim.faults.queue("drop_after", method="POST")
    with pytest.raises(requests.ConnectionError):
        do_api.post("/v2/droplets", json=CREATE)
    assert do_sim.node_count() == 1
    listed = do_api.json("GET", "/v2/droplets")["droplets"]
    assert [d["name"] for d in listed] == ["web-1"]


def test_drop_after_receipt_rate(linode_sim: Simulator, linode_api: Api) -> None:
    linode_sim.faults.configure(drop_after_receipt_rate=1.0, method="POST")
    with pytest.raises(requests.ConnectionError):
        linode_api.post("/v4/linode/instances", json={"type": "g6-nanode-1", "region": "us-east"})
    assert linode_sim.node_count() == 1
    assert linode_api.get("/v4/linode/instances").status_code == 200


def test_slow_answers_pass_the_read_timeout(do_sim: Simulator, do_api: Api) -> None:
    do_sim.faults.queue("slow", seconds=1.0)
    started = time.perf_counter()
    with pytest.raises(requests.ReadTimeout):
        do_api.post("/v2/droplets", json=CREATE, timeout=0.2)
    assert time.perf_counter() - started < 0.9
    assert do_sim.node_count() == 1  # carried out, just answered late
    do_sim.faults.configure(slow_rate=1.0, slow_seconds=0.3)
    started = time.perf_counter()
    assert do_api.get("/v2/account", timeout=5).status_code == 200
    assert time.perf_counter() - started >= 0.3


def test_truncated_body_is_invalid_json_with_a_matching_length(do_sim: Simulator, do_api: Api) -> None:
    do_sim.faults.queue("truncated")
    resp = do_api.get("/v2/sizes")
    assert resp.status_code == 200
    assert int(resp.headers["Content-Length"]) == len(resp.content) > 0
    with pytest.raises(ValueError):
        json.loads(resp.content)
    assert do_api.get("/v2/sizes").json()["sizes"]


def test_incomplete_body_breaks_the_connection(do_sim: Simulator, do_api: Api) -> None:
    do_sim.faults.queue("incomplete")
    with pytest.raises(requests.exceptions.RequestException):
        do_api.get("/v2/sizes")
    assert do_api.get("/v2/sizes").status_code == 200


def test_html_pages_and_malformed_rate(do_sim: Simulator, do_api: Api) -> None:
    do_sim.faults.queue("html")
    page = do_api.get("/v2/account")
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
    assert page.text.startswith("<!DOCTYPE html>")
    do_sim.faults.queue("html", status=502)
    assert do_api.get("/v2/account").status_code == 502
    do_sim.faults.configure(malformed_rate=1.0, malformed_kind="html")
    assert do_api.get("/v2/account").headers["Content-Type"].startswith("text/html")
    do_sim.faults.configure(malformed_kind="truncated")
    with pytest.raises(ValueError):
        do_api.get("/v2/account").json()
    do_sim.faults.clear()
    assert do_api.get("/v2/account").json()["account"]


def test_rates_are_repeatable_with_a_seed() -> None:
    def sequence() -> list[bool]:
        faults = Faults(error_rate=0.5, seed=42)
        return [faults.pick("GET", "/x") is not None for _ in range(50)]

    first = sequence()
    assert first == sequence()
    assert 5 < sum(first) < 45


def test_bad_fault_settings_are_refused() -> None:
    faults = Faults()
    for call in (lambda: faults.add("explode"), lambda: faults.add("503", rate=2),
                 lambda: faults.configure(nonsense=1), lambda: faults.configure(error_rate=-1),
                 lambda: faults.configure(malformed_kind="weird"), lambda: faults.queue(200),
                 lambda: setattr(faults, "latency", -1)):
        with pytest.raises(ValueError):
            call()


def test_faults_change_safely_while_requests_run(do_sim: Simulator) -> None:
    statuses: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client() -> None:
        api = Api(do_sim)
        while not stop.is_set():
            code = api.get("/v2/sizes").status_code
            with lock:
                statuses.append(code)
        api.close()

    def toggler() -> None:
        while not stop.is_set():
            do_sim.faults.configure(error_rate=0.5, error_statuses=(502,))
            do_sim.faults.queue("500")
            do_sim.faults.configure(error_rate=0.0)

    threads = [threading.Thread(target=client) for _ in range(6)] + [threading.Thread(target=toggler)]
    for t in threads:
        t.start()
    time.sleep(0.8)
    stop.set()
    for t in threads:
        t.join(timeout=5)
    assert not any(t.is_alive() for t in threads)
    assert set(statuses) <= {200, 500, 502} and 200 in statuses and len(statuses) > 50
