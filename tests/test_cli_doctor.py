"""``jaato-github-models doctor``: fails usefully on each broken setup, passes on a healthy one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from shared.plugins.model_provider.github_models.emulator import Reply

from .test_cli import TOKEN, cli_env, run_cli


def doctor(tmp_path: Path, *args: str, endpoint: str | None, token: str | None = TOKEN,
           env: dict[str, str] | None = None) -> tuple[int, dict[str, dict[str, str]], str]:
    """Run ``doctor --json``; returns (exit code, checks by id, the text output of a plain run)."""
    result = run_cli(tmp_path, "doctor", "--json", *args, endpoint=endpoint, token=token, env=env)
    data = json.loads(result.stdout)
    assert data["ok"] is (result.returncode == 0)
    checks = {c["id"]: c for c in data["checks"]}
    assert list(checks) == ["token", "dotenv", "endpoint", "reachable", "service", "auth",
                            "organization", "model", "rate_limits"]
    assert all(c["status"] in ("PASS", "FAIL", "SKIP") for c in checks.values())
    assert all(c["next"] for c in checks.values() if c["status"] == "FAIL")  # a next step
    return result.returncode, checks, result.stderr


def statuses(checks: dict[str, dict[str, str]]) -> dict[str, str]:
    return {name: c["status"] for name, c in checks.items()}


def test_healthy_emulator_passes(tmp_path: Path, emulator: Any) -> None:
    code, checks, _ = doctor(tmp_path, endpoint=emulator.inference_url)
    assert code == 0
    assert statuses(checks) == {
        "token": "PASS", "dotenv": "SKIP", "endpoint": "PASS", "reachable": "PASS",
        "service": "PASS", "auth": "PASS", "organization": "SKIP", "model": "PASS",
        "rate_limits": "PASS"}
    assert checks["token"]["detail"].startswith(
        "github_pat_… (fine-grained personal access token) from environment GITHUB_TOKEN")
    assert "tier high" in checks["rate_limits"]["detail"]
    # the first-run answer says why the free tier's caps are off here, and how to turn them on
    assert "free-tier caps and pacing off: on by default only for models.github.ai" in checks[
        "rate_limits"]["detail"]
    assert "19999/20000 requests remaining" in checks["rate_limits"]["detail"]  # x-ratelimit-*
    (ping,) = [r for r in emulator.requests if r.path.endswith("/chat/completions")]
    assert ping.body["max_tokens"] == 1  # one tiny real request
    text = run_cli(tmp_path, "doctor", endpoint=emulator.inference_url)
    assert text.returncode == 0
    assert text.stdout.splitlines()[0].startswith("PASS  Token ")
    assert "7 passed, 0 failed, 2 skipped" in text.stdout


def test_org_attribution_and_dotenv_pass(tmp_path: Path, emulator: Any) -> None:
    (tmp_path / ".env").write_text(f"GITHUB_TOKEN={TOKEN}\nJAATO_GITHUB_ORGANIZATION=acme\n")
    code, checks, _ = doctor(tmp_path, endpoint=emulator.inference_url, token=None)
    assert code == 0, checks
    assert checks["dotenv"]["status"] == "PASS" and ".env" in checks["dotenv"]["detail"]
    assert checks["organization"]["status"] == "PASS"
    assert "billed to acme" in checks["organization"]["detail"]
    assert emulator.requests[-1].path == "/orgs/acme/inference/chat/completions"


def test_endpoint_for_another_org_fails_before_any_request(tmp_path: Path, emulator: Any) -> None:
    endpoint = emulator.inference_url.replace("/inference", "/orgs/other/inference")
    code, checks, _ = doctor(tmp_path, "--org", "acme", endpoint=endpoint)
    assert code == 1
    assert checks["endpoint"]["status"] == "FAIL"
    assert "'other'" in checks["endpoint"]["detail"] and "'acme'" in checks["endpoint"]["detail"]
    assert checks["organization"]["status"] != "PASS"
    assert emulator.requests == []


def test_no_token(tmp_path: Path, emulator: Any) -> None:
    code, checks, _ = doctor(tmp_path, endpoint=emulator.inference_url, token=None)
    assert code == 1
    assert checks["token"]["status"] == "FAIL"
    assert "environment variable GITHUB_TOKEN: not set" in checks["token"]["detail"]
    assert "models: read" in checks["token"]["next"]
    assert checks["endpoint"]["status"] == "PASS"  # still checked without a token
    assert checks["auth"] == {**checks["auth"], "status": "SKIP", "detail": "needs a token"}
    assert emulator.requests == []
    text = run_cli(tmp_path, "doctor", endpoint=emulator.inference_url, token=None)
    assert text.returncode == 1 and "FAIL  Token" in text.stdout and "next: " in text.stdout


def test_default_endpoint_is_recognised_as_retired_without_a_request(tmp_path: Path) -> None:
    code, checks, _ = doctor(tmp_path, endpoint=None)
    assert code == 1
    assert checks["endpoint"]["status"] == "FAIL"
    assert "https://models.github.ai/inference (from the default)" in checks["endpoint"]["detail"]
    fix = checks["endpoint"]["next"]
    assert "retired on 2026-07-30" in fix and "JAATO_GITHUB_ENDPOINT=https://<resource>" in fix
    assert checks["reachable"]["status"] == "SKIP"


def test_bad_token(tmp_path: Path, emulator: Any) -> None:
    emulator.add_token("github_pat_good_" + "g" * 40)
    code, checks, _ = doctor(tmp_path, endpoint=emulator.inference_url)
    assert code == 1
    assert statuses(checks)["auth"] == "FAIL"
    assert "Bad credentials" in checks["auth"]["detail"]
    assert "github_pat_…" in checks["auth"]["detail"]
    assert checks["model"]["status"] == "SKIP"


def test_retired_service(tmp_path: Path, emulator: Any) -> None:
    emulator.set_mode("retired")
    code, checks, _ = doctor(tmp_path, endpoint=emulator.inference_url)
    assert code == 1
    assert checks["reachable"]["status"] == "PASS"
    assert checks["service"]["status"] == "FAIL"
    assert "retired on 2026-07-30" in checks["service"]["detail"]
    assert "set JAATO_GITHUB_ENDPOINT in the environment or .env" in checks["service"]["next"]


def test_deprecation_answer(tmp_path: Path, emulator: Any) -> None:
    emulator.set_mode("deprecated")
    code, checks, _ = doctor(tmp_path, endpoint=emulator.inference_url)
    assert code == 1 and checks["service"]["status"] == "FAIL"
    assert "announced its retirement" in checks["service"]["detail"]


def test_unknown_model(tmp_path: Path, emulator: Any) -> None:
    code, checks, _ = doctor(tmp_path, "--model", "openai/gpt-99", endpoint=emulator.inference_url)
    assert code == 1
    assert checks["model"]["status"] == "FAIL"
    assert "does not know model 'openai/gpt-99'" in checks["model"]["detail"]
    assert "did you mean" in checks["model"]["next"]
    assert checks["auth"]["status"] == "PASS"  # checked with a stand-in model


def test_disabled_organization(tmp_path: Path, emulator: Any) -> None:
    emulator.add_org("acme", models_enabled=False)
    code, checks, _ = doctor(tmp_path, "--org", "acme", endpoint=emulator.inference_url)
    assert code == 1
    assert checks["organization"]["status"] == "FAIL"
    assert "organizations/acme/settings/models" in checks["organization"]["next"]


def test_rate_limited(tmp_path: Path, emulator: Any) -> None:
    emulator.script(Reply.error(
        429, {"error": {"code": "RateLimitReached",
                        "message": "Rate limit of 50 per 86400s exceeded for UserByModelByDay. "
                                   "Please wait 3600 seconds before retrying."}},
        headers={"retry-after": "3600", "x-ratelimit-type": "UserByModelByDay"}))
    code, checks, _ = doctor(tmp_path, endpoint=emulator.inference_url)
    assert code == 1
    assert checks["rate_limits"]["status"] == "FAIL"
    assert "retry after 3600 s" in checks["rate_limits"]["detail"]
    assert "x-ratelimit-type: UserByModelByDay" in checks["rate_limits"]["detail"]


def test_unreachable_and_wrong_path(tmp_path: Path, emulator: Any) -> None:
    code, checks, _ = doctor(tmp_path, endpoint="http://127.0.0.1:9/inference")
    assert code == 1 and checks["reachable"]["status"] == "FAIL"
    assert "jaato-github-models emulator" in checks["reachable"]["next"]
    env = cli_env(tmp_path, emulator.url + "/v1")
    code, checks, _ = doctor(tmp_path, endpoint=None, env=env)
    assert code == 1 and checks["endpoint"]["status"] == "FAIL"
    assert "answered 404" in checks["endpoint"]["detail"]
