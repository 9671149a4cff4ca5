"""The house stays a house: read every import of the project with `ast` and check that data and
dependencies run one way through the rooms, with no import circle and no private name crossing
modules. The rooms, lowest first; a module may import from its own room and the rooms below."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("benchmark", "tasks", "baselines")

# Module prefix -> rank. The most specific prefix wins.
ROOMS = {
    "benchmark.version": 0,
    "benchmark.grid": 1,            # the engine
    "benchmark.contract": 2,        # the task contract and registry
    "tasks": 2.5,                   # the tasks: the engine and the contract only
    "benchmark.envs": 3,            # the batched core and the gymnasium envs
    "benchmark.evaluation": 4,      # seeds, rollouts, references, scoring, results
    "benchmark.submission": 5,      # manifest, sandbox, scoring a folder
    "baselines": 5.5,               # reference agents and their trainers
    "benchmark.training": 6,
    "benchmark.reporting": 7,       # leaderboard, curves, analysis, generated docs
    "benchmark.cli": 8,
    "benchmark.speedtest": 8,
}
# The package face registers the gymnasium ids and re-exports: it may import any room, and no
# room of the harness or task imports it (baselines are its users, as a submission is). Discovery imports a package face one room up, by name, to find its modules.
FACE = "benchmark"
DISCOVERY = {("benchmark.contract.registry", "tasks"), ("benchmark.training", "baselines")}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            out[module_name(path)] = path
    return out


MODULES = project_modules()


def resolve(importer: str, node: ast.ImportFrom | ast.Import) -> list[tuple[str, list[str]]]:
    """(module imported, names taken from it) for one import statement, for our modules only."""
    if isinstance(node, ast.Import):
        return [(alias.name, []) for alias in node.names if alias.name.split(".")[0] in PACKAGES]
    if node.level:
        package = importer if MODULES[importer].name == "__init__.py" else importer.rpartition(".")[0]
        for _ in range(node.level - 1):
            package = package.rpartition(".")[0]
        base = f"{package}.{node.module}" if node.module else package
    else:
        base = node.module or ""
    if base.split(".")[0] not in PACKAGES:
        return []
    out, names = [], []
    for alias in node.names:
        if f"{base}.{alias.name}" in MODULES:   # `from benchmark import grid`: the submodule
            out.append((f"{base}.{alias.name}", []))
        else:
            names.append(alias.name)
    if names:
        out.append((base, names))
    return out


def imports() -> list[tuple[str, str, list[str], int]]:
    """(importer, imported, names, line) for every import of the project, at any depth."""
    out = []
    for name, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for imported, names in resolve(name, node):
                    out.append((name, imported, names, node.lineno))
    return out


def rank(module: str) -> float | None:
    best = max((prefix for prefix in ROOMS if module == prefix or module.startswith(prefix + ".")),
               key=len, default=None)
    return ROOMS[best] if best else None


IMPORTS = imports()


def test_every_module_has_a_room():
    homeless = [m for m in MODULES if m != FACE and rank(m) is None and m not in PACKAGES]
    assert not homeless, f"modules in no room (add them to ROOMS): {homeless}"


def test_no_import_goes_up_or_into_the_face():
    wrong = []
    for importer, imported, _, line in IMPORTS:
        if importer == FACE or (importer, imported) in DISCOVERY:
            continue
        if imported == FACE and not importer.startswith("baselines"):
            wrong.append(f"{importer}:{line} imports the package face")
        elif rank(imported) is not None and rank(importer) is not None and rank(imported) > rank(importer):
            wrong.append(f"{importer}:{line} imports {imported} (room above it)")
    assert not wrong, "\n".join(wrong)


def test_no_import_circle():
    graph: dict[str, set[str]] = {}
    for importer, imported, _, _ in IMPORTS:
        if imported in MODULES and imported != importer:
            graph.setdefault(importer, set()).add(imported)
    state: dict[str, int] = {}   # 1 on the path, 2 done
    path: list[str] = []

    def visit(module):
        state[module] = 1
        path.append(module)
        for nxt in sorted(graph.get(module, ())):
            if state.get(nxt) == 1:
                pytest.fail("import circle: " + " -> ".join(path[path.index(nxt):] + [nxt]))
            if nxt not in state:
                visit(nxt)
        path.pop()
        state[module] = 2

    for module in sorted(MODULES):
        if module not in state:
            visit(module)


def test_no_private_name_crosses_modules():
    crossing = [f"{importer}:{line} takes {name} from {imported}"
                for importer, imported, names, line in IMPORTS
                for name in names if name.startswith("_") and not name.startswith("__")]
    assert not crossing, "\n".join(crossing)


def test_the_checks_see_what_they_check():
    """The tests above are only as good as the import table: it must hold the known arrows."""
    arrows = {(a, b) for a, b, _, _ in IMPORTS}
    assert ("benchmark.evaluation.scorer", "benchmark.evaluation.rollout") in arrows
    assert ("benchmark.submission.sandbox", "benchmark.evaluation.rollout") in arrows
    assert ("tasks.red_door", "benchmark.grid") in arrows
    assert rank("benchmark.grid.rng") == 1 and rank("benchmark.reporting.curve") == 7
