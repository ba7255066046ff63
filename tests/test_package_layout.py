"""The package's folders: pyproject lists every subpackage, no folder is crowded, cheap inits.

Read from the checkout's files (tomllib and ast): nothing here imports the package.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "shared" / "plugins" / "model_provider" / "github_models"
INSTALLED = "jaato_github_models"
MOST_MODULES_IN_A_FOLDER = 20


def _subpackages() -> set[str]:
    found = {INSTALLED}
    for init in PACKAGE.rglob("__init__.py"):
        rel = init.parent.relative_to(PACKAGE)
        if rel.parts and "__pycache__" not in rel.parts:
            found.add(".".join([INSTALLED, *rel.parts]))
    return found


def test_pyproject_lists_every_subpackage() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    listed = set(config["tool"]["setuptools"]["packages"])
    tree = _subpackages()
    assert tree - listed == set(), f"subpackages missing from pyproject packages: {tree - listed}"
    assert listed - tree == set(), f"pyproject lists packages with no folder: {listed - tree}"


def test_no_folder_is_crowded() -> None:
    for folder in [PACKAGE, *(p.parent for p in PACKAGE.rglob("__init__.py"))]:
        modules = [p for p in folder.glob("*.py") if p.name != "__init__.py"]
        assert len(modules) <= MOST_MODULES_IN_A_FOLDER or folder == PACKAGE, (
            f"{folder.relative_to(ROOT)} holds {len(modules)} modules: split it by job")


def test_subpackage_inits_import_nothing_of_the_provider() -> None:
    for init in PACKAGE.rglob("__init__.py"):
        if init.parent == PACKAGE or init.parent.name == "emulator":
            continue  # the package root and the emulator are public entry points
        tree = ast.parse(init.read_text(encoding="utf-8"))
        imports = [n for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))]
        assert imports == [], f"{init.relative_to(ROOT)} imports at load: keep it a docstring"
