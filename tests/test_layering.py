"""The import layering, read from the source with ast (nothing here imports the package).

Every module belongs to one layer (the table below, lowest first). A module may import its own
layer and the layers below it, never a higher one; the emulator imports nothing of the provider
but the shared leaves in ``common``. A new module fails ``test_every_module_has_a_layer`` until
it is placed on purpose.

What counts: imports that run when the module loads (module level, including ``try``/``if``
blocks), not imports under ``if TYPE_CHECKING`` (annotations only) and not imports inside a
function (deferred on purpose, to keep start-up cheap; they are counted in
``test_deferred_upward_imports_only_shrink``). The import graph of module-level imports has no
cycle (``test_no_import_cycles``).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "shared" / "plugins" / "model_provider" / (
    "github_models")

# lowest first; a name ending in "." is a whole subpackage
LAYERS: list[tuple[str, frozenset[str]]] = [
    ("common", frozenset({"common.", "data", "_contracts", "_public", "_host", "_fallback",
                          "telemetry_names",
                          # deprecated old paths (0.3.0 -> gone in 0.4.0): they import _public
                          # only and resolve the moved names lazily
                          "catalog", "live_catalog", "pricing", "env", "clock"})),
    ("endpoints", frozenset({"kinds."})),
    ("errors", frozenset({"failures.", "errors"})),
    ("models", frozenset({"models."})),
    ("config", frozenset({"config."})),
    # .prompt.yml files: library code the CLI's run/eval use (reads errors and config only)
    ("prompts", frozenset({"prompts."})),
    # converters.py stays at the top: jaato's own tests pin github_models/converters.py
    ("wire", frozenset({"wire.", "converters"})),
    ("pacing", frozenset({"pacing."})),
    ("transport", frozenset({"transport."})),
    ("calls", frozenset({"calls."})),
    ("turn", frozenset({"turn."})),
    ("provider", frozenset({"", "provider"})),
    # the emulator sits below the CLI (whose `emulator` command starts it) and above the
    # provider (which never imports it); of the provider it may import common only (below)
    ("emulator", frozenset({"emulator."})),
    ("cli", frozenset({"_entry", "cli."})),
]
# the emulator referees the provider: of the provider it may import these layers only
EMULATOR_MAY_IMPORT = {"common", "emulator"}
# known breaks of the rule, each to be removed (the test fails when one is no longer needed)
KNOWN_BREAKS: set[tuple[str, str]] = set()


def _modules() -> dict[str, tuple[Path, bool]]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        found[".".join(parts)] = (path, is_package)
    return found


MODULES = _modules()


def _layer(module: str) -> int:
    for index, (_, members) in enumerate(LAYERS):
        if module in members or any(
                m.endswith(".") and (module + ".").startswith(m) for m in members):
            return index
    raise AssertionError(f"module {module!r} is in no layer: add it to LAYERS in {__file__}")


def _is_type_checking(node: ast.If) -> bool:
    return "TYPE_CHECKING" in ast.unparse(node.test)


def _imports(module: str, *, typing: bool = False) -> Iterator[tuple[str, bool]]:
    """(imported package module, deferred?) for each relative import of ``module``; with
    ``typing``, the imports under ``if TYPE_CHECKING`` too (counted as deferred)."""
    path, is_package = MODULES[module]
    yield from _imports_in(path.read_text(encoding="utf-8"), module, is_package, typing=typing)


def _imports_in(source: str, module: str, is_package: bool, *, typing: bool = False
                ) -> Iterator[tuple[str, bool]]:
    """``_imports`` of a module whose text is ``source`` (the rule's own test feeds fakes)."""
    base = module.split(".") if module else []
    if not is_package:
        base = base[:-1]

    def visit(node: ast.AST, deferred: bool) -> Iterator[tuple[str, bool]]:
        for child in ast.iter_child_nodes(node):
            type_only = isinstance(child, ast.If) and _is_type_checking(child)
            if type_only and not typing:
                continue
            inner = deferred or type_only or isinstance(
                child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.ImportFrom) and child.level:
                up = base[: len(base) - (child.level - 1)] if child.level > 1 else base
                if child.level - 1 > len(base):
                    continue  # the host framework's modules (jaato's ..base), not ours
                target = ".".join([*up, *([child.module] if child.module else [])])
                for alias in child.names:
                    name = f"{target}.{alias.name}" if target else alias.name
                    if name in MODULES:
                        yield name, inner
                    elif target in MODULES:
                        yield target, inner
            yield from visit(child, inner)

    yield from visit(ast.parse(source), False)


def _breaks(sources: dict[str, str] | None = None) -> set[tuple[str, str]]:
    """Module-level imports of a higher layer: of the package, or of ``sources`` (module: text)."""
    found = set()
    for module in sources or MODULES:
        own = _layer(module)
        imports = _imports_in(sources[module], module, False) if sources else _imports(module)
        for target, deferred in imports:
            if deferred:
                continue
            if _layer(target) > own:
                found.add((module, target))
            if LAYERS[own][0] == "emulator" and LAYERS[_layer(target)][0] not in (
                    EMULATOR_MAY_IMPORT):
                found.add((module, target))
    return found


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        _layer(module)


def test_no_module_imports_a_higher_layer() -> None:
    found = _breaks()
    new = sorted(found - KNOWN_BREAKS)
    assert new == [], ("imports of a higher layer (move the shared part down, or defer the "
                       f"import into the function that needs it): {new}")
    fixed = sorted(KNOWN_BREAKS - found)
    assert fixed == [], f"no longer broken, remove from KNOWN_BREAKS: {fixed}"


def test_the_rule_sees_an_upward_import() -> None:
    # the test must be able to fail: fake modules, read by the same checker as the real ones
    fakes = {
        "common.fake_leaf": "from ..provider import GitHubModelsProvider\n",  # a leaf, upward
        "emulator.fake": "from ..failures import retry\n",  # the emulator, into the provider
        "config.fake_ok": "from ..common import clock\nfrom ..errors import GitHubModelsError\n",
        "kinds.fake_deferred": "def f():\n    from ..turn import turn\n",  # deferred: allowed
        "models.fake_typing": ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                               "    from ..provider import GitHubModelsProvider\n"),
    }
    assert _breaks(fakes) == {("common.fake_leaf", "provider"),
                              ("emulator.fake", "failures.retry")}


# The one edge the stricter cycle check allows: jaato's scaffold reads PROVIDER_CAPABILITIES (and
# the other contracts) by evaluating the root ``__init__``'s assignments, so they must live
# there, and ``get_capabilities`` reads it on call (the deferred upward import counted below).
ALLOWED_BACK_EDGES = {("turn.accounting", "")}


def _cycle(everything: bool = False) -> list[str] | None:
    """A cycle of module-level imports (with ``everything``: of any import, deferred into a
    function or for annotations only, but ``ALLOWED_BACK_EDGES``), or None."""
    graph = {m: sorted({t for t, deferred in _imports(m, typing=everything)
                        if (everything or not deferred) and t != m
                        and not (everything and (m, t) in ALLOWED_BACK_EDGES)})
             for m in MODULES}
    state: dict[str, int] = {}  # 1 on the path, 2 done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        path.pop()
        state[node] = 2
        return None

    for start in graph:
        if start not in state and (found := visit(start)):
            return found
    return None


def test_no_import_cycles() -> None:
    found = _cycle()
    assert found is None, f"import cycle at module level: {' -> '.join(found or [])}"


def test_no_import_cycles_even_through_deferred_or_annotation_imports() -> None:
    # stricter than Python needs: a module two others reach for each other through, even in a
    # function or an annotation, is one a reader cannot understand on its own (name the needed
    # interface as a Protocol below, or move the shared part down)
    found = _cycle(everything=True)
    assert found is None, f"import cycle: {' -> '.join(found or [])}"


def test_the_cycle_check_sees_a_cycle() -> None:
    # the check must be able to fail: a deferred import of calls by transport closes a loop
    # with transport being imported by calls at module level
    source = "def f():\n    from ..calls import calls\n"
    deferred = dict(_imports_in(source, "transport.fake", False))
    assert deferred == {"calls.calls": True}
    assert ("transport.transport", False) in set(_imports("calls.calls"))


# upward imports deferred into functions: allowed for now (they keep start-up cheap), but the
# number may only go down as the layers are cut cleaner. Today (1): accounting reads the root's
# PROVIDER_CAPABILITIES.
DEFERRED_UPWARD_MOST = 1


def test_deferred_upward_imports_only_shrink() -> None:
    deferred = sorted({(m, t) for m in MODULES for t, d in _imports(m)
                       if d and _layer(t) > _layer(m)})
    assert len(deferred) <= DEFERRED_UPWARD_MOST, deferred
