"""The capability matrix: what each built-in driver can do, answered from the code.

``capability_matrix()`` builds one row per built-in driver from ``driver.supports(...)``
and the driver's ``features``, without any network traffic (each driver is instantiated
with a placeholder key that is never sent anywhere). ``render_markdown_table()`` turns
the rows into the table the README carries between the markers
``<!-- capabilities:start -->`` and ``<!-- capabilities:end -->``; the test suite fails
when that table (or the credentials table next to it) is stale. Regenerate both with::

    python -m cloudkit.capabilities --write README.md

(the command line is :mod:`cloudkit._cli.readme`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cloudkit.driver import NodeDriver
from cloudkit.errors import ConfigurationError, DriverNotFoundError, ValidationError
from cloudkit.providers import builtin_providers, get_driver

__all__ = [
    "CORE_CAPABILITIES",
    "END_MARKER",
    "START_MARKER",
    "STORAGE_CAPABILITIES",
    "DriverCapabilities",
    "capability_matrix",
    "readme_section",
    "render_markdown_table",
    "update_readme",
]

START_MARKER = "<!-- capabilities:start -->"
END_MARKER = "<!-- capabilities:end -->"

#: The contract methods shown for every driver, in display order.
CORE_CAPABILITIES: tuple[str, ...] = (
    "list_nodes",
    "create_node",
    "reboot_node",
    "start_node",
    "stop_node",
    "destroy_node",
    "list_sizes",
    "list_images",
    "list_locations",
    "list_key_pairs",
    "import_key_pair_from_string",
    "create_key_pair",
    "delete_key_pair",
    "verify_credentials",
)

#: Block storage, snapshots and images made from nodes, shown after the core for every driver.
STORAGE_CAPABILITIES: tuple[str, ...] = (
    "list_volumes",
    "create_volume",
    "attach_volume",
    "detach_volume",
    "destroy_volume",
    "list_volume_snapshots",
    "create_volume_snapshot",
    "destroy_volume_snapshot",
    "create_image",
    "delete_image",
)

#: The placeholder credentials a driver is built with to answer ``supports()``.
_PLACEHOLDER = "capability-check-placeholder"


@dataclass(frozen=True)
class Capability:
    """One cell: ``supported``, and the driver's reason when it is not."""

    supported: bool
    reason: str = ""
    #: True when the driver declares the gap itself (``UNSUPPORTED``), with a reason worth showing.
    declared: bool = False


@dataclass(frozen=True)
class DriverCapabilities:
    """One driver's row: registry name, display name, how ``create_node`` gives access to a
    new node (``features["create_node"]``), and every capability in display order."""

    provider: str
    name: str
    create_auth: tuple[str, ...]
    capabilities: dict[str, Capability] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready form."""
        return {
            "provider": self.provider,
            "name": self.name,
            "create_auth": list(self.create_auth),
            "capabilities": {
                cap: {"supported": cell.supported, "reason": cell.reason}
                for cap, cell in self.capabilities.items()
            },
        }


def _builtin_providers() -> list[str]:
    """Built-in provider names: the real providers first, the in-memory Dummy last."""
    return builtin_providers()


def _extras(classes: Iterable[type]) -> list[str]:
    """Every public ``ex_*`` method that any of ``classes`` defines, sorted."""
    found: set[str] = set()
    for cls in classes:
        for attr in dir(cls):
            if attr.startswith("ex_") and callable(getattr(cls, attr, None)):
                found.add(attr)
    return sorted(found)


def _instantiate(cls: type[NodeDriver]) -> NodeDriver:
    """Build ``cls`` with placeholder credentials: a key alone, or a key and a secret for
    drivers that need both (NephoScale). Nothing is sent."""
    try:
        return cls(_PLACEHOLDER)
    except (ConfigurationError, ValidationError, TypeError):
        return cls(_PLACEHOLDER, _PLACEHOLDER)


def capability_matrix(providers: Sequence[str] | None = None, *,
                      skip_missing: bool = False) -> list[DriverCapabilities]:
    """One row per built-in driver (or per name in ``providers``), built without network.

    Columns are :data:`CORE_CAPABILITIES`, :data:`STORAGE_CAPABILITIES`, then every ``ex_`` extra that any of the
    drivers has, so all rows share the same keys. A driver that cannot be imported raises
    ``DriverNotFoundError``, or is left out when ``skip_missing`` is true.
    """
    names = list(providers) if providers is not None else _builtin_providers()
    classes = []
    for name in names:
        try:
            classes.append((name, get_driver(name)))
        except DriverNotFoundError:
            if not skip_missing:
                raise
    columns = [*CORE_CAPABILITIES, *STORAGE_CAPABILITIES, *_extras(cls for _, cls in classes)]
    rows = []
    for name, cls in classes:
        driver = _instantiate(cls)
        cells: dict[str, Capability] = {}
        for cap in columns:
            answer = driver.supports(cap)
            declared = bool(cls.UNSUPPORTED.get(cap))
            cells[cap] = Capability(answer.supported, answer.reason, declared)
        auth = tuple(cls.features.get("create_node", []))
        rows.append(DriverCapabilities(name, cls.name, auth, cells))
    return rows


def _cell(cell: Capability) -> str:
    if cell.supported:
        return "yes"
    return "no\\*" if cell.declared else "no"


def render_markdown_table(rows: Sequence[DriverCapabilities] | None = None) -> str:
    """The capability matrix as Markdown: one line per capability, one column per driver,
    then the reasons drivers give for what their provider's API cannot do."""
    rows = list(rows) if rows is not None else capability_matrix()
    if not rows:
        return "(no drivers)\n"
    header = "| Capability | " + " | ".join(row.name for row in rows) + " |"
    rule = "|---|" + "---|" * len(rows)
    auth = "| login at create (`features`) | " + " | ".join(
        ", ".join(f"`{a}`" for a in row.create_auth) or "none" for row in rows) + " |"
    lines = [header, rule, auth]
    for cap in rows[0].capabilities:
        lines.append(f"| `{cap}` | " + " | ".join(_cell(row.capabilities[cap]) for row in rows) + " |")
    notes = [f"- {row.name}, `{cap}`: {cell.reason}"
             for row in rows for cap, cell in row.capabilities.items()
             if not cell.supported and cell.declared]
    text = "\n".join(lines) + "\n"
    if notes:
        text += "\n\\* the provider's API cannot do this:\n\n" + "\n".join(notes) + "\n"
    return text


def readme_section(text: str, *, start: str = START_MARKER, end: str = END_MARKER) -> str | None:
    """The text between the markers in ``text`` (None when they are missing); by default
    the capability table's."""
    first = text.find(start)
    last = text.find(end)
    if first < 0 or last < first:
        return None
    return text[first + len(start):last].strip("\n") + "\n"


def update_readme(path: str | Path, table: str | None = None, *, start: str = START_MARKER,
                  end: str = END_MARKER) -> bool:
    """Rewrite the table between the markers (by default the capability table's) in the
    README at ``path``; True when it changed.

    Raises ``ValueError`` when the markers are missing.
    """
    readme = Path(path)
    text = readme.read_text(encoding="utf-8")
    first = text.find(start)
    last = text.find(end)
    if first < 0 or last < first:
        raise ValueError(f"{readme} has no {start} ... {end} section")
    table = table if table is not None else render_markdown_table()
    new = text[:first] + start + "\n" + table.rstrip("\n") + "\n" + text[last:]
    if new == text:
        return False
    readme.write_text(new, encoding="utf-8")
    return True


if __name__ == "__main__":  # pragma: no cover - ``python -m cloudkit.capabilities``; the CLI lives in _cli
    from cloudkit._cli.readme import main

    raise SystemExit(main())
