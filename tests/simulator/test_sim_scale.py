"""Large accounts: seeding 100,000 servers is quick and every server is listed exactly once.

The time bounds here are deliberately loose (an order of magnitude above what the simulator
needs): they catch an accidental quadratic step, not a slow machine. The benchmarks measure.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

from _sim_support import Api, filter_header

from cloudkit.testing.simulator import Simulator


def test_seeding_100k_digitalocean_droplets_and_paging_them() -> None:
    with Simulator("digitalocean", record_requests=False) as sim:
        started = time.perf_counter()
        ids = sim.seed_nodes(100_000)
        tagged = sim.seed_nodes(1_000, tag="web")
        assert time.perf_counter() - started < 10
        assert sim.node_count() == 101_000 and len(set(ids)) == 100_000
        api = Api(sim)
        last = api.json("GET", "/v2/droplets", params={"page": 505, "per_page": 200})
        assert last["meta"]["total"] == 101_000 and len(last["droplets"]) == 200
        assert [str(d["id"]) for d in last["droplets"]] == tagged[-200:]
        started = time.perf_counter()
        middle = api.get("/v2/droplets", params={"page": 250, "per_page": 200})
        assert time.perf_counter() - started < 2 and len(middle.json()["droplets"]) == 200

        def page(n: int) -> list[int]:
            body = api.json("GET", "/v2/droplets", params={"tag_name": "web", "page": n, "per_page": 200})
            return [d["id"] for d in body["droplets"]]

        with ThreadPoolExecutor(4) as pool:
            seen = [i for chunk in pool.map(page, range(1, 6)) for i in chunk]
        assert sorted(map(str, seen)) == sorted(tagged)
        assert sim.server_errors == []


def test_seeding_100k_linode_instances_and_listing_10k_filtered() -> None:
    with Simulator("linode", record_requests=False) as sim:
        started = time.perf_counter()
        sim.seed_nodes(90_000)
        tagged = sim.seed_nodes(10_000, tag="batch")
        assert time.perf_counter() - started < 10
        api = Api(sim)
        seen: list[int] = []
        for n in range(1, 21):
            body = api.json("GET", "/v4/linode/instances", params={"page": n, "page_size": 500},
                            headers=filter_header({"tags": "batch"}))
            assert body["results"] == 10_000 and body["pages"] == 20
            seen += [i["id"] for i in body["data"]]
        assert len(seen) == len(set(seen)) == 10_000 and sorted(map(str, seen)) == sorted(tagged)
        full = api.json("GET", "/v4/linode/instances", params={"page": 200, "page_size": 500})
        assert full["results"] == 100_000 and len(full["data"]) == 500
        assert sim.server_errors == []


def test_seeding_hostvirtual_and_nephoscale_in_bulk() -> None:
    for provider, path in (("hostvirtual", "/cloud/servers"), ("nephoscale", "/server/cloud/")):
        with Simulator(provider, record_requests=False) as sim:
            started = time.perf_counter()
            sim.seed_nodes(5_000)
            assert time.perf_counter() - started < 5
            body = Api(sim).json("GET", path)
            items = body["data"] if provider == "nephoscale" else body
            assert len(items) == sim.node_count() == 5_000


def test_cached_pages_follow_changes() -> None:
    with Simulator("digitalocean", boot_seconds=0, record_requests=False) as sim:
        sim.seed_nodes(500)
        api = Api(sim)
        before = api.json("GET", "/v2/droplets", params={"per_page": 200, "page": 3})
        assert before["meta"]["total"] == 500
        first_id = api.json("GET", "/v2/droplets", params={"per_page": 1})["droplets"][0]["id"]
        api.json("DELETE", f"/v2/droplets/{first_id}", expect=204)
        api.json("POST", "/v2/droplets", expect=202,
                 json={"name": "late", "size": "s-1vcpu-1gb", "image": "ubuntu-24-04-x64"})
        after = api.json("GET", "/v2/droplets", params={"per_page": 200, "page": 3})
        assert after["meta"]["total"] == 500 and after["droplets"][-1]["name"] == "late"
        # a status change shows up in the cached fragment too
        assert after["droplets"][-1]["status"] in ("new", "active")
        assert api.json("GET", "/v2/droplets", params={"per_page": 200, "page": 3})["droplets"][-1][
            "status"] == "active"
