"""NephoScale: registry, connection, credentials check, zones, images, sizes and prices."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
import responses
from drivers._nephoscale_support import (
    BASIC,
    HOST,
    PASSWORD,
    PRICES,
    USER,
    add,
    api_fixture,  # noqa: F401  (a fixture)
    driver_fixture,  # noqa: F401  (a fixture)
    make_driver,
    nephoscale_prices_fixture,  # noqa: F401  (a fixture)
)

from cloudkit import Provider, get_driver
from cloudkit.drivers.nephoscale import NephoscaleConnection, NephoscaleNodeDriver
from cloudkit.errors import (
    ConfigurationError,
    ForbiddenError,
    InvalidCredsError,
    MalformedResponseError,
    ServerError,
)
from cloudkit.pricing import clear_pricing_cache, get_size_price


def test_registry_returns_the_driver_taking_user_and_password() -> None:
    cls = get_driver(Provider.NEPHOSCALE)
    assert cls is NephoscaleNodeDriver
    assert get_driver("nephoscale") is cls
    drv = cls(USER, PASSWORD)
    assert isinstance(drv.connection, NephoscaleConnection)
    assert drv.connection.base_url == HOST
    assert drv.connection.timeout == (10.0, 180.0)
    assert drv.type == "nephoscale" and drv.name == "NephoScale"


def test_a_password_is_required() -> None:
    with pytest.raises(ConfigurationError):
        get_driver(Provider.NEPHOSCALE)(USER)


def test_every_request_carries_basic_auth(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/datacenter/zone/", "GET_datacenter_zone.json")
    driver.list_locations()
    assert api.calls[0].request.headers["Authorization"] == BASIC
    assert api.calls[0].request.headers["Accept"] == "application/json"


def test_base_url_points_at_a_loopback_server() -> None:
    drv = make_driver(base_url="http://127.0.0.1:8099")
    assert drv.connection.url_for("/server/cloud/") == "http://127.0.0.1:8099/server/cloud/"


def test_verify_credentials_true(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/datacenter/zone/", "GET_datacenter_zone.json")
    assert driver.verify_credentials() is True
    assert len(api.calls) == 1


def test_verify_credentials_bad_password(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/datacenter/zone/", "GET_datacenter_zone_401.json")
    with pytest.raises(InvalidCredsError) as info:
        driver.verify_credentials()
    assert info.value.status == 401
    assert "invalid username or password" in str(info.value)
    assert info.value.code == "2"


def test_verify_credentials_401_without_body(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/datacenter/zone/", status=401, body="")
    with pytest.raises(InvalidCredsError, match="user name and password"):
        driver.verify_credentials()


def test_verify_credentials_forbidden(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/datacenter/zone/", status=403,
        body={"success": False, "subcode": 3, "message": "Account suspended", "data": {}, "response": 403})
    with pytest.raises(ForbiddenError, match="Account suspended"):
        driver.verify_credentials()


def test_list_locations_can_skip_inactive_zones(api: responses.RequestsMock,
                                                driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/datacenter/zone/", "GET_datacenter_zone.json")
    locations = driver.list_locations(ex_include_inactive=False)
    assert [(loc.id, loc.name, loc.country) for loc in locations] == [
        ("88412", "SJC-3", "US"), ("88530", "RIC-3", "US")]
    sjc = locations[0]
    assert sjc.extra["airport_code"] == "SJC"
    assert sjc.extra["datacenter"] == "SJC-3"
    assert sjc.extra["datacenter_id"] == 11
    assert sjc.extra["activated"] is True
    assert locations[1].extra["activated"] is None  # absent: kept
    assert sjc.driver is driver


def test_list_locations_lists_every_zone_by_default(api: responses.RequestsMock,
                                                    driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/datacenter/zone/", "GET_datacenter_zone.json")
    ids = [loc.id for loc in driver.list_locations()]
    assert ids == ["88412", "88530", "88671"]


def test_list_images(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/image/server/", "GET_image_server.json")
    images = driver.list_images()
    assert [(i.id, i.name) for i in images] == [
        ("411", "Linux Ubuntu Server 14.04 LTS 64-bit"),
        ("415", "Linux CentOS 6.5 64-bit"),
        ("418", "Windows Server 2012 R2 64-bit"),
        ("422", "Linux Debian 7.6 32-bit"),
        ("427", "Load Balancer Appliance"),
    ]
    assert images[2].extra["base_type"] == "windows"
    assert images[3].extra["architecture"] == "x86"
    assert images[4].extra["deployable_type"] == "cloud"
    assert images[0].extra["is_default"] is True
    assert images[0].extra["create_time"] == "2014-05-02 09:41:18"


def test_list_images_server_error(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/image/server/", "GET_image_server_500.json")
    with pytest.raises(ServerError) as info:
        driver.list_images()
    assert info.value.status == 500
    assert "internal error" in info.value.message


def test_list_sizes_with_prices_from_pricing_json(api: responses.RequestsMock,
                                                  driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/server/type/cloud/", "GET_server_type_cloud.json")
    sizes = driver.list_sizes()
    table = [(s.id, s.name, s.ram, s.disk, s.vcpus, s.price, s.bandwidth) for s in sizes]
    assert table == [
        ("27", "CS025 - 0.25GB, 1Core, 15GB", 256, 15, 1, 0.0, None),
        ("5", "CS05 - 0.5GB, 1Core, 25GB", 512, 25, 1, 0.031, None),
        ("3", "CS1 - 1GB, 1Core, 50GB", 1024, 50, 1, 0.063, None),
        ("46", "CS2.1 - 2GB, 1Core, 75GB", 2048, 75, 1, 0.10, None),
        ("48", "CS4.2 - 4GB, 2Core, 100GB", 4096, 100, 2, 0.15, None),
        ("219", "CS05-SSD - 0.5GB, 1Core, 25GB, 10 Gbps", 512, 25, 1, None, None),
        ("221", "CS1-SSD - 1GB, 1Core, 25GB, 10 Gbps", 1024, 25, 1, None, None),
    ]
    assert sizes[1].extra["sku"] == "CS05"
    assert sizes[1].extra["billable_type"] == 1
    # The free size is priced 0.0, not "unknown".
    assert sizes[0].price == 0.0 and sizes[0].price is not None


def test_list_sizes_without_a_pricing_file(api: responses.RequestsMock, driver: NephoscaleNodeDriver,
                                           monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                           caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("CLOUDKIT_PRICING_FILE", str(tmp_path / "missing.json"))
    clear_pricing_cache()
    add(api, "GET", "/server/type/cloud/", "GET_server_type_cloud.json")
    with caplog.at_level(logging.WARNING, logger="cloudkit"):
        sizes = driver.list_sizes()
    assert all(s.price is None for s in sizes)
    assert caplog.text.count("no NephoScale prices") == 1


def test_the_bundled_pricing_file_prices_the_legacy_sizes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CLOUDKIT_PRICING_FILE", raising=False)
    clear_pricing_cache()
    try:
        for size_id, price in PRICES.items():
            assert get_size_price("nephoscale", size_id) == price
        assert get_size_price("nephoscale", "221") is None
    finally:
        clear_pricing_cache()


def test_list_sizes_forbidden(api: responses.RequestsMock, driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/server/type/cloud/", "GET_server_type_cloud_403.json")
    with pytest.raises(ForbiddenError) as info:
        driver.list_sizes()
    assert info.value.status == 403 and info.value.code == "3"


def test_a_listing_without_data_is_malformed(api: responses.RequestsMock,
                                             driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/server/type/cloud/", body={"success": True, "response": 200, "message": "ok"})
    with pytest.raises(MalformedResponseError, match="no 'data'"):
        driver.list_sizes()


def test_a_listing_that_is_an_array_is_malformed(api: responses.RequestsMock,
                                                 driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/image/server/", body=[{"id": 1}])
    with pytest.raises(MalformedResponseError):
        driver.list_images()


def test_a_2xx_envelope_reporting_failure_is_an_error(api: responses.RequestsMock,
                                                      driver: NephoscaleNodeDriver) -> None:
    add(api, "GET", "/datacenter/zone/", status=200,
        body={"success": False, "subcode": 2, "message": "Authorization failed", "data": {}, "response": 401})
    with pytest.raises(InvalidCredsError) as info:
        driver.verify_credentials()
    assert info.value.status == 401
    assert "Authorization failed" in str(info.value)
