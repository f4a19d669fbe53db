"""The package's shape, checked: layers, cycles, private names, module size, public API.

A newcomer should find each concept in one obvious place, and the rules that keep it so are
cheap to break by accident; these tests make a broken rule fail the suite with the offending
file and line.
"""

import ast
import json
import re
from pathlib import Path

import pytest

import simulator

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "simulator"
MAX_LINES = 400
PYPLOT_IMPORT = re.compile(
    r"^\s*(import matplotlib\.pyplot|from matplotlib\.pyplot import"
    r"|from matplotlib import .*\bpyplot\b)",
    re.M,
)

# Layers, top to bottom: a module may import from its own subpackage and from lower layers only.
LAYERS = [
    {"cli"},
    {"optimize"},
    {"dashboard"},  # the what-if page: runs as `promosim run` does, values parsed as sweeps do
    {"sweeps"},
    {"reports"},
    {"fitting"},
    {"analysis"},
    {"engine"},
    {"scenario"},
    {"clv"},  # a customer table speaks the lifecycle's language (segments, states)
    {"domain"},
    {"files", "formatting", "yamlfiles"},
    {"errors"},
]
LAYER_OF = {name: k for k, names in enumerate(LAYERS) for name in names}


def module_name(path: Path) -> str:
    """Dotted module name of a file in the package."""
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def unit(module: str) -> str:
    """The layer unit of a module: its subpackage, or its own name for a top-level module."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def imports(path: Path):
    """(line, imported module, imported names) of every import of the package in a file."""
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "simulator" or node.module.startswith("simulator."):
                names = [a.name for a in node.names]
                # `from simulator.engine import kernel` imports a module
                subs = [f"{node.module}.{n}" for n in names if f"{node.module}.{n}" in MODULES]
                for sub in subs:
                    yield node.lineno, sub, []
                rest = [n for n in names if f"{node.module}.{n}" not in MODULES]
                if rest or not subs:
                    yield node.lineno, node.module, rest
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith("simulator"):
                    yield node.lineno, a.name, []


def test_every_module_belongs_to_a_layer():
    """A new subpackage or top-level module must be placed in LAYERS deliberately."""
    unplaced = sorted({unit(m) for m in MODULES if unit(m) and unit(m) not in LAYER_OF})
    assert unplaced == []


def upward_imports(path: Path, module: str) -> list[str]:
    """The imports of a module that do not go down the layers, as `line N: why` texts."""
    me = LAYER_OF[unit(module)]
    bad = []
    for line, target, names in imports(path):
        if target == "simulator":
            if names != ["__version__"]:
                bad.append(f"line {line}: the public API `simulator` from inside the package")
            continue
        other = unit(target)
        if other != unit(module) and LAYER_OF[other] <= me:
            bad.append(f"line {line}: {target} is not below {unit(module)}")
    return bad


@pytest.mark.parametrize("module", [m for m in MODULES if m != "simulator"])
def test_imports_only_go_down(module):
    """cli > sweeps > reports > fitting > analysis > engine > scenario > clv/domain > base."""
    assert upward_imports(MODULES[module], module) == [], f"{MODULES[module]}"


def test_layer_check_catches_upward_and_sideways_imports(tmp_path):
    """The rule itself: an engine module may not import the CLI, nor the domain clv."""
    bad = tmp_path / "bad.py"
    bad.write_text("from simulator.cli.common import load\nfrom simulator.engine import rng\n")
    assert upward_imports(bad, "simulator.engine.bad") == [
        "line 1: simulator.cli.common is not below engine"
    ]
    bad.write_text("from simulator.clv.bgnbd import fit_bgnbd\n")
    assert upward_imports(bad, "simulator.domain.bad") == [
        "line 1: simulator.clv.bgnbd is not below domain"
    ]


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle of a module graph as a path (first module repeated), or []."""
    done, stack = set(), []

    def visit(m):
        if m in stack:
            return stack[stack.index(m) :] + [m]
        if m in done:
            return []
        stack.append(m)
        for t in sorted(graph.get(m, ())):
            cycle = visit(t)
            if cycle:
                return cycle
        stack.pop()
        done.add(m)
        return []

    for m in sorted(graph):
        cycle = visit(m)
        if cycle:
            return cycle
    return []


def test_no_import_cycle():
    """No module reaches itself through the package's imports (function-level ones too)."""
    graph = {
        m: {t for _, t, _ in imports(p) if t in MODULES and t != "simulator"}
        for m, p in MODULES.items()
    }
    assert find_cycle(graph) == []
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_private_name_from_another_module(module):
    """`_name`s are a module's own: nothing imports them from elsewhere."""
    bad = [
        f"line {line}: {n} from {target}"
        for line, target, names in imports(MODULES[module])
        for n in names
        if n.startswith("_") and not n.startswith("__")
    ]
    assert bad == [], f"{MODULES[module]}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_are_small(module):
    """No module over about 400 lines: one concept per module."""
    n = len(MODULES[module].read_text().splitlines())
    assert n <= MAX_LINES, f"{MODULES[module]} has {n} lines"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_backend_switch(module):
    """A library never switches the user's matplotlib backend, nor draws through pyplot."""
    text = MODULES[module].read_text()
    assert "matplotlib.use(" not in text
    assert not PYPLOT_IMPORT.search(text), "pyplot imported"


@pytest.mark.parametrize(
    "notebook", sorted((ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.name
)
def test_notebooks_use_only_the_public_api(notebook):
    """Notebooks import from `simulator` itself, never from its modules."""
    cells = json.loads(notebook.read_text())["cells"]
    bad = []
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        tree = ast.parse(
            "\n".join(
                line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))
            )
        )
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("simulator."):
                bad.append(node.module)
            if isinstance(node, ast.ImportFrom) and node.module == "simulator":
                bad += [a.name for a in node.names if a.name not in simulator.__all__]
            if isinstance(node, ast.Import):
                bad += [a.name for a in node.names if a.name.startswith("simulator.")]
    assert bad == []


def test_public_api_resolves():
    """Every name in `simulator.__all__` imports; every function and class has a docstring."""
    for name in simulator.__all__:
        obj = getattr(simulator, name)
        if callable(obj):
            assert obj.__doc__ and obj.__doc__ != type(obj).__doc__, name
    assert set(simulator.__all__) >= {"load_scenario", "simulate", "PromotionModel", "compute_kpis"}
