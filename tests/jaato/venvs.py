"""Real jaato-server releases from PyPI, each in a venv of its own, for the integration tests.

jaato-server 0.15.0 (top-level ``shared``, jaato-sdk 0.22 on Python 3.11) and 1.2.0
(``jaato_server.shared``, jaato-sdk 0.29 on Python 3.12). The venvs are built once under
``.venv-jaato/`` in the checkout (ignored by git) and reused while their stamp matches; this
project's wheel is installed into them and removed again by the tests themselves.
"""

from __future__ import annotations

import base64
import csv
import glob
import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
VENV_ROOT = REPO_ROOT / ".venv-jaato"
DIST = "jaato-github-models"


@dataclass(frozen=True)
class Target:
    """One jaato-server release and the interpreter it runs on."""

    version: str
    python: str  # "3.11"
    # Further PyPI releases installed beside jaato-server (the daemon tests' client and eval).
    companions: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return "v" + self.version.replace(".", "_")


TARGETS = (Target("0.15.0", "3.11"),
           Target("1.2.0", "3.12", ("jaato-tui==1.0.2", "jaato-eval==0.3.4",
                                    # to run the provider tests shipped in jaato's wheel
                                    "pytest==9.2.0", "pytest-asyncio==1.5.0")))
# The release the daemon tests and jaato's own provider tests run on.
DAEMON_TARGET = TARGETS[1]


def find_python(minor: str) -> str | None:
    """An interpreter of version ``minor`` that really runs (pyenv shims may not)."""
    home = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates = [shutil.which(f"python{minor}"),
                  *sorted(glob.glob(f"{home}/versions/{minor}.*/bin/python{minor}"), reverse=True),
                  f"/usr/bin/python{minor}", f"/usr/local/bin/python{minor}"]
    for candidate in candidates:
        if not candidate or not os.path.exists(candidate):
            continue
        code = "import sys; print('%d.%d' % sys.version_info[:2])"
        probe = subprocess.run([candidate, "-c", code], capture_output=True, text=True,
                               check=False)
        if probe.returncode == 0 and probe.stdout.strip() == minor:
            return candidate
    return None


def _run(args: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_REQUIRE_VIRTUALENV")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    result = subprocess.run(args, capture_output=True, text=True, env=env, check=False, **kw)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({result.returncode}):\n"
                           f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result


def ensure_venv(target: Target, interpreter: str) -> Path:
    """The venv of ``target`` with jaato-server installed (built on first use)."""
    venv = VENV_ROOT / target.key
    stamp = venv / ".jaato-ready"
    wanted = " ".join([f"jaato-server=={target.version}", *target.companions])
    wanted += f" on {target.python}\n"
    if stamp.exists() and stamp.read_text() == wanted and (venv / "bin" / "python").exists():
        return venv
    shutil.rmtree(venv, ignore_errors=True)
    VENV_ROOT.mkdir(exist_ok=True)
    print(f"\n[jaato] building {venv} ({wanted.strip()}) ...", file=sys.stderr, flush=True)
    _run([interpreter, "-m", "venv", str(venv)])
    _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
          f"jaato-server=={target.version}", *target.companions])
    stamp.write_text(wanted)
    return venv


def pip(venv: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run pip of ``venv``."""
    return _run([str(venv / "bin" / "python"), "-m", "pip", *args])


def site_packages(venv: Path) -> Path:
    """The venv's site-packages folder."""
    (found,) = venv.glob("lib/python3.*/site-packages")
    return found


def record(venv: Path, dist: str) -> dict[str, str]:
    """``path -> sha256`` of the files a distribution installed (from its RECORD), paths
    relative to site-packages; files RECORD lists without a hash (RECORD itself) are left out."""
    norm = dist.replace("-", "_").lower()
    sp = site_packages(venv)
    infos = [p for p in sp.glob("*.dist-info") if p.name.lower().startswith(norm + "-")]
    if not infos:
        return {}
    rows: dict[str, str] = {}
    with (infos[0] / "RECORD").open(newline="") as fh:
        for path, digest, _size in csv.reader(fh):
            if digest:
                rows[os.path.normpath(path)] = digest
    return rows


def changed_files(venv: Path, files: dict[str, str]) -> list[str]:
    """The files of ``files`` that are missing or whose content no longer matches RECORD."""
    sp = site_packages(venv)
    bad = []
    for path, digest in files.items():
        algo, _, expected = digest.partition("=")
        full = sp / path
        if not full.is_file():
            bad.append(f"{path} (missing)")
            continue
        actual = base64.urlsafe_b64encode(hashlib.new(algo, full.read_bytes()).digest())
        if actual.rstrip(b"=").decode() != expected:
            bad.append(f"{path} (changed)")
    return bad


def build_wheel(out: Path) -> Path:
    """This project's wheel, built from the checkout."""
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out),
          str(REPO_ROOT)])
    (wheel,) = out.glob("jaato_github_models-*.whl")
    return wheel
