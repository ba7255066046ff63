"""Configuration precedence and validation (config > environment > .env > defaults)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shared import ProviderConfig
from shared.plugins.model_provider.github_models.config.env import (
    DEFAULT_ENDPOINT,
    normalize_organization,
    resolve_endpoint,
    resolve_settings,
)
from shared.plugins.model_provider.github_models.errors import (
    ConfigurationError,
    TokenNotFoundError,
)

TOKEN = "github_pat_11ABCDEFG_secretsecretsecret"


def test_config_beats_environment_beats_dotenv(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "GITHUB_TOKEN=ghp_fromdotenv\nJAATO_GITHUB_ORGANIZATION=dotenv-org\n"
        "JAATO_GITHUB_ENTERPRISE=dotenv-ent\n")
    env = {"GITHUB_TOKEN": "ghs_fromenv", "JAATO_GITHUB_ORGANIZATION": "env-org"}
    s = resolve_settings(None, env, cwd=tmp_path)
    assert s.token == "ghs_fromenv" and s.token_source == "environment GITHUB_TOKEN"
    assert s.organization == "env-org"
    assert s.enterprise == "dotenv-ent"  # only the .env has it
    s = resolve_settings(ProviderConfig(api_key=TOKEN, extra={"organization": "cfg-org"}), env,
                         cwd=tmp_path)
    assert s.token == TOKEN and s.token_source == "config.api_key"
    assert s.organization == "cfg-org"
    s = resolve_settings(None, {}, cwd=tmp_path)
    assert s.token == "ghp_fromdotenv" and ".env" in s.token_source
    assert s.token_type == "classic_pat"


def test_dotenv_is_found_upwards_and_not_written_to_environ(tmp_path: Path) -> None:
    import os

    (tmp_path / ".env").write_text("GITHUB_TOKEN=gho_up\n")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    s = resolve_settings(None, {}, cwd=deep)
    assert s.token == "gho_up" and s.dotenv_path == str(tmp_path / ".env")
    assert "GITHUB_TOKEN" not in os.environ


def test_no_token_lists_every_place_checked_without_secrets(tmp_path: Path) -> None:
    with pytest.raises(TokenNotFoundError) as info:
        resolve_settings(ProviderConfig(), {"GITHUB_TOKEN": ""}, cwd=tmp_path)
    text = str(info.value)
    for place in ("api_key", "GITHUB_TOKEN", ".env"):
        assert place in text
    assert "set but empty" in text
    assert "models" in text  # says how to create a token with models: read


def test_repr_masks_token() -> None:
    s = resolve_settings(ProviderConfig(api_key=TOKEN), {}, cwd=Path("/"))
    assert "secret" not in repr(s)
    assert s.token_hint == "github_pat_…"


@pytest.mark.parametrize(("value", "login"), [
    ("my-org", "my-org"), ("https://github.com/my-org", "my-org"),
    ("https://github.com/my-org/", "my-org"), ("github.com/orgs/my-org", "my-org"),
    (" Org-2 ", "Org-2"),
])
def test_organization_login_or_url(value: str, login: str) -> None:
    assert normalize_organization(value) == login


@pytest.mark.parametrize("value", ["-bad", "a b", "https://github.com/", "x" * 40, "my_org"])
def test_bad_organization_is_refused(value: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape("is not a GitHub organization")):
        normalize_organization(value)


@pytest.mark.parametrize(("base", "org", "expected", "kind", "applied"), [
    (DEFAULT_ENDPOINT, None, DEFAULT_ENDPOINT, "github", False),
    (DEFAULT_ENDPOINT, "acme", "https://models.github.ai/orgs/acme/inference", "github", True),
    ("http://127.0.0.1:9/inference/", "acme", "http://127.0.0.1:9/orgs/acme/inference",
     "github", True),
    ("https://ghes.example.com/api/v3/inference", "acme",
     "https://ghes.example.com/api/v3/orgs/acme/inference", "github", True),
    ("https://models.github.ai/orgs/acme/inference", "acme",
     "https://models.github.ai/orgs/acme/inference", "github", True),
    ("https://models.github.ai/inference/chat/completions", None, DEFAULT_ENDPOINT, "github",
     False),
    ("https://res.services.ai.azure.com/models", "acme",
     "https://res.services.ai.azure.com/models", "foundry", False),
    ("https://models.inference.ai.azure.com", None, "https://models.inference.ai.azure.com",
     "legacy", False),
])
def test_endpoint_resolution(base: str, org: str | None, expected: str, kind: str,
                             applied: bool) -> None:
    assert resolve_endpoint(base, org) == (expected, kind, applied)


@pytest.mark.parametrize("base", [
    "https://models.github.ai/orgs/other/inference",
    "https://ghes.example.com/api/v3/orgs/other/inference/",
    "http://127.0.0.1:9/orgs/other/inference/chat/completions",
])
def test_an_endpoint_for_another_org_is_refused(base: str) -> None:
    # requests would go to (and be billed to) `other` while doctor reported `acme`
    with pytest.raises(ConfigurationError) as info:
        resolve_endpoint(base, "acme")
    text = str(info.value)
    assert "'other'" in text and "'acme'" in text, text
    assert info.value.setting == "organization"


def test_an_endpoint_for_the_same_org_is_kept_whatever_the_case() -> None:
    assert resolve_endpoint("https://models.github.ai/orgs/Acme/inference", "acme") == (
        "https://models.github.ai/orgs/Acme/inference", "github", True)


@pytest.mark.parametrize(("extra", "fragment"), [
    ({"endpoint": "ftp://x"}, "is not an http(s) URL"),
    ({"timeout": "soon"}, "is not a number"),
    ({"timeout": 0}, "outside"),
    ({"max_retries": -1}, "outside"),
    ({"pacing": "maybe"}, "is not on/off"),
    ({"rate_limits": [1]}, "not a mapping"),
])
def test_bad_settings_fail_fast(extra: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(fragment)):
        resolve_settings(ProviderConfig(api_key=TOKEN, extra=extra), {}, cwd=Path("/"))


def test_defaults_depend_on_endpoint_shape() -> None:
    gh = resolve_settings(ProviderConfig(api_key=TOKEN), {}, cwd=Path("/"))
    assert gh.pacing and gh.enforce_tier_limits and gh.is_retired_host
    assert gh.profile.kind == "github"
    custom = resolve_settings(ProviderConfig(api_key=TOKEN, extra={
        "endpoint": "https://gw.example.com/v1"}), {}, cwd=Path("/"))
    assert not custom.pacing and not custom.enforce_tier_limits
    assert custom.profile.kind == "gateway"
    assert (gh.read_timeout, gh.connect_timeout, gh.max_retries) == (60.0, 10.0, 3)


def test_no_token_error_reports_how_the_dotenv_was_configured(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("OTHER=1\n")
    with pytest.raises(TokenNotFoundError, match="disabled by JAATO_GITHUB_ENV_FILE"):
        resolve_settings(None, {"JAATO_GITHUB_ENV_FILE": "off"}, cwd=tmp_path)
    with pytest.raises(TokenNotFoundError,
                       match=re.escape("JAATO_GITHUB_ENV_FILE=/nonexistent/.env not found")):
        resolve_settings(None, {"JAATO_GITHUB_ENV_FILE": "/nonexistent/.env"}, cwd=tmp_path)
    with pytest.raises(TokenNotFoundError, match=re.escape(f"{tmp_path / '.env'}: no GITHUB")):
        resolve_settings(None, {}, cwd=tmp_path)


def test_secrets_in_the_endpoint_url_are_dropped_and_ipv6_survives() -> None:
    s = resolve_settings(ProviderConfig(api_key=TOKEN, extra={
        "endpoint": "http://user:pw@[::1]:8080/inference?api-key=sekret#frag"}), {},
        cwd=Path("/"))
    assert s.endpoint == s.base_endpoint == "http://[::1]:8080/inference"
    assert "sekret" not in repr(s) and "pw" not in repr(s)
    assert resolve_endpoint("https://gw.example/v1#x", None)[0] == "https://gw.example/v1"
