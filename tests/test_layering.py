"""The layering can be seen from the imports: models <- data <- allocator <- report <- api <- cli.

Every import of every module (at the top, inside functions, under TYPE_CHECKING) is read with
`ast`; an import may only point to the same layer or one below; the core (`allocator`, outside
`allocator.estates`) imports nothing of its estates extension; the HTML report runs no solver;
and the graph of imports between the project's modules has no cycle.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["models", "data", "allocator", "report", "api", "cli"]
SOLVING = {
    "allocate",
    "solve_instance",
    "best_over_site_sets",
    "solve_flow",
    "solve_flow_with_new_places",
    "assign",
    "solve_cp_sat",
    "solve_facility_location",
    "evaluate_sites",
    "plan_places",
    "run_whatif",
    "marginal_places",
}
SOLVER_MODULES = ("allocator.solve", "allocator.flow", "allocator.cpsat", "allocator.facility")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Project modules imported by `path` (absolute imports; the project uses no relative ones)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.split(".")[0] in LAYERS}


def _graph() -> dict[str, set[str]]:
    modules = {_module_name(path): path for layer in LAYERS for path in (ROOT / layer).rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        # `from a.b import c` names module a.b.c when it exists, else the name c inside a.b
        graph[name] = {imported for imported in _imports(path) if imported in modules and imported != name}
    return graph


def test_every_import_points_down_the_layers() -> None:
    wrong = [
        f"{module} imports {imported}"
        for module, imports in _graph().items()
        for imported in imports
        if LAYERS.index(imported.split(".")[0]) > LAYERS.index(module.split(".")[0])
    ]
    assert wrong == []


def test_the_core_imports_nothing_of_its_estates_extension() -> None:
    wrong = [
        f"{module} imports {imported}"
        for module, imports in _graph().items()
        if module.startswith("allocator") and not module.startswith("allocator.estates")
        for imported in imports
        if imported.startswith("allocator.estates")
    ]
    assert wrong == []


def test_the_report_runs_no_solver() -> None:
    # It may import result types and data-shaping functions, never a function that solves, nor
    # a solver module.
    wrong = [
        f"{_module_name(path)} imports {imported}"
        for path in (ROOT / "report").rglob("*.py")
        for imported in _imports(path)
        if imported.rsplit(".", 1)[-1] in SOLVING or imported.startswith(SOLVER_MODULES)
    ]
    assert wrong == []


def test_no_import_cycle() -> None:
    graph = _graph()
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for imported in sorted(graph[module]):
            if state.get(imported) == 1:
                cycles.append(path[path.index(imported) :] + [imported] if imported in path else [module, imported])
            elif imported not in state:
                visit(imported, [*path, imported])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_the_checks_see_the_layers() -> None:
    # The graph is not empty and holds the arrows the layering relies on, so the tests above
    # cannot pass by reading nothing.
    graph = _graph()
    assert "allocator.instance" in graph["allocator.solve"]
    assert "report.page" in graph["report.sites"]
    assert "api.jobs" in graph["cli.main"]  # the CLI calls the run functions the API calls
    callers = [path for layer in ("api", "cli") for path in (ROOT / layer).rglob("*.py")]
    assert any("allocator.estates.sites.evaluate_sites" in _imports(path) for path in callers)
