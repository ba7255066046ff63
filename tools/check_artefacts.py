"""Build the sdist and wheel and check them as a user receives them (CI runs this: .ci/run).

    python tools/check_artefacts.py                 # build, twine, contents, install and run
    python tools/check_artefacts.py --no-install    # build, twine and contents only

1. ``python -m build`` (isolated: the build backend pyproject names, not the venv's setuptools);
2. ``twine check --strict`` on both;
3. the wheel holds ``jaato_github_models/`` (every module of the source folder, ``py.typed``, the
   data files) and its ``.dist-info`` with LICENSE, nothing else (no tests, bytecode or stray
   files); the sdist holds LICENSE, and both say ``License-Expression: MIT``;
4. the wheel goes into a fresh venv; from a folder outside the checkout, with no PYTHONPATH to
   it, ``jaato-github-models --version``, ``models`` and ``doctor`` run against the wheel's own
   emulator, and examples/agent_demo.py runs with the stand-in framework only (so the provider,
   its errors and its emulator come from the wheel).

Exit 0 when every check passes; otherwise each problem is printed and the exit code is 1.
"""

from __future__ import annotations

import argparse
import email.parser
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "shared" / "plugins" / "model_provider" / "github_models"
PACKAGE = "jaato_github_models"
DATA_PATTERNS = ("py.typed", "data/*.json")  # pyproject's package-data
_FORBIDDEN = re.compile(r"(^|/)(__pycache__|tests?|\.venv[^/]*|\.git|build|dist)(/|$)|\.py[co]$"
                        r"|(^|/)(conftest\.py|test_[^/]*\.py|\.env)$")


def _version() -> str:
    leaf = SOURCE / "common" / "version.py"  # pyproject's dynamic version reads the same line
    match = re.search(r'^__version__ = "([^"]+)"', leaf.read_text(), re.M)
    if not match:
        raise SystemExit(f"no __version__ = \"...\" line in {leaf}")
    return match.group(1)


def expected_package_files(source: Path = SOURCE) -> set[str]:
    """The wheel paths the source folder must become: every module and the package data."""
    found = {p for p in source.rglob("*.py") if "__pycache__" not in p.parts}
    for pattern in DATA_PATTERNS:
        found |= set(source.glob(pattern))
    return {f"{PACKAGE}/{p.relative_to(source).as_posix()}" for p in found}


def _metadata_problems(text: str, version: str, where: str) -> list[str]:
    meta = email.parser.Parser().parsestr(text)
    problems = []
    if meta["Version"] != version:
        problems.append(f"{where}: Version {meta['Version']!r}, expected {version!r}")
    if meta["License-Expression"] != "MIT":
        problems.append(f"{where}: License-Expression {meta['License-Expression']!r}, not 'MIT'")
    if "LICENSE" not in (meta.get_all("License-File") or []):
        problems.append(f"{where}: no 'License-File: LICENSE' (pyproject license-files)")
    return problems


def wheel_problems(wheel: Path, version: str, source: Path = SOURCE,
                   license_text: bytes | None = None) -> list[str]:
    """What is wrong with the wheel: missing, forbidden or stray files, metadata, license."""
    license_text = (ROOT / "LICENSE").read_bytes() if license_text is None else license_text
    dist_info = f"{PACKAGE}-{version}.dist-info/"
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        read = {n: archive.read(n) for n in names if n.startswith(dist_info)}
    problems = [f"stray file outside {PACKAGE}/ and {dist_info}: {n}" for n in sorted(names)
                if not n.startswith((f"{PACKAGE}/", dist_info))]
    problems += [f"forbidden in a wheel (tests, bytecode, build output): {n}"
                 for n in sorted(names) if _FORBIDDEN.search(n)]
    expected = expected_package_files(source)
    package_files = {n for n in names if n.startswith(f"{PACKAGE}/")}
    problems += [f"missing from the wheel (pyproject packages/package-data?): {n}"
                 for n in sorted(expected - package_files)]
    problems += [f"in the wheel but not in the source folder: {n}"
                 for n in sorted(package_files - expected) if not _FORBIDDEN.search(n)]
    if read.get(f"{dist_info}licenses/LICENSE") != license_text:
        problems.append(f"{dist_info}licenses/LICENSE missing or not the repository's LICENSE")
    metadata = read.get(f"{dist_info}METADATA")
    if metadata is None:
        problems.append(f"no {dist_info}METADATA (is the version {version!r} right?)")
    else:
        problems += _metadata_problems(metadata.decode(), version, "wheel METADATA")
    entry_points = read.get(f"{dist_info}entry_points.txt", b"").decode()
    for line in ("github_models = jaato_github_models:create_provider",
                 "github_models_ext = jaato_github_models:create_ext_provider",
                 "jaato-github-models = jaato_github_models._entry:main"):
        if line not in entry_points:
            problems.append(f"entry_points.txt lacks {line!r}")
    return problems


def sdist_problems(sdist: Path, version: str, license_text: bytes | None = None) -> list[str]:
    """What is wrong with the sdist: LICENSE, metadata, the package's files, stray files."""
    license_text = (ROOT / "LICENSE").read_bytes() if license_text is None else license_text
    top = f"{PACKAGE}-{version}/"
    with tarfile.open(sdist) as archive:
        members = {m.name: m for m in archive.getmembers()}

        def read(name: str) -> bytes | None:
            member = members.get(top + name)
            handle = archive.extractfile(member) if member else None
            return handle.read() if handle else None

        license_file, pkg_info = read("LICENSE"), read("PKG-INFO")
    problems = [] if license_file == license_text else [f"{top}LICENSE missing or not LICENSE"]
    if pkg_info is None:
        problems.append(f"no {top}PKG-INFO (is the version {version!r} right?)")
    else:
        problems += _metadata_problems(pkg_info.decode(), version, "sdist PKG-INFO")
    inside = {n[len(top):] for n in members if n.startswith(top)}
    source = SOURCE.relative_to(ROOT).as_posix()
    for wheel_path in sorted(expected_package_files()):
        if f"{source}/{wheel_path[len(PACKAGE) + 1:]}" not in inside:
            problems.append(f"missing from the sdist: {source}/{wheel_path[len(PACKAGE) + 1:]}")
    problems += [f"forbidden in the sdist: {n}" for n in sorted(inside)
                 if re.search(r"(^|/)(__pycache__|\.venv[^/]*|\.git|\.env)(/|$)|\.py[co]$", n)]
    return problems


def _run(command: Iterable[str | Path], cwd: Path | None = None,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    args = [str(c) for c in command]
    print("$", " ".join(args), flush=True)
    return subprocess.run(args, text=True, capture_output=True, timeout=600, cwd=cwd, env=env)


def _clean_env(work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k != "PYTHONPATH" and not k.startswith(("JAATO_", "GITHUB_", "VIRTUAL_ENV"))}
    env.update(XDG_DATA_HOME=str(work / "data"), XDG_CACHE_HOME=str(work / "cache"),
               NO_COLOR="1")
    return env


def install_problems(wheel: Path, version: str, work: Path) -> list[str]:
    """Install the wheel into a fresh venv and run what a user runs, outside the checkout."""
    venv, run_dir = work / "venv", work / "run"
    run_dir.mkdir(parents=True)
    made = _run([sys.executable, "-m", "venv", venv])
    if made.returncode:
        return [f"python -m venv failed: {made.stderr.strip()[-500:]}"]
    bin_dir = venv / "bin"
    installed = _run([bin_dir / "python", "-m", "pip", "install", "--quiet", wheel])
    if installed.returncode:
        return [f"pip install of the wheel failed: {installed.stderr.strip()[-1500:]}"]
    env, problems = _clean_env(work), []
    cli = bin_dir / "jaato-github-models"

    shown = _run([cli, "--version"], cwd=run_dir, env=env)
    if shown.stdout.strip() != f"jaato-github-models {version}":
        problems.append(f"--version printed {shown.stdout.strip()!r} {shown.stderr[-300:]!r}")
    probe = _run([bin_dir / "python", "-c", "import importlib.metadata as m, jaato_github_models "
                  "as p; print(p.__file__); print(p.__version__, m.version('jaato-github-models'))"
                  ], cwd=run_dir, env=env)
    lines = probe.stdout.splitlines()
    if probe.returncode or not lines or not lines[0].startswith(str(venv)):
        problems.append(f"jaato_github_models not imported from the venv: {probe.stdout!r} "
                        f"{probe.stderr[-500:]!r}")
    elif lines[1] != f"{version} {version}":
        problems.append(f"__version__ and the installed metadata disagree: {lines[1]!r}")

    emulator = subprocess.Popen([str(cli), "emulator", "--port", "0"], cwd=run_dir, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = (emulator.stdout.readline() if emulator.stdout else "").strip()
        if not url.startswith("http://127.0.0.1:"):
            return [*problems, f"the wheel's emulator did not start: {url!r}"]
        user_env = {**env, "GITHUB_TOKEN": "github_pat_artefact_check",
                    "JAATO_GITHUB_ENDPOINT": f"{url}/inference"}
        listed = _run([cli, "models"], cwd=run_dir, env=user_env)
        if listed.returncode or "openai/gpt-4o" not in listed.stdout:
            problems.append(f"models failed ({listed.returncode}): {listed.stdout[-500:]!r} "
                            f"{listed.stderr[-500:]!r}")
        doctor = _run([cli, "doctor"], cwd=run_dir, env=user_env)
        if doctor.returncode:
            problems.append(f"doctor failed ({doctor.returncode}): {doctor.stdout[-800:]!r} "
                            f"{doctor.stderr[-500:]!r}")
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)

    # the demo needs a framework: the checkout's stand-in, without the provider folder, so the
    # registry finds the provider through the wheel's entry point
    framework = work / "framework"
    shutil.copytree(ROOT / "shared", framework / "shared", ignore=shutil.ignore_patterns(
        "__pycache__", "github_models"))
    shutil.copy(ROOT / "examples" / "agent_demo.py", run_dir / "agent_demo.py")
    demo = _run([bin_dir / "python", "agent_demo.py"], cwd=run_dir,
                env={**env, "PYTHONPATH": str(framework)})
    if demo.returncode or "finish reason: stop" not in demo.stdout:
        problems.append(f"the demo failed ({demo.returncode}): {demo.stdout[-800:]!r} "
                        f"{demo.stderr[-1500:]!r}")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Build and check; 0 when every check passes."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-install", action="store_true", help="skip the fresh-venv run")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)
    started, version = time.monotonic(), _version()
    work = Path(tempfile.mkdtemp(prefix="jaato-artefacts-"))
    try:
        dist = work / "dist"
        built = _run([sys.executable, "-m", "build", "--outdir", dist, ROOT])
        if built.returncode:
            print(built.stdout[-3000:], built.stderr[-3000:], file=sys.stderr)
            return 1
        wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
        if len(wheels) != 1 or len(sdists) != 1:
            print(f"expected one wheel and one sdist in {dist}", file=sys.stderr)
            return 1
        twine = _run([sys.executable, "-m", "twine", "check", "--strict", wheels[0], sdists[0]])
        problems = [] if twine.returncode == 0 else [f"twine check --strict: {twine.stdout}"]
        problems += wheel_problems(wheels[0], version) + sdist_problems(sdists[0], version)
        if not args.no_install and not problems:
            problems += install_problems(wheels[0], version, work / "install")
    finally:
        if args.keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    verdict = "FAILED" if problems else "ok"
    print(f"artefacts {version}: {verdict} in {time.monotonic() - started:.0f}s", flush=True)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
