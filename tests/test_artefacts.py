"""The built wheel and sdist carry what a user needs and nothing else (tools/check_artefacts.py).

The contents checks run here on the real artefacts (built once for this module) and on
hand-made broken wheels, so they are known to fail; CI also installs the wheel into a fresh venv
and runs the demo and the CLI there (``tools/check_artefacts.py`` from ``.ci/run``).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from shared.plugins.model_provider.github_models import __version__

ROOT = Path(__file__).resolve().parents[1]
LICENSE = (ROOT / "LICENSE").read_bytes()


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_artefacts",
                                                  ROOT / "tools" / "check_artefacts.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


check = _tool()
DIST_INFO = f"jaato_github_models-{__version__}.dist-info/"
METADATA = (f"Metadata-Version: 2.4\nName: jaato-github-models\nVersion: {__version__}\n"
            "License-Expression: MIT\nLicense-File: LICENSE\n\n")
ENTRY_POINTS = ("[console_scripts]\njaato-github-models = jaato_github_models._entry:main\n\n"
                "[jaato.model_providers]\ngithub_models = jaato_github_models:create_provider\n"
                "github_models_ext = jaato_github_models:create_ext_provider\n")


def test_the_license_is_the_mit_text() -> None:
    text = LICENSE.decode()
    assert text.startswith("MIT License\n")
    assert "Permission is hereby granted, free of charge" in text
    assert 'license = "MIT"' in (ROOT / "pyproject.toml").read_text()


def test_the_source_folder_maps_to_the_package() -> None:
    expected = check.expected_package_files()
    assert {"jaato_github_models/__init__.py", "jaato_github_models/py.typed",
            "jaato_github_models/data/catalog.json",
            "jaato_github_models/emulator/__init__.py"} <= expected
    assert not any("__pycache__" in name for name in expected)


def _wheel(tmp_path: Path, change: Callable[[dict[str, bytes]], None] | None = None) -> Path:
    files = {name: b"" for name in check.expected_package_files()}
    files.update({f"{DIST_INFO}licenses/LICENSE": LICENSE, f"{DIST_INFO}METADATA":
                  METADATA.encode(), f"{DIST_INFO}entry_points.txt": ENTRY_POINTS.encode()})
    if change:
        change(files)
    path = tmp_path / "broken.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


def test_a_wheel_laid_out_as_expected_passes(tmp_path: Path) -> None:
    assert check.wheel_problems(_wheel(tmp_path), __version__) == []


@pytest.mark.parametrize(("change", "complaint"), [
    (lambda f: f.pop(f"{DIST_INFO}licenses/LICENSE"), "licenses/LICENSE missing"),
    (lambda f: f.update({f"{DIST_INFO}licenses/LICENSE": b"Apache"}), "not the repository's"),
    (lambda f: f.pop("jaato_github_models/py.typed"), "missing from the wheel"),
    (lambda f: f.pop("jaato_github_models/data/catalog.json"), "missing from the wheel"),
    (lambda f: f.pop("jaato_github_models/emulator/server.py"), "missing from the wheel"),
    (lambda f: f.update({"tests/test_x.py": b""}), "stray file"),
    (lambda f: f.update({"shared/__init__.py": b""}), "stray file"),
    (lambda f: f.update({"jaato_github_models/__pycache__/x.cpython-311.pyc": b""}),
     "forbidden"),
    (lambda f: f.update({"jaato_github_models/notes.txt": b""}), "not in the source folder"),
    (lambda f: f.update({f"{DIST_INFO}METADATA": METADATA.replace("MIT", "GPL").encode()}),
     "License-Expression 'GPL'"),
    (lambda f: f.update({f"{DIST_INFO}METADATA": METADATA.replace(
        "License-File: LICENSE\n", "").encode()}), "no 'License-File: LICENSE'"),
    (lambda f: f.update({f"{DIST_INFO}entry_points.txt": b""}), "entry_points.txt lacks"),
])
def test_a_broken_wheel_is_reported(tmp_path: Path, change: Callable[[dict[str, bytes]], None],
                                    complaint: str) -> None:
    problems = check.wheel_problems(_wheel(tmp_path, change), __version__)
    assert any(complaint in p for p in problems), problems


def test_a_wheel_of_another_version_is_reported(tmp_path: Path) -> None:
    problems = check.wheel_problems(_wheel(tmp_path), "9.9.9")
    assert any("no jaato_github_models-9.9.9.dist-info/METADATA" in p for p in problems)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sdist and the wheel, built once as CI builds them (python -m build, isolated)."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    (wheel,), (sdist,) = out.glob("*.whl"), out.glob("*.tar.gz")
    return wheel, sdist


@pytest.mark.slow
def test_the_built_wheel_holds_the_package_license_and_nothing_else(
        built: tuple[Path, Path]) -> None:
    wheel, _ = built
    assert wheel.name == f"jaato_github_models-{__version__}-py3-none-any.whl"
    assert check.wheel_problems(wheel, __version__) == []
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read(f"{DIST_INFO}licenses/LICENSE") == LICENSE


@pytest.mark.slow
def test_the_built_sdist_holds_the_license_and_the_sources(built: tuple[Path, Path]) -> None:
    _, sdist = built
    assert check.sdist_problems(sdist, __version__) == []
    assert check.sdist_problems(sdist, __version__, license_text=b"other") == [
        f"jaato_github_models-{__version__}/LICENSE missing or not LICENSE"]


@pytest.mark.slow
def test_twine_accepts_both(built: tuple[Path, Path]) -> None:
    result = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", *map(str, built)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
