"""Validation and model errors, with the exact bodies, statuses and content types of the service."""

from __future__ import annotations

import json
import re

import pytest
from emulator_http import CATALOG, Http, chat_body

from shared.plugins.model_provider.github_models.emulator import Emulator, Reply


def error_of(res_json: dict[str, object]) -> dict[str, object]:
    err = res_json["error"]
    assert isinstance(err, dict)
    return err


def test_unknown_model_is_a_404_json_body_served_as_text_plain(http_: Http) -> None:
    res = http_.chat(chat_body(model="openai/gpt-17"))
    assert res.status == 404
    assert res.headers["content-type"] == "text/plain; charset=utf-8"
    assert res.headers["x-github-request-id"]
    assert res.raw.endswith(b"}\n")  # Content-Length counted a trailing newline
    assert res.json() == {
        "error": {
            "code": "unknown_model",
            "message": "Unknown model: openai/gpt-17",
            "details": "Unknown model: openai/gpt-17",
        }
    }


def test_unknown_model_status_and_error_content_type_are_configurable() -> None:
    with Emulator(
        catalog=CATALOG, unknown_model_status=400, error_content_type="application/json"
    ) as emu:
        res = Http(emu).chat(chat_body(model="openai/nope"))
        assert res.status == 400
        assert res.headers["content-type"] == "application/json"
        assert error_of(res.json())["code"] == "unknown_model"


def test_model_without_publisher_gets_the_plain_text_400(http_: Http) -> None:
    res = http_.chat(chat_body(model="gpt-4o"))
    assert res.status == 400
    assert res.text == (
        "Model not found; expected format: {publisher}/{model_name}. "
        "Valid models can be found by calling /catalog/models.\n"
    )
    assert len(res.raw) == 114  # as captured: 113 characters plus a newline


def test_empty_messages(http_: Http) -> None:
    res = http_.chat({"model": "openai/gpt-4o", "messages": []})
    assert res.status == 400
    err = error_of(res.json())
    assert err["code"] == "empty_array"
    assert err["message"] == "Invalid 'messages': empty array"
    assert err["param"] == "messages"


@pytest.mark.parametrize(
    ("params", "param", "code", "message"),
    [
        (
            {"temperature": 1.5},
            "temperature",
            "decimal_above_max_value",
            "Expected a value <= 1, but got 1.5",
        ),
        ({"temperature": -0.1}, "temperature", "decimal_below_min_value", "Expected a value >= 0"),
        ({"top_p": 2}, "top_p", "decimal_above_max_value", "Expected a value <= 1"),
        ({"frequency_penalty": 2.5}, "frequency_penalty", "decimal_above_max_value", "<= 2"),
        ({"presence_penalty": -3}, "presence_penalty", "decimal_below_min_value", ">= -2"),
        (
            {"temperature": "hot"},
            "temperature",
            "invalid_type",
            "expected a decimal, but got a string",
        ),
        ({"max_tokens": 0}, "max_tokens", "integer_below_min_value", "Expected a value >= 1"),
        ({"max_tokens": 20000}, "max_tokens", "invalid_value", "at most 16384 completion tokens"),
        (
            {"stream_options": {"include_usage": True}},
            "stream_options",
            "invalid_value",
            "only allowed",
        ),
        ({"response_format": {"type": "xml"}}, "response_format.type", "invalid_value", "'xml'"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop", "array_above_max_length", "maximum length 4"),
        ({"tool_choice": "always"}, "tool_choice", "invalid_value", "'always'"),
    ],
)
def test_parameter_validation(
    http_: Http, params: dict[str, object], param: str, code: str, message: str
) -> None:
    res = http_.chat(chat_body(**params))
    assert res.status == 400, res.text
    err = error_of(res.json())
    assert (err["param"], err["code"]) == (param, code)
    assert message in str(err["message"])


def test_bad_role_and_tool_message_without_id(http_: Http) -> None:
    res = http_.chat({"model": "openai/gpt-4o", "messages": [{"role": "robot", "content": "x"}]})
    err = error_of(res.json())
    assert res.status == 400 and err["code"] == "invalid_value"
    assert err["param"] == "messages[0].role"
    assert str(err["message"]).startswith("Invalid value: 'robot'. Supported values are: 'system'")
    res = http_.chat({"model": "openai/gpt-4o", "messages": [{"role": "tool", "content": "x"}]})
    assert error_of(res.json())["param"] == "messages[0].tool_call_id"


def test_missing_model_and_unparsable_body(http_: Http) -> None:
    res = http_.chat({"messages": [{"role": "user", "content": "x"}]})
    assert res.status == 400
    assert error_of(res.json())["param"] == "model"
    res = http_.request("POST", "/inference/chat/completions", b"{not json")
    assert res.status == 400
    assert "could not parse the JSON body" in str(error_of(res.json())["message"])
    assert http_.emu.requests[-1].body is None
    assert http_.emu.requests[-1].raw_body_size == len(b"{not json")


def test_reasoning_models_reject_max_tokens_and_temperature(http_: Http) -> None:
    res = http_.chat(chat_body(model="openai/o3-mini", max_tokens=100))
    assert res.status == 400
    err = error_of(res.json())
    assert err["message"] == (
        "Unsupported parameter: 'max_tokens' is not supported with this model. "
        "Use 'max_completion_tokens' instead."
    )
    assert err["code"] == "unsupported_parameter"
    res = http_.chat(chat_body(model="openai/o3-mini", temperature=0.2))
    err = error_of(res.json())
    assert (res.status, err["code"], err["param"]) == (400, "unsupported_value", "temperature")
    ok = http_.chat(chat_body(model="openai/o3-mini", temperature=1, max_completion_tokens=50))
    assert ok.status == 200
    assert ok.json()["model"] == "o3-mini-2025-01-31"


def test_non_reasoning_models_accept_max_tokens(http_: Http) -> None:
    assert (
        http_.chat(chat_body(model="openai/gpt-4.1", max_tokens=100, temperature=0.3)).status == 200
    )


def test_scripted_errors_are_served_verbatim_and_bypass_validation(http_: Http) -> None:
    http_.emu.script(
        Reply.error(503, "upstream unavailable"),
        Reply.error(
            503,
            {"error": {"code": "server_error", "message": "busy"}},
            headers={"retry-after": "1"},
        ),
        Reply.error(400, {"error": {"code": "content_filter"}}, content_type="application/json"),
    )
    first = http_.chat({"model": "bad", "messages": []})
    assert (first.status, first.text) == (503, "upstream unavailable\n")
    second = http_.chat(chat_body())
    assert second.status == 503 and second.headers["retry-after"] == "1"
    assert second.json()["error"]["message"] == "busy"
    third = http_.chat(chat_body())
    assert third.headers["content-type"] == "application/json"
    assert third.json() == {"error": {"code": "content_filter"}}
    assert http_.chat(chat_body()).status == 200


def test_unknown_paths_and_methods(http_: Http) -> None:
    assert http_.request("GET", "/models").status == 404
    assert http_.request("POST", "/v1/chat/completions", chat_body()).status == 404
    res = http_.request("GET", "/inference/chat/completions")
    assert res.status == 405
    assert re.fullmatch(r"[0-9A-F]{4}:[0-9A-F]{7}", res.headers["x-github-request-id"])
    assert json.loads(res.raw)["error"]["code"] == "method_not_allowed"
