"""The architecture, held by reading the sources (docs/architecture.md says why each rule exists).

- Nothing outside ``providers/`` names a provider: no import of a provider's module, no
  comparison with a provider's name, no destination identity spelled out (``"sentry:..."``).
  A component asks the provider (``destination_id()``, ``destination()``, ``problem()``).
- No import cycle at any level: imports inside functions count, because they run too (only
  ``if TYPE_CHECKING:`` blocks never run). The dashboard (``tui/``, installed as
  ``crawl4ai.telemetry.tui``) is part of the graph.
- The environment is read in ``settings.py`` only (``os.environ``, ``os.getenv``, and
  ``expanduser``, which reads ``HOME``).
"""

from __future__ import annotations

import ast
from importlib.metadata import entry_points
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "crawl4ai" / "telemetry"
ROOTS = {"crawl4ai.telemetry": PACKAGE, "crawl4ai.telemetry.tui": REPO / "tui"}
PROVIDERS = PACKAGE / "providers"


def _modules() -> dict[str, Path]:
    modules = {}
    for prefix, root in ROOTS.items():
        for path in root.rglob("*.py"):
            parts = path.relative_to(root).with_suffix("").parts
            name = ".".join([prefix, *(parts[:-1] if parts[-1] == "__init__" else parts)])
            modules[name] = path
    return modules


MODULES = _modules()


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"))


def _type_checking_only(tree: ast.AST) -> set[ast.AST]:
    """The nodes under ``if TYPE_CHECKING:``: they never run."""
    skipped: set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for statement in node.body:
                skipped.update(ast.walk(statement))
    return skipped


def _imported(name: str, path: Path, node: ast.Import | ast.ImportFrom) -> set[str]:
    """The add-on's modules an import statement in module ``name`` loads."""
    if isinstance(node, ast.Import):
        targets = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
            base = ".".join([*package[:len(package) - node.level + 1], *([base] if base else [])])
        targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                   for alias in node.names]
    found = set()
    for target in targets:
        while target and target not in MODULES and "." in target:
            target = target.rpartition(".")[0]  # a name inside a module: the module
        if target in MODULES and target != name:
            found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    """Every import of the add-on's modules, at module level or inside a function."""
    graph = {}
    for name, path in MODULES.items():
        tree = _parse(path)
        skipped = _type_checking_only(tree)
        graph[name] = set().union(*(
            _imported(name, path, node) for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom) and node not in skipped))
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found, state = [], {}  # state: 1 on the current path, 2 done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for dep in sorted(graph.get(module, ())):
            if state.get(dep) == 1:
                found.append([*path[path.index(dep):], dep])
            elif dep not in state:
                visit(dep, [*path, dep])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return found


def test_no_import_cycle_at_any_level():
    graph = import_graph()
    # The walk sees imports inside functions too, and the dashboard's.
    assert "crawl4ai.telemetry.pipeline.delivery" in graph["crawl4ai.telemetry.pipeline"]
    assert "crawl4ai.telemetry.status_rows" in graph["crawl4ai.telemetry.tui.panes"]
    assert cycles(graph) == []


def test_the_cycle_check_finds_a_cycle_through_a_function_level_import():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c", "a"]]


# -- providers answer for themselves --------------------------------------------------------------

PROVIDER_ENTRY_POINTS = {ep.name: ep.value for ep in entry_points(group="crawl4ai.telemetry.providers")
                         if ep.value.startswith("crawl4ai.telemetry.providers.")}


def _outside_providers() -> dict[str, Path]:
    return {name: path for name, path in MODULES.items()
            if not path.is_relative_to(PROVIDERS)}


def _docstrings(tree: ast.AST) -> set[ast.AST]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(body[0].value)
    return found


def provider_mentions(tree: ast.AST, names: set[str], provider_modules: set[str],
                      module: str, path: Path) -> list[str]:
    """Where code (not prose) names a provider: imports its module, compares with its name, or
    spells a destination identity of it."""
    found = []
    prose = _docstrings(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            for target in _imported(module, path, node) & provider_modules:
                found.append(f"line {node.lineno}: imports {target}")
        elif isinstance(node, ast.Compare):
            for side in (node.left, *node.comparators):
                constants = [side] if isinstance(side, ast.Constant) else \
                    list(side.elts) if isinstance(side, ast.Tuple | ast.List | ast.Set) else []
                for constant in constants:
                    if isinstance(constant, ast.Constant) and constant.value in names:
                        found.append(f"line {node.lineno}: compares with {constant.value!r}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node not in prose:
            if any(node.value.startswith(f"{name}:") for name in names):
                found.append(f"line {node.lineno}: spells {node.value!r}")
    return found


def test_nothing_outside_providers_names_a_provider():
    assert {"sentry", "local", "memory"} <= PROVIDER_ENTRY_POINTS.keys()
    names = set(PROVIDER_ENTRY_POINTS)
    provider_modules = {value.partition(":")[0] for value in PROVIDER_ENTRY_POINTS.values()}
    named = {}
    for module, path in _outside_providers().items():
        found = provider_mentions(_parse(path), names, provider_modules, module, path)
        if found:
            named[module] = found
    assert named == {}


@pytest.mark.parametrize("source", [
    "if provider.name == 'sentry':\n    pass\n",
    "remote = name not in ('local', 'memory')\n",
    "identity = 'sentry:' + host\n",
    "from crawl4ai.telemetry.providers.sentry import SentryProvider\n",
])
def test_the_provider_check_sees_each_way_of_naming_one(source):
    names = {"sentry", "local", "memory"}
    modules = {"crawl4ai.telemetry.providers.sentry"}
    module, path = "crawl4ai.telemetry.api", PACKAGE / "api.py"
    assert provider_mentions(ast.parse(source), names, modules, module, path)


# -- the environment is read in settings.py --------------------------------------------------------

# Modules that touch the environment for a reason other than reading a setting.
NOT_SETTINGS = {
    "crawl4ai.telemetry.settings": "the table itself",
    "crawl4ai.telemetry.demo": "copies the environment into its sandboxed child",
}
_READERS = {"environ", "environb", "getenv", "expanduser"}


def environment_reads(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in _READERS:
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and node.module in ("os", "os.path", "posixpath"):
            lines += [node.lineno for alias in node.names if alias.name in _READERS]
    return lines


def test_no_module_reads_the_environment_outside_the_settings_table():
    readers = {}
    for module, path in MODULES.items():
        lines = environment_reads(_parse(path))
        if lines and module not in NOT_SETTINGS:
            readers[module] = lines
    assert readers == {}


@pytest.mark.parametrize("source", [
    "import os\nhome = os.environ.get('HOME')\n",
    "import os\nuser = os.getenv('USER')\n",
    "from os import environ\n",
    "import os.path\nhome = os.path.expanduser('~')\n",
])
def test_the_environment_check_sees_each_way_of_reading_it(source):
    assert environment_reads(ast.parse(source))
