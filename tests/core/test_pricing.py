"""pricing.json: bundled, overridable by argument and environment, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cloudkit import ConfigurationError
from cloudkit.pricing import clear_pricing_cache, get_pricing_file_path, get_size_price, get_size_prices


@pytest.fixture(autouse=True)
def _fresh_cache():
    clear_pricing_cache()
    yield
    clear_pricing_cache()


def test_bundled_file_has_every_provider() -> None:
    path = get_pricing_file_path()
    assert path.is_file()
    data = json.loads(path.read_text())
    for provider in ("digitalocean", "linode", "hostvirtual", "nephoscale"):
        assert get_size_prices(provider), provider
    assert all(isinstance(v, float) and v >= 0 for v in get_size_prices("nephoscale").values())
    assert "compute" in data


def test_unknown_size_is_none() -> None:
    assert get_size_price("nephoscale", "no-such-size") is None
    assert get_size_price("no-such-provider", "x") is None


def test_custom_file_by_argument_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    own = tmp_path / "prices.json"
    own.write_text(json.dumps({"compute": {"acme": {"tiny": 0.5, "big": {"hourly": 2, "monthly": 1400}}}}))
    assert get_size_price("acme", "tiny", pricing_file=own) == 0.5
    assert get_size_price("acme", "big", pricing_file=own) == 2.0
    monkeypatch.setenv("CLOUDKIT_PRICING_FILE", str(own))
    assert get_pricing_file_path() == own
    assert get_size_price("acme", "tiny") == 0.5


def test_broken_files_give_configuration_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not found"):
        get_size_price("acme", "x", pricing_file=tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigurationError, match="cannot be read"):
        get_size_price("acme", "x", pricing_file=bad)
    wrong = tmp_path / "wrong.json"
    wrong.write_text("[]")
    with pytest.raises(ConfigurationError, match="compute"):
        get_size_price("acme", "x", pricing_file=wrong)
