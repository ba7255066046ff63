"""Every observed failure, served over real HTTP by the emulator, reaches the caller as the right
error class with an actionable message, through the public provider API (non-streaming and
streaming), and never touches the conversation history."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shared.plugins.model_provider.github_models import errors as E
from shared.plugins.model_provider.github_models.calls import bookkeeping
from shared.plugins.model_provider.github_models.emulator import Emulator, Reply

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "wire_errors.json").read_text("utf-8"))
RECORDS: list[dict[str, Any]] = FIXTURE["records"]
REQUEST_ID = re.compile(r"^E[0-9A-F]{3}:[0-9A-F]{7}$")  # the emulator's x-github-request-id
RETIRE = ("GitHub Models was retired on 2026-07-30", "JAATO_GITHUB_ENDPOINT", "Microsoft Foundry")
PROVIDER_LOGGER = "shared.plugins.model_provider.github_models"

# What each record's message must say: what failed, why, and how to fix it.
FRAGMENTS: dict[str, tuple[str, ...]] = {
    "dotnet-302": ("the endpoint does not know model 'openai/gpt-4o'",
                   "(service said: 'Unknown model: /Phi-3.5-MoE-instruct')",
                   "provider.list_models()"),
    "gh-models-4": ("the endpoint does not know model 'openai/gpt-4o'",
                    "service said: 'Unknown model: thisdoesnotexist'"),
    "lobehub-8314": ("the endpoint does not know model",
                     "expected format: {publisher}/{model_name}"),
    "actions-gpt5-unavailable": ("exists but is not available to this account",
                                 "choose a model of the low or high tier"),
    "actions-gpt5-unavailable-bare": ("exists but is not available to this account",),
    "ai-commits-286": ("the service does not accept this account type",
                       "Enterprise settings → Policies → Models"),
    "eslint-tsc-593": ("per-request token cap of the model's tier (8000 tokens)",
                       "shorten the prompt or history"),
    "report-429-day": ("per-day rate limit was reached (8 requests per 86400 s, UserByModelByDay)",
                       "the daily budget resets in 23 h 50 min",
                       "retrying sooner will not help",
                       "use a model of a tier with higher limits",
                       "enable paid usage for the organization"),
    "doc-429-minute": ("per-minute rate limit was reached (10 requests per 60 s, "
                       "UserByModelByMinute)", "wait 46 s", "use a model of a tier with higher",
                       "paid usage"),
    "survey-429-concurrent": ("concurrent-request rate limit was reached (5 requests at once",
                              "send fewer requests at once"),
    "survey-429-user-minute": ("per-minute rate limit was reached (UserByMinute)", "wait 55 s"),
    "comment-429-headers": ("per-minute rate limit was reached (UserByModelByMinute)",
                            "wait 28 s"),
    "simonw-research-16": ("the content filter blocked the prompt or the reply "
                           "(flagged: jailbreak)",
                           "rephrase or remove the flagged content"),
    "azure-openai-content-filter": ("content filter blocked the prompt or the reply "
                                    "(flagged: violence)",),
    "fenec-401": ("rejected the fine-grained personal access token (github_pat_…) from "
                  "config.api_key as bad, expired or unsupported", "(service said: 'Bad "
                  "credentials')", "models: read"),
    "fenec-empty-messages": ("rejected the request as invalid (parameter 'messages')",
                             "send at least one message"),
    "fenec-max-tokens": ("(parameter 'max_tokens')",
                         "send max_completion_tokens instead of max_tokens"),
    "langchain-beginners-34": (*RETIRE, "refuses every request"),
    "cybersemics-em-4578": ("refused the request (HTTP 403) and announced its retirement",
                            "Sunset Thu, 30 Jul 2026 00:00:00 GMT", *RETIRE[1:],
                            "fully-retired-on-july-30-2026"),
}

# Attributes of the fixture records that the raised error must carry.
ATTRS = ("retry_after", "limit_type", "limit", "window_seconds", "param")


def chat_requests(emu: Emulator) -> list[Any]:
    return [r for r in emu.requests if r.path.endswith("/chat/completions")]


def assert_fragments(error: BaseException, fragments: tuple[str, ...]) -> None:
    text = str(error)
    for fragment in fragments:
        assert re.search(re.escape(fragment), text), f"{fragment!r} not in {text!r}"
    assert re.search(r" failed: .+\. Fix: .+\.", text), text


def seeded(make_provider: Callable[..., Any], **extra: Any) -> tuple[Any, str]:
    """A provider with one successful turn in its history, and that history serialized."""
    provider = make_provider(**extra)
    provider.send_message("Remember the word Falcon.")
    return provider, provider.serialize_history(provider.get_history())


def call(provider: Any, streaming: bool, message: str = "hello",
         chunks: list[str] | None = None) -> list[str]:
    """Send one turn; chunks delivered go into ``chunks`` (read it after an expected raise)."""
    chunks = [] if chunks is None else chunks
    if streaming:
        provider.send_message_streaming(message, chunks.append)
    else:
        provider.send_message(message)
    return chunks


def test_every_record_has_expected_fragments() -> None:
    assert sorted(FRAGMENTS) == sorted(r["id"] for r in RECORDS)


@pytest.mark.parametrize("streaming", [False, True], ids=["complete", "stream"])
@pytest.mark.parametrize("record", RECORDS, ids=[r["id"] for r in RECORDS])
def test_wire_record_replayed_over_http(emulator: Emulator, make_provider: Callable[..., Any],
                                        record: dict[str, Any], streaming: bool) -> None:
    provider, before = seeded(make_provider, max_retries=0)
    emulator.clear_requests()
    emulator.script(Reply.error(record["status"], record["body"], record["headers"]))
    expected = getattr(E, record["expect"])
    chunks: list[str] = []
    with pytest.raises(E.GitHubModelsError) as info:
        call(provider, streaming, chunks=chunks)  # an assignment here would never happen
    error = info.value
    assert type(error) is expected, str(error)
    assert error.status == record["status"]
    assert error.code == record["code"]
    assert error.request_id is not None and REQUEST_ID.match(error.request_id), error.request_id
    assert str(error).endswith(f"request id {error.request_id}]")
    for attr in ATTRS:
        if attr in record:
            assert getattr(error, attr) == record[attr], attr
    if "categories" in record:
        assert list(getattr(error, "categories", ())) == record["categories"]
    assert_fragments(error, FRAGMENTS[record["id"]])
    assert chunks == []
    assert len(chat_requests(emulator)) == 1
    assert provider.serialize_history(provider.get_history()) == before
    assert emulator.pending_replies == 0


@pytest.mark.parametrize(("token", "hint"), [
    ("github_pat_11AAAA_" + "b" * 40, "set to read (models: read)"),
    ("ghp_" + "c" * 36, "Configure SSO"),
    ("ghs_" + "d" * 36, "installation tokens (ghs_) expire after an hour"),
    ("gho_" + "e" * 36, "`gh auth refresh`"),
    ("not-a-github-token-0123456789", "GitHub endpoints expect a GitHub token"),
])
def test_401_hint_names_the_token_type_used(emulator: Emulator, make_provider: Callable[..., Any],
                                            token: str, hint: str) -> None:
    record = next(r for r in RECORDS if r["id"] == "fenec-401")
    provider = make_provider(token=token, max_retries=0)
    emulator.script(Reply.error(401, record["body"]))
    with pytest.raises(E.TokenInvalidError) as info:
        provider.send_message("hi")
    assert re.search(re.escape(hint), str(info.value))
    assert token not in str(info.value) and token[8:] not in str(info.value)


# ---- the emulator's own policies ---------------------------------------------------------------


@pytest.mark.parametrize("streaming", [False, True], ids=["complete", "stream"])
def test_retired_mode_is_service_retired(emulator: Emulator, make_provider: Callable[..., Any],
                                         streaming: bool) -> None:
    provider, before = seeded(make_provider)
    emulator.set_mode("retired")
    emulator.clear_requests()
    with pytest.raises(E.ServiceRetiredError) as info:
        call(provider, streaming)
    error = info.value
    assert (error.status, error.code) == (410, "github_models_retirement_brownout")
    assert_fragments(error, RETIRE)
    assert len(chat_requests(emulator)) == 1  # a retired service is never retried
    assert provider.serialize_history(provider.get_history()) == before


@pytest.mark.parametrize("streaming", [False, True], ids=["complete", "stream"])
def test_deprecated_mode_empty_403_is_service_retired(
        emulator: Emulator, make_provider: Callable[..., Any], streaming: bool) -> None:
    provider, before = seeded(make_provider)
    emulator.set_mode("deprecated")
    emulator.clear_requests()
    with pytest.raises(E.ServiceRetiredError) as info:
        call(provider, streaming)
    error = info.value
    assert (error.status, error.code, error.body) == (403, None, "")
    assert error.sunset == "Thu, 30 Jul 2026 00:00:00 GMT"
    assert error.deprecation == "2026-05-05"
    assert error.link is not None and error.link.endswith("fully-retired-on-july-30-2026/")
    assert_fragments(error, ("announced its retirement", *RETIRE))
    assert len(chat_requests(emulator)) == 1
    assert provider.serialize_history(provider.get_history()) == before


TOKEN = "github_pat_11POLICY0000000000_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJ"


@pytest.mark.parametrize(("setup", "cls", "fragments"), [
    ({"token": "github_pat_11SOMEONEELSE_" + "x" * 40}, E.TokenInvalidError,
     ("service said: 'Bad credentials'", "models: read")),
    ({"expired": True}, E.TokenInvalidError, ("as bad, expired or unsupported",)),
    # the real service answers a token without models:read exactly like a bad one
    ({"scopes": ()}, E.TokenInvalidError,
     ("service said: 'Bad credentials'", "set to read (models: read)")),
    ({"account_supported": False}, E.ModelsDisabledError,
     ("does not accept this account type", "Enterprise settings → Policies → Models")),
], ids=["unregistered", "expired", "no-models-read", "account-type"])
def test_strict_auth(emulator: Emulator, make_provider: Callable[..., Any],
                     setup: dict[str, Any], cls: type[E.GitHubModelsError],
                     fragments: tuple[str, ...]) -> None:
    registered = setup.pop("token", TOKEN)
    emulator.add_token(registered, **setup)
    provider = make_provider(token=TOKEN)
    for streaming in (False, True):
        emulator.clear_requests()
        with pytest.raises(E.GitHubModelsError) as info:
            call(provider, streaming)
        assert type(info.value) is cls, str(info.value)
        assert info.value.status == 401
        assert info.value.code == "unauthorized"
        assert REQUEST_ID.match(info.value.request_id or "")
        assert_fragments(info.value, fragments)
        assert len(chat_requests(emulator)) == 1
    assert provider.get_history() == []


def test_sso_not_authorized_is_a_permission_error(emulator: Emulator,
                                                  make_provider: Callable[..., Any]) -> None:
    emulator.add_token(TOKEN, sso_orgs=["acme"])
    emulator.add_org("acme")
    provider = make_provider(token=TOKEN, organization="acme")
    with pytest.raises(E.TokenPermissionError) as info:
        provider.send_message("hi")
    assert (info.value.status, info.value.code) == (403, "sso_required")
    assert_fragments(info.value, ("is not authorized for the organization's SAML SSO",
                                  "Configure SSO → Authorize"))


ORG_URL = "https://github.com/organizations/acme/settings/models"


@pytest.mark.parametrize(("org", "model", "code", "fragments"), [
    ({"models_enabled": False}, "openai/gpt-4o", "models_disabled",
     ("GitHub Models is disabled for this organization", "an owner must enable GitHub Models",
      ORG_URL)),
    ({"allowed_models": ["openai/gpt-4o-mini"]}, "openai/gpt-4o", "no_access",
     ("No access to model: openai/gpt-4o", "ask an owner to enable the model", ORG_URL,
      "or choose another model")),
], ids=["org-disabled", "model-not-allowed"])
def test_org_policies_are_models_disabled_with_the_settings_url(
        emulator: Emulator, make_provider: Callable[..., Any], org: dict[str, Any], model: str,
        code: str, fragments: tuple[str, ...]) -> None:
    emulator.add_token(TOKEN)
    emulator.add_org("acme", **{"members": [TOKEN], **org})
    provider = make_provider(model, token=TOKEN, organization="acme")
    for streaming in (False, True):
        emulator.clear_requests()
        with pytest.raises(E.ModelsDisabledError) as info:
            call(provider, streaming)
        error = info.value
        assert (error.status, error.code) == (403, code)
        assert error.settings_url == ORG_URL
        assert_fragments(error, fragments)
        paths = [r.path for r in chat_requests(emulator)]
        assert paths == ["/orgs/acme/inference/chat/completions"]


def test_not_a_member_says_so_and_how_to_fix(emulator: Emulator,
                                             make_provider: Callable[..., Any]) -> None:
    emulator.add_token(TOKEN)
    emulator.add_org("acme", members=["github_pat_someone_else"])
    provider = make_provider(token=TOKEN, organization="acme")
    for streaming in (False, True):
        emulator.clear_requests()
        with pytest.raises(E.ModelsDisabledError) as info:
            call(provider, streaming)
        error = info.value
        assert (error.status, error.code) == (403, "forbidden")
        assert "GitHub Models is disabled" not in error.why
        assert_fragments(error, ("is not a member of acme",
                                 "You are not a member of the organization acme",
                                 "join the organization", "JAATO_GITHUB_ORGANIZATION"))
        assert len(chat_requests(emulator)) == 1


def test_enterprise_policy_is_models_disabled(emulator: Emulator,
                                              make_provider: Callable[..., Any]) -> None:
    emulator.add_token(TOKEN)
    emulator.add_org("acme", members=[TOKEN], enterprise="bigco")
    emulator.set_enterprise_policy("bigco", models_enabled=False)
    provider = make_provider(token=TOKEN, organization="acme", enterprise="bigco")
    with pytest.raises(E.ModelsDisabledError) as info:
        provider.send_message("hi")
    assert (info.value.status, info.value.code) == (403, "models_disabled")
    assert info.value.settings_url is not None
    assert_fragments(info.value, ("disabled by a policy of the enterprise bigco",))


def test_enterprise_policy_points_at_the_enterprise_policies(
        emulator: Emulator, make_provider: Callable[..., Any]) -> None:
    emulator.add_token(TOKEN)
    emulator.add_org("acme", members=[TOKEN], enterprise="bigco")
    emulator.set_enterprise_policy("bigco", models_enabled=False)
    provider = make_provider(token=TOKEN, organization="acme", enterprise="bigco")
    with pytest.raises(E.ModelsDisabledError) as info:
        provider.send_message("hi")
    url = "https://github.com/enterprises/bigco/settings/policies/models"
    assert info.value.settings_url == url
    assert re.search(re.escape(url), info.value.fix)


def test_emulator_token_cap_is_a_context_limit(make_provider: Callable[..., Any],
                                               emulator: Emulator) -> None:
    emulator.set_token_limits(True)
    provider = make_provider(enforce_tier_limits=False)
    big = "word " * 9000  # ~11k tokens: over the high tier's 8000-token cap, under the window
    for streaming in (False, True):
        emulator.clear_requests()
        with pytest.raises(E.ContextLimitError) as info:
            call(provider, streaming, big)
        error = info.value
        assert (error.status, error.code) == (413, "tokens_limit_reached")
        assert (error.limit, error.limit_source) == (8000, "tier")
        assert_fragments(error, ("per-request token cap of the model's tier (8000 tokens)",
                                 "use paid usage or an endpoint without the free-plan cap"))
        assert len(chat_requests(emulator)) == 1
    assert provider.get_history() == []


def test_client_side_tier_cap_refuses_before_sending(emulator: Emulator,
                                                     make_provider: Callable[..., Any]) -> None:
    provider = make_provider(enforce_tier_limits=True)  # off by default off the retired host
    with pytest.raises(E.ContextLimitError) as info:
        provider.send_message("word " * 9000)
    assert info.value.status is None and info.value.limit == 8000
    assert chat_requests(emulator) == []


# ---- body shapes the emulator serves -----------------------------------------------------------

UNKNOWN = {"error": {"code": "unknown_model", "message": "Unknown model: openai/gpt-9"}}
VARIANTS: list[tuple[str, int, Any, str | None, type[E.GitHubModelsError], str | None,
                     tuple[str, ...]]] = [
    ("json-as-text-plain", 404, UNKNOWN, None, E.ModelNotFoundError, "unknown_model",
     ("service said: 'Unknown model: openai/gpt-9'",)),
    ("plain-text", 401, "Bad credentials", None, E.TokenInvalidError, None,
     ("service said: 'Bad credentials'",)),
    ("html-502", 502, "<html><body>502 Bad Gateway</body></html>", "text/html",
     E.ServiceUnavailableError, None, ("server-side failure (HTTP 502)",
                                       "the provider retries 500, 502, 503 and 504")),
    ("empty-500", 500, None, None, E.ServiceUnavailableError, None,
     ("server-side failure (HTTP 500)",)),
    ("empty-403", 403, None, None, E.ModelsDisabledError, None, ("GitHub Models is disabled",)),
    ("gateway-object-error", 400,
     {"object": "error", "message": "This model's maximum context length is 8192 tokens. However,"
      " you requested 9000 tokens in the messages.", "type": "BadRequestError", "param": None,
      "code": 400}, None, E.ContextLimitError, None, ("context window of 8192 tokens",)),
    ("nested-json-string", 429,
     {"error": json.dumps({"error": {"code": "RateLimitReached", "message": "Rate limit of 10 per "
      "60s exceeded for UserByModelByMinute. Please wait 30 seconds before retrying."}})},
     None, E.RateLimitError, "RateLimitReached", ("wait 30 s",)),
    ("array-of-errors", 404, json.dumps([UNKNOWN]), None, E.ModelNotFoundError, "unknown_model",
     ("Unknown model: openai/gpt-9",)),
    ("errors-list-422", 422, {"errors": [{"message": "temperature must be <= 1"}]}, None,
     E.InvalidRequestError, None, ("temperature must be <= 1",)),
]


@pytest.mark.parametrize("streaming", [False, True], ids=["complete", "stream"])
@pytest.mark.parametrize(("name", "status", "body", "ctype", "cls", "code", "fragments"), VARIANTS,
                         ids=[v[0] for v in VARIANTS])
def test_body_shapes(emulator: Emulator, make_provider: Callable[..., Any], name: str,
                     status: int, body: Any, ctype: str | None, cls: type[E.GitHubModelsError],
                     code: str | None, fragments: tuple[str, ...], streaming: bool) -> None:
    provider, before = seeded(make_provider, max_retries=0)
    emulator.script(Reply.error(status, body, None, ctype))
    with pytest.raises(E.GitHubModelsError) as info:
        call(provider, streaming)
    error = info.value
    assert type(error) is cls, str(error)
    assert (error.status, error.code) == (status, code)
    assert REQUEST_ID.match(error.request_id or "")
    assert error.headers.get("content-type") == (
        None if body is None else ctype or "text/plain; charset=utf-8")
    assert_fragments(error, fragments)
    assert provider.serialize_history(provider.get_history()) == before


def test_error_content_type_application_json() -> None:
    from shared import ProviderConfig
    from shared.plugins.model_provider.github_models import GitHubModelsProvider

    with Emulator(error_content_type="application/json") as emu:
        provider = GitHubModelsProvider()
        provider.initialize(ProviderConfig(api_key=TOKEN, extra={
            "endpoint": emu.inference_url, "pacing": False, "timeout": 10, "max_retries": 0}))
        try:
            provider.connect("openai/gpt-4o")
            emu.script(Reply.error(404, UNKNOWN))
            with pytest.raises(E.ModelNotFoundError) as info:
                provider.send_message("hi")
        finally:
            provider.shutdown()
    assert info.value.headers["content-type"] == "application/json"
    assert (info.value.status, info.value.code) == (404, "unknown_model")
    assert_fragments(info.value, ("service said: 'Unknown model: openai/gpt-9'",))


# ---- a successful answer that announces retirement ---------------------------------------------


def test_deprecation_headers_on_success_warn_once_per_process(
        emulator: Emulator, make_provider: Callable[..., Any], monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(bookkeeping, "_deprecation_warned", False)
    caplog.set_level(logging.WARNING, logger=PROVIDER_LOGGER)
    first = make_provider("gpt-4o", endpoint=emulator.url)
    second = make_provider("gpt-4o", endpoint=emulator.url)
    assert first.settings.profile.kind == "gateway"  # legacy detection is by host name
    caplog.clear()
    assert first.send_message("one").text == "Echo: one"
    assert first.send_message_streaming("two", lambda _t: None).text == "Echo: two"
    assert second.send_message("three").text == "Echo: three"
    assert {r.path for r in chat_requests(emulator)} == {"/chat/completions"}
    warnings = [r for r in caplog.records if "announces its retirement" in r.getMessage()]
    assert len(warnings) == 1, [r.getMessage() for r in caplog.records]
    text = warnings[0].getMessage()
    for fragment in ("Sunset: Fri, 17 Oct 2025 00:00:00 GMT", "retired on 2026-07-30",
                     "JAATO_GITHUB_ENDPOINT", "Microsoft Foundry"):
        assert re.search(re.escape(fragment), text), text
    assert len(first.get_history()) == 4 and len(second.get_history()) == 2


def test_a_proxy_that_names_the_missing_permission_gets_a_permission_error(
        make_provider: Callable[..., Any]) -> None:
    with Emulator(explicit_permission_errors=True) as emu:
        emu.add_token(TOKEN, scopes=())
        provider = make_provider(token=TOKEN, endpoint=emu.inference_url)
        with pytest.raises(E.TokenPermissionError) as info:
            provider.send_message("hi")
    assert_fragments(info.value, ("lacks permission to use GitHub Models",
                                  "set the account permission 'Models' to read-only"))
