"""Add operations missing from a shared storage cut, cut from the upstream description the same way.

Usage (from the repository root, with a local git mirror of the upstream repository)::

    python tests/data/specs/tools/cut_upstream.py linode /path/to/linode-api-docs.git

Reads ``openapi.yaml`` at the commit recorded in the target file's ``info.x-upstream``, copies the
listed paths, empties every ``description``, drops ``summary``/``externalDocs``/``x-codeSamples``,
replaces ``format: date-time`` by the same no-offset pattern as the shared cut, adds a synthesized
example to each 2xx JSON response that has none (flagged ``x-cloudkit-synthesized-example``), and
records the change in ``info.x-cloudkit-patches``. Run it again and nothing changes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

SPECS = Path(__file__).resolve().parents[1]
_DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}"

#: target file -> (upstream file, the paths to add)
CUTS: dict[str, tuple[str, list[str]]] = {
    "linode": ("openapi.yaml", ["/{apiVersion}/volumes/types"]),
}
TARGETS = {"linode": "linode-storage.schema.json"}


def strip(node: Any) -> Any:
    """The structure without prose (``description`` emptied, summaries and docs links dropped)."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in ("summary", "externalDocs", "x-codeSamples", "x-linode-cli-action",
                       "x-linode-grant", "x-linode-cli-command"):
                continue
            if key == "description" and isinstance(value, str):
                out[key] = ""
                continue
            out[key] = strip(value)
        if out.get("format") == "date-time":
            del out["format"]
            out["pattern"] = _DATE_PATTERN
        return out
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def example_of(schema: dict[str, Any]) -> Any:
    """An example assembled from the field-level examples."""
    if "example" in schema:
        return schema["example"]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {k: example_of(v) for k, v in schema.get("properties", {}).items()}
    if kind == "array":
        return [example_of(schema.get("items", {}))]
    return {"integer": 0, "number": 0, "boolean": False, "string": ""}.get(str(kind))


def main(provider: str, mirror: str) -> None:
    target = SPECS / TARGETS[provider]
    doc = json.loads(target.read_text(encoding="utf-8"))
    upstream_file, paths = CUTS[provider]
    commit = doc["info"]["x-upstream"]["commit"]
    text = subprocess.run(["git", "-C", mirror, "show", f"{commit}:{upstream_file}"],
                          check=True, capture_output=True, text=True).stdout
    upstream = yaml.safe_load(text)
    for path in paths:
        item = strip(upstream["paths"][path])
        for _method, op in item.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            # the same fix as the shared cut's networking/ips/share: a server ending in /v4
            # plus the path's own /{apiVersion} only matches /v4/v4/...
            op.pop("servers", None)
            for status, response in op["responses"].items():
                media = response.get("content", {}).get("application/json")
                if str(status).startswith("2") and media and "example" not in media:
                    media["example"] = example_of(media["schema"])
                    media["x-cloudkit-synthesized-example"] = True
        doc["paths"].pop(path, None)
        # before the templated siblings: the first matching template wins (/volumes/types
        # would otherwise be taken for /volumes/{volumeId})
        doc["paths"] = {path: item, **doc["paths"]}
    note = (f"Added from the same upstream commit by tests/data/specs/tools/cut_upstream.py (flag "
            f"x-cloudkit-added on each): {', '.join(paths)} (volume prices, for StorageVolume pricing); "
            "prose removed and date-time replaced as above, the operation-level servers override removed "
            "(as for networking/ips/share), examples synthesized from field examples.")
    patches = doc["info"].setdefault("x-cloudkit-patches", [])
    if note not in patches:
        patches.append(note)
    for path in paths:
        doc["paths"][path]["x-cloudkit-added"] = True
    target.write_text(json.dumps(doc, separators=(",", ":"), ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
