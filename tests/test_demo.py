"""The README's main job (examples/agent_demo.py) runs a full conversation offline."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

DEMO = Path(__file__).resolve().parents[1] / "examples" / "agent_demo.py"


def test_demo_runs_a_tool_round_trip_against_the_bundled_emulator(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JAATO_", "GITHUB_TOKEN"))}
    result = subprocess.run([sys.executable, str(DEMO)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "using the bundled emulator at http://127.0.0.1:" in out
    assert 'tool call> get_weather({"city": "Paris"})' in out
    # the first reply is only a tool call: no empty "model>" line before it
    assert not any(line.strip() == "model>" for line in out.splitlines()), out
    assert "user> What is the weather in Paris? Use get_weather.\ntool call> " in out
    assert re.search(r"model> Tool results: get_weather -> .*light rain", out)
    assert re.search(r"last response usage: prompt \d+, output \d+, total \d+ tokens", out)
    # the emulator is not the retired host: the model's window, no free-tier caps
    assert "context limit of openai/gpt-4o: 131072 tokens\n" in out
    assert "history: 4 messages" in out
    assert "github_pat_demo" not in out + result.stderr


def test_make_demo_installs_only_what_the_main_job_needs(tmp_path: Path) -> None:
    """`make demo` on a fresh checkout: the package and its runtime dependencies, no extras."""
    plan = subprocess.run(["make", "-n", "demo", f"VENV={tmp_path / 'venv'}"],
                          cwd=DEMO.parents[1], capture_output=True, text=True, timeout=30)
    assert plan.returncode == 0, plan.stderr
    installs = [line for line in plan.stdout.splitlines() if "pip install" in line]
    assert installs and all(line.rstrip().endswith("-e .") for line in installs), installs
    assert "[dev" not in plan.stdout and "docs]" not in plan.stdout
    assert ".installed-demo" in plan.stdout and ".installed-dev" not in plan.stdout
