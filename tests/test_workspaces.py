"""One process (a jaato daemon) serving many workspaces: each session's settings come from the
``.env`` of its own ``workspace_path`` (jaato stamps it on ``ProviderConfig.extra``), never from
the daemon's working directory, and jaato's own ``extra`` keys are accepted silently."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from shared import ProviderConfig
from shared.plugins.model_provider.github_models import GitHubModelsProvider
from shared.plugins.model_provider.github_models.config.env import JAATO_EXTRA_KEYS
from tests.conftest import TEST_TOKEN

PACKAGE_LOGGER = "shared.plugins.model_provider.github_models"


def _workspace(root: Path, name: str, lines: list[str]) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / ".env").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


def _session(workspace: Path | None, **extra: Any) -> GitHubModelsProvider:
    if workspace is not None:
        extra["workspace_path"] = str(workspace)
    # what jaato 1.2's daemon stamps on every session's config
    extra.update(session_id="sess-1", config_root=str((workspace or Path.cwd()) / ".jaato"),
                 app_identity={"name": "my-app"}, quirks={})
    provider = GitHubModelsProvider()
    provider.initialize(ProviderConfig(api_key=TEST_TOKEN, extra=extra))
    provider.connect("openai/gpt-4o")
    return provider


def test_two_workspaces_in_one_process_bill_their_own_organization(
        emulator: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    emulator.add_org("alpha")
    emulator.add_org("beta")
    # the daemon's own folder (its cwd) names a third organization: no session may use it
    (tmp_path / ".env").write_text("JAATO_GITHUB_ORGANIZATION=daemon-org\n", encoding="utf-8")
    base = f"JAATO_GITHUB_ENDPOINT={emulator.inference_url}"
    ws_a = _workspace(tmp_path, "a", [base, "JAATO_GITHUB_ORGANIZATION=alpha",
                                      "JAATO_GITHUB_PACING=off"])
    ws_b = _workspace(tmp_path, "b", [base.replace("127.0.0.1", "localhost"),
                                      "JAATO_GITHUB_ORGANIZATION=beta",
                                      "JAATO_GITHUB_PACING=off"])
    caplog.set_level(logging.INFO)
    a, b = _session(ws_a), _session(ws_b)
    try:
        assert a.settings.dotenv_path == str(ws_a / ".env")
        assert b.settings.dotenv_path == str(ws_b / ".env")
        for provider in (a, b, a):
            provider.generate("hello")
    finally:
        a.shutdown()
        b.shutdown()
    paths = [r.path for r in emulator.requests if r.method == "POST"]
    assert paths == ["/orgs/alpha/inference/chat/completions",
                     "/orgs/beta/inference/chat/completions",
                     "/orgs/alpha/inference/chat/completions"]
    hosts = [r.headers.get("host", "") for r in emulator.requests if r.method == "POST"]
    assert hosts[1].startswith("localhost:") and hosts[0].startswith("127.0.0.1:")
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


def test_a_workspace_without_env_does_not_fall_back_to_the_daemons_folder(
        emulator: Any, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"JAATO_GITHUB_ENDPOINT={emulator.inference_url}\n"
                                   "JAATO_GITHUB_ORGANIZATION=daemon-org\n", encoding="utf-8")
    bare = tmp_path / "bare"
    bare.mkdir()
    provider = _session(bare, endpoint=emulator.inference_url, pacing=False)
    try:
        assert provider.settings.dotenv_path is None
        assert provider.settings.organization is None
        provider.generate("hello")
    finally:
        provider.shutdown()
    assert [r.path for r in emulator.requests] == ["/inference/chat/completions"]


def test_without_a_workspace_the_cwd_env_is_read_as_before(emulator: Any, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("JAATO_GITHUB_ORGANIZATION=acme\n", encoding="utf-8")
    provider = _session(None, endpoint=emulator.inference_url, pacing=False)
    try:
        assert provider.settings.organization == "acme"
    finally:
        provider.shutdown()


def test_an_edited_workspace_env_is_read_again(emulator: Any, tmp_path: Path) -> None:
    ws = _workspace(tmp_path, "ws", ["JAATO_GITHUB_ORGANIZATION=first"])
    first = _session(ws, endpoint=emulator.inference_url, pacing=False)
    (ws / ".env").write_text("JAATO_GITHUB_ORGANIZATION=second-org\n", encoding="utf-8")
    second = _session(ws, endpoint=emulator.inference_url, pacing=False)
    try:
        assert (first.settings.organization, second.settings.organization) == (
            "first", "second-org")
    finally:
        first.shutdown()
        second.shutdown()


def test_a_relative_env_file_is_the_workspaces(emulator: Any, tmp_path: Path) -> None:
    ws = _workspace(tmp_path, "ws", ["JAATO_GITHUB_ORGANIZATION=plain"])
    (ws / "team.env").write_text("JAATO_GITHUB_ORGANIZATION=team\n", encoding="utf-8")
    provider = _session(ws, endpoint=emulator.inference_url, pacing=False, env_file="team.env")
    try:
        assert provider.settings.organization == "team"
    finally:
        provider.shutdown()


def test_a_workspace_path_that_is_not_a_path_is_refused_before_any_request(
        emulator: Any) -> None:
    from shared.plugins.model_provider.github_models.errors import ConfigurationError

    provider = GitHubModelsProvider()
    with pytest.raises(ConfigurationError, match=r"workspace_path.*int"):
        provider.initialize(ProviderConfig(api_key=TEST_TOKEN, extra={
            "endpoint": emulator.inference_url, "workspace_path": 42}))
    assert emulator.requests == []


def test_jaatos_extra_keys_are_listed_and_other_unknown_keys_still_warned(
        emulator: Any, caplog: pytest.LogCaptureFixture) -> None:
    assert {"session_id", "workspace_path", "config_root", "app_identity"} <= JAATO_EXTRA_KEYS
    caplog.set_level(logging.WARNING)
    provider = _session(None, endpoint=emulator.inference_url, pacing=False, tempratur=1)
    provider.shutdown()
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.name for r in warnings] == [PACKAGE_LOGGER]
    assert "tempratur" in warnings[0].getMessage()
    assert "session_id" not in warnings[0].getMessage()


def test_every_variable_the_provider_reads_is_read_by_name_where_jaato_scaffold_looks() -> None:
    import ast
    import inspect

    from shared.plugins.model_provider.github_models.common import env_reads
    from shared.plugins.model_provider.github_models.config.env import ENV_FILE, ENV_KEYS

    tree = ast.parse(inspect.getsource(env_reads))
    read = {node.args[0].value for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get" and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "environ" and isinstance(node.args[0], ast.Constant)}
    assert read == {*ENV_KEYS, ENV_FILE}
    everything = {k: "v" for k in (*ENV_KEYS, ENV_FILE, "HOME")}
    assert env_reads.provider_environment(everything) == {k: "v" for k in (*ENV_KEYS, ENV_FILE)}
