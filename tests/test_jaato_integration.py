"""The plugin inside the real jaato framework, installed from PyPI, as its users run it.

For jaato-server 0.15.0 (Python 3.11) and 1.2.0 (Python 3.12), each in its own venv
(``tests/jaato/venvs.py``):

1. ``pip install`` of this project's wheel next to jaato overwrites none of jaato-server's or
   jaato-sdk's files (their RECORD hashes still match), and the two RECORDs share no path, so
   neither install order can overwrite the other;
2. jaato's own in-process client (``JaatoClient``) selects the plugin by configuration alone
   (``JAATO_PROVIDER=github_models_ext``) and runs its agent loop against the emulator: a tool
   call that jaato executes, the result sent back, the final text, streaming and not, and a
   cancel mid-stream (``tests/jaato/driver.py``, run by the venv's interpreter);
3. ``pip uninstall`` leaves jaato whole and working;
4. the ``github_models`` folder copied over jaato's own passes the same run.

Nothing of jaato is mocked. A missing interpreter skips its release with the reason in the
summary (``.ci/run`` says it loudly too).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TEST_TOKEN
from tests.jaato import venvs

pytestmark = pytest.mark.jaato

DRIVER = Path(__file__).resolve().parent / "jaato" / "driver.py"
FOLDER = venvs.REPO_ROOT / "shared" / "plugins" / "model_provider" / "github_models"
ENTRY_POINT_NAME = "github_models_ext"


@dataclass
class Jaato:
    target: venvs.Target
    venv: Path
    baseline: dict[str, str]
    wheel: Path

    @property
    def python(self) -> str:
        return str(self.venv / "bin" / "python")


@pytest.fixture(scope="session")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return venvs.build_wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module", params=venvs.TARGETS, ids=lambda t: f"jaato-{t.version}")
def jaato(request: pytest.FixtureRequest, wheel: Path) -> Iterator[Jaato]:
    target: venvs.Target = request.param
    interpreter = venvs.find_python(target.python)
    if interpreter is None:
        pytest.skip(f"Python {target.python} is not installed: jaato-server {target.version} "
                    f"(which needs it) cannot be tested here")
    venv = venvs.ensure_venv(target, interpreter)
    venvs.pip(venv, "uninstall", "--yes", "--quiet", venvs.DIST)
    baseline = {**venvs.record(venv, "jaato-server"), **venvs.record(venv, "jaato-sdk")}
    assert baseline, "jaato-server's RECORD was not found"
    assert venvs.changed_files(venv, baseline) == []
    venvs.pip(venv, "install", "--quiet", str(wheel))
    yield Jaato(target, venv, baseline, wheel)
    venvs.pip(venv, "uninstall", "--yes", "--quiet", venvs.DIST)


def run_driver(jaato: Jaato, emulator: Any, tmp_path: Path, provider: str,
               pythonpath: str | None = None, scenarios: str = "auth,tool,tool_stream,cancel"
               ) -> dict[str, Any]:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home),
           "NO_PROXY": "127.0.0.1,localhost", "JAATO_PROVIDER": provider,
           "MODEL_NAME": "openai/gpt-4o", "GITHUB_TOKEN": TEST_TOKEN,
           "JAATO_GITHUB_ENDPOINT": emulator.inference_url, "DRIVER_SCENARIOS": scenarios,
           "DRIVER_WORKSPACE": str(tmp_path / "workspace")}
    if pythonpath:
        env["PYTHONPATH"] = pythonpath
    (tmp_path / "workspace").mkdir(exist_ok=True)
    done = subprocess.run([jaato.python, str(DRIVER)], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=300, check=False)
    assert TEST_TOKEN not in done.stdout + done.stderr
    try:
        summary: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        pytest.fail(f"the driver printed no summary (exit {done.returncode}):\n"
                    f"{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    return summary


def assert_agent_loop(summary: dict[str, Any], module: str, name: str) -> None:
    resolved = summary["provider_resolution"]
    assert resolved["found"], resolved
    assert resolved["class"] == f"{module}.provider.GitHubModelsProvider"
    assert resolved["name"] == name  # what jaato records as the provider of each model turn
    assert summary["auth"]["verify_auth"] is True, summary["auth"]
    for scenario, streaming in (("tool", False), ("tool_stream", True)):
        turn = summary[scenario]
        assert turn["error"] is None, turn
        assert turn["tool_args"] == [{"city": "Paris"}], turn  # jaato ran the tool, once
        assert turn["history"][1:3] == ['model: call get_weather({"city": "Paris"})',
                                        "tool: result get_weather error=False"], turn["history"]
        assert turn["final_text"].startswith('Tool results: get_weather -> {"city": "Paris"')
        assert (turn["model_chunks"] > 10) is streaming, turn["model_chunks"]
        recorded = turn["history_providers"]
        assert recorded == [name] or (recorded == ["None"] and summary["host"]["versions"][
            "jaato-server"] == "0.15.0"), recorded  # 0.15's Message has no provider field
        completes = [c for c in turn["provider_calls"] if c["method"] == "complete"]
        assert [c["returned"]["outcome"] for c in completes] == ["tool_use", "response"]
    cancel = summary["cancel"]
    assert cancel["stop_returned"] is True and cancel["thread_finished"], cancel
    assert cancel["final_text"].endswith("[Generation cancelled]"), cancel
    assert cancel["model_chars"] < cancel["full_reply_chars_if_uncancelled"]
    assert summary["ok"] is True


def test_pip_install_beside_jaato_overwrites_none_of_its_files(jaato: Jaato) -> None:
    ours = venvs.record(jaato.venv, venvs.DIST)
    assert ours, "the wheel did not install"
    assert venvs.changed_files(jaato.venv, jaato.baseline) == []
    # no shared path: installing jaato after this project cannot overwrite ours either
    assert sorted(set(ours) & set(jaato.baseline)) == []
    tops = {Path(p).parts[0] for p in ours if not p.startswith("..")}
    assert tops == {"jaato_github_models", f"jaato_github_models-{_version(jaato.wheel)}.dist-info"}


def test_jaato_runs_its_agent_loop_on_the_installed_plugin(jaato: Jaato, emulator: Any,
                                                           tmp_path: Path) -> None:
    summary = run_driver(jaato, emulator, tmp_path, ENTRY_POINT_NAME)
    assert_agent_loop(summary, "jaato_github_models", ENTRY_POINT_NAME)
    assert summary["host"]["versions"]["jaato-server"] == jaato.target.version
    # requests went through the plugin: the emulator saw its user agent and the bearer token
    chats = [r for r in emulator.requests if r.path.endswith("/chat/completions")]
    assert chats and all(r.headers["user-agent"].startswith("jaato-github-models/")
                         for r in chats)


def test_the_installed_package_logs_under_its_own_name(jaato: Jaato, tmp_path: Path) -> None:
    probe = ("import jaato_github_models.config.env as e\n"
             "import jaato_github_models.transport.pipeline as t\n"
             "import jaato_github_models.cli.main as c\n"
             "print(e.logger.name, t.http_logger.name, c._LOGGER)\n")
    done = subprocess.run([jaato.python, "-c", probe], capture_output=True, text=True,
                          cwd=tmp_path, env={"PATH": os.environ.get("PATH", ""),
                                             "HOME": str(tmp_path)}, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    # not shared.plugins.model_provider..., which reads like one of jaato's own modules
    assert done.stdout.split() == ["jaato_github_models", "jaato_github_models.http",
                                   "jaato_github_models"]


def test_the_cli_and_scripts_beside_jaato_get_the_same_types_as_anywhere(
        jaato: Jaato, emulator: Any, tmp_path: Path) -> None:
    # jaato installed but not running: the package's own types (jaato's only once jaato runs)
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), "GITHUB_TOKEN": TEST_TOKEN,
           "NO_PROXY": "127.0.0.1,localhost", "JAATO_GITHUB_LOG_DB": str(tmp_path / "log.db")}
    cli = str(jaato.venv / "bin" / "jaato-github-models")
    probe = ("import sys, jaato_github_models._host as h\n"
             "from jaato_github_models.emulator import Emulator\n"
             "e = Emulator()\n"
             "import json; print(h.HOST, len(json.loads(e.index().catalog_body)))\n")
    host = subprocess.run([jaato.python, "-c", probe], capture_output=True, text=True, env=env,
                          cwd=tmp_path, check=False)
    assert host.returncode == 0, host.stderr[-2000:]
    standalone, models = host.stdout.split()
    assert standalone == "standalone"
    assert int(models) > 50  # the emulator serves the package's whole catalog
    chat = subprocess.run([cli, "chat", "--json", "--endpoint", emulator.inference_url,
                           "-m", "openai/gpt-4o", "hello there"], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=120, check=False)
    assert chat.returncode == 0, chat.stderr[-2000:]
    assert json.loads(chat.stdout)["text"] == "Echo: hello there"
    logs = subprocess.run([cli, "logs", "--json"], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=60, check=False)
    assert logs.returncode == 0 and "hello there" in logs.stdout, logs.stderr[-2000:]
    assert TEST_TOKEN not in chat.stdout + chat.stderr + logs.stdout + logs.stderr


JAATO_TYPES_PROBE = """
import json, sys
import jaato_sdk.plugins.model_provider.types as t   # jaato running: its types are the host's
from jaato_github_models import create_provider
from jaato_github_models._host import HOST, ProviderConfig
p = create_provider(ProviderConfig(api_key=sys.argv[2], extra={"endpoint": sys.argv[1],
                                                                 "pacing": False}))
p.connect("openai/gpt-4o")
tool = t.ToolSchema(name="get_weather", description="Weather", parameters={
    "type": "object", "properties": {"city": {"type": "string"}}})
user = t.Message(role=t.Role.USER, parts=[t.Part(text="weather?")])
bad = p.complete([user], tools=[tool])            # scripted: arguments that are not JSON
calls = bad.response.get_function_calls()
odd = [(c.name, c.args, c.unreadable_args) for c in calls]
thought = t.Message(role=t.Role.MODEL, parts=[t.Part(thought="thinking...")])
mixed = t.Message(role=t.Role.USER, parts=[t.Part(text="and Rome?")])
again = p.complete([user, thought, mixed], tools=[tool])
print(json.dumps({"host": HOST, "outcome": bad.outcome.value, "odd": odd,
                  "again": again.outcome.value, "text": again.text}))
"""


def test_jaatos_types_carry_unreadable_arguments_and_thought_only_turns_are_not_sent(
        jaato: Jaato, emulator: Any, tmp_path: Path) -> None:
    from shared.plugins.model_provider.github_models.emulator import Reply

    emulator.script(Reply.tool_calls([("get_weather", '{"city": "Par')]))
    done = subprocess.run([jaato.python, "-c", JAATO_TYPES_PROBE, emulator.inference_url,
                           TEST_TOKEN], capture_output=True, text=True, cwd=tmp_path,
                          env={"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path),
                               "NO_PROXY": "127.0.0.1"}, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout)
    assert out["host"] == "jaato_sdk"
    # jaato's session answers an unreadable call with an error result and goes on
    assert (out["outcome"], out["odd"]) == ("tool_use", [["get_weather", {}, '{"city": "Par']])
    assert (out["again"], out["text"]) == ("response", "Echo: and Rome?")
    chats = [r for r in emulator.requests if r.path.endswith("/chat/completions")]
    assert [m["role"] for m in chats[-1].body["messages"]] == ["user", "user"]


def test_pip_uninstall_leaves_jaato_whole_and_working(jaato: Jaato, tmp_path: Path) -> None:
    venvs.pip(jaato.venv, "uninstall", "--yes", "--quiet", venvs.DIST)
    assert venvs.record(jaato.venv, venvs.DIST) == {}
    assert venvs.changed_files(jaato.venv, jaato.baseline) == []
    probe = ("import importlib\n"
             "for root in ('jaato_server.shared', 'shared'):\n"
             "    try:\n"
             "        mp = importlib.import_module(root + '.plugins.model_provider')\n"
             "        client = importlib.import_module(root + '.jaato_client')\n"
             "        break\n"
             "    except ImportError:\n"
             "        continue\n"
             "found = mp.discover_providers()\n"
             "print(client.JaatoClient.__name__, 'github_models' in found,"
             " 'github_models_ext' in found)\n")
    done = subprocess.run([jaato.python, "-c", probe], capture_output=True, text=True,
                          cwd=tmp_path, env={"PATH": os.environ.get("PATH", ""),
                                             "HOME": str(tmp_path)}, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split() == ["JaatoClient", "True", "False"]


def test_the_folder_copied_over_jaatos_github_models_runs_the_same_loop(
        jaato: Jaato, emulator: Any, tmp_path: Path) -> None:
    # no wheel (the previous test removed it; removed here too when this test runs alone); its
    # dependencies stay, as they would for a folder user
    venvs.pip(jaato.venv, "uninstall", "--yes", "--quiet", venvs.DIST)
    assert venvs.record(jaato.venv, venvs.DIST) == {}
    sp = venvs.site_packages(jaato.venv)
    root = "jaato_server" if (sp / "jaato_server").is_dir() else "shared"
    overlay = tmp_path / "overlay"
    shutil.copytree(sp / root, overlay / root, ignore=shutil.ignore_patterns("__pycache__"))
    host = overlay / root / ("shared" if root == "jaato_server" else "")
    mp = host / "plugins" / "model_provider"
    shutil.rmtree(mp / "github_models")
    shutil.copytree(FOLDER, mp / "github_models", ignore=shutil.ignore_patterns("__pycache__"))
    summary = run_driver(jaato, emulator, tmp_path, "github_models", pythonpath=str(overlay))
    prefix = "jaato_server.shared" if root == "jaato_server" else "shared"
    assert_agent_loop(summary, f"{prefix}.plugins.model_provider.github_models", "github_models")


def test_the_folder_copied_beside_jaatos_own_runs_under_its_name_and_leaves_jaatos_intact(
        jaato: Jaato, emulator: Any, tmp_path: Path) -> None:
    venvs.pip(jaato.venv, "uninstall", "--yes", "--quiet", venvs.DIST)
    sp = venvs.site_packages(jaato.venv)
    root = "jaato_server" if (sp / "jaato_server").is_dir() else "shared"
    overlay = tmp_path / "overlay"
    shutil.copytree(sp / root, overlay / root, ignore=shutil.ignore_patterns("__pycache__"))
    host = overlay / root / ("shared" if root == "jaato_server" else "")
    mp = host / "plugins" / "model_provider"
    jaatos_own = sorted(p.name for p in (mp / "github_models").iterdir()
                        if p.name != "__pycache__")
    shutil.copytree(FOLDER, mp / ENTRY_POINT_NAME, ignore=shutil.ignore_patterns("__pycache__"))
    summary = run_driver(jaato, emulator, tmp_path, ENTRY_POINT_NAME, pythonpath=str(overlay))
    prefix = "jaato_server.shared" if root == "jaato_server" else "shared"
    assert_agent_loop(summary, f"{prefix}.plugins.model_provider.{ENTRY_POINT_NAME}",
                      ENTRY_POINT_NAME)
    # jaato's own github_models (and its Copilot OAuth module) is still the one of that name
    assert sorted(p.name for p in (mp / "github_models").iterdir()
                  if p.name != "__pycache__") == jaatos_own
    assert "oauth.py" in jaatos_own
    assert summary["provider_resolution"]["others"]["github_models"] == (
        f"{prefix}.plugins.model_provider.github_models.provider")

def _version(wheel: Path) -> str:
    return wheel.name.split("-")[1]
