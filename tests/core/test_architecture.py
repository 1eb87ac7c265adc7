"""The shape of the house (docs/architecture.md), checked from the code.

- no import circles among cloudkit's modules (lazy imports inside functions count;
  ``if TYPE_CHECKING:`` blocks and ``if __name__ == "__main__":`` script blocks do not);
- no module in cloudkit/ over 600 lines;
- no ``sleep`` in cloudkit/drivers/ (the in-memory dummy aside): waiting is the base's job;
- no table of built-in provider names outside the registry (and the simulator's registry);
- the deployment classes import without paramiko; ``import cloudkit`` loads no driver, HTTP or
  SSH stack;
- every Connection option given to a driver (``proxies=`` here) reaches its connection.

Each allow-list below names what other parts of issue 17 still had when this test was written,
with the part that owns it; an entry that no longer applies fails the test, so the lists empty
themselves as that work lands (remove the entry then).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Collection, Iterator
from functools import cache
from pathlib import Path

import pytest

from cloudkit import get_driver
from cloudkit.providers import builtin_providers

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "cloudkit"
MAX_LINES = 600

#: Import edges (importer, imported) that close a circle today, and who removes them.
KNOWN_CIRCLE_EDGES: dict[tuple[str, str], str] = {}

#: Modules over MAX_LINES today, and the part of issue 17 that splits them.
KNOWN_OVERSIZED: dict[str, str] = {}

#: Driver modules that still sleep on their own today (17a: NodeDriver.poll_until).
KNOWN_SLEEPERS: dict[str, str] = {}
#: The in-memory dummy may sleep (it simulates boot time without a server to ask).
SLEEP_ALLOWED = {"cloudkit/drivers/dummy.py"}

#: Files allowed to list the built-in providers: the registry and the simulator's registry.
REGISTRIES = {"cloudkit/providers.py"}
SIMULATOR = "cloudkit/testing/simulator/"
#: Provider tables outside the registry today, and who removes them.
KNOWN_TABLES: dict[str, str] = {}


# ------------------------------------------------------------------------------ the import graph


def _modules() -> dict[str, Path]:
    """Dotted module name → file, for every module of the cloudkit package."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(REPO).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _is_main_block(test: ast.expr) -> bool:
    """``if __name__ == "__main__":``: runs only when the file is a script (then it is the
    module ``__main__``, not part of cloudkit's import graph)."""
    return (isinstance(test, ast.Compare) and isinstance(test.left, ast.Name) and test.left.id == "__name__"
            and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators))


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement, at any depth (functions included), except in TYPE_CHECKING and
    ``__main__`` blocks (their ``else:`` branches do count)."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
            continue
        if isinstance(node, ast.If) and (_is_type_checking(node.test) or _is_main_block(node.test)):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def _edges(module: str, path: Path, modules: Collection[str]) -> set[str]:
    """The cloudkit modules ``module`` (read from ``path``) imports: ``from a import b`` is
    the module a.b when there is one, else a; relative imports are resolved."""
    found: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                package = _package_of(module, path).split(".")
                package = package[:len(package) - (node.level - 1)]
                base = ".".join([*package, *([base] if base else [])])
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                targets.append(candidate if candidate in modules else base)
        for target in targets:
            # `import cloudkit.a.b` names cloudkit.a.b; an unknown name falls back to its package
            while target and target not in modules:
                target = target.rpartition(".")[0]
            if target and target != module and target.split(".")[0] == "cloudkit":
                found.add(target)
    return found


@cache
def import_graph() -> dict[str, set[str]]:
    """Module → the cloudkit modules it imports."""
    modules = _modules()
    return {module: _edges(module, path, modules) for module, path in modules.items()}


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One circle (as a path a -> b -> ... -> a) per strongly connected group of modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    groups: list[list[str]] = []

    def visit(start: str) -> None:  # Tarjan's algorithm, iterative (no recursion limit)
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, edges = work[-1]
            advanced = False
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return [_path_within(graph, set(group)) for group in groups]


def _path_within(graph: dict[str, set[str]], group: set[str]) -> list[str]:
    """A shortest circle through the first module of ``group``, staying inside it."""
    start = min(group)
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in sorted(graph[node] & group):
                if nxt == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if nxt not in previous:
                    previous[nxt] = node
                    following.append(nxt)
        frontier = following
    raise AssertionError(f"no circle found in {sorted(group)}")  # pragma: no cover


def test_the_import_graph_is_read_from_the_code() -> None:
    graph = import_graph()
    # a lazy import inside a function counts, a TYPE_CHECKING one does not
    assert "cloudkit.ssh" in graph["cloudkit._deploy"]  # imported inside deploy_node's helpers
    assert "cloudkit._deploy" in graph["cloudkit.driver"]  # `from cloudkit import _deploy` in deploy_node
    assert "cloudkit.deployment" not in graph["cloudkit.driver"]  # only under TYPE_CHECKING
    assert "cloudkit.driver" in graph["cloudkit.providers"]  # lazy, in _load
    # `from cloudkit import secrets_gen` is the module, `from cloudkit.errors import X` the errors module
    assert "cloudkit.secrets_gen" in graph["cloudkit._deploy"] and "cloudkit.errors" in graph["cloudkit._deploy"]
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]
    assert _circles({"a": {"b"}, "b": set()}) == []


def test_every_form_of_import_is_resolved(tmp_path: Path) -> None:
    package = tmp_path / "cloudkit" / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    sample = package / "mod.py"
    sample.write_text(
        "from typing import TYPE_CHECKING\n"
        "import json\n"
        "import cloudkit.errors\n"
        "from cloudkit import models, get_driver\n"
        "from . import sibling\n"
        "from .other import thing\n"
        "from .. import driver\n"
        "if TYPE_CHECKING:\n"
        "    from cloudkit.ssh import SSHClient\n"
        "else:\n"
        "    from cloudkit import paging\n"
        "def f():\n"
        "    from cloudkit.deployment import ScriptDeployment\n"
        "if __name__ == '__main__':\n"
        "    from cloudkit._cli import readme\n")
    modules = {"cloudkit", "cloudkit.errors", "cloudkit.models", "cloudkit.pkg", "cloudkit.pkg.mod",
               "cloudkit.pkg.sibling", "cloudkit.pkg.other", "cloudkit.driver", "cloudkit.ssh", "cloudkit.paging",
               "cloudkit.deployment", "cloudkit._cli", "cloudkit._cli.readme"}
    assert _edges("cloudkit.pkg.mod", sample, modules) == {
        "cloudkit.errors", "cloudkit.models", "cloudkit",  # get_driver: a name of the package
        "cloudkit.pkg.sibling", "cloudkit.pkg.other", "cloudkit.driver", "cloudkit.paging", "cloudkit.deployment"}


def test_no_import_circles() -> None:
    graph = {module: set(targets) for module, targets in import_graph().items()}
    stale = [edge for edge in KNOWN_CIRCLE_EDGES if edge[1] not in graph.get(edge[0], set())]
    assert not stale, f"these allowed edges are gone: remove them from KNOWN_CIRCLE_EDGES: {stale}"
    for importer, imported in KNOWN_CIRCLE_EDGES:
        graph[importer].discard(imported)
    circles = _circles(graph)
    assert not circles, "import circles (lazy imports included):\n" + "\n".join(" -> ".join(c) for c in circles)
    closing = [edge for edge in KNOWN_CIRCLE_EDGES if not _circles({**graph, edge[0]: graph[edge[0]] | {edge[1]}})]
    assert not closing, f"these allowed edges no longer close a circle: remove them from KNOWN_CIRCLE_EDGES: {closing}"


def test_the_layers_point_one_way() -> None:
    graph = import_graph()
    # errors at the bottom (nothing of cloudkit), models just above it
    assert not graph["cloudkit.errors"], f"cloudkit.errors imports {sorted(graph['cloudkit.errors'])}"
    assert graph["cloudkit.models"] <= {"cloudkit.errors"}, f"models imports {sorted(graph['cloudkit.models'])}"
    edges = {"cloudkit._cli", "cloudkit.cli", "cloudkit.testing"}
    for module, targets in import_graph().items():
        if module.startswith(("cloudkit._cli", "cloudkit.testing")) or module == "cloudkit.cli":
            continue
        wrong = sorted(t for t in targets if t in edges or t.startswith(("cloudkit._cli.", "cloudkit.testing.")))
        assert not wrong, f"the core module {module} imports {wrong} (the CLI and testing sit on top)"
    drivers = {m for m in graph if m.startswith("cloudkit.drivers.")}

    def provider(name: str) -> str:
        return name.split(".")[2]

    for module in drivers:
        own = provider(module)
        others = sorted(t for t in graph[module] if t in drivers and provider(t) != own)
        assert not others, f"{module} imports another driver: {others}"


# ------------------------------------------------------------------------------ sizes and sleeps


def _files(under: Path = PACKAGE) -> Iterator[tuple[str, Path]]:
    for path in sorted(under.rglob("*.py")):
        yield path.relative_to(REPO).as_posix(), path


def test_no_module_over_600_lines() -> None:
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in _files()}
    over = {name: n for name, n in sizes.items() if n > MAX_LINES and name not in KNOWN_OVERSIZED}
    assert not over, f"modules over {MAX_LINES} lines (split them by concern): {over}"
    stale = sorted(name for name in KNOWN_OVERSIZED if sizes.get(name, 0) <= MAX_LINES)
    assert not stale, f"no longer over {MAX_LINES} lines: remove from KNOWN_OVERSIZED: {stale}"


def _sleeps(path: Path) -> list[int]:
    """Lines that call or import a ``sleep`` (time.sleep, a bare sleep, asyncio.sleep ...)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr == "sleep":
            lines.append(node.lineno)
        elif isinstance(node, ast.Name) and node.id == "sleep":
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and any(a.name == "sleep" for a in node.names):
            lines.append(node.lineno)
    return sorted(set(lines))


def test_drivers_never_sleep_on_their_own() -> None:
    found = {name: _sleeps(path) for name, path in _files(PACKAGE / "drivers")}
    sleepers = {name: lines for name, lines in found.items()
                if lines and name not in SLEEP_ALLOWED and name not in KNOWN_SLEEPERS}
    assert not sleepers, f"drivers that sleep (wait with NodeDriver.poll_until instead): {sleepers}"
    stale = sorted(name for name in KNOWN_SLEEPERS if not found.get(name))
    assert not stale, f"no longer sleeping: remove from KNOWN_SLEEPERS: {stale}"


def test_the_sleep_finder_finds_every_form(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import time\nfrom time import sleep\n\n\ndef f():\n    time.sleep(1)\n    sleep(2)\n")
    assert _sleeps(sample) == [2, 6, 7]


# ------------------------------------------------------------------------------ provider tables


def _provider_tables(path: Path, names: set[str]) -> list[tuple[int, list[str]]]:
    """Literal sets, tuples, lists and dicts (keys or values) holding two or more of ``names``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Set, ast.Tuple, ast.List)):
            items = node.elts
        elif isinstance(node, ast.Dict):
            items = [k for k in node.keys if k is not None]
        else:
            continue
        hits = sorted({i.value for i in items if isinstance(i, ast.Constant) and i.value in names})
        if len(hits) >= 2:
            found.append((node.lineno, hits))
    return found


def test_no_table_of_builtin_providers_outside_the_registry() -> None:
    names = set(builtin_providers())
    tables = {name: found for name, path in _files()
              if name not in REGISTRIES and not name.startswith(SIMULATOR)
              and (found := _provider_tables(path, names))}
    unexpected = {name: found for name, found in tables.items() if name not in KNOWN_TABLES}
    assert not unexpected, (
        "built-in provider names listed by hand (derive them from cloudkit.providers or the driver's "
        f"credential_names / demo_defaults): {unexpected}")
    stale = sorted(set(KNOWN_TABLES) - set(tables))
    assert not stale, f"no longer listing providers: remove from KNOWN_TABLES: {stale}"


def test_the_simulator_lists_only_what_its_registry_says() -> None:
    """The simulator's registry is its one list: every provider it serves is a registry name."""
    from cloudkit.testing.simulator import PROVIDERS

    assert set(PROVIDERS) <= set(builtin_providers())


def test_the_table_finder_finds_tables(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text('A = {"linode": 1, "digitalocean": 2}\nB = ("linode",)\nC = ["x", "nephoscale", "dummy"]\n'
                      'D = frozenset({"hostvirtual", "linode"})\n')
    names = {"linode", "digitalocean", "nephoscale", "dummy", "hostvirtual"}
    assert _provider_tables(sample, names) == [
        (1, ["digitalocean", "linode"]), (3, ["dummy", "nephoscale"]), (4, ["hostvirtual", "linode"])]


# ------------------------------------------------------------------------------ what loads when


def _fresh(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=60)


def test_deployment_classes_import_without_paramiko() -> None:
    done = _fresh("import sys\n"
                  "import cloudkit.deployment\n"
                  "from cloudkit.deployment import ScriptDeployment, SSHKeyDeployment, MultiStepDeployment\n"
                  "from cloudkit.deployment import DeployEvent, FileDeployment, ScriptFileDeployment\n"
                  "step = MultiStepDeployment([ScriptDeployment('echo hi')])\n"
                  "assert 'paramiko' not in sys.modules, 'paramiko loaded'\n"
                  "assert 'cloudkit.ssh' not in sys.modules, 'cloudkit.ssh loaded'\n"
                  "print('ok')\n")
    assert done.returncode == 0 and done.stdout == "ok\n", done.stderr


def test_import_cloudkit_loads_no_driver_and_no_http_or_ssh_stack() -> None:
    done = _fresh("import sys\n"
                  "import cloudkit\n"
                  "loaded = sorted(m for m in sys.modules if m.startswith('cloudkit.drivers') or m.split('.')[0] in "
                  "('requests', 'urllib3', 'paramiko') or m.startswith(('cloudkit.testing', 'cloudkit._cli')))\n"
                  "print(loaded)\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[]\n"


#: Modules a driver needs only for some calls (hashing a key, parsing a Retry-After date, a
#: password, jitter, a UUID): loaded on first use, so that making a driver stays quick.
ON_FIRST_USE = ("hashlib", "email.utils", "uuid", "random", "secrets", "requests", "urllib3", "paramiko")


@pytest.mark.parametrize("provider", builtin_providers())
def test_making_a_driver_loads_only_what_every_call_needs(provider: str) -> None:
    done = _fresh("import sys\n"
                  "from cloudkit import get_driver\n"
                  f"cls = get_driver({provider!r})\n"
                  "cls(*('placeholder',) * len(cls.credential_names))\n"
                  f"print(sorted(m for m in {ON_FIRST_USE!r} if m in sys.modules))\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[]\n"


# ------------------------------------------------------------------------------ driver options


PROXIES = {"https": "http://127.0.0.1:9"}


@pytest.mark.parametrize("provider", builtin_providers())
def test_proxies_reach_the_connection_through_get_driver(provider: str) -> None:
    cls = get_driver(provider)
    args = ("placeholder-user", "placeholder-secret") if len(cls.credential_names) > 1 else ("placeholder-key",)
    driver = cls(*args, proxies=dict(PROXIES))
    assert driver.connection.proxies == PROXIES


def test_proxies_reach_the_connection_of_a_driver_built_directly() -> None:
    from cloudkit.drivers.dummy import DummyNodeDriver

    assert DummyNodeDriver("key", proxies=dict(PROXIES)).connection.proxies == PROXIES
