"""Issue 12: the command line under hostile conditions — Ctrl-C at each stage of start-up,
closed standard streams, third-party log lines, and doctor's own overrides hiding bad settings.
Each runs the real CLI in a subprocess against the emulator."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from shared.plugins.model_provider.github_models.emulator import Emulator

MODULE = "shared.plugins.model_provider.github_models.cli"
TOKEN = "github_pat_11CLIHOSTILE_Zq7wXk2mPv9LrT4sNb6YcH8dJf3GuA5eQo1iWx0tKz"
ROOT = Path(__file__).resolve().parents[2]

# Runs the CLI as ``python -m`` does, after an import hook that sends SIGINT to the process the
# moment a given module starts importing: a deterministic "Ctrl-C at this point of start-up".
INTERRUPT_AT = """
import os, runpy, signal, sys
target = sys.argv.pop(1)
class Hook:
    def find_spec(self, name, path=None, target_=None):
        if name == target:
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        return None
sys.meta_path.insert(0, Hook())
sys.argv[0] = "jaato-github-models"
runpy.run_module("shared.plugins.model_provider.github_models.cli", run_name="__main__",
                 alter_sys=True)
"""


def env_for(endpoint: str, cwd: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("JAATO_") and k not in ("GITHUB_TOKEN", "GH_TOKEN")}
    env.update(GITHUB_TOKEN=TOKEN, JAATO_GITHUB_ENDPOINT=endpoint, NO_PROXY="127.0.0.1",
               PYTHONPATH=str(ROOT), XDG_CACHE_HOME=str(cwd / "cache"), **extra)
    return env


def shell(command: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, shell=True, env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=60, check=False)


@pytest.mark.parametrize("stage", [
    "argparse", "shared.plugins.model_provider.github_models.cli.output",
    "shared.plugins.model_provider.github_models.errors",
    "shared.plugins.model_provider.github_models.cli.chat_runner",
    "shared.plugins.model_provider.github_models.provider",
    "shared.plugins.model_provider.github_models.config.env",
    "shared.plugins.model_provider.github_models.transport.transport", "requests", "azure.core",
    "azure.ai.inference",
    "shared.plugins.model_provider.github_models.calls.calls",
])
def test_ctrl_c_at_each_stage_of_start_up_exits_130_without_traceback(
        emulator: Emulator, tmp_path: Path, stage: str) -> None:
    result = subprocess.run([sys.executable, "-c", INTERRUPT_AT, stage, "chat", "hi"],
                            env=env_for(emulator.inference_url, tmp_path), cwd=tmp_path,
                            capture_output=True, text=True, timeout=60, check=False)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode in (130, 0), (result.returncode, result.stderr)
    if result.returncode == 130:
        assert result.stderr.strip().endswith("interrupted")


@pytest.mark.parametrize("args", ["models", "chat hi", "doctor"])
def test_closed_stdout_is_a_clear_error(emulator: Emulator, tmp_path: Path, args: str) -> None:
    result = shell(f"{sys.executable} -m {MODULE} {args} >&-",
                   env_for(emulator.inference_url, tmp_path), tmp_path)
    assert result.returncode == 2
    assert "standard output is closed" in result.stderr
    assert "Traceback" not in result.stderr and "AttributeError" not in result.stderr


def test_closed_stdin_ends_an_interactive_chat(emulator: Emulator, tmp_path: Path) -> None:
    result = shell(f"{sys.executable} -m {MODULE} chat <&-",
                   env_for(emulator.inference_url, tmp_path), tmp_path)
    assert result.returncode == 0, result.stderr
    assert "standard input is closed" in result.stderr


def test_closed_or_binary_stdin_for_a_dash_prompt_is_a_clear_error(emulator: Emulator,
                                                                   tmp_path: Path) -> None:
    env = env_for(emulator.inference_url, tmp_path)
    closed = shell(f"{sys.executable} -m {MODULE} chat - <&-", env, tmp_path)
    assert closed.returncode == 2 and "is empty" in closed.stderr
    (tmp_path / "prompt.bin").write_bytes(b"caf\xe9 \xff\xfe")
    binary = shell(f"{sys.executable} -m {MODULE} chat - < prompt.bin", env, tmp_path)
    assert binary.returncode == 2 and "not UTF-8" in binary.stderr
    assert "Traceback" not in binary.stderr + closed.stderr


def test_closed_stderr_does_not_break_a_command(emulator: Emulator, tmp_path: Path) -> None:
    result = shell(f"{sys.executable} -m {MODULE} chat hi 2>&-",
                   env_for(emulator.inference_url, tmp_path), tmp_path)
    assert result.returncode == 0
    assert "Echo: hi" in result.stdout


def test_no_raw_third_party_log_lines_above_an_error(emulator: Emulator, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("this is 'not parsable\nJAATO_GITHUB_TIMEOUT=soon\n")
    result = shell(f"{sys.executable} -m {MODULE} chat hi",
                   env_for(emulator.inference_url, tmp_path), tmp_path)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert all(line.startswith(("warning: ", "error: ")) for line in lines), lines
    assert lines[-1].startswith("error: Checking the timeout setting")
    assert any(".env" in line and "line 1" in line for line in lines)


@pytest.mark.parametrize(("variable", "value", "fragment"), [
    ("JAATO_GITHUB_TIMEOUT", "soon", "not a number"),
    ("JAATO_GITHUB_MAX_RETRIES", "99", "outside"),
    ("JAATO_GITHUB_TIMEOUT", "0", "outside"),
])
def test_doctor_checks_the_settings_it_overrides(emulator: Emulator, tmp_path: Path,
                                                 variable: str, value: str,
                                                 fragment: str) -> None:
    env: dict[str, Any] = env_for(emulator.inference_url, tmp_path, **{variable: value})
    doctor = shell(f"{sys.executable} -m {MODULE} doctor", env, tmp_path)
    chat = shell(f"{sys.executable} -m {MODULE} chat hi", env, tmp_path)
    assert chat.returncode == 1 and fragment in chat.stderr
    assert doctor.returncode == 1, doctor.stdout
    assert "FAIL" in doctor.stdout and fragment in doctor.stdout


# The console script as pip writes it, after the same import hook: the script imports the package
# ``__init__`` (and what it imports) before ``_entry`` can catch anything.
CONSOLE_SCRIPT = """
import os, signal, sys
target = os.environ["INTERRUPT_AT"]
class Hook:
    def find_spec(self, name, path=None, target_=None):
        if name == target:
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        return None
sys.meta_path.insert(0, Hook())
from jaato_github_models._entry import main
if __name__ == '__main__':
    sys.exit(main())
"""


@pytest.mark.parametrize("stage", [
    "jaato_github_models._contracts", "jaato_github_models._entry", "jaato_github_models.cli",
    "jaato_github_models.cli.output", "jaato_github_models.errors",
])
def test_ctrl_c_while_the_console_script_loads_the_package_is_quiet(
        emulator: Emulator, tmp_path: Path, stage: str) -> None:
    pytest.importorskip("jaato_github_models")  # the editable install `make setup` makes
    script = tmp_path / "bin" / "jaato-github-models"
    script.parent.mkdir()
    script.write_text(CONSOLE_SCRIPT)
    result = subprocess.run([sys.executable, str(script), "chat", "hi"],
                            env=env_for(emulator.inference_url, tmp_path, INTERRUPT_AT=stage),
                            cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            check=False)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 130, (result.returncode, result.stderr)
    assert result.stderr.strip().endswith("interrupted")
