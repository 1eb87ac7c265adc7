"""Size prices from ``pricing.json`` (hourly USD per provider and size id).

The file ships inside the installed package. A user can point to their own file with
the ``pricing_file`` argument or the ``CLOUDKIT_PRICING_FILE`` environment variable.
A size price is either a number (hourly) or ``{"hourly": h, "monthly": m}``. Block storage
prices sit under ``storage``: per provider, ``{"volume": {"gb_hourly": h, "gb_monthly": m}}``.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from cloudkit.errors import ConfigurationError

__all__ = ["clear_pricing_cache", "get_pricing", "get_pricing_file_path", "get_size_price", "get_size_prices",
           "get_volume_price"]

ENV_VAR = "CLOUDKIT_PRICING_FILE"

_cache: dict[str, dict[str, Any]] = {}
_lock = threading.Lock()


def get_pricing_file_path(pricing_file: str | os.PathLike[str] | None = None) -> Path:
    """The pricing file in use: the argument, else $CLOUDKIT_PRICING_FILE, else the bundled one."""
    if pricing_file is not None:
        return Path(pricing_file).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    bundled = Path(__file__).with_name("pricing.json")
    if bundled.is_file():
        return bundled
    # Running from a source checkout: the canonical file sits at the repository top.
    return Path(__file__).resolve().parent.parent / "pricing.json"


def get_pricing(pricing_file: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The whole pricing document (cached per path)."""
    path = get_pricing_file_path(pricing_file)
    key = str(path)
    with _lock:
        cached = _cache.get(key)
    if cached is not None:
        return cached
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(f"pricing file not found: {path}") from None
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"pricing file {path} cannot be read: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("compute"), dict):
        raise ConfigurationError(f"pricing file {path} has no 'compute' object")
    with _lock:
        _cache[key] = data
    return data


def clear_pricing_cache() -> None:
    """Forget loaded pricing files (after editing one)."""
    with _lock:
        _cache.clear()


def _hourly(entry: Any) -> float | None:
    if isinstance(entry, bool):
        return None
    if isinstance(entry, (int, float)):
        return float(entry)
    if isinstance(entry, dict) and isinstance(entry.get("hourly"), (int, float)):
        return float(entry["hourly"])
    return None


def get_size_prices(provider: str, pricing_file: str | os.PathLike[str] | None = None) -> dict[str, float]:
    """Every known hourly price for ``provider`` (a Provider or its name)."""
    table = get_pricing(pricing_file)["compute"].get(str(provider).lower(), {})
    if not isinstance(table, dict):
        return {}
    prices = {str(size): _hourly(entry) for size, entry in table.items() if not str(size).startswith("_")}
    return {size: price for size, price in prices.items() if price is not None}


def get_size_price(provider: str, size_id: str | int,
                   pricing_file: str | os.PathLike[str] | None = None) -> float | None:
    """The hourly USD price of ``size_id`` at ``provider``, or None when unknown."""
    return get_size_prices(provider, pricing_file).get(str(size_id))


def get_volume_price(provider: str, pricing_file: str | os.PathLike[str] | None = None) -> float | None:
    """The hourly USD price of one GB of block storage at ``provider`` (``storage`` section;
    ``gb_monthly`` / 730 when no hourly rate is given), or None when unknown."""
    table = get_pricing(pricing_file).get("storage")
    entry = table.get(str(provider).lower(), {}).get("volume") if isinstance(table, dict) else None
    if not isinstance(entry, dict):
        return None
    hourly = entry.get("gb_hourly")
    if isinstance(hourly, (int, float)) and not isinstance(hourly, bool):
        return float(hourly)
    monthly = entry.get("gb_monthly")
    if isinstance(monthly, (int, float)) and not isinstance(monthly, bool):
        return round(float(monthly) / 730, 8)
    return None
