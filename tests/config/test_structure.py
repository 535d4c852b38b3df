"""The plan of the code, held: no import cycle but a service's call into its own app's tasks, no module past
500 lines that is not data (see README, "How it is built"; the layering is import-linter's contract)."""

from __future__ import annotations

from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["config", "core", "merchants", "catalog", "checkout", "sensing", "ordering", "analytics", "demo"]
LIMIT = 500
# Data, not code: tables read by the demo, one per line.
DATA_MODULES = {"demo/data/catalog.py"}


def _is_service_to_task(importer: str, imported: str) -> bool:
    """A service enqueues its app's task after commit (the task calls the service back): the one allowed pair."""
    app = importer.split(".")[0]
    return imported == f"{app}.tasks" and (importer == f"{app}.services" or importer.startswith(f"{app}.services."))


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _graph() -> dict[str, set[str]]:
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True)
    return {
        module: {
            imported
            for imported in graph.find_modules_directly_imported_by(module)
            if not _is_service_to_task(module, imported)
        }
        for module in graph.modules
    }


def test_the_cycle_finder_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_between_modules_but_service_to_task() -> None:
    assert _cycles(_graph()) == []


def test_no_module_of_code_past_the_limit() -> None:
    long = {
        str(path.relative_to(ROOT)): length
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
        and str(path.relative_to(ROOT)) not in DATA_MODULES
        and (length := len(path.read_text().splitlines())) > LIMIT
    }
    assert long == {}


def test_every_browser_wait_is_a_function_the_pages_csp_lets_run() -> None:
    """Playwright evaluates a `wait_for_function` expression again on every poll, and from the second poll on that
    runs under the page's CSP, which has no 'unsafe-eval': a wait that is not true at once then fails. A function
    is evaluated once and called on each poll."""
    import re

    waits = re.compile(r"wait_for_function\(\s*\"([^\"]*)")
    found = {
        f"{path.relative_to(ROOT)}: {expression[:40]}"
        for path in (ROOT / "tests").rglob("*.py")
        for expression in waits.findall(path.read_text())
        if not re.match(r"\s*(async\s*)?(\([^)]*\)|\w+)\s*=>", expression)
    }
    assert found == set()
