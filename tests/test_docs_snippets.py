"""Every self-contained Python example in docs/ runs, and prints what its comments say."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
_BLOCK = re.compile(r"```python\n(.*?)```", re.S)
_PRINT_COMMENT = re.compile(r"^\s*print\(.*\)\s+#\s(.+)$")


def _snippets() -> list[tuple[str, str]]:
    found = []
    for page in sorted(DOCS.glob("*.md")):
        for i, block in enumerate(_BLOCK.findall(page.read_text())):
            if "Emulator(" in block:  # self-contained: starts its own emulator
                found.append((f"{page.name}#{i}", block))
    return found


SNIPPETS = _snippets()


def test_docs_have_runnable_examples() -> None:
    assert len(SNIPPETS) >= 5


@pytest.mark.parametrize(("name", "code"), SNIPPETS, ids=[n for n, _ in SNIPPETS])
def test_snippet_runs_and_prints_what_it_says(name: str, code: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JAATO_", "GITHUB_TOKEN"))}
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"{name}:\n{result.stderr[-2000:]}"
    for line in code.splitlines():
        match = _PRINT_COMMENT.match(line)
        if match and "..." not in match.group(1) and "…" not in match.group(1):
            expected = re.sub(r"\s+\([^()]*\)$", "", match.group(1)).strip()  # prose aside
            assert expected in result.stdout, f"{name}: {line.strip()}"
