"""Linode sizes, images, locations, SSH keys, credentials and tags."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from drivers._linode_support import HOST, LinodeAPI, linode_api, load, make_driver
from responses import matchers

from cloudkit.errors import ForbiddenError, InvalidCredsError, NotFoundError, ValidationError
from cloudkit.models import KeyPair
from cloudkit.sshkeys import fingerprint_md5, parse_public_key

PAGED = {"page": "1", "page_size": "500"}
ALICE = load("GET_v4_profile_sshkeys.json")["data"][0]["ssh_key"]
CI_KEY = load("POST_v4_profile_sshkeys.json")["ssh_key"]


@pytest.fixture(autouse=True)
def api() -> Iterator[LinodeAPI]:
    with linode_api() as mocked:
        yield mocked


# -- sizes --------------------------------------------------------------------------------------


def test_list_sizes(api: LinodeAPI) -> None:
    api.add("GET", "/v4/linode/types", "GET_v4_linode_types.json")
    sizes = {s.id: s for s in make_driver().list_sizes()}
    assert list(sizes) == ["g6-nanode-1", "g6-standard-1", "g6-standard-2", "g6-dedicated-2", "g7-highmem-1",
                           "g1-gpu-rtx6000-1"]
    nanode = sizes["g6-nanode-1"]
    assert (nanode.name, nanode.ram, nanode.disk, nanode.vcpus) == ("Nanode 1GB", 1024, 25, 1)
    assert nanode.bandwidth == 1000  # transfer, GB per month
    assert nanode.price == 0.0075
    assert nanode.extra["monthly_price"] == 5.0
    assert nanode.extra["class"] == "nanode"
    assert nanode.extra["network_out"] == 1000
    assert nanode.extra["disk_mb"] == 25600
    std = sizes["g6-standard-2"]
    assert (std.ram, std.disk, std.vcpus, std.price, std.extra["monthly_price"]) == (4096, 80, 2, 0.036, 24.0)
    gpu = sizes["g1-gpu-rtx6000-1"]
    assert (gpu.disk, gpu.extra["gpus"], gpu.price) == (640, 1, 1.5)
    assert api.calls[0].query == {}  # the types listing declares no paging parameters


def test_list_sizes_in_a_region_uses_its_prices(api: LinodeAPI) -> None:
    api.add("GET", "/v4/linode/types", "GET_v4_linode_types.json")
    sizes = {s.id: s for s in make_driver().list_sizes("br-gru")}
    assert sizes["g6-nanode-1"].price == 0.0105
    assert sizes["g6-nanode-1"].extra["monthly_price"] == 7.0
    assert sizes["g1-gpu-rtx6000-1"].price == 1.5  # no regional price: the base one


def test_list_sizes_follows_further_pages_should_they_appear(api: LinodeAPI) -> None:
    first = load("GET_v4_linode_types.json")
    second = {"data": first["data"][3:], "page": 2, "pages": 2, "results": 6}
    first.update(data=first["data"][:3], pages=2)
    api.add("GET", "/v4/linode/types", json_body=first)
    api.add("GET", "/v4/linode/types", json_body=second, query={"page": "2"})
    # ``page`` is undeclared for this operation in the spec; allow it for this one case.
    api.traffic.validator.allow_undeclared_query = True
    assert len(make_driver().list_sizes()) == 6


# -- images -------------------------------------------------------------------------------------


def test_list_images_public_and_private_over_pages(api: LinodeAPI) -> None:
    api.add("GET", "/v4/images", "GET_v4_images_page1.json", query=PAGED)
    api.add("GET", "/v4/images", "GET_v4_images_page2.json", query={"page": "2", "page_size": "500"})
    images = {i.id: i for i in make_driver().list_images()}
    assert list(images) == ["linode/debian12", "linode/ubuntu24.04", "linode/centos7", "private/26512345"]
    debian = images["linode/debian12"]
    assert debian.name == "Debian 12"
    assert debian.extra["vendor"] == "Debian"
    assert debian.extra["is_public"] is True and debian.extra["deprecated"] is False
    assert debian.extra["size"] == 1300
    assert debian.extra["eol"] == dt.datetime(2028, 6, 30, 4, 0, tzinfo=dt.UTC)
    assert images["linode/centos7"].extra["deprecated"] is True
    private = images["private/26512345"]
    assert private.extra["is_public"] is False and private.extra["vendor"] is None
    assert private.extra["created_by"] == "alice"
    assert private.extra["regions"] == ["us-east", "us-iad"]
    assert private.extra["size"] == 3200


def test_list_images_in_a_location_leaves_out_private_images_elsewhere(api: LinodeAPI) -> None:
    api.add("GET", "/v4/images", "GET_v4_images_page1.json", query=PAGED)
    api.add("GET", "/v4/images", "GET_v4_images_page2.json", query={"page": "2", "page_size": "500"})
    ids = [i.id for i in make_driver().list_images("eu-west")]
    assert "private/26512345" not in ids and "linode/debian12" in ids


def test_get_image_sends_the_slash_unescaped(api: LinodeAPI) -> None:
    api.add("GET", "/v4/images/linode/debian12", "GET_v4_images_linode_debian12.json")
    image = make_driver().ex_get_image("linode/debian12")
    assert image.id == "linode/debian12"
    assert api.calls[0].path == "/v4/images/linode/debian12"


# -- locations ----------------------------------------------------------------------------------


def test_list_locations(api: LinodeAPI) -> None:
    api.add("GET", "/v4/regions", "GET_v4_regions.json")
    locations = make_driver().list_locations()
    assert [(loc.id, loc.name, loc.country) for loc in locations] == [
        ("us-east", "Newark, NJ", "US"), ("eu-west", "London, UK", "GB"), ("ap-south", "Singapore, SG", "SG"),
        ("us-iad", "Washington, DC", "US")]
    east = locations[0]
    assert "Linodes" in east.extra["capabilities"] and "Metadata" in east.extra["capabilities"]
    assert east.extra["status"] == "ok"
    assert east.extra["site_type"] == "core"
    assert east.extra["resolvers"]["ipv4"].startswith("66.228.42.5")
    assert api.calls[0].query == {}


# -- key pairs ----------------------------------------------------------------------------------


def test_list_key_pairs(api: LinodeAPI) -> None:
    api.add("GET", "/v4/profile/sshkeys", "GET_v4_profile_sshkeys.json", query=PAGED)
    pairs = make_driver().list_key_pairs()
    assert [(p.id, p.name) for p in pairs] == [("301101", "alice-laptop"), ("301102", "bob-desk")]
    assert pairs[0].public_key == ALICE
    assert pairs[0].fingerprint == fingerprint_md5(ALICE)
    assert pairs[0].extra["created"] == dt.datetime(2023, 2, 1, 8, 0, tzinfo=dt.UTC)
    assert pairs[0].private_key is None


def test_get_key_pair_by_name_and_missing(api: LinodeAPI) -> None:
    api.add("GET", "/v4/profile/sshkeys", "GET_v4_profile_sshkeys.json", query=PAGED)
    api.add("GET", "/v4/profile/sshkeys", "GET_v4_profile_sshkeys.json", query=PAGED)
    driver = make_driver()
    assert driver.get_key_pair("bob-desk").id == "301102"
    with pytest.raises(NotFoundError):
        driver.get_key_pair("carol")


def test_import_key_pair(api: LinodeAPI) -> None:
    api.add("POST", "/v4/profile/sshkeys", "POST_v4_profile_sshkeys.json")
    pair = make_driver().import_key_pair_from_string("ci-deploy", CI_KEY)
    assert api.calls[0].json() == {"label": "ci-deploy", "ssh_key": CI_KEY}
    assert (pair.id, pair.name, pair.public_key) == ("301103", "ci-deploy", CI_KEY)


@pytest.mark.parametrize(("name", "material", "match"), [
    ("", CI_KEY, "label"),
    ("x" * 65, CI_KEY, "label"),
    ("ok", "ssh-ed25519 not-base64!", "base64"),
    ("ok", "-----BEGIN OPENSSH PRIVATE KEY-----", "private key"),
])
def test_import_refuses_bad_input_before_any_request(name: str, material: str, match: str,
                                                     api: LinodeAPI) -> None:
    with pytest.raises(ValidationError, match=match):
        make_driver().import_key_pair_from_string(name, material)
    assert api.calls == []


def test_create_key_pair_generates_locally_and_uploads_the_public_half(api: LinodeAPI) -> None:
    def answer(request):  # type: ignore[no-untyped-def]
        import json

        sent = json.loads(request.body)
        return 200, {"Content-Type": "application/json"}, json.dumps(
            {"id": 301104, "label": sent["label"], "ssh_key": sent["ssh_key"], "created": "2024-10-22T16:30:00"})

    api.add_callback("POST", "/v4/profile/sshkeys", answer)
    pair = make_driver().create_key_pair("fresh-key")
    sent = api.calls[0].json()
    assert "PRIVATE" not in sent["ssh_key"]
    parse_public_key(sent["ssh_key"])
    assert pair.private_key is not None and "PRIVATE KEY" in pair.private_key
    assert pair.private_key not in repr(pair)
    assert (pair.id, pair.name) == ("301104", "fresh-key")


def test_delete_key_pair_by_model_id_and_name(api: LinodeAPI) -> None:
    for _ in range(3):
        api.rsps.add("DELETE", f"{HOST}/v4/profile/sshkeys/301101", json={})
    api.add("GET", "/v4/profile/sshkeys", "GET_v4_profile_sshkeys.json", query=PAGED)
    driver = make_driver()
    assert driver.delete_key_pair(KeyPair("alice-laptop", ALICE, None, driver, id="301101")) is True
    assert driver.delete_key_pair("301101") is True
    assert driver.delete_key_pair("alice-laptop") is True  # looked up by label first
    assert [c.method for c in api.calls] == ["DELETE", "DELETE", "GET", "DELETE"]


# -- credentials --------------------------------------------------------------------------------


def test_verify_credentials_true(api: LinodeAPI) -> None:
    api.add("GET", "/v4/profile", "GET_v4_profile.json")
    assert make_driver().verify_credentials() is True
    assert api.calls[0].path == "/v4/profile"


def test_verify_credentials_bad_token(api: LinodeAPI) -> None:
    api.add("GET", "/v4/profile", "error_401.json", status=401)
    with pytest.raises(InvalidCredsError, match="Invalid Token"):
        make_driver().verify_credentials()


def test_verify_credentials_under_scoped_token(api: LinodeAPI) -> None:
    api.add("GET", "/v4/profile", "error_403.json", status=403)
    with pytest.raises(ForbiddenError, match="Unauthorized"):
        make_driver().verify_credentials()


# -- tags ---------------------------------------------------------------------------------------


def test_list_and_create_and_delete_tags(api: LinodeAPI) -> None:
    api.add("GET", "/v4/tags", "GET_v4_tags.json", query=PAGED)
    api.add("POST", "/v4/tags", "POST_v4_tags.json", match=[matchers.json_params_matcher({"label": "blue"})])
    api.add("DELETE", "/v4/tags/blue", "DELETE_v4_tags_blue.json")
    driver = make_driver()
    assert driver.ex_list_tags() == ["cache", "prod", "staging", "web"]
    assert driver.ex_create_tag("blue") == "blue"
    assert driver.ex_delete_tag("blue") is True


def test_tag_node_puts_the_whole_tags_list(api: LinodeAPI) -> None:
    api.add("GET", "/v4/linode/instances/61234501", "GET_v4_linode_instances_61234501.json")
    api.add("PUT", "/v4/linode/instances/61234501", "PUT_v4_linode_instances_61234501_tags.json",
            match=[matchers.json_params_matcher({"tags": ["prod", "web", "blue"]})])
    driver = make_driver()
    node = driver._to_node(load("GET_v4_linode_instances_61234501.json"))
    assert driver.ex_tag_node(node, "blue") is True
    assert node.tags == ["prod", "web", "blue"]


def test_tag_node_already_tagged_sends_no_update(api: LinodeAPI) -> None:
    api.add("GET", "/v4/linode/instances/61234501", "GET_v4_linode_instances_61234501.json")
    assert make_driver().ex_tag_node("61234501", "web") is True
    assert [c.method for c in api.calls] == ["GET"]


def test_untag_node(api: LinodeAPI) -> None:
    tagged = load("PUT_v4_linode_instances_61234501_tags.json")
    api.add("GET", "/v4/linode/instances/61234501", json_body=tagged)
    api.add("PUT", "/v4/linode/instances/61234501", "GET_v4_linode_instances_61234501.json",
            match=[matchers.json_params_matcher({"tags": ["prod", "web"]})])
    driver = make_driver()
    node = driver._to_node(tagged)
    assert driver.ex_untag_node(node, "blue") is True
    assert node.tags == ["prod", "web"]


@pytest.mark.parametrize("tag", ["", "ab", "x" * 51])
def test_bad_tags_are_refused_before_any_request(tag: str, api: LinodeAPI) -> None:
    driver = make_driver()
    for call in (lambda: driver.ex_create_tag(tag), lambda: driver.ex_tag_node("61234501", tag),
                 lambda: driver.ex_untag_node("61234501", tag), lambda: driver.ex_delete_tag(tag)):
        with pytest.raises(ValidationError, match="3 to 50"):
            call()
    assert api.calls == []
