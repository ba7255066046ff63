"""The error tree and the one mapping from failed responses to it (pure: no server needed)."""

from __future__ import annotations

import json
import pickle
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.plugins.model_provider.github_models import errors as E
from shared.plugins.model_provider.github_models.errors import (
    ErrorContext,
    error_from_connection,
    error_from_response,
    error_from_stream_event,
    model_not_found,
    token_not_found,
    token_type_of,
)

FIXTURE = json.loads((Path(__file__).parent / "fixtures" / "wire_errors.json").read_text("utf-8"))
RECORDS = FIXTURE["records"]
NOW = datetime(2026, 7, 1, 12, 0, 0, tzinfo=UTC)
TOKEN = "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"
CLASSIC = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
KNOWN = ("openai/gpt-4.1", "openai/gpt-4o", "openai/gpt-4o-mini", "microsoft/Phi-3.5-MoE-instruct")
CTX = ErrorContext(
    endpoint="https://models.github.ai/inference", model="openai/gpt-4o",
    token_type="fine_grained_pat", token_source="GITHUB_TOKEN", known_models=KNOWN,
)
ORG_CTX = ErrorContext(endpoint="https://models.github.ai/orgs/acme/inference", organization="acme")
FOUNDRY = ErrorContext.for_endpoint("https://res.services.ai.azure.com/models", model="gpt-4o")


def _map(status: int, body: Any = "", headers: dict[str, str] | None = None,
         ctx: ErrorContext = CTX) -> E.GitHubModelsError:
    if isinstance(body, dict):
        body = json.dumps(body)
    return error_from_response(status, headers or {}, body, ctx, now=NOW)


# ---- the wire fixture: every real shape maps to the right class with the right data ------------


@pytest.mark.parametrize("record", RECORDS, ids=[r["id"] for r in RECORDS])
def test_wire_record_maps_to_expected_class(record: dict[str, Any]) -> None:
    error = _map(record["status"], record["body"], record["headers"])
    assert type(error).__name__ == record["expect"], str(error)
    assert error.status == record["status"]
    assert error.code == record["code"]
    for attr in ("retry_after", "limit_type", "limit", "window_seconds", "param"):
        if attr in record:
            assert getattr(error, attr) == record[attr], attr
    if "categories" in record:
        assert list(error.categories) == record["categories"]  # type: ignore[attr-defined]
    text = str(error)
    assert " failed: " in text and ". Fix: " in text


def test_request_id_and_headers_are_kept_lower_cased() -> None:
    error = _map(404, '{"error":{"code":"unknown_model","message":"Unknown model: x"}}',
                 {"X-GitHub-Request-Id": "ABCD:1234", "Content-Type": "text/plain"})
    assert error.request_id == "ABCD:1234"
    assert error.headers["content-type"] == "text/plain"
    assert str(error).endswith("[status 404, code unknown_model, request id ABCD:1234]")


@pytest.mark.parametrize("name", ["apim-request-id", "x-request-id", "x-ms-request-id"])
def test_other_request_id_headers(name: str) -> None:
    assert _map(500, "", {name: "rid-1"}).request_id == "rid-1"


# ---- exact messages where they matter ----------------------------------------------------------


def test_retired_410_message_names_the_date_the_setting_and_foundry() -> None:
    error = _map(410, RECORDS[-2]["body"])
    assert isinstance(error, E.ServiceRetiredError)
    assert str(error) == (
        "Request to https://models.github.ai/inference for model openai/gpt-4o failed: GitHub "
        "Models was retired on 2026-07-30 and https://models.github.ai/inference refuses every "
        "request (service said: 'GitHub Models is temporarily unavailable as part of a scheduled "
        "retirement brownout.'). Fix: point the provider at an endpoint that still speaks this "
        'protocol: set JAATO_GITHUB_ENDPOINT or extra["endpoint"] to Microsoft Foundry\'s OpenAI '
        "v1 route (https://<resource>.openai.azure.com/openai/v1/ or "
        "https://<resource>.services.ai.azure.com/openai/v1/, with that resource's key and your "
        "deployment names as model ids), a GitHub Enterprise Server or proxy URL ending in "
        "/inference, or an OpenAI-compatible gateway; GitHub points users to Microsoft Foundry. "
        "[status 410, code github_models_retirement_brownout]"
    )


def test_empty_403_with_sunset_is_retirement_with_the_link() -> None:
    record = next(r for r in RECORDS if r["id"] == "cybersemics-em-4578")
    error = _map(403, "", record["headers"])
    assert isinstance(error, E.ServiceRetiredError)
    assert error.sunset == "Thu, 30 Jul 2026 00:00:00 GMT"
    assert error.deprecation == "2026-05-05"
    assert error.link is not None and error.link.endswith("fully-retired-on-july-30-2026/")
    assert re.search(re.escape("(the refusal carried Sunset Thu, 30 Jul 2026 00:00:00 GMT"),
                     str(error))
    assert re.search(re.escape("; see https://github.blog/changelog/2026-07-01-"), str(error))


def test_a_specific_error_with_sunset_headers_keeps_its_class_and_notes_retirement() -> None:
    error = _map(401, {"error": {"code": "unauthorized", "message": "Bad credentials"}},
                 {"Sunset": "Fri, 17 Oct 2025 00:00:00 GMT"})
    assert isinstance(error, E.TokenInvalidError)
    assert "this endpoint announced its retirement (Sunset Fri, 17 Oct 2025" in str(error)


def test_legacy_host_refusal_is_retirement() -> None:
    ctx = ErrorContext(endpoint="https://models.inference.ai.azure.com")
    error = _map(404, "", ctx=ctx)
    assert isinstance(error, E.ServiceRetiredError)
    assert "deprecated on 2025-07-17 and removed on 2025-10-17" in str(error)


def test_410_elsewhere_is_retired_but_says_so_about_that_endpoint() -> None:
    error = _map(410, "Gone", ctx=FOUNDRY)
    assert isinstance(error, E.ServiceRetiredError)
    assert "https://res.services.ai.azure.com/models answered 410 Gone" in str(error)


def test_rate_limit_per_minute_message_is_exact() -> None:
    record = next(r for r in RECORDS if r["id"] == "doc-429-minute")
    error = _map(429, record["body"], {"x-ratelimit-type": "UserByModelByMinute"}, ctx=ORG_CTX)
    assert isinstance(error, E.RateLimitError)
    assert error.resets_at == datetime(2026, 7, 1, 12, 0, 46, tzinfo=UTC)
    assert error.raw_limit_type == "UserByModelByMinute"
    assert str(error) == (
        "Request to https://models.github.ai/orgs/acme/inference failed: the endpoint's per-minute "
        "rate limit was reached (10 requests per 60 s, UserByModelByMinute). Fix: wait 46 s (until "
        "2026-07-01 12:00:46 UTC) before retrying; or use a model of a tier with higher limits (on "
        "the free plan low-tier models allow more requests than high- and custom-tier ones); or "
        "enable paid usage for the organization acme so production limits apply "
        "(JAATO_GITHUB_ORGANIZATION bills usage to it). [status 429, code RateLimitReached]"
    )


def test_rate_limit_per_day_says_retrying_will_not_help() -> None:
    record = next(r for r in RECORDS if r["id"] == "report-429-day")
    error = _map(429, record["body"])
    assert isinstance(error, E.RateLimitError)
    assert re.search(re.escape("the daily budget resets in 23 h 50 min (until 2026-07-02 "
                               "11:50:41 UTC): retrying sooner will not help"), str(error))


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"retry-after": "7"}, 7.0),
        ({"retry-after": "Wed, 01 Jul 2026 12:00:30 GMT"}, 30.0),
        ({"x-ratelimit-timeremaining": "12"}, 12.0),
        ({}, None),
    ],
)
def test_rate_limit_retry_after_sources(headers: dict[str, str], expected: float | None) -> None:
    error = _map(429, "", headers)
    assert isinstance(error, E.RateLimitError)
    assert error.retry_after == expected


@pytest.mark.parametrize(
    ("raw", "kind"),
    [("UserByModelByMinute", "per_minute"), ("UserByModelByDay", "per_day"),
     ("UserConcurrentRequests", "concurrent"), ("UserByMinute", "per_minute"),
     ("SomethingNew", "unknown")],
)
def test_rate_limit_types(raw: str, kind: str) -> None:
    error = _map(429, "", {"x-ratelimit-type": raw})
    assert isinstance(error, E.RateLimitError)
    assert (error.limit_type, error.raw_limit_type) == (kind, raw)


def test_quota_exhausted_is_a_rate_limit_that_waiting_does_not_fix() -> None:
    body = {"error": {"message": "You exceeded your current quota", "type": "insufficient_quota",
                      "code": "insufficient_quota"}}
    error = _map(429, body, ctx=FOUNDRY)
    assert isinstance(error, E.RateLimitError)
    assert error.limit_type == "quota"
    assert "waiting will not help" in str(error)


@pytest.mark.parametrize(
    ("token_type", "hint"),
    [
        ("fine_grained_pat", "account permission 'Models' set to read (models: read)"),
        ("classic_pat", "authorize it for the organization's SAML SSO"),
        ("github_app", "installation tokens (ghs_) expire after an hour"),
        ("oauth", "`gh auth refresh`"),
        ("unknown", "GitHub endpoints expect a GitHub token"),
    ],
)
def test_401_hint_by_token_type(token_type: str, hint: str) -> None:
    ctx = ErrorContext(token_type=token_type, token_source="config.api_key")
    error = _map(401, {"error": {"code": "unauthorized", "message": "Bad credentials"}}, ctx=ctx)
    assert isinstance(error, E.TokenInvalidError)
    assert error.token_type == token_type
    assert hint in str(error)
    assert "from config.api_key" in str(error)


def test_401_on_foundry_asks_for_the_endpoints_own_key() -> None:
    error = _map(401, {"error": {"code": "401", "message": "Access denied due to invalid key"}},
                 ctx=FOUNDRY)
    assert isinstance(error, E.TokenInvalidError)
    assert "use this endpoint's own key" in str(error)


@pytest.mark.parametrize(
    ("status", "message", "cls"),
    [
        (401, "GitHub Models is disabled", E.ModelsDisabledError),  # the text wins over 401
        (403, "GitHub Models is disabled for this organization", E.ModelsDisabledError),
        (403, "No access to model: openai/gpt-5", E.ModelsDisabledError),
        (403, "Something else entirely", E.ModelsDisabledError),
        (401, "The token lacks the models:read permission", E.TokenPermissionError),
        (403, "Resource protected by organization SAML enforcement. You must grant your "
              "Personal Access token access to this organization.", E.TokenPermissionError),
        (403, "Resource not accessible by personal access token", E.TokenPermissionError),
        (401, "Bad credentials", E.TokenInvalidError),
    ],
)
def test_auth_family_text_wins_over_status(status: int, message: str, cls: type) -> None:
    assert type(_map(status, {"message": message})) is cls


def test_disabled_names_the_org_settings_url() -> None:
    error = _map(403, {"error": {"code": "forbidden", "message": "No access to model: x/y"}},
                 ctx=ORG_CTX)
    assert isinstance(error, E.ModelsDisabledError)
    assert error.settings_url == "https://github.com/organizations/acme/settings/models"
    assert "the organization's Models settings (https://github.com/organizations/acme/" in str(
        error)


def test_disabled_for_enterprise_names_policies() -> None:
    ctx = ErrorContext(enterprise="bigcorp")
    error = _map(401, RECORDS[5]["body"], ctx=ctx)
    assert isinstance(error, E.ModelsDisabledError)
    assert error.settings_url == "https://github.com/enterprises/bigcorp/settings/policies/models"
    assert "Enterprise settings → Policies → Models" in str(error)


def test_model_not_found_suggests_close_ids_and_the_publisher_form() -> None:
    ctx = ErrorContext(model="gpt-4o-mni", known_models=KNOWN)
    error = _map(404, RECORDS[0]["body"], ctx=ctx)
    assert isinstance(error, E.ModelNotFoundError)
    assert error.model == "gpt-4o-mni"
    assert error.suggestions[0] == "openai/gpt-4o-mini"
    assert "use the full id {publisher}/{model_name}" in str(error)


def test_model_name_taken_from_the_message_when_context_has_none() -> None:
    error = _map(400, RECORDS[1]["body"], ctx=ErrorContext())
    assert isinstance(error, E.ModelNotFoundError)
    assert error.model == "thisdoesnotexist"


def test_model_not_found_builder_before_any_request() -> None:
    error = model_not_found("openai/gpt4.1", CTX)
    assert error.status is None
    assert error.suggestions[0] == "openai/gpt-4.1"
    assert len(error.suggestions) <= 3
    assert str(error).startswith(
        "Selecting model openai/gpt4.1 on https://models.github.ai/inference failed: the endpoint "
        "does not know model 'openai/gpt4.1'. Fix: did you mean openai/gpt-4.1, ")


@pytest.mark.parametrize(
    ("body", "limit", "requested", "source"),
    [
        ({"error": {"code": "tokens_limit_reached",
                    "message": "Request body too large for o1-mini model. Max size: 4000 tokens."}},
         4000, None, "tier"),
        ({"object": "error", "type": "BadRequestError", "code": 400,
          "message": "This model's maximum context length is 4096 tokens. However, you requested "
                     "5000 tokens (4000 in the messages, 1000 in the completion)."},
         4096, 5000, "model"),
        ({"error": {"code": "context_length_exceeded", "message": "This model's maximum context "
                    "length is 128000 tokens. However, your messages resulted in 130001 tokens."}},
         128000, 130001, "model"),
    ],
)
def test_context_limits(body: dict[str, Any], limit: int, requested: int | None,
                        source: str) -> None:
    error = _map(413 if source == "tier" else 400, body)
    assert isinstance(error, E.ContextLimitError)
    assert (error.limit, error.requested, error.limit_source) == (limit, requested, source)


def test_max_tokens_gets_the_max_completion_tokens_fix() -> None:
    record = next(r for r in RECORDS if r["id"] == "fenec-max-tokens")
    error = _map(400, record["body"])
    assert re.search(re.escape("Fix: send max_completion_tokens instead of max_tokens: reasoning "
                               "models (o1, o3, o4-mini, the gpt-5 family) reject max_tokens."),
                     str(error))


def test_422_is_invalid_request_with_param() -> None:
    error = _map(422, {"error": {"message": "bad", "param": "temperature"}})
    assert isinstance(error, E.InvalidRequestError)
    assert error.param == "temperature"


@pytest.mark.parametrize("status", [500, 502, 503, 504, 599])
def test_5xx_is_service_unavailable(status: int) -> None:
    error = _map(status, "<html>oops</html>", {"Retry-After": "3"})
    assert isinstance(error, E.ServiceUnavailableError)
    assert error.retry_after == 3.0


@pytest.mark.parametrize("status", [0, 200, 302, 404, 405, 418, 999, -1])
def test_other_statuses_get_the_base_class_with_an_honest_message(status: int) -> None:
    error = _map(status, "")
    assert type(error) is E.GitHubModelsError
    assert f"HTTP {status}" in str(error) or "404 Not Found" in str(error)


# ---- body shapes -------------------------------------------------------------------------------

_UNKNOWN = {"code": "unknown_model", "message": "Unknown model: nope"}


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"error": _UNKNOWN}),
        json.dumps(_UNKNOWN),
        json.dumps({"object": "error", "message": "Unknown model: nope", "type": "NotFoundError",
                    "code": 404}),
        json.dumps({"error": "Unknown model: nope"}),
        json.dumps({"message": "Unknown model: nope"}),
        json.dumps(json.dumps({"error": _UNKNOWN})),  # a JSON string holding JSON
        json.dumps({"error": json.dumps(_UNKNOWN)}),
        json.dumps([{"error": _UNKNOWN}]),
        json.dumps({"errors": ["Unknown model: nope"]}),
        "Unknown model: nope",
        json.dumps({"error": _UNKNOWN}).encode(),
    ],
)
def test_every_body_shape_is_read(body: str | bytes) -> None:
    error = error_from_response(404, {}, body, ErrorContext())
    assert isinstance(error, E.ModelNotFoundError), str(error)
    assert error.model == "nope"


def test_invalid_utf8_and_huge_bodies() -> None:
    assert isinstance(_map(500, b"\xff\xfe\x00garbage"), E.ServiceUnavailableError)
    huge = json.dumps({"error": {"code": "x", "message": "m" * 1_000_000}})
    error = _map(400, huge)
    assert isinstance(error, E.InvalidRequestError)
    assert len(error.body) <= 2048
    assert len(str(error)) < 2000


# ---- secrets never leak ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "secret",
    [TOKEN, CLASSIC, "gho_16C7e42F292c6912E7710c838347Ae178B4a", "ghs_abcdefABCDEF0123456789",
     "ghu_abcdefABCDEF0123456789"],
)
def test_tokens_are_scrubbed_from_message_body_and_repr(secret: str) -> None:
    body = json.dumps({"error": {"code": "unauthorized",
                                 "message": f"Bad credentials for {secret} (Bearer {secret})"}})
    error = _map(401, body, {"X-Echo": secret, "Authorization": f"Bearer {secret}"})
    for text in (str(error), repr(error), error.body, json.dumps(error.headers)):
        assert secret not in text
    assert error.headers["authorization"] == "***"
    mask = "github_pat_…" if secret.startswith("github_pat_") else secret[:4] + "…"
    assert mask in str(error)


def test_bearer_values_and_api_keys_are_scrubbed() -> None:
    error = error_from_connection("refused", "GET with Authorization: Bearer abc.def-ghi_jkl "
                                  "api-key=supersecret123", ErrorContext())
    assert "abc.def-ghi_jkl" not in str(error) and "supersecret123" not in str(error)


def test_endpoint_query_and_userinfo_are_not_shown() -> None:
    ctx = ErrorContext(endpoint="https://user:pw@gw.example/v1?api-key=sekret")
    assert "sekret" not in str(_map(500, "", ctx=ctx)) and "pw@" not in str(_map(500, "", ctx=ctx))


@settings(max_examples=200, deadline=None)
@given(
    status=st.integers(min_value=-1000, max_value=1000),
    headers=st.dictionaries(st.text(max_size=20), st.text(max_size=40), max_size=5),
    body=st.one_of(st.none(), st.text(max_size=300), st.binary(max_size=300),
                   st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                                lambda c: st.lists(c, max_size=3)
                                | st.dictionaries(st.sampled_from(
                                    ["error", "code", "message", "details", "param", "type",
                                     "innererror", "errors", "object"]), c, max_size=4),
                                max_leaves=10).map(json.dumps)),
)
def test_mapping_is_total_and_never_leaks(status: int, headers: dict[str, str],
                                          body: str | bytes | None) -> None:
    if isinstance(body, str):
        body = body + " " + TOKEN
    error = error_from_response(status, headers, body, CTX)
    assert isinstance(error, E.GitHubModelsError)
    assert TOKEN not in str(error) and TOKEN not in error.body and TOKEN not in repr(error)


# ---- connections, streams, token lookup ---------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "retryable", "phrase"),
    [
        ("refused", True, "nothing accepted the connection to http://127.0.0.1:9/inference"),
        ("dns", False, "could not be resolved"),
        ("connect_timeout", True, "timed out"),
        ("read_timeout", True, "raise extra['timeout']"),
        ("reset", True, "closed or reset"),
        ("tls", False, "TLS handshake"),
        ("weird", False, "the connection to http://127.0.0.1:9/inference failed"),
    ],
)
def test_connection_errors(kind: str, retryable: bool, phrase: str) -> None:
    ctx = ErrorContext.for_endpoint("http://127.0.0.1:9/inference")
    error = error_from_connection(kind, "[Errno 111] Connection refused", ctx)
    assert type(error) is E.ProviderConnectionError
    assert error.retryable is retryable
    assert error.status is None
    assert phrase in str(error)
    assert "([Errno 111] Connection refused)" in str(error)


def test_nothing_is_retryable_once_a_response_started() -> None:
    error = error_from_connection("read_timeout", "", CTX, response_started=True)
    assert error.retryable is False


def test_stream_interrupted_carries_partial_text_and_is_final() -> None:
    error = error_from_connection("stream_interrupted", "Response ended prematurely", CTX,
                                  partial_text="Hello, wor")
    assert isinstance(error, E.StreamInterruptedError)
    assert isinstance(error, E.ProviderConnectionError)
    assert (error.partial_text, error.retryable) == ("Hello, wor", False)
    assert "after 10 characters of text had been delivered" in str(error)


def test_stream_error_events() -> None:
    event = {"error": {"code": "content_filter", "message": "filtered"}}
    assert isinstance(error_from_stream_event(event, CTX, partial_text="x"), E.ContentFilterError)
    rate = {"error": {"code": "RateLimitReached", "message": "Please wait 3 seconds"}}
    early = error_from_stream_event(rate, CTX)
    assert isinstance(early, E.RateLimitError) and early.retry_after == 3.0
    late = error_from_stream_event(rate, CTX, partial_text="abc")
    assert isinstance(late, E.StreamInterruptedError) and late.retryable is False
    odd = error_from_stream_event("boom", CTX)
    assert isinstance(odd, E.StreamInterruptedError) and odd.kind == "stream_error"


def test_token_not_found_lists_every_place_and_how_to_make_one() -> None:
    error = token_not_found([("config.api_key", "not set"), ("GITHUB_TOKEN", "not set"),
                             (".env at /p/.env", "file not found")])
    assert error.checked == (("config.api_key", "not set"), ("GITHUB_TOKEN", "not set"),
                             (".env at /p/.env", "file not found"))
    assert str(error).startswith(
        "Looking for a GitHub token failed: no token was found (checked config.api_key: not set; "
        "GITHUB_TOKEN: not set; .env at /p/.env: file not found). Fix: create a fine-grained "
        "personal access token with the account permission 'Models' set to read-only "
        "(models: read) at https://github.com/settings/personal-access-tokens/new")


@pytest.mark.parametrize(
    ("token", "kind"),
    [(TOKEN, "fine_grained_pat"), (CLASSIC, "classic_pat"), ("ghs_x", "github_app"),
     ("ghu_x", "github_app"), ("gho_x", "oauth"), ("sk-abc", "unknown"), ("", "unknown")],
)
def test_token_type_of(token: str, kind: str) -> None:
    assert token_type_of(token) == kind


def test_context_for_endpoint_detects_github_shape() -> None:
    def kind(url: str) -> str:
        profile = ErrorContext.for_endpoint(url).profile
        assert profile is not None
        return profile.kind

    assert kind("https://ghes.example/api/v3/models/inference") == "github"
    assert kind("http://127.0.0.1:8080/inference/") == "github"
    assert kind("https://gw.example/v1") == "gateway"


# ---- the classes themselves ---------------------------------------------------------------------


def test_every_error_pickles_with_its_data() -> None:
    record = next(r for r in RECORDS if r["id"] == "report-429-day")
    originals = [_map(429, record["body"]), _map(413, RECORDS[6]["body"]),
                 error_from_connection("stream_interrupted", "", CTX, partial_text="ab"),
                 token_not_found([("GITHUB_TOKEN", "not set")]),
                 E.InvalidRequestError(what="Checking temperature", why="2 is above 1",
                                       fix="use 0..1", param="temperature")]
    for original in originals:
        copy = pickle.loads(pickle.dumps(original))
        assert type(copy) is type(original)
        assert str(copy) == str(original)
        assert {k: v for k, v in vars(copy).items()} == vars(original)


def test_client_side_validation_error_has_no_status() -> None:
    error = E.InvalidRequestError(what="Checking temperature", why="2 is above 1",
                                  fix="use a value from 0 to 1", param="temperature")
    assert str(error) == ("Checking temperature failed: 2 is above 1. Fix: use a value from 0 "
                          "to 1.")
    assert repr(error) == "InvalidRequestError(status=None, code=None, request_id=None)"
    assert error.param == "temperature"


def test_no_class_is_a_key_error_and_all_derive_from_the_base() -> None:
    for name in E.__all__:
        obj = getattr(E, name)
        if isinstance(obj, type) and issubclass(obj, BaseException):
            assert issubclass(obj, E.GitHubModelsError)
            assert not issubclass(obj, KeyError | LookupError)


def test_errors_module_imports_cheaply() -> None:
    code = ("import sys; import shared.plugins.model_provider.github_models.errors; "
            "print(sorted(m for m in sys.modules if m.startswith(('azure', 'aiohttp', 'dotenv'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_scrubbing_keeps_ordinary_words_after_token_readable() -> None:
    from shared.plugins.model_provider.github_models.common.secret_text import scrub

    assert scrub("the token provided is invalid") == "the token provided is invalid"
    assert scrub("Authorization: Bearer abc123def456ghi") == "Authorization: Bearer …"
