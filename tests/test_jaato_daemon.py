"""The plugin on jaato's daemon path, as users run it: a real jaato-server 1.2.0 daemon on a unix
socket (started here, in its own folder and HOME), the ``jaato`` headless client of jaato-tui
1.0.2, two workspaces with their own ``.env``, all against the emulator.

- each workspace's requests carry its own organization, never the one in the daemon's folder;
- a streamed reply reaches the client; a tool call jaato runs goes back to the model;
- no warning about jaato's own ``extra`` keys, and the token appears in no output or log;
- a small jaato-eval 0.3.4 task runs on the plugin through the same daemon.

Nothing of jaato is mocked. Without Python 3.12 the module is skipped with the reason.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.plugins.model_provider.github_models.emulator import Emulator
from tests.conftest import TEST_TOKEN
from tests.jaato import venvs
from tests.jaato.daemon import Daemon

# jaato-server and its clients bound their own waits (240 s each); a busy machine can take
# longer than the suite-wide 120 s for two workspaces (a daemon warm-up is ~20 s per runner)
pytestmark = [pytest.mark.jaato, pytest.mark.timeout(600)]


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    emulator = Emulator()
    emulator.start()
    emulator.add_org("alpha")
    emulator.add_org("beta")
    emulator.add_org("gamma")
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory, emu: Emulator) -> Iterator[Daemon]:
    target = venvs.DAEMON_TARGET
    interpreter = venvs.find_python(target.python)
    if interpreter is None:
        pytest.skip(f"Python {target.python} is not installed: jaato-server {target.version}'s "
                    "daemon cannot be tested here")
    venv = venvs.ensure_venv(target, interpreter)
    wheel = venvs.build_wheel(tmp_path_factory.mktemp("daemon-wheel"))
    venvs.pip(venv, "uninstall", "--yes", "--quiet", venvs.DIST)
    venvs.pip(venv, "install", "--quiet", str(wheel))  # with its dependencies, on a fresh venv
    root = tmp_path_factory.mktemp("daemon")
    env = {"PATH": "/usr/bin:/bin", "NO_PROXY": "127.0.0.1,localhost", "LANG": "C.UTF-8"}
    served = Daemon(venv, root, env)
    served.cwd.mkdir(parents=True)
    # the daemon's own folder names an organization no session may be billed to
    (served.cwd / ".env").write_text("JAATO_GITHUB_ORGANIZATION=daemon-org\n", encoding="utf-8")
    try:
        served.start()
        yield served
    finally:
        served.stop()
        venvs.pip(venv, "uninstall", "--yes", "--quiet", venvs.DIST)


def _workspace(daemon: Daemon, emu: Emulator, name: str, org: str) -> Path:
    folder = daemon.root / name
    folder.mkdir()
    (folder / ".env").write_text("\n".join([
        "JAATO_PROVIDER=github_models_ext",
        "MODEL_NAME=openai/gpt-4o",
        f"GITHUB_TOKEN={TEST_TOKEN}",
        f"JAATO_GITHUB_ENDPOINT={emu.inference_url}",
        f"JAATO_GITHUB_ORGANIZATION={org}",
        # default settings otherwise: the free tier's caps (which could not hold jaato's
        # ~19k-token prompt) apply only to the retired models.github.ai host
    ]) + "\n", encoding="utf-8")
    return folder


def _chats(emu: Emulator, org: str) -> list[Any]:
    return [r for r in emu.requests if r.path == f"/orgs/{org}/inference/chat/completions"
            and r.body and r.body.get("messages")]


def _everything_written(daemon: Daemon) -> str:
    texts = [daemon.output()]
    for path in daemon.root.rglob("*"):
        if path.is_file() and path.suffix in (".log", ".json", ".out", ".jsonl", ".txt"):
            texts.append(path.read_text(errors="replace"))
    return "\n".join(texts)


def test_two_workspaces_in_one_daemon_stream_and_run_a_tool_each_with_its_own_settings(
        daemon: Daemon, emu: Emulator) -> None:
    ws_a = _workspace(daemon, emu, "ws-a", "alpha")
    ws_b = _workspace(daemon, emu, "ws-b", "beta")

    hello = daemon.ask(ws_a, "Say hello from A")
    assert hello.returncode == 0, hello.stderr[-3000:]
    assert "Echo: Say hello from A" in hello.log, hello.log[-3000:]
    streamed = [r for r in _chats(emu, "alpha") if r.body.get("stream") is True]
    assert streamed, [r.path for r in emu.requests]  # jaato streams by default

    tool = daemon.ask(ws_b, "Check the machine: call get_environment now.")
    assert tool.returncode == 0, tool.stderr[-3000:]
    assert "Tool results: get_environment" in tool.log, tool.log[-3000:]
    beta = _chats(emu, "beta")
    assert any(m.get("role") == "tool" for r in beta for m in r.body["messages"]), (
        "the tool's result never went back to the model")

    # one daemon, two workspaces: each billed to its own organization, none to the daemon's
    assert not [r.path for r in emu.requests if "daemon-org" in r.path]
    assert not [r for r in _chats(emu, "alpha") if "get_environment" in json.dumps(r.body)
                and any(m.get("role") == "tool" for m in r.body["messages"])]
    assert all(r.headers.get("user-agent", "").startswith("jaato-github-models/")
               for r in _chats(emu, "alpha") + beta)

    written = _everything_written(daemon)
    assert "ignoring unknown ProviderConfig.extra keys" not in written
    assert TEST_TOKEN not in written + hello.stderr + tool.stderr + hello.log + tool.log


def test_a_jaato_eval_task_runs_on_the_plugin_through_the_daemon(
        daemon: Daemon, emu: Emulator) -> None:
    task = daemon.root / "tasks" / "hello"
    (task / "fixture").mkdir(parents=True)
    (task / "jaato" / "profiles").mkdir(parents=True)
    # jaato-eval writes each arm's .env itself (JAATO_PROFILE_SET only): the provider's
    # settings travel in the profile, as jaato's plugin_configs (ProviderConfig.extra)
    (task / "fixture" / "README").write_text("an empty project\n", encoding="utf-8")
    (task / "jaato" / "profiles" / "gh.json").write_text(json.dumps({
        "name": "gh", "description": "the plugin on the emulator",
        "provider": "github_models_ext", "model": "openai/gpt-4o", "plugins": [],
        "plugin_configs": {"github_models_ext": {
            "api_key": TEST_TOKEN, "endpoint": emu.inference_url, "organization": "gamma"}}}),
        encoding="utf-8")
    (task / "task.yaml").write_text("\n".join([
        "id: hello", "description: one prompt, graded by a script",
        "environment:", "  fixture: fixture", "  config_root: jaato",
        "harness:", "  profile: gh", "input:", '  prompt: "Say hello from eval"',
        "graders:", "  - kind: script", '    run: "test -f .env"']) + "\n", encoding="utf-8")
    out = daemon.root / "results.jsonl"
    done = subprocess.run(
        [str(daemon.venv / "bin" / "jaato-eval"), "run", str(daemon.root / "tasks"),
         "--socket", str(daemon.socket), "--out", str(out),
         "--workspaces", str(daemon.root / "eval-workspaces"), "--arm-timeout", "240"],
        cwd=daemon.root, env={**daemon.env, "HOME": str(daemon.home)}, capture_output=True,
        text=True, timeout=400, check=False)
    assert out.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    (arm,) = [json.loads(line) for line in out.read_text().splitlines()]
    assert arm["state"] == "PASS", (arm, done.stdout[-3000:])
    assert (arm["provider"], arm["model"]) == ("github_models_ext", "openai/gpt-4o"), arm
    assert arm["usage"]["spend_total_tokens"] > 0, arm
    assert _chats(emu, "gamma"), [r.path for r in emu.requests]
    assert TEST_TOKEN not in done.stdout + done.stderr + out.read_text()
