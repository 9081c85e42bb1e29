"""The import graph of a package and the layers of docs/architecture.md, for tests/test_architecture.py.

For the layers every import counts: at the top of a module, under ``TYPE_CHECKING``, inside a
function (late) and under ``if __name__ == "__main__"``. For cycles, the imports that run when a
module is loaded or type-checked count (top and ``TYPE_CHECKING``); a late import defers its module
to the call (how a torch-free command reaches its work), so it closes no cycle."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "architecture.md"
PACKAGE = "aalbert"
LAYERS_HEADING = "## Layers: what may import what"
CYCLE_KINDS = ("top", "typing")


@dataclass(frozen=True)
class Layer:
    name: str
    level: int  # 0 = the bottom level; a layer imports its own and lower levels only
    members: tuple[str, ...]  # paths under aalbert/: "hub.py", "pretrain/cli.py", "upstream/"


@dataclass(frozen=True)
class Allowed:
    """An upward import the document records, with its reason: ``allow  SOURCE.py -> TARGET.py  # why``."""

    source: str  # module files under aalbert/
    target: str
    reason: str


@dataclass(frozen=True)
class LayerMap:
    layers: tuple[Layer, ...]
    allowed: tuple[Allowed, ...] = ()


@dataclass(frozen=True)
class Import:
    source: str  # dotted module names
    target: str
    line: int
    kind: str  # "top" | "typing" (under TYPE_CHECKING) | "late" (in a function) | "main" (under __name__ == "__main__")


def parse_layers(doc: str) -> LayerMap:
    """The first code block after the layers heading. A line ``NAME  MEMBER...`` (indented by one
    space at most) starts a layer, a line indented further continues its members, ``|`` steps down
    a level, ``#`` starts a comment. Members are files (``x.py``) or folders (``x/``) under aalbert/.
    ``allow  SOURCE.py -> TARGET.py  # reason`` records an upward import and why."""
    after = doc[doc.index(LAYERS_HEADING) :]
    block = after.split("```\n", 2)[1]
    rows: list[tuple[int, str, list[str]]] = []  # (level from the top, name, members)
    allowed = []
    level = 0
    for raw in block.splitlines():
        line, _, comment = raw.partition("#")
        line = line.rstrip()
        words = line.split()
        if not words:
            continue
        if words == ["|"]:
            level += 1
        elif words[0] == "allow":
            if len(words) != 4 or words[2] != "->" or not comment.strip():
                raise ValueError(f"{DOC.name}: write `allow SOURCE.py -> TARGET.py  # reason`, got {raw.strip()!r}")
            allowed.append(Allowed(words[1], words[3], comment.strip()))
        elif len(line) - len(line.lstrip()) <= 1:
            rows.append((level, words[0], words[1:]))
        elif rows:
            rows[-1][2].extend(words)
        else:
            raise ValueError(f"{DOC.name}: members before any layer: {line.strip()!r}")
    for _, name, members in rows:
        bad = [m for m in members if not (m.endswith(".py") or m.endswith("/"))]
        if bad or not members:
            raise ValueError(f"{DOC.name}: layer {name}: members must be x.py or x/, got {bad or 'none'}")
    layers = tuple(Layer(name, level - top, tuple(members)) for top, name, members in rows)
    return LayerMap(layers, tuple(allowed))


def module_names(package_dir: Path) -> dict[str, Path]:
    """Dotted name -> file of every module of the package (a package is its ``__init__.py``)."""
    names = {}
    for path in sorted(package_dir.rglob("*.py")):
        names[module_of(path.relative_to(package_dir).as_posix(), package_dir.name)] = path
    return names


def module_of(member: str, package: str = PACKAGE) -> str:
    """``hub.py`` -> ``aalbert.hub``; ``downstream/__init__.py`` -> ``aalbert.downstream``."""
    parts = [package, *member[: -len(".py")].split("/")]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _guard_kind(test: ast.expr) -> str | None:
    """The kind of the imports under ``if TYPE_CHECKING`` / ``if __name__ == "__main__"``."""
    if (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    ):
        return "typing"
    if (
        isinstance(test, ast.Compare)
        and isinstance(test.left, ast.Name)
        and test.left.id == "__name__"
        and any(isinstance(c, ast.Constant) and c.value == "__main__" for c in test.comparators)
    ):
        return "main"
    return None


def _targets(node: ast.AST, package: str, modules: dict[str, Path]) -> list[str]:
    """The package modules an import statement imports (``from aalbert import rng``: aalbert.rng)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:
        base = package.split(".")[: len(package.split(".")) - node.level + 1]
        module = ".".join(base + ([node.module] if node.module else []))
    else:
        module = node.module or ""
    return [f"{module}.{a.name}" if f"{module}.{a.name}" in modules else module for a in node.names]


def read_imports(package_dir: Path) -> list[Import]:
    """Every import of one package module by another, with where it stands in the importing module."""
    modules = module_names(package_dir)
    return [imp for source, path in modules.items() for imp in _imports_of(source, path, modules)]


def _imports_of(source: str, path: Path, modules: dict[str, Path]) -> list[Import]:
    package = source if path.name == "__init__.py" else source.rpartition(".")[0]
    found = []

    def visit(node: ast.AST, kind: str) -> None:
        for child in ast.iter_child_nodes(node):
            child_kind = kind
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) and kind == "top":
                child_kind = "late"
            guard = _guard_kind(child.test) if isinstance(child, ast.If) else None
            if guard is not None and kind == "top":
                for stmt in child.body:  # the else branch keeps the kind it stands in
                    visit(ast.Module(body=[stmt], type_ignores=[]), guard)
                for stmt in child.orelse:
                    visit(ast.Module(body=[stmt], type_ignores=[]), kind)
                continue
            for target in dict.fromkeys(_targets(child, package, modules)):  # once per module imported
                if target in modules and target != source:
                    found.append(Import(source, target, getattr(child, "lineno", 0), child_kind))
            visit(child, child_kind)

    visit(ast.parse(path.read_text(), str(path)), "top")
    return found


def layer_of(module: str, layers: tuple[Layer, ...]) -> Layer | None:
    """The layer whose member names the module most specifically (a file before its folders)."""
    path = module.split(".")[1:]  # without the package's own name
    best: tuple[int, Layer] | None = None
    for layer in layers:
        for member in layer.members:
            if member.endswith("/"):
                parts = member.rstrip("/").split("/")
                score = len(parts) if path[: len(parts)] == parts else -1
            else:
                # a file beats the folder of the same depth
                score = len(member.split("/")) + 1 if module_of(member, module.split(".")[0]) == module else -1
            if score >= 0 and (best is None or score > best[0]):
                best = (score, layer)
    return None if best is None else best[1]


def upward_imports(imports: list[Import], layer_map: LayerMap) -> list[str]:
    """One line per import of a higher layer, or of another layer on the same level, that the
    document does not allow."""
    allowed = {(module_of(a.source), module_of(a.target)) for a in layer_map.allowed}
    problems = []
    for imp in imports:
        source, target = layer_of(imp.source, layer_map.layers), layer_of(imp.target, layer_map.layers)
        if source is None or target is None or source == target or target.level < source.level:
            continue
        if (imp.source, imp.target) in allowed:
            continue
        where = "a higher layer" if target.level > source.level else "a layer on its level"
        problems.append(
            f"{imp.source} (layer {source.name}) imports {imp.target} ({where}: {target.name}) "
            f"at line {imp.line} ({imp.kind})"
        )
    return problems


def import_cycles(imports: list[Import]) -> list[list[str]]:
    """The groups of modules that import each other, directly or round a loop, through imports of
    CYCLE_KINDS (Tarjan's strongly connected components of more than one module)."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        if imp.kind in CYCLE_KINDS:
            graph.setdefault(imp.source, set()).add(imp.target)
            graph.setdefault(imp.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return sorted(cycles)
