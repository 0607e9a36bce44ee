"""The rooms of ARCHITECTURE.md, enforced: the core math knows nothing of its surfaces.

Every import statement of every module (at the top or inside a function) is read with
``ast``; relative imports are resolved to absolute names.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "xlcalc"
SURFACES = {"xlcalc.cli", "xlcalc.udfs", "xlcalc.template", "xlcalc.report", "xlcalc.__main__"}
EXCEL_AND_TERMINAL = {"xlwings", "openpyxl", "click"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = _module_name(path) if path.name == "__init__.py" else _module_name(path).rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module
            found.add(module)
            # `from . import core` imports xlcalc.core
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _in(name: str, roots) -> bool:
    return any(name == root or name.startswith(root + ".") for root in roots)


def _room(module: str) -> str:
    for surface in SURFACES:
        if _in(module, [surface]):
            return surface
    return "core"


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}
CORE = sorted(m for m in MODULES if _room(m) == "core")


def test_the_package_has_a_core_and_every_surface():
    assert {"xlcalc.core", "xlcalc._inputs", "xlcalc.perpetual"} <= set(CORE)
    assert {_room(m) for m in MODULES} >= {
        "core",
        "xlcalc.cli",
        "xlcalc.udfs",
        "xlcalc.template",
        "xlcalc.report",
    }


@pytest.mark.parametrize("module", CORE)
def test_core_modules_import_no_surface_and_no_excel_or_terminal_library(module):
    bad = sorted(
        name for name in _imports(MODULES[module]) if _in(name, EXCEL_AND_TERMINAL) or _room(name) != "core"
    )
    assert not bad, f"{module} imports {bad}: the core must not know its surfaces"


@pytest.mark.parametrize("surface", ["xlcalc.udfs", "xlcalc.template", "xlcalc.report"])
def test_surfaces_do_not_import_each_other(surface):
    # only the command line ties the surfaces together (it runs the template and the report)
    others = SURFACES - {surface, "xlcalc.__main__"}
    bad = sorted(
        name for m, p in MODULES.items() if _room(m) == surface for name in _imports(p) if _in(name, others)
    )
    assert not bad, f"{surface} imports {bad}"


def test_the_excel_functions_do_not_write_workbooks():
    bad = sorted(n for n in _imports(MODULES["xlcalc.udfs"]) if _in(n, {"openpyxl", "click"}))
    assert not bad
