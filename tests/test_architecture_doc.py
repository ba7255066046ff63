"""ARCHITECTURE.md names every module of the package (a new module fails this until it is
placed in the page a new maintainer reads), and names no module that no longer exists."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "shared" / "plugins" / "model_provider" / "github_models"
PAGE = (REPO / "ARCHITECTURE.md").read_text(encoding="utf-8")


def _named(relative: str) -> bool:
    name = relative.rsplit("/", 1)[-1]
    # the path as written (`transport/clients.py`), or the file name as code (`clients.py`)
    return relative in PAGE or re.search(rf"[`/]{re.escape(name)}\b", PAGE) is not None


def test_every_module_is_named() -> None:
    modules = sorted(p.relative_to(PACKAGE).as_posix() for p in PACKAGE.rglob("*.py")
                     if p.name != "__init__.py")
    assert len(modules) > 100  # the walk found the package
    missing = [m for m in modules if not _named(m)]
    assert missing == [], f"ARCHITECTURE.md does not name: {missing}"


def test_no_stale_module_is_named() -> None:
    known = {p.name for p in PACKAGE.rglob("*.py")}
    # a backticked file name ending in .py, possibly with folders before it
    named = {m.rsplit("/", 1)[-1] for m in re.findall(r"`([\w/]+\.py)`", PAGE)}
    stale = sorted(n for n in named if n not in known and not n.startswith("test_")
                   and not (REPO / "benchmarks" / n).exists() and not (REPO / "tools" / n).exists())
    assert stale == [], f"ARCHITECTURE.md names modules that do not exist: {stale}"
