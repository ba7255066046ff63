"""Service modes (retired, deprecated), the legacy host path and the catalog."""

from __future__ import annotations

import json

import pytest
from emulator_http import CATALOG, Http, chat_body

from shared.plugins.model_provider.github_models.emulator import Emulator

RETIRED = {
    "error": {
        "code": "github_models_retirement_brownout",
        "message": "GitHub Models is temporarily unavailable as part of a scheduled "
        "retirement brownout.",
    }
}
LEGACY = "/chat/completions"


def test_retired_mode_answers_410_everywhere(emu: Emulator, http_: Http) -> None:
    emu.set_mode("retired")
    for method, path, body in [
        ("POST", "/inference/chat/completions", chat_body()),
        ("POST", "/orgs/acme/inference/chat/completions", chat_body()),
        ("POST", LEGACY, chat_body(model="gpt-4o")),
        ("GET", "/catalog/models", None),
        ("GET", "/v1/models", None),
        ("GET", "/no/such/path", None),
    ]:
        res = http_.request(method, path, body)
        assert res.status == 410, path
        assert res.json() == RETIRED
        assert res.headers["x-github-request-id"]
    # Retired even without credentials: the service is gone, not refusing the caller.
    assert http_.chat(chat_body(), token=None).status == 410
    emu.set_mode("normal")
    assert http_.chat(chat_body()).status == 200


def test_retired_mode_from_the_constructor() -> None:
    with Emulator(catalog=CATALOG, mode="retired") as emu:
        assert Http(emu).chat(chat_body()).status == 410


def test_deprecated_mode_is_an_empty_403_with_deprecation_headers(
    emu: Emulator, http_: Http
) -> None:
    emu.set_mode("deprecated")
    res = http_.chat(chat_body())
    assert res.status == 403
    assert res.raw == b""
    assert res.headers["content-length"] == "0"
    assert res.headers["deprecation"] == "@1777939200"
    assert res.headers["sunset"] == "Thu, 30 Jul 2026 00:00:00 GMT"
    assert res.headers["link"] == (
        "<https://github.blog/changelog/2026-07-01-github-models-is-being-fully-retired-"
        'on-july-30-2026/>; rel="deprecation"'
    )
    assert http_.chat(chat_body(), path="/orgs/acme/inference/chat/completions").status == 403


def test_mode_is_validated(emu: Emulator) -> None:
    with pytest.raises(ValueError, match="mode must be one of"):
        emu.set_mode("gone")
    with pytest.raises(ValueError, match="stream_style"):
        Emulator(stream_style="anthropic")


def test_legacy_path_takes_bare_names_and_always_carries_deprecation_headers(http_: Http) -> None:
    res = http_.chat(chat_body(model="gpt-4o-mini"), path=LEGACY)
    assert res.status == 200
    assert res.json()["model"] == "gpt-4o-mini-2024-07-18"
    assert res.headers["deprecation"] == "Fri, 17 July 2025 00:00:00 GMT"
    assert res.headers["sunset"] == "Fri, 17 Oct 2025 00:00:00 GMT"
    assert res.all("link") == [
        "<https://github.blog/changelog/2025-07-17-deprecation-of-azure-endpoint-for-github-models/>;"
        ' rel="deprecation"',
        '<https://github.models.ai/inference>; rel="alternate"',
    ]
    unknown = http_.chat(chat_body(model="ThisDoesNotExist"), path=LEGACY)
    assert unknown.status == 400
    assert unknown.json() == {
        "error": {
            "code": "unknown_model",
            "message": "Unknown model: thisdoesnotexist",
            "details": None,
        }
    }
    assert len(unknown.all("link")) == 2
    stream = http_.chat(chat_body(model="gpt-4o", stream=True), path=LEGACY)
    assert stream.events()[-1] == "[DONE]" and stream.headers["sunset"]


def test_catalog_serves_later_format_without_private_keys(http_: Http) -> None:
    res = http_.request("GET", "/catalog/models", token=None)
    assert res.status == 200
    assert res.headers["content-type"] == "application/json"
    models = res.json()
    assert [m["id"] for m in models] == [e["id"] for e in CATALOG]
    gpt4o = next(m for m in models if m["id"] == "openai/gpt-4o")
    assert "x_multiplier_input" not in gpt4o
    assert gpt4o["limits"] == {"max_input_tokens": 131072, "max_output_tokens": 16384}
    assert gpt4o["rate_limit_tier"] == "high"
    assert set(gpt4o) >= {
        "id",
        "name",
        "publisher",
        "registry",
        "version",
        "capabilities",
        "html_url",
    }


def test_default_catalog_loads_lazily() -> None:
    with Emulator() as emu:
        res = Http(emu).request("GET", "/catalog/models")
        models = json.loads(res.raw)
        ids = {m["id"].lower() for m in models}
        assert {"openai/gpt-4o", "openai/gpt-4.1"} <= ids
        assert not any(k.startswith("x_") for m in models for k in m)


def test_response_settings_can_change_between_requests(emu: Emulator, http_: Http) -> None:
    assert "prompt_filter_results" not in http_.chat(chat_body()).json()
    emu.stream_style = "azure"
    assert emu.stream_style == "azure"
    assert "prompt_filter_results" in http_.chat(chat_body()).json()
    assert http_.chat(chat_body(stream=True)).chunks()[0]["choices"] == []
    emu.unknown_model_status = 400
    emu.error_content_type = "application/json"
    res = http_.chat(chat_body(model="openai/missing"))
    assert (res.status, res.headers["content-type"]) == (400, "application/json")
    with pytest.raises(ValueError, match="stream_style"):
        emu.stream_style = "anthropic"


def test_v1_models_lists_the_catalog_as_data(http_: Http) -> None:
    res = http_.request("GET", "/v1/models", None)
    assert res.status == 200
    doc = res.json()
    assert doc["object"] == "list" and doc["data"]
    assert {"id", "rate_limit_tier", "limits"} <= set(doc["data"][0])
