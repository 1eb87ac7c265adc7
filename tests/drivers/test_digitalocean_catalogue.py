"""DigitalOcean sizes, images, regions, SSH keys, tags and the credential check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from drivers._digitalocean_support import add, checked, fixture, make_driver

from cloudkit.errors import ForbiddenError, InvalidCredsError, NotFoundError, ValidationError
from cloudkit.models import KeyPair, NodeLocation
from cloudkit.sshkeys import fingerprint_md5, generate_key_pair, parse_public_key

# -- sizes ------------------------------------------------------------------------------------


def test_list_sizes_fields_and_prices() -> None:
    driver = make_driver()
    with checked() as (mock, traffic):
        add(mock, "GET", "/v2/sizes", "GET_v2_sizes.json")
        sizes = driver.list_sizes()
    assert traffic.calls[0].query == {"page": ["1"], "per_page": ["200"]}
    by_id = {s.id: s for s in sizes}
    assert len(sizes) == 11
    small = by_id["s-1vcpu-1gb"]
    assert (small.name, small.ram, small.disk, small.vcpus) == ("s-1vcpu-1gb", 1024, 25, 1)
    assert small.price == 0.00893  # price_hourly, USD
    assert small.bandwidth == 1.0  # transfer, as the API gives it
    assert small.extra["price_monthly"] == 6.0
    assert small.extra["description"] == "Basic" and small.extra["available"] is True
    assert "nyc3" in small.extra["regions"]
    assert by_id["m-2vcpu-16gb"].price == 0.125 and by_id["m-2vcpu-16gb"].ram == 16384
    assert by_id["s-3vcpu-1gb"].extra["available"] is False
    assert all(isinstance(s.id, str) for s in sizes)


def test_list_sizes_in_a_location() -> None:
    driver = make_driver()
    with checked() as (mock, _):
        add(mock, "GET", "/v2/sizes", "GET_v2_sizes.json")
        add(mock, "GET", "/v2/sizes", "GET_v2_sizes.json")
        in_sgp = {s.id for s in driver.list_sizes(NodeLocation("sgp1", "Singapore 1", "SG"))}
        in_nyc3 = {s.id for s in driver.list_sizes("nyc3")}
    assert "m-2vcpu-16gb" not in in_sgp and "s-1vcpu-1gb" in in_sgp
    assert "m-2vcpu-16gb" in in_nyc3
    assert "s-3vcpu-1gb" not in in_nyc3


def test_legacy_size_without_description_or_hourly_price() -> None:
    driver = make_driver()
    size = driver._to_size({"slug": "512mb", "memory": 512, "vcpus": 1, "disk": 20, "transfer": 1,
                            "price_monthly": 5.0, "regions": ["nyc1"]})
    assert (size.id, size.ram, size.disk, size.bandwidth) == ("512mb", 512, 20, 1.0)
    assert size.price == 0.00744  # 5.0 / 672 hours
    assert size.extra["available"] is None


def test_size_price_from_the_api_over_the_pricing_file() -> None:
    size = make_driver()._to_size({"slug": "s-1vcpu-1gb", "memory": 1024, "disk": 25, "transfer": 1.0,
                                   "price_monthly": 6.0, "price_hourly": 0.00893})
    assert size.price == 0.00893


# -- images -----------------------------------------------------------------------------------


def test_list_images_all() -> None:
    driver = make_driver()
    with checked() as (mock, traffic):
        add(mock, "GET", "/v2/images", "GET_v2_images.json")
        images = driver.list_images()
    assert traffic.calls[0].query == {"page": ["1"], "per_page": ["200"]}
    by_id = {i.id: i for i in images}
    ubuntu = by_id["160232537"]
    assert ubuntu.name == "24.04 (LTS) x64"
    assert ubuntu.extra["slug"] == "ubuntu-24-04-x64" and ubuntu.extra["distribution"] == "Ubuntu"
    assert ubuntu.extra["public"] is True and ubuntu.extra["min_disk_size"] == 7
    snapshot = by_id["161004417"]
    assert snapshot.extra["slug"] is None and snapshot.extra["public"] is False
    assert snapshot.name == "web-1 before upgrade"


@pytest.mark.parametrize(("ex_type", "query", "fixture_file", "ids"), [
    ("distribution", {"type": ["distribution"]}, "GET_v2_images_type_distribution.json",
     ["160232537", "155132839", "148955291"]),
    ("application", {"type": ["application"]}, "GET_v2_images_type_application.json",
     ["158703612", "158971023"]),
    ("private", {"private": ["true"]}, "GET_v2_images_private.json", ["161004417", "161230877"]),
])
def test_list_images_by_type(ex_type: str, query: dict[str, list[str]], fixture_file: str,
                             ids: list[str]) -> None:
    driver = make_driver()
    with checked() as (mock, traffic):
        add(mock, "GET", "/v2/images", fixture_file)
        images = driver.list_images(ex_type=ex_type)
    assert [i.id for i in images] == ids
    assert traffic.calls[0].query == {**query, "page": ["1"], "per_page": ["200"]}


def test_list_images_in_a_location_and_bad_type() -> None:
    driver = make_driver()
    with checked() as (mock, _):
        add(mock, "GET", "/v2/images", "GET_v2_images.json")
        in_fra = [i.id for i in driver.list_images("fra1")]
        with pytest.raises(ValidationError):
            driver.list_images(ex_type="snapshots")
    assert "161230877" in in_fra and "161004417" not in in_fra


def test_get_image_by_slug() -> None:
    driver = make_driver()
    with checked() as (mock, traffic):
        add(mock, "GET", "/v2/images/ubuntu-24-04-x64", "GET_v2_images_ubuntu-24-04-x64.json")
        image = driver.get_image("ubuntu-24-04-x64")
    assert image.id == "160232537"
    assert traffic.calls[0].path == "/v2/images/ubuntu-24-04-x64"


def test_legacy_image_with_empty_slug_and_missing_fields() -> None:
    image = make_driver()._to_image({"id": 449676856, "name": "My Snapshot", "distribution": "Ubuntu",
                                     "slug": "", "public": False, "regions": ["nyc1", "nyc3"],
                                     "created_at": "2014-08-18T16:35:40Z", "min_disk_size": 40})
    assert (image.id, image.name, image.extra["slug"]) == ("449676856", "My Snapshot", None)
    assert image.extra["type"] is None


# -- locations --------------------------------------------------------------------------------


def test_list_locations_all_with_availability_and_country() -> None:
    driver = make_driver()
    with checked() as (mock, _):
        add(mock, "GET", "/v2/regions", "GET_v2_regions.json")
        add(mock, "GET", "/v2/regions", "GET_v2_regions.json")
        everything = driver.list_locations()
        available = driver.list_locations(ex_available=True)
    by_id = {loc.id: loc for loc in everything}
    assert len(everything) == 12
    assert by_id["nyc3"].name == "New York 3" and by_id["nyc3"].country == "US"
    assert by_id["ams3"].country == "NL" and by_id["lon1"].country == "GB"
    assert by_id["fra1"].country == "DE" and by_id["blr1"].country == "IN"
    assert by_id["nyc2"].extra["available"] is False
    assert "s-1vcpu-1gb" in by_id["nyc3"].extra["sizes"]
    assert "nyc2" not in {loc.id for loc in available} and len(available) == 10


def test_unknown_city_has_no_country() -> None:
    loc = make_driver()._to_location({"slug": "xyz9", "name": "Somewhere", "available": True})
    assert (loc.id, loc.country, loc.extra["features"]) == ("xyz9", None, [])


# -- key pairs --------------------------------------------------------------------------------


def test_list_key_pairs() -> None:
    driver = make_driver()
    with checked() as (mock, traffic):
        add(mock, "GET", "/v2/account/keys", "GET_v2_account_keys.json")
        pairs = driver.list_key_pairs()
    assert traffic.calls[0].query == {"page": ["1"], "per_page": ["200"]}
    assert [(p.id, p.name) for p in pairs] == [("512001", "laptop"), ("512002", "ci-deploy")]
    body = fixture("GET_v2_account_keys.json")["ssh_keys"][0]
    assert pairs[0].fingerprint == body["fingerprint"] == fingerprint_md5(body["public_key"])
    assert pairs[0].public_key == body["public_key"]
    assert pairs[0].private_key is None


def test_get_key_pair_by_name_id_and_fingerprint() -> None:
    driver = make_driver()
    key = fixture("GET_v2_account_keys_512001.json")
    fingerprint = key["ssh_key"]["fingerprint"]
    with checked() as (mock, traffic):
        add(mock, "GET", "/v2/account/keys", "GET_v2_account_keys.json")
        add(mock, "GET", "/v2/account/keys/512001", key)
        add(mock, "GET", f"/v2/account/keys/{fingerprint}", key)
        assert driver.get_key_pair("ci-deploy").id == "512002"
        assert driver.get_key_pair("512001").name == "laptop"
        assert driver.get_key_pair(fingerprint).id == "512001"
    assert [c.path for c in traffic.calls] == [
        "/v2/account/keys", "/v2/account/keys/512001", f"/v2/account/keys/{fingerprint}"]


def test_get_key_pair_missing_name() -> None:
    driver = make_driver()
    with checked() as (mock, _):
        add(mock, "GET", "/v2/account/keys", "GET_v2_account_keys.json")
        with pytest.raises(NotFoundError):
            driver.get_key_pair("nobody")
    with pytest.raises(ValidationError):
        driver.get_key_pair("")


def test_import_key_pair_from_string_and_file(tmp_path: Path) -> None:
    driver = make_driver()
    _, public = generate_key_pair("ed25519", comment="me")
    key_file = tmp_path / "id.pub"
    key_file.write_text(public + "\n")
    with checked() as (mock, traffic):
        add(mock, "POST", "/v2/account/keys", "POST_v2_account_keys.json", status=201)
        add(mock, "POST", "/v2/account/keys", "POST_v2_account_keys.json", status=201)
        pair = driver.import_key_pair_from_string("new-key", public)
        driver.import_key_pair_from_file("from-file", str(key_file))
    assert (pair.id, pair.name) == ("512003", "new-key")
    assert traffic.calls[0].json() == {"name": "new-key", "public_key": public}
    assert traffic.calls[1].json() == {"name": "from-file", "public_key": public}


@pytest.mark.parametrize(("name", "material"), [
    ("", None), ("ok", "not a key"), ("ok", "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n"),
    ("ok", "ssh-rsa AAAA!!"), ("x" * 256, None),
])
def test_import_bad_key_refused_before_any_request(name: str, material: str | None) -> None:
    driver = make_driver()
    if material is None:
        material = generate_key_pair("ed25519")[1]
    with checked() as (_, traffic), pytest.raises(ValidationError) as info:
        driver.import_key_pair_from_string(name, material)
    assert traffic.calls == []
    assert "BEGIN" not in str(info.value)


def test_create_key_pair_returns_the_private_half_once() -> None:
    driver = make_driver()
    sent: list[Any] = []

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        import json

        body = json.loads(request.body)
        sent.append(body)
        reply = {"ssh_key": {"id": 512004, "name": body["name"], "public_key": body["public_key"],
                             "fingerprint": fingerprint_md5(body["public_key"])}}
        return 201, {}, json.dumps(reply)

    with checked() as (mock, traffic):
        mock.add_callback("POST", "https://api.digitalocean.com/v2/account/keys", callback=answer,
                          content_type="application/json")
        pair = driver.create_key_pair("generated")
    assert pair.private_key is not None and "PRIVATE KEY" in pair.private_key
    assert pair.id == "512004" and pair.name == "generated"
    kind, _, _ = parse_public_key(sent[0]["public_key"])
    assert kind == "ssh-ed25519"
    assert "PRIVATE" not in traffic.calls[0].body.decode()  # only the public half leaves
    assert pair.private_key not in repr(pair)


def test_delete_key_pair_by_object_id_and_fingerprint() -> None:
    driver = make_driver()
    fingerprint = "3b:16:bf:e4:8b:00:8b:b8:59:8c:a9:d3:f0:19:45:fa"
    with checked() as (mock, traffic):
        add(mock, "DELETE", "/v2/account/keys/512001", None, status=204)
        add(mock, "DELETE", f"/v2/account/keys/{fingerprint}", None, status=204)
        assert driver.delete_key_pair(KeyPair("laptop", "", None, id="512001")) is True
        assert driver.delete_key_pair(KeyPair("old", "", fingerprint)) is True
    assert [c.path for c in traffic.calls] == ["/v2/account/keys/512001", f"/v2/account/keys/{fingerprint}"]
    with pytest.raises(ValidationError):
        driver.delete_key_pair(KeyPair("nameless", "", None))


# -- tags -------------------------------------------------------------------------------------


def test_create_list_delete_tags() -> None:
    driver = make_driver()
    with checked() as (mock, traffic):
        add(mock, "POST", "/v2/tags", "POST_v2_tags.json", status=201)
        add(mock, "GET", "/v2/tags", "GET_v2_tags.json")
        add(mock, "DELETE", "/v2/tags/canary", None, status=204)
        assert driver.ex_create_tag("canary") == "canary"
        assert driver.ex_list_tags() == ["web", "db"]
        assert driver.ex_delete_tag("canary") is True
    assert traffic.calls[0].json() == {"name": "canary"}


def test_tag_and_untag_node() -> None:
    driver = make_driver()
    node = driver._to_node(fixture("GET_v2_droplets_401003.json")["droplet"])
    with checked() as (mock, traffic):
        add(mock, "POST", "/v2/tags/web/resources", None, status=204)
        add(mock, "DELETE", "/v2/tags/db/resources", None, status=204)
        assert driver.ex_tag_node(node, "web") is True
        assert driver.ex_untag_node(node, "db") is True
    resources = {"resources": [{"resource_id": "401003", "resource_type": "droplet"}]}
    assert [(c.method, c.path, c.json()) for c in traffic.calls] == [
        ("POST", "/v2/tags/web/resources", resources), ("DELETE", "/v2/tags/db/resources", resources)]
    assert node.tags == ["web"]


def test_tag_node_creates_a_missing_tag() -> None:
    driver = make_driver()
    with checked() as (mock, traffic):
        mock.add("POST", "https://api.digitalocean.com/v2/tags/canary/resources",
                 json=fixture("error_404.json"), status=404)
        add(mock, "POST", "/v2/tags", "POST_v2_tags.json", status=201)
        mock.add("POST", "https://api.digitalocean.com/v2/tags/canary/resources", status=204)
        assert driver.ex_tag_node("401001", "canary") is True
    assert [(c.method, c.path) for c in traffic.calls] == [
        ("POST", "/v2/tags/canary/resources"), ("POST", "/v2/tags"), ("POST", "/v2/tags/canary/resources")]


def test_bad_tag_refused_with_the_api_rules() -> None:
    driver = make_driver()
    with checked() as (mock, traffic):
        with pytest.raises(ValidationError):
            driver.ex_tag_node("401001", "no spaces")
        with pytest.raises(ValidationError):
            driver.ex_create_tag("")
        assert traffic.calls == []
        add(mock, "POST", "/v2/tags", "error_400_tags.json", status=400)
        with pytest.raises(ValidationError, match="contains invalid characters"):
            driver.ex_create_tag("looks-fine-here")


# -- credentials ------------------------------------------------------------------------------


def test_verify_credentials_good_token() -> None:
    driver = make_driver()
    with checked() as (mock, traffic):
        add(mock, "GET", "/v2/account", "GET_v2_account.json")
        assert driver.verify_credentials() is True
    assert [c.path for c in traffic.calls] == ["/v2/account"]


@pytest.mark.parametrize(("status", "fixture_file", "error"), [
    (401, "error_401.json", InvalidCredsError), (401, "error_401_empty_id.json", InvalidCredsError),
    (403, "error_403.json", ForbiddenError),
])
def test_verify_credentials_bad_token(status: int, fixture_file: str, error: type[Exception]) -> None:
    driver = make_driver()
    with checked() as (mock, traffic):
        add(mock, "GET", "/v2/account", fixture_file, status=status)
        with pytest.raises(error) as info:
            driver.verify_credentials()
    assert info.value.message == fixture(fixture_file)["message"]
    assert info.value.code == (fixture(fixture_file)["id"] or None)
    assert len(traffic.calls) == 1  # never retried
