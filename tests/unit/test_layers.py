"""The layer rule, read from the source with ``ast``: imports flow one way, and check stays offline.

``errors ← reference ← kinds ← settings ← {manifests, registry, config, policy} ← commands ←
report ← cli``: a module may import its own layer's units listed in ``SIDEWAYS`` and any lower
layer, never a higher one. Every import counts, lazy ones inside functions too. Separately,
what ``pinner check`` imports when it starts (module-level imports, followed through pinner)
must not reach the network stack. As go-containerregistry's ``depcheck_test.go`` does.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.paths import REPO

PACKAGE = REPO / "pinner"
# Lowest first. A unit is a top-level module, or a package with everything in it.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset(
        {"pinner", "pinner.errors", "pinner.jsonload", "pinner.programs", "pinner.untrusted"}
    ),
    frozenset({"pinner.reference", "pinner.sizes"}),
    frozenset({"pinner.kinds", "pinner.helm_shapes"}),
    frozenset({"pinner.settings"}),
    frozenset({"pinner.manifests", "pinner.registry", "pinner.config", "pinner.policy"}),
    frozenset(
        {
            "pinner.check",
            "pinner.gatekeeper",
            "pinner.helm",
            "pinner.lockfile",
            "pinner.pinning",
            "pinner.planning",
            "pinner.reader",
            "pinner.tags",
            "pinner.tally",
            "pinner.verify",
            "pinner.writing",
        }
    ),
    frozenset({"pinner.formats", "pinner.report", "pinner.sarif", "pinner.verify_report"}),
    frozenset({"pinner.cli"}),
    frozenset({"pinner.__main__"}),
)
# The imports allowed between units of one layer; the phases stay apart otherwise.
SIDEWAYS = frozenset(
    {
        ("pinner.config", "pinner.manifests"),  # the YAML composer, for .pinner.yaml's lines
        ("pinner.check", "pinner.tally"),  # the figures of the summary line
        ("pinner.check", "pinner.helm"),  # the notices about Helm values' digest keys
        ("pinner.pinning", "pinner.planning"),  # a run of pins plans each file
        ("pinner.pinning", "pinner.tally"),
        ("pinner.planning", "pinner.tally"),
        ("pinner.lockfile", "pinner.planning"),
        ("pinner.writing", "pinner.planning"),
        ("pinner.lockfile", "pinner.pinning"),
        ("pinner.writing", "pinner.pinning"),
        ("pinner.tags", "pinner.reader"),  # the registry reader both need
        ("pinner.verify", "pinner.reader"),
        ("pinner.report", "pinner.formats"),  # the pieces every report is made of
        ("pinner.verify_report", "pinner.formats"),
        ("pinner.formats", "pinner.sarif"),  # the SARIF format
        ("pinner.report", "pinner.sarif"),
        ("pinner.verify_report", "pinner.sarif"),
    }
)
PACKAGES = ("manifests", "registry", "config", "cli")
# What `pinner check` must never load: HTTP and the registry client stack.
NETWORK = ("httpx", "httpcore", "pinner.registry.client", "pinner.registry.transport")
NETWORK += ("pinner.registry.session",)
CHECK_ENTRY = ("pinner.__main__", "pinner.cli", "pinner.cli.check")


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def unit_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) >= 2 and parts[1] in PACKAGES:
        return ".".join(parts[:2])
    return ".".join(parts[:2]) if len(parts) >= 2 else module


def layer_of(name: str) -> int:
    for index, units in enumerate(LAYERS):
        if name in units:
            return index
    raise AssertionError(f"{name} is in no layer: add it to LAYERS in {__file__}")


def imported(tree: ast.AST) -> Iterator[str]:
    """Every pinner module ``tree`` imports, wherever the import statement is."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def source_modules() -> dict[str, ast.Module]:
    return {module_name(path): ast.parse(path.read_text()) for path in PACKAGE.rglob("*.py")}


def arrows(modules: dict[str, ast.Module]) -> set[tuple[str, str, str]]:
    """(importing module, its unit, the imported unit) for every import of a pinner module."""
    found = set()
    for module, tree in modules.items():
        for name in imported(tree):
            if name.split(".")[0] == "pinner" and (name in modules or name == "pinner"):
                found.add((module, unit_of(module), unit_of(name)))
    return found


def wrong_way(found: set[tuple[str, str, str]]) -> list[str]:
    problems = []
    for module, source, target in sorted(found):
        if source == target:
            continue
        above, below = layer_of(source), layer_of(target)
        if below > above or (below == above and (source, target) not in SIDEWAYS):
            problems.append(f"{module} imports {target}")
    return problems


def test_imports_flow_one_way() -> None:
    assert wrong_way(arrows(source_modules())) == []


def test_the_rule_refuses_an_arrow_up_and_one_across() -> None:
    assert wrong_way({("pinner.errors", "pinner.errors", "pinner.cli")}) == [
        "pinner.errors imports pinner.cli"
    ]
    across = ("pinner.registry.client", "pinner.registry", "pinner.manifests")
    assert wrong_way({across}) == ["pinner.registry.client imports pinner.manifests"]
    assert wrong_way({("pinner.cli.check", "pinner.cli", "pinner.check")}) == []
    with pytest.raises(AssertionError, match="in no layer"):
        layer_of("pinner.newcomer")


def eager_imports(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements that run when the module is imported: not those in functions,
    nor under ``if TYPE_CHECKING:``."""
    for node in body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        elif isinstance(node, ast.If):
            if not (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"):
                yield from eager_imports(node.body)
            yield from eager_imports(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                yield from eager_imports(block)
        elif isinstance(node, (ast.With, ast.ClassDef)):
            yield from eager_imports(node.body)


def loaded_at_start(entry: tuple[str, ...], modules: dict[str, ast.Module]) -> set[str]:
    """Every module importing ``entry`` loads: pinner's own followed, others named."""
    loaded: set[str] = set()
    todo = list(entry)
    while todo:
        name = todo.pop()
        if name in loaded:
            continue
        loaded.add(name)
        if name not in modules:
            continue  # not pinner's: named, not followed
        parents = [".".join(name.split(".")[:end]) for end in range(1, name.count(".") + 1)]
        todo += parents  # importing pinner.a.b runs pinner/a/__init__.py first
        for node in eager_imports(modules[name].body):
            if isinstance(node, ast.Import):
                todo += [alias.name for alias in node.names]
            elif node.module and node.level == 0 and node.module != "__future__":
                todo.append(node.module)
                todo += [f"{node.module}.{a.name}" for a in node.names]
    return {name for name in loaded if name in modules or name.split(".")[0] != "pinner"}


def test_pinner_check_loads_no_network_module() -> None:
    loaded = loaded_at_start(CHECK_ENTRY, source_modules())
    assert "pinner.manifests.finder" in loaded  # the walk follows the imports
    reached = sorted(
        name for name in loaded if any(name == n or name.startswith(f"{n}.") for n in NETWORK)
    )
    assert reached == []


def test_the_check_walk_would_see_a_network_import() -> None:
    modules = source_modules()
    modules["pinner.check"] = ast.parse("from pinner.registry.client import RegistryClient\n")
    assert "pinner.registry.client" in loaded_at_start(CHECK_ENTRY, modules)
    assert "httpx" in loaded_at_start(CHECK_ENTRY, modules)


def test_the_registry_package_imports_nothing() -> None:
    tree = ast.parse((PACKAGE / "registry" / "__init__.py").read_text())
    assert [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))] == []
