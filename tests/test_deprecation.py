"""The deprecation path (``_public.LazyNames``): lazy names load on first use, moved names warn.

A throwaway package built in a temporary folder uses the helper exactly as a package
``__init__`` of this project would (docs/public-api.md, "For maintainers").
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path
from types import ModuleType

import pytest

from shared.plugins.model_provider.github_models._public import LazyNames, Moved

_INIT = """
from typing import Any
from shared.plugins.model_provider.github_models._public import LazyNames, Moved

_NAMES = LazyNames(__name__, lazy={"thing": ".heavy:thing"},
                   moved={"old_thing": Moved(".heavy:thing", removed_in="0.4.0"),
                          "old_far": Moved("json:dumps", removed_in="0.4.0")})


def __getattr__(name: str) -> Any:
    return _NAMES.resolve(name)
"""


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
            ) -> ModuleType:
    name = f"lazy_pkg_{request.node.name.replace('[', '_').replace(']', '_')}"
    folder = tmp_path / name
    folder.mkdir()
    (folder / "__init__.py").write_text(_INIT)
    (folder / "heavy.py").write_text("thing = object()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield importlib.import_module(name)
    for module in [m for m in sys.modules if m.startswith(name)]:
        del sys.modules[module]


def test_a_lazy_name_loads_its_module_on_first_use_only(package: ModuleType) -> None:
    assert f"{package.__name__}.heavy" not in sys.modules
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        thing = package.thing
    heavy = sys.modules[f"{package.__name__}.heavy"]
    assert thing is heavy.thing
    assert vars(package)["thing"] is thing  # cached: later lookups skip __getattr__


def test_a_moved_name_works_and_warns_with_its_new_place(package: ModuleType) -> None:
    with pytest.warns(DeprecationWarning) as record:
        old = package.old_thing
    assert old is importlib.import_module(f"{package.__name__}.heavy").thing
    message = str(record[0].message)
    assert f"{package.__name__}.old_thing has moved to {package.__name__}.heavy.thing" in message
    assert "0.4.0" in message
    assert record[0].filename == __file__  # points at the user's line, not the helper


def test_from_import_of_a_moved_name_warns_at_the_import(package: ModuleType) -> None:
    with pytest.warns(DeprecationWarning, match=r"has moved to json\.dumps") as record:
        exec(f"from {package.__name__} import old_far", {})
    assert "0.4.0" in str(record[0].message)


def test_a_moved_name_keeps_warning(package: ModuleType) -> None:
    for _ in range(2):
        with pytest.warns(DeprecationWarning):
            package.old_thing  # noqa: B018


def test_an_unknown_name_is_an_attribute_error(package: ModuleType) -> None:
    with pytest.raises(AttributeError, match="has no attribute 'nothing'"):
        package.nothing  # noqa: B018
    with pytest.raises(ImportError):
        exec(f"from {package.__name__} import nothing", {})


def test_deprecations_as_errors_fail_the_caller(tmp_path: Path) -> None:
    """A user running with ``-W error::DeprecationWarning`` learns of the move at once."""
    folder = tmp_path / "strict_pkg"
    folder.mkdir()
    (folder / "__init__.py").write_text(_INIT)
    (folder / "heavy.py").write_text("thing = object()\n")
    code = textwrap.dedent("""
        import strict_pkg
        strict_pkg.thing
        try:
            strict_pkg.old_thing
        except DeprecationWarning as exc:
            print("refused:", exc)
    """)
    result = subprocess.run([sys.executable, "-W", "error::DeprecationWarning", "-c", code],
                            cwd=tmp_path, capture_output=True, text=True, check=True, timeout=60)
    assert "refused: strict_pkg.old_thing has moved to strict_pkg.heavy.thing" in result.stdout


@pytest.mark.parametrize("target", ["no_colon", ":attr", "module:", ""])
def test_a_malformed_target_fails_when_the_table_is_built(target: str) -> None:
    with pytest.raises(ValueError, match="module:attribute"):
        LazyNames("pkg", lazy={"x": target})
    with pytest.raises(ValueError, match="module:attribute"):
        LazyNames("pkg", moved={"x": Moved(target, removed_in="0.4.0")})


def test_a_name_cannot_be_both_lazy_and_moved() -> None:
    with pytest.raises(ValueError, match="both lazy and moved"):
        LazyNames("pkg", lazy={"x": "json:dumps"}, moved={"x": Moved("json:loads", "0.4.0")})


def test_the_package_uses_it_and_stays_cheap_to_import() -> None:
    """The documented homes resolve lazily: importing the package loads none of them."""
    pkg = "shared.plugins.model_provider.github_models"
    code = (f"import sys, {pkg} as p\n"
            f"before = {{m for m in sys.modules if m.startswith('{pkg}.')}}\n"
            "p.static_catalog, p.enable_live_catalog\n"
            f"print(sorted(before), '{pkg}.models.catalog' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert "catalog" not in out.split("]")[0] and out.strip().endswith("True")
