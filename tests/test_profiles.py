"""Endpoint profiles: the kind chosen per URL and by the override, and what each kind decides
(org path, catalog, wire id, key headers, defaults, option ranges, error advice)."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

from shared import ProviderConfig
from shared.plugins.model_provider.github_models import errors as E
from shared.plugins.model_provider.github_models.config.env import resolve_settings
from shared.plugins.model_provider.github_models.config.options import validate_options
from shared.plugins.model_provider.github_models.emulator import Emulator, Reply
from shared.plugins.model_provider.github_models.errors import error_from_response
from shared.plugins.model_provider.github_models.failures.error_context import ErrorContext
from shared.plugins.model_provider.github_models.kinds.profiles import (
    ENDPOINT_KINDS,
    EndpointProfile,
    profile_for_url,
    profile_named,
)

from .conftest import TEST_TOKEN

TOKEN = "github_pat_11ABCDEFG_secretsecretsecret"


def settings(endpoint: str, **extra: Any) -> Any:
    return resolve_settings(ProviderConfig(api_key=TOKEN, extra={"endpoint": endpoint, **extra}),
                            environ={})


def chat_requests(emu: Emulator) -> list[Any]:
    return [r for r in emu.requests if r.path.endswith("/chat/completions")]


# ---------------------------------------------------------------- the kind, chosen per URL

@pytest.mark.parametrize(("url", "kind"), [
    ("https://models.github.ai/inference", "github"),
    ("https://models.github.ai/orgs/acme/inference", "github"),
    ("https://ghe.example.com/api/v3/models/inference", "github"),  # GHES
    ("https://proxy.corp.example/github/inference/", "github"),
    ("http://127.0.0.1:8765/inference", "github"),  # the emulator
    ("http://[::1]:8765/inference", "github"),  # IPv6 literal
    ("http://[::1]:8765/v1", "gateway"),
    ("https://[2001:db8::1]/models", "gateway"),
    ("https://models.inference.ai.azure.com", "legacy"),
    ("https://MODELS.inference.ai.azure.com/chat/completions", "legacy"),
    ("https://res.services.ai.azure.com/models", "foundry"),
    ("https://res.openai.azure.com/openai/deployment-notes", "foundry"),
    ("https://res.openai.azure.com/openai/v1", "openai_v1"),
    ("https://res.services.ai.azure.com/openai/v1/", "openai_v1"),
    ("https://proxy.corp.example/team-a/openai/v1", "openai_v1"),  # any host
    ("http://127.0.0.1:8765/openai/v1", "openai_v1"),  # a local server, the emulator
    ("https://east.inference.ai.azure.com", "foundry"),
    ("https://ghe.example.com/api/v3", "gateway"),  # GHES without /inference: no org path
    ("https://gateway.example.com/v1", "gateway"),
    ("http://127.0.0.1:8765", "gateway"),
    ("https://host:99999999/v1", "gateway"),  # unparsable: nothing is known of it
])
def test_profile_chosen_from_the_url(url: str, kind: str) -> None:
    assert profile_for_url(url).kind == kind
    if "99999999" not in url:
        assert settings(url).profile.kind == kind


def test_each_kind_owns_its_differences() -> None:
    gh = settings("https://ghe.example.com/api/v3/inference", organization="acme")
    assert gh.endpoint == "https://ghe.example.com/api/v3/orgs/acme/inference"
    assert gh.org_path_applied
    # the free tier's pacing and caps belong to models.github.ai, not to GHES or a proxy
    assert not gh.pacing and not gh.enforce_tier_limits
    retired = settings("https://models.github.ai/inference")
    assert retired.pacing and retired.enforce_tier_limits
    assert gh.catalog_url == "https://ghe.example.com/api/v3/catalog/models"
    assert gh.profile.wire_model_id("openai/gpt-4o", "gpt-4o") == "openai/gpt-4o"
    assert gh.profile.key_headers == (("Authorization", "Bearer"),)
    legacy = settings("https://models.inference.ai.azure.com", organization="acme")
    assert not legacy.org_path_applied and legacy.catalog_url is None
    assert legacy.profile.wire_model_id("openai/gpt-4o", "openai/gpt-4o") == "gpt-4o"
    for url in ("https://res.services.ai.azure.com/models", "https://gw.example/v1"):
        other = settings(url, organization="acme")
        assert other.endpoint == url and not other.org_path_applied
        assert other.catalog_url is None and not other.pacing and not other.enforce_tier_limits
        assert other.profile.wire_model_id("openai/gpt-4o", "my-deploy") == "my-deploy"
        assert ("api-key", None) in other.profile.key_headers
        assert not other.profile.knows_model_ids


def test_profiles_are_one_per_kind_and_adding_one_needs_only_the_class() -> None:
    assert ENDPOINT_KINDS == ("legacy", "openai_v1", "github", "foundry", "gateway")
    for kind in ENDPOINT_KINDS:
        profile = profile_named(kind)
        assert profile.kind == kind and profile == profile_named(kind)
        assert pickle.loads(pickle.dumps(profile)) is profile
        assert set(profile.option_ranges) == {"temperature", "top_p", "frequency_penalty",
                                              "presence_penalty"}
    assert EndpointProfile.matches("x", "/y") is False  # the base class selects nothing


# ---------------------------------------------------------------- the override

@pytest.mark.parametrize("kind", ["gateway", "foundry"])
def test_override_makes_an_inference_path_a_non_github_endpoint(kind: str) -> None:
    s = settings("http://127.0.0.1:9/inference", endpoint_kind=kind, organization="acme")
    assert s.profile.kind == kind and s.endpoint == "http://127.0.0.1:9/inference"
    assert not s.org_path_applied and not s.pacing and s.catalog_url is None


def test_override_from_the_environment_and_auto() -> None:
    s = resolve_settings(ProviderConfig(api_key=TOKEN, extra={"endpoint": "https://gw.example/v1"}),
                         environ={"JAATO_GITHUB_ENDPOINT_KIND": "GitHub"})
    assert s.profile.kind == "github" and not s.pacing  # not models.github.ai: no free tier
    assert s.sources["JAATO_GITHUB_ENDPOINT_KIND"] == "environment JAATO_GITHUB_ENDPOINT_KIND"
    assert settings("https://gw.example/v1", endpoint_kind="auto").profile.kind == "gateway"


def test_unknown_kind_is_refused_listing_the_kinds() -> None:
    with pytest.raises(E.ConfigurationError) as info:
        settings("https://gw.example/v1", endpoint_kind="azure")
    text = str(info.value)
    assert "'azure' is not a kind of endpoint" in text
    assert "legacy, openai_v1, github, foundry, gateway" in text
    assert "JAATO_GITHUB_ENDPOINT_KIND" in text
    assert info.value.setting == "endpoint_kind"


def test_a_key_set_as_the_endpoint_kind_is_not_shown() -> None:
    # a Foundry key has no token shape: only not echoing the value keeps it out
    key = "8f3a9c27d41b4e6f9a0c5d2e7b18f4a3"
    from shared.plugins.model_provider.github_models import GitHubModelsProvider

    for how in ({"extra": {"endpoint_kind": key}},
                {"environ": {"JAATO_GITHUB_ENDPOINT_KIND": key}}):
        provider = GitHubModelsProvider(environ=how.get("environ", {}))
        with pytest.raises(E.ConfigurationError) as info:
            provider.initialize(ProviderConfig(api_key=key, extra={
                "endpoint": "http://127.0.0.1:9/inference", **how.get("extra", {})}))
        assert key[:8] not in f"{info.value} {info.value!r} {info.value.why}"
        assert "is not a kind of endpoint" in str(info.value)


def test_settings_with_a_profile_still_hide_the_token() -> None:
    s = settings("https://gw.example/v1")
    assert TOKEN not in repr(s) and "GatewayProfile()" in repr(s)
    back = pickle.loads(pickle.dumps(s))
    assert TOKEN.encode() not in pickle.dumps(s)
    assert back.profile == s.profile and back.token == "github_pat_…"


# ---------------------------------------------------------------- option ranges per kind

@pytest.mark.parametrize(("kind", "accepted"), [
    ("github", False), ("legacy", False), ("foundry", True), ("gateway", True)])
def test_temperature_range_follows_the_profile(kind: str, accepted: bool) -> None:
    profile = profile_named(kind)
    if accepted:
        assert validate_options({"temperature": 1.5}, profile) == {"temperature": 1.5}
        with pytest.raises(E.InvalidRequestError, match=r"outside the allowed range \[0, 2\]"):
            validate_options({"temperature": 2.5}, profile)
    else:
        with pytest.raises(E.InvalidRequestError) as info:
            validate_options({"temperature": 1.5}, profile)
        assert (f"temperature 1.5 is outside the allowed range [0, 1] for {profile.label}"
                in str(info.value))
        assert "JAATO_GITHUB_ENDPOINT_KIND" in info.value.fix
    for name, value in (("top_p", 1.5), ("frequency_penalty", 2.5), ("presence_penalty", -3)):
        with pytest.raises(E.InvalidRequestError, match=name):
            validate_options({name: value}, profile)
    assert validate_options({"top_p": 1, "seed": 7, "stop": ["x"], "max_tokens": 5}, profile)


def test_any_endpoint_check_takes_the_widest_range() -> None:
    assert validate_options({"temperature": 2}, any_endpoint=True) == {"temperature": 2.0}
    with pytest.raises(E.InvalidRequestError, match=r"range \[0, 2\]$|range \[0, 2\]\."):
        validate_options({"temperature": 2.1}, any_endpoint=True)
    with pytest.raises(E.InvalidRequestError, match="GitHub Models endpoint"):
        validate_options({"temperature": 1.5})  # no profile: the narrowest (GitHub-shaped)


def test_github_endpoint_refuses_temperature_above_one_before_any_request(
        make_provider: Any, emulator: Emulator) -> None:
    provider = make_provider()
    with pytest.raises(E.InvalidRequestError, match="outside the allowed range"):
        provider.send_message("hi", temperature=1.5)
    assert chat_requests(emulator) == [] and provider.get_history() == []


def test_foundry_sends_temperature_above_one_and_gets_a_reply(make_provider: Any,
                                                              emulator: Emulator) -> None:
    # the emulator's Azure AI model inference route takes temperature up to 2, as Foundry does
    provider = make_provider("openai/gpt-4o", endpoint=emulator.url + "/models",
                             endpoint_kind="foundry")
    reply = provider.send_message("hi", temperature=1.5)
    assert reply.text and len(provider.get_history()) == 2
    (sent,) = chat_requests(emulator)
    assert sent.body["temperature"] == 1.5 and sent.path == "/models/chat/completions"


def test_gateway_sends_temperature_above_one_and_the_server_decides(make_provider: Any,
                                                                    emulator: Emulator) -> None:
    # a gateway's own range is the server's to enforce: the provider sends 1.5 (an OpenAI-style
    # server takes up to 2); this server (the emulator's legacy route) keeps [0, 1] and says so
    provider = make_provider("gpt-4o", endpoint=emulator.url, endpoint_kind="gateway")
    with pytest.raises(E.InvalidRequestError, match="temperature"):
        provider.send_message("hi", temperature=1.5)
    (sent,) = chat_requests(emulator)
    assert sent.body["temperature"] == 1.5 and provider.get_history() == []


# ---------------------------------------------------------------- error advice per kind

def _error(status: int, body: dict[str, Any], ctx: ErrorContext) -> E.GitHubModelsError:
    import json

    return error_from_response(status, {"content-type": "application/json"}, json.dumps(body),
                               ctx)


_RATE = {"error": {"code": "RateLimitReached", "message": "Please wait 10 seconds."}}
_BAD_KEY = {"error": {"code": "unauthorized", "message": "Bad credentials"}}
_NO_ACCESS = {"error": {"code": "no_access", "message": "No access to model: x"}}


@pytest.mark.parametrize("kind", ENDPOINT_KINDS)
def test_error_advice_is_decided_by_the_profile(kind: str) -> None:
    profile = profile_named(kind)
    ctx = ErrorContext(endpoint="https://h.example/v1", model="gpt-4o", organization="acme",
                       token_type="fine_grained_pat", profile=profile)
    assert ctx.profile is profile
    rate = _error(429, _RATE, ctx)
    bad = _error(401, _BAD_KEY, ctx)
    refused = _error(403, _NO_ACCESS, ctx)
    cap = _error(413, {"error": {"code": "tokens_limit_reached", "message": "too big"}}, ctx)
    github, v1 = kind == "github", kind == "openai_v1"
    assert ("paid usage for the organization acme" in rate.fix) is github
    assert ("raise this endpoint's quota" in rate.fix) is not (github or v1)
    assert ("tokens-per-minute quota" in rate.fix) is v1
    assert ("models: read" in bad.fix) is github
    assert ("use this endpoint's own key" in bad.fix) is not (github or v1)
    assert ("Keys and Endpoint" in bad.fix and "api-key header" in bad.fix) is v1
    assert ("Cognitive Services OpenAI User" in refused.fix) is v1
    assert (refused.settings_url is not None) is github  # type: ignore[attr-defined]
    assert ("free plan caps tokens" in str(cap)) is github


def test_legacy_and_github_profiles_explain_the_retirement_their_way() -> None:
    legacy = _error(410, {}, ErrorContext(endpoint="https://models.inference.ai.azure.com"))
    assert isinstance(legacy, E.ServiceRetiredError) and "2025-10-17" in legacy.why
    gh = _error(410, {}, ErrorContext.for_endpoint("https://ghe.example.com/inference"))
    assert "GitHub Models was retired on" in gh.why
    gw = _error(410, {}, ErrorContext.for_endpoint("https://gw.example/v1"))
    assert "GitHub Models was retired" not in gw.why and "410 Gone" in gw.why


def test_model_id_hint_only_where_ids_have_publishers() -> None:
    gh = E.model_not_found("gpt-4o", ErrorContext.for_endpoint("http://127.0.0.1:1/inference"))
    gw = E.model_not_found("gpt-4o", ErrorContext.for_endpoint("http://127.0.0.1:1/v1"))
    assert "{publisher}/{model_name}" in gh.fix and "{publisher}" not in gw.fix


@pytest.mark.parametrize(("endpoint", "extra", "github"), [
    (None, {}, True), ("root", {}, False), ("root", {"endpoint_kind": "github"}, True),
    (None, {"endpoint_kind": "gateway"}, False)])
def test_error_advice_over_http_follows_the_endpoint(make_provider: Any, emulator: Emulator,
                                                     endpoint: str | None, extra: dict[str, Any],
                                                     github: bool) -> None:
    url = emulator.url if endpoint == "root" else None
    provider = make_provider("gpt-4o", endpoint=url, **extra)
    emulator.script(Reply.error(401, _BAD_KEY))
    with pytest.raises(E.TokenInvalidError) as info:
        provider.send_message("hi")
    assert ("models: read" in info.value.fix) is github
    assert TEST_TOKEN not in str(info.value)


def test_every_place_that_lists_the_kinds_names_each_one() -> None:
    # the lists a user reads (jaato's knob help, the CLI flag's help) are literals -- jaato's
    # scaffold evaluates __init__'s assignment alone, and --help must stay cheap -- so a new
    # kind fails here until it is added to them
    import shared.plugins.model_provider.github_models as pkg
    from shared.plugins.model_provider.github_models.cli.arguments import KINDS_SHOWN
    from shared.plugins.model_provider.github_models.kinds.profiles import ENDPOINT_KINDS

    (knob,) = [k for layer in pkg.PROVIDER_KNOBS.layers for k in layer.knobs
               if k.name == "endpoint_kind"]
    for text in (knob.description, KINDS_SHOWN):
        named = {w.strip() for w in text.replace(" or ", ", ").split(",")}
        assert named == {"auto", *ENDPOINT_KINDS}, text
