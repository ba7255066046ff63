"""The shared rate store on the command line: ``doctor``'s store line and ``quota``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .store_server import StoreServer, running_store
from .test_cli import TOKEN, cli_env, run_cli

PASSWORD = "cli-Store-Passw0rd"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StoreServer]:
    with running_store(tmp_path / "store", password=PASSWORD) as server:
        yield server


def doctor_checks(tmp_path: Path, emulator: Any, store_url: str) -> tuple[int, dict[str, Any]]:
    env = cli_env(tmp_path, emulator.inference_url, JAATO_GITHUB_RATE_STORE=store_url)
    result = run_cli(tmp_path, "doctor", "--json", env=env)
    assert PASSWORD not in result.stdout + result.stderr
    return result.returncode, {c["id"]: c for c in json.loads(result.stdout)["checks"]}


def test_doctor_reports_the_store(tmp_path: Path, emulator: Any, store: StoreServer) -> None:
    code, checks = doctor_checks(tmp_path, emulator, store.url)
    assert code == 0, checks
    line = checks["rate_store"]
    assert line["status"] == "PASS"
    assert f"redis://:***@127.0.0.1:{store.port}/0 reachable (valkey" in line["detail"] or (
        "reachable (redis" in line["detail"])
    assert "round trip" in line["detail"] and "key(s) in use for" in line["detail"]


def test_doctor_fails_the_store_line_on_a_wrong_password_and_checks_the_rest(
        tmp_path: Path, emulator: Any, store: StoreServer) -> None:
    code, checks = doctor_checks(tmp_path, emulator, store.url.replace(PASSWORD, "wrong-pw-123"))
    assert code == 1
    assert checks["rate_store"]["status"] == "FAIL"
    assert "refused the login" in checks["rate_store"]["detail"]
    assert "wrong-pw-123" not in json.dumps(checks)
    assert checks["model"]["status"] == "PASS"  # the endpoint checks still ran


def test_doctor_fails_the_store_line_when_the_store_is_down(
        tmp_path: Path, emulator: Any, store: StoreServer) -> None:
    store.kill()
    code, checks = doctor_checks(tmp_path, emulator, store.url)
    assert code == 1
    assert checks["rate_store"]["status"] == "FAIL"
    assert "fall back to per-process pacing" in checks["rate_store"]["detail"]


def test_quota_shows_the_shared_budget_left(tmp_path: Path, emulator: Any,
                                            store: StoreServer) -> None:
    from shared import ProviderConfig
    from shared.plugins.model_provider.github_models import GitHubModelsProvider

    provider = GitHubModelsProvider()
    provider.initialize(ProviderConfig(api_key=TOKEN, extra={
        "endpoint": emulator.inference_url, "pacing": True, "rate_store": store.url}))
    provider.connect("openai/gpt-4o-mini")
    for i in range(3):
        provider.generate(f"hi {i}")
    provider.shutdown()
    env = cli_env(tmp_path, emulator.inference_url, JAATO_GITHUB_RATE_STORE=store.url)
    unpaced = json.loads(run_cli(tmp_path, "quota", "--model", "openai/gpt-4o-mini", "--json",
                                 env=env).stdout)  # pacing is off off models.github.ai
    assert unpaced["store"] is None and "JAATO_GITHUB_PACING=true" in unpaced["note"]
    env["JAATO_GITHUB_PACING"] = "true"
    result = run_cli(tmp_path, "quota", "--model", "openai/gpt-4o-mini", "--json", env=env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["store"] == f"redis://:***@127.0.0.1:{store.port}/0"
    rows = {r["what"]: r for r in report["rows"]}
    assert rows["requests this minute"] == {"what": "requests this minute", "used": 3,
                                            "limit": 15, "left": 12}
    assert rows["requests today"]["left"] == 147
    assert rows["in flight"]["used"] == 0
    text = run_cli(tmp_path, "quota", "--model", "openai/gpt-4o-mini", env=env)
    assert text.returncode == 0
    assert "requests this minute: 3 of 15, 12 left" in text.stdout
    assert PASSWORD not in text.stdout + text.stderr + result.stdout
    assert len([r for r in emulator.requests if r.path.endswith("/chat/completions")]) == 3


def test_quota_without_a_store_says_nothing_is_shared(tmp_path: Path, emulator: Any) -> None:
    result = run_cli(tmp_path, "quota", "--json", endpoint=emulator.inference_url)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["store"] is None
    assert "per process" in json.loads(result.stdout)["note"]
