"""Issue 11, "which servers carry this tag": ``Node.tags``, ``list_nodes(tag=...)`` and the
``ex_`` tag methods, on the simulator.

DigitalOcean and Linode filter on the server (``tag_name`` query, ``X-Filter`` header), and
every request is checked against the official API description with ``check_requests``. The
accounts hold more untagged servers than one page, seeded before the tagged ones: a single
request coming back with exactly the tagged servers shows the provider did the filtering.
HostVirtual and NephoScale have no tags: the filter runs on the client and ``supports()`` says why.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from _ask_support import SPECS, simulator

from cloudkit.cli import main
from cloudkit.drivers.dummy import DummyNodeDriver
from cloudkit.errors import NotSupportedError
from cloudkit.testing.openapi import OpenAPIValidator, check_requests

SERVER_SIDE = {
    # provider: (spec file, listing path in the spec, untagged servers seeded: more than a page)
    "digitalocean": ("digitalocean-compute.schema.json", "/v2/droplets", 230),
    "linode": ("linode-compute.schema.json", "/{apiVersion}/linode/instances", 530),
}
LISTING = {"digitalocean": "/v2/droplets", "linode": "/v4/linode/instances",
           "hostvirtual": "/cloud/servers/", "nephoscale": "/server/cloud/"}


def _declared_parameters(spec: str, path: str) -> set[tuple[str, str]]:
    document = json.loads((SPECS / spec).read_text(encoding="utf-8"))
    item = document["paths"][path]
    params = [*item.get("parameters", []), *item["get"].get("parameters", [])]
    return {(p["in"], p["name"]) for p in params}


def test_the_official_descriptions_declare_the_filters() -> None:
    assert ("query", "tag_name") in _declared_parameters(*SERVER_SIDE["digitalocean"][:2])
    assert ("header", "X-Filter") in _declared_parameters(*SERVER_SIDE["linode"][:2])


@pytest.mark.parametrize("provider", sorted(SERVER_SIDE))
def test_tag_filter_is_sent_to_the_server_and_returns_only_tagged_servers(provider: str) -> None:
    spec, _, untagged = SERVER_SIDE[provider]
    with simulator(provider) as sim:
        sim.seed_nodes(untagged, name_prefix="plain")
        tagged = sim.seed_nodes(3, tag="web", name_prefix="tagged")
        driver = sim.driver()
        validator = OpenAPIValidator(SPECS / spec, sim.base_url)
        with check_requests(validator) as traffic:
            found = driver.list_nodes(tag="web")
        assert sorted(n.id for n in found) == sorted(tagged)
        assert all(n.tags == ["web"] and n.name.startswith("tagged") for n in found)
        [call] = traffic.calls  # one page: the untagged servers never left the provider
        assert call.path == LISTING[provider] and call.status == 200 and not call.problems
        if provider == "digitalocean":
            assert call.query["tag_name"] == ["web"]
            # the validator has teeth: a misspelt filter would have failed the test
            assert validator.request_problems("GET", f"{sim.base_url}/v2/droplets?tag=web",
                                              {"Authorization": "Bearer x"}, None)
        else:
            assert json.loads(call.headers["X-Filter"]) == {"tags": "web"}

        with check_requests(validator) as traffic:
            everything = driver.list_nodes()
        # two pages unfiltered (and, on DigitalOcean, the one page of the GPU droplet listing)
        assert len(everything) == untagged + 3
        assert len(traffic.calls) == (3 if provider == "digitalocean" else 2)
        assert sum(1 for n in everything if n.tags == []) == untagged


@pytest.mark.parametrize("provider", sorted(SERVER_SIDE))
def test_create_tag_untag_round_trip(provider: str) -> None:
    spec = SERVER_SIDE[provider][0]
    with simulator(provider) as sim:
        first, second = sim.seed_nodes(2)
        driver: Any = sim.driver()
        validator = OpenAPIValidator(SPECS / spec, sim.base_url)
        with check_requests(validator, responses_too=True) as traffic:
            node = driver.get_node(first)
            assert node.tags == []
            assert driver.ex_create_tag("blue") == "blue"
            assert "blue" in driver.ex_list_tags()
            assert driver.ex_tag_node(node, "blue") is True
            assert node.tags == ["blue"]  # the Node given is kept up to date
            assert driver.ex_tag_node(second, "green") is True  # an id works too; a new tag is made
            assert [n.id for n in driver.list_nodes(tag="blue")] == [first]
            assert [n.id for n in driver.list_nodes(tag="green")] == [second]
            assert driver.get_node(first).tags == ["blue"]
            assert driver.ex_untag_node(node, "blue") is True
            assert node.tags == []
            assert driver.list_nodes(tag="blue") == []
            assert driver.get_node(first).tags == []
            assert driver.ex_delete_tag("green") is True
            assert driver.get_node(second).tags == []
        assert traffic.calls and all(not c.problems for c in traffic.calls)


@pytest.mark.parametrize("provider", ["hostvirtual", "nephoscale"])
def test_tagless_providers_filter_on_the_client_and_say_why(provider: str) -> None:
    with simulator(provider) as sim:
        ids = sim.seed_nodes(2)
        driver: Any = sim.driver()
        sim.reset_requests()
        assert driver.list_nodes(tag="web") == []
        [listing] = sim.requests
        assert listing.path == LISTING[provider]
        assert set(listing.query) <= {"key"}  # nothing but HostVirtual's API key: no filter sent
        nodes = driver.list_nodes()
        assert sorted(n.id for n in nodes) == sorted(ids) and all(n.tags == [] for n in nodes)

        sim.reset_requests()
        for capability in ("ex_create_tag", "ex_tag_node", "ex_untag_node"):
            answer = driver.supports(capability)
            assert not answer and "no tags" in answer.reason
        with pytest.raises(NotSupportedError, match="no tags") as err:
            driver.ex_tag_node(nodes[0], "web")
        assert isinstance(err.value, NotImplementedError)
        with pytest.raises(NotSupportedError, match="no tags"):
            driver.ex_create_tag("web")
        with pytest.raises(NotSupportedError, match="no tags"):
            driver.ex_untag_node(nodes[0], "web")
        assert sim.requests == []


def test_dummy_driver_tags() -> None:
    driver: Any = DummyNodeDriver()
    web = driver.create_node("w-1", "small", "debian-12", ex_tags=["web"])
    plain = driver.create_node("p-1", "small", "debian-12")
    assert web.tags == ["web"] and plain.tags == []
    assert [n.id for n in driver.list_nodes(tag="web")] == [web.id]
    assert driver.ex_tag_node(plain, "web") is True and plain.tags == ["web"]
    assert sorted(n.id for n in driver.list_nodes(tag="web")) == sorted([web.id, plain.id])
    assert driver.ex_create_tag("db") == "db" and driver.ex_list_tags() == ["db", "web"]
    assert driver.ex_untag_node(web.id, "web") is True
    assert [n.id for n in driver.list_nodes(tag="web")] == [plain.id]
    assert driver.ex_delete_tag("web") is True
    assert driver.list_nodes(tag="web") == [] and driver.get_node(plain.id).tags == []


def test_cli_nodes_list_tag_uses_the_server_filter(tmp_path: Any) -> None:
    with simulator("digitalocean") as sim:
        sim.seed_nodes(2)
        tagged = sim.seed_nodes(1, tag="web")
        sim.reset_requests()
        out, err = io.StringIO(), io.StringIO()
        env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / ".config"),
               "CLOUDKIT_DIGITALOCEAN_TOKEN": sim.token, "CLOUDKIT_BASE_URL": sim.base_url}
        code = main(["nodes", "list", "--tag", "web", "-o", "json"], env=env, stdout=out, stderr=err,
                    stdin=io.StringIO(""))
        assert code == 0, err.getvalue()
        assert [row["id"] for row in json.loads(out.getvalue())] == tagged
        assert [r.query.get("tag_name") for r in sim.requests if r.path == "/v2/droplets"] == ["web"]
