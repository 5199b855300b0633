"""The package's shape: no import cycles, small modules, no stale words in the code."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "bayes_qct"
MAX_LINES = 400
LONG_MODULES = {
    # module: why it may exceed MAX_LINES
    "bayes_qct.data.reconstruct": "the reconstruction's populations, search and bundling "
    "form one seeded procedure; splitting it would scatter the seed's path",
    "bayes_qct.calibration.targets": "a table of 70-odd calibration targets, each a "
    "row with its registry id, tolerance and statistic",
    "bayes_qct.calibration.fit": "the calibration's objective and its expected statistics "
    "are one closed-form model",
}


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """Modules of the package that ``name`` imports (at any depth of its code)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name in modules}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            submodules = {f"{base}.{a.name}" for a in node.names} & set(modules)
            if submodules and len(submodules) == len(node.names):
                out |= submodules  # `from pkg import submodule`: the submodule only
            elif base in modules:
                out.add(base)
                out |= submodules
    return out - {name}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one member (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _subpackage(name: str) -> str:
    return ".".join(name.split(".")[:2])


def test_no_import_cycle_between_modules() -> None:
    assert _cycles(_graph()) == []


def test_no_import_cycle_between_subpackages() -> None:
    packages: dict[str, set[str]] = {}
    for name, deps in _graph().items():
        own = _subpackage(name)
        packages.setdefault(own, set()).update(
            _subpackage(d) for d in deps if _subpackage(d) != own
        )
    assert _cycles(packages) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_layers_point_down() -> None:
    """Modeling never imports the fit pipeline, the reports, the API or the CLI."""
    graph = _graph()
    upper = ("bayes_qct.fitting", "bayes_qct.reporting", "bayes_qct.api", "bayes_qct.cli")
    lower = ("bayes_qct.modeling", "bayes_qct.data", "bayes_qct.frequentist", "bayes_qct.estimands")
    for name, deps in graph.items():
        if name.startswith(lower):
            wrong = sorted(d for d in deps if d.startswith(upper))
            assert not wrong, (name, wrong)


def test_modules_are_small_or_say_why() -> None:
    too_long = {
        name: n
        for name, path in _modules().items()
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert set(too_long) <= set(LONG_MODULES), too_long


def test_code_speaks_of_the_toolkit_not_of_its_making() -> None:
    pattern = re.compile(r"\b(issue\s*#?\d+|later issue|the lead|helper-\w|team member)\b", re.I)
    hits = [
        f"{path.relative_to(PACKAGE.parent)}:{i}: {line.strip()}"
        for path in _modules().values()
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if pattern.search(line)
    ]
    assert not hits, hits
