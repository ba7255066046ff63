"""Issue 12: hostile input from the caller is refused before anything is sent, with a clear
error, and the session keeps working; restored history that could not be sent is refused.
All through the public API against the emulator."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from shared import ProviderConfig, load_provider
from shared.plugins.model_provider.github_models import errors as E
from shared.plugins.model_provider.github_models.emulator import Emulator, Reply
from shared.plugins.model_provider.types import (
    Attachment,
    CancelToken,
    Part,
    ToolResult,
    ToolSchema,
)
from tests.conftest import TEST_TOKEN

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
WEATHER = ToolSchema(name="get_weather", description="Weather for a city",
                     parameters={"type": "object", "properties": {"city": {"type": "string"}}})
cycle: dict[str, Any] = {}
cycle["self"] = cycle


def chat_requests(emulator: Emulator) -> list[Any]:
    return [r for r in emulator.requests if r.path.endswith("/chat/completions")]


def refused(emulator: Emulator, provider: Any, call: Callable[[], Any], param: str) -> str:
    """Run ``call``; it must raise InvalidRequestError for ``param`` and send nothing."""
    before = (len(chat_requests(emulator)), list(provider.get_history()))
    with pytest.raises(E.InvalidRequestError) as info:
        call()
    assert info.value.param == param, str(info.value)
    assert (len(chat_requests(emulator)), provider.get_history()) == before
    return str(info.value)


@pytest.mark.parametrize("text", ["a\ud800b", "\udfff", "x" * 10 + "\udc80"])
def test_lone_surrogates_in_a_message_are_refused_and_the_session_survives(
        emulator: Emulator, make_provider: Callable[..., Any], text: str) -> None:
    provider = make_provider()
    refused(emulator, provider, lambda: provider.send_message(text), "message")
    refused(emulator, provider, lambda: provider.send_message_streaming(text, print), "message")
    refused(emulator, provider, lambda: provider.send_message_with_parts([Part(text=text)]),
            "parts")
    with pytest.raises(E.InvalidRequestError):
        provider.create_session(system_instruction=text)
    assert provider.send_message("still fine").text == "Echo: still fine"


@pytest.mark.parametrize(("tool", "fragment"), [
    (ToolSchema(name="a b", description="d", parameters={}), "its name"),
    (ToolSchema(name="", description="d", parameters={}), "its name"),
    (ToolSchema(name="x" * 65, description="d", parameters={}), "its name"),
    (ToolSchema(name="f", description="d\ud800", parameters={}), "surrogate"),
    (ToolSchema(name="f", description="d", parameters=[1]), "not a JSON-schema object"),  # type: ignore[arg-type]
    (ToolSchema(name="f", description="d", parameters={"type": "string"}), "an object"),
    (ToolSchema(name="f", description="d", parameters={"type": "object", "x": math.nan}),
     "not JSON"),
    (ToolSchema(name="f", description="d", parameters={"type": "object", "x": object()}),
     "not JSON"),
    (ToolSchema(name="f", description="d", parameters={"type": "object", "p": cycle}),
     "nested"),
    (ToolSchema(name="f", description="d", parameters={"type": "object", "k\udc00": 1}),
     "surrogate"),
])
def test_bad_tool_schemas_are_refused_when_the_session_is_made(
        emulator: Emulator, make_provider: Callable[..., Any], tool: ToolSchema,
        fragment: str) -> None:
    provider = make_provider()
    with pytest.raises(E.InvalidRequestError, match=fragment) as info:
        provider.create_session(tools=[tool])
    assert info.value.param == "tools"
    assert provider.send_message("hi").text == "Echo: hi"  # the old session still works


@pytest.mark.parametrize(("value", "fragment"), [
    (math.nan, "not JSON"), ({"t": math.inf}, "not JSON"), (object(), "not JSON"),
    (b"raw bytes", "not JSON"), (cycle, "nested"), ("\ud800", "surrogate"),
    ({"k": ["\udc00"]}, "surrogate"),
])
def test_bad_tool_results_are_refused_before_sending(
        emulator: Emulator, make_provider: Callable[..., Any], value: Any,
        fragment: str) -> None:
    provider = make_provider()
    provider.create_session(tools=[WEATHER])
    emulator.script(Reply.tool_calls([("get_weather", {"city": "Oslo"})]))
    call = provider.send_message("weather?").function_calls[0]
    text = refused(emulator, provider,
                   lambda: provider.send_tool_results([ToolResult(call.id, call.name, value)]),
                   "results")
    assert fragment in text
    answered = provider.send_tool_results([ToolResult(call.id, call.name, {"temp": 3})])
    assert "temp" in (answered.text or "")


def test_tool_results_with_dates_and_decimals_are_converted(
        emulator: Emulator, make_provider: Callable[..., Any]) -> None:
    import datetime
    import decimal

    provider = make_provider()
    provider.create_session(tools=[WEATHER])
    emulator.script(Reply.tool_calls([("get_weather", {"city": "Oslo"})]))
    call = provider.send_message("weather?").function_calls[0]
    provider.send_tool_results([ToolResult(call.id, call.name, {
        "at": datetime.date(2026, 1, 2), "t": decimal.Decimal("1.5"), "tags": ("a",)})])
    tool = next(m for m in chat_requests(emulator)[-1].body["messages"] if m["role"] == "tool")
    assert tool["content"] == '{"at": "2026-01-02", "t": "1.5", "tags": ["a"]}'


@pytest.mark.parametrize(("image", "fragment"), [
    ({"mime_type": "image/png", "data": b"hello"}, "not a image/png image"),
    ({"mime_type": "image/png", "data": b""}, "0 bytes"),
    ({"mime_type": "image/png", "data": "!!not base64!!"}, "not valid base64"),
    ({"mime_type": "text/html", "data": PNG}, "not a supported image type"),
    ({"mime_type": None, "data": PNG}, "not a supported image type"),
    ({"mime_type": "image/png", "data": 12345}, "not bytes"),
    ({"mime_type": "image/jpeg", "data": PNG}, "not a image/jpeg image"),
])
def test_images_that_are_not_what_they_claim_are_refused(
        emulator: Emulator, make_provider: Callable[..., Any], image: dict[str, Any],
        fragment: str) -> None:
    provider = make_provider()
    text = refused(emulator, provider, lambda: provider.send_message_with_parts(
        [Part(text="what is this?"), Part(inline_data=image)]), "parts")
    assert fragment in text
    provider.send_message_with_parts([Part(text="ok"), Part(inline_data={
        "mime_type": "image/png", "data": PNG})])


def test_tool_result_attachments_must_be_images(emulator: Emulator,
                                                make_provider: Callable[..., Any]) -> None:
    provider = make_provider()
    provider.create_session(tools=[WEATHER])
    emulator.script(Reply.tool_calls([("get_weather", {"city": "Oslo"})]))
    call = provider.send_message("weather?").function_calls[0]
    refused(emulator, provider, lambda: provider.send_tool_results([ToolResult(
        call.id, call.name, "map", attachments=[Attachment("text/plain", b"hi")])]), "results")


@pytest.mark.parametrize("schema", [
    {"type": "object", "x": math.nan}, {"type": "object", "x": object()},
    {"type": "object", "p": cycle}, {"type": "object", "d": "\ud800"}, [1], "object",
])
def test_bad_response_schemas_are_refused(emulator: Emulator, make_provider: Callable[..., Any],
                                          schema: Any) -> None:
    provider = make_provider()
    refused(emulator, provider, lambda: provider.send_message("hi", response_schema=schema),
            "response_schema")


# ---- deserialize_history on hostile documents --------------------------------------------------

ENVELOPE = '{"format":"jaato.github_models.history/1","messages":%s}'


@pytest.mark.parametrize("document", [
    "[" * 100_000 + "]" * 100_000,
    ENVELOPE % ("[" * 50_000 + "]" * 50_000),
    ENVELOPE % ('[{"role":"user","parts":[{"text":' + "[" * 5000 + "]" * 5000 + "}]}]"),
    ENVELOPE % '[{"role":"user","parts":[{"text":"a\\ud800"}]}]',
    ENVELOPE % '[{"role":"user","parts":[{"text":5}]}]',
    ENVELOPE % '[{"role":"bogus","parts":[]}]',
    ENVELOPE % '[{"role":"user","parts":"abc"}]',
    ENVELOPE % '[{"role":"user"}]',
    ENVELOPE % '["just text"]',
    ENVELOPE % '[{"role":"model","parts":[{"function_call":{"id":1,"name":"f","args":{}}}]}]',
    ENVELOPE % '[{"role":"model","parts":[{"function_call":{"id":"a","name":"f","args":[1]}}]}]',
    ENVELOPE % ('[{"role":"model","parts":[{"function_call":{"id":"a","name":"f",'
                '"args":{"k":"\\udc00"}}}]}]'),
    ENVELOPE % ('[{"role":"user","parts":[{"inline_data":{"mime_type":"image/png",'
                '"data":"@@@"}}]}]'),
    ENVELOPE % ('[{"role":"tool","parts":[{"function_response":{"call_id":"a","name":"f",'
                '"result":NaN}}]}]'),
    ENVELOPE % ('[{"role":"tool","parts":[{"function_response":{"call_id":7,"name":"f",'
                '"result":1}}]}]'),
    '{"format":{"a":1}}', "5", "null", "", "\ud800",
])
def test_hostile_history_documents_raise_value_error(document: str) -> None:
    provider: Any = load_provider("github_models", ProviderConfig(api_key=TEST_TOKEN, extra={
        "endpoint": "http://127.0.0.1:9/inference"}))
    with pytest.raises(ValueError, match="serialized history"):
        provider.deserialize_history(document)
    provider.shutdown()


@pytest.mark.parametrize("document", [b"\xff\xfe", 12, None, ["a"]])
def test_history_that_is_not_text_raises_value_error(document: Any) -> None:
    provider: Any = load_provider("github_models", ProviderConfig(api_key=TEST_TOKEN, extra={
        "endpoint": "http://127.0.0.1:9/inference"}))
    with pytest.raises(ValueError, match="serialized history"):
        provider.deserialize_history(document)
    provider.shutdown()


# ---- configuration validated at initialize -------------------------------------------------------


def _initialize(emulator: Emulator, **extra: Any) -> Any:
    extra.setdefault("endpoint", emulator.inference_url)
    provider: Any = load_provider("github_models", ProviderConfig(api_key=TEST_TOKEN,
                                                                  extra=extra))
    provider.connect("openai/gpt-4o")
    return provider


@pytest.mark.parametrize("limits", [
    {"high": {"requests_per_minute": 0}}, {"high": {"requests_per_minute": -1}},
    {"high": {"requests_per_day": 0}}, {"high": {"concurrent_requests": 0}},
    {"high": {"requests_per_minute": "x"}}, {"high": {"requests_per_minute": math.nan}},
    {"high": {"requests_per_minute": 1.5}}, {"high": {"requests_per_minute": True}},
    {"high": 5}, {"high": {"bogus": 1}}, {"": {}}, {"a b": {}}, {5: {}},
])
def test_rate_limit_overrides_are_validated_at_initialize(emulator: Emulator,
                                                          limits: dict[Any, Any]) -> None:
    outcome: list[BaseException | str] = []

    def run() -> None:
        try:
            provider = _initialize(emulator, pacing=True, rate_limits=limits)
            outcome.append(provider.send_message("hi").text)
            provider.shutdown()
        except BaseException as exc:  # judged below
            outcome.append(exc)

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "send_message blocked"
    assert isinstance(outcome[0], E.ConfigurationError), outcome
    assert outcome[0].setting == "rate_limits"
    assert chat_requests(emulator) == []


def test_valid_rate_limit_overrides_still_work(emulator: Emulator) -> None:
    provider = _initialize(emulator, pacing=True, rate_limits={
        "High": {"requests_per_minute": 100, "concurrent_requests": None}})
    assert provider.send_message("hi").text == "Echo: hi"
    provider.shutdown()


@pytest.mark.parametrize(("extra", "setting"), [
    ({"user_agent": "bad\r\nX-Injected: 1"}, "user_agent"),
    ({"user_agent": "caf\u00e9 \u2028"}, "user_agent"),
    ({"user_agent": 5}, "user_agent"),
    ({"api_version": "a\nb"}, "api_version"),
    ({"api_version": "x" * 100}, "api_version"),
])
def test_header_and_query_values_a_client_cannot_send_are_refused(
        emulator: Emulator, extra: dict[str, Any], setting: str) -> None:
    with pytest.raises(E.ConfigurationError) as info:
        _initialize(emulator, **extra)
    assert info.value.setting == setting


@pytest.mark.parametrize("token", [
    TEST_TOKEN + "\nX-Evil: 1", "ghp_abc def", "ghp_caf\u00e9", "ghp_\x00abc",
])
def test_a_token_a_header_cannot_carry_is_refused_without_showing_it(
        emulator: Emulator, token: str) -> None:
    with pytest.raises(E.ConfigurationError) as info:
        load_provider("github_models", ProviderConfig(api_key=token, extra={
            "endpoint": emulator.inference_url}))
    assert info.value.setting == "token"
    assert token.strip()[4:12] not in str(info.value)


@pytest.mark.parametrize(("encoding", "ok"), [
    ("utf-8", True), ("utf-8-sig", True), ("utf-16", True), ("utf-32", True),
    ("latin-1", False), ("cp1252", False),
])
def test_dotenv_files_in_other_encodings(emulator: Emulator, tmp_path: Path, encoding: str,
                                         ok: bool) -> None:
    (tmp_path / ".env").write_text(
        f"GITHUB_TOKEN={TEST_TOKEN}\nJAATO_GITHUB_MODEL=openai/gpt-4o\n"
        "JAATO_GITHUB_ORGANIZATION=acme\n# caf\u00e9 notes\n", encoding=encoding)
    config = ProviderConfig(extra={"endpoint": emulator.inference_url})
    if ok:
        provider: Any = load_provider("github_models", config)
        assert provider.settings.token == TEST_TOKEN and provider.settings.organization == "acme"
        provider.shutdown()
        return
    with pytest.raises(E.ConfigurationError, match="not UTF-8") as info:
        load_provider("github_models", config)
    assert info.value.setting == "env_file" and ".env" in str(info.value)


# ---- cancellation ------------------------------------------------------------------------


def _cancel_after(seconds: float) -> CancelToken:
    token = CancelToken()
    threading.Timer(seconds, token.cancel).start()
    return token


def test_a_cancel_during_the_wait_before_a_retry_ends_the_call(
        emulator: Emulator, make_provider: Callable[..., Any]) -> None:
    provider = make_provider(max_retries=3)
    busy = Reply.error(503, "busy", headers={"Retry-After": "30"})
    emulator.script(busy, busy)
    began = time.monotonic()
    response = provider.send_message_streaming("hi", lambda _t: None, _cancel_after(0.3))
    assert time.monotonic() - began < 1.3
    assert response.finish_reason.value == "cancelled"
    assert provider.get_history() == []


def test_a_cancel_during_the_pacing_wait_ends_the_call(emulator: Emulator,
                                                       make_provider: Callable[..., Any]) -> None:
    provider = make_provider(pacing=True, rate_limits={"high": {"requests_per_minute": 1}})
    provider.send_message_streaming("one", lambda _t: None)
    began = time.monotonic()
    response = provider.send_message_streaming("two", lambda _t: None, _cancel_after(0.3))
    assert time.monotonic() - began < 1.3
    assert response.finish_reason.value == "cancelled"
    assert len(chat_requests(emulator)) == 1


def test_a_cancel_during_an_async_retry_wait_ends_the_call(
        emulator: Emulator, make_provider: Callable[..., Any]) -> None:
    import asyncio

    provider = make_provider(max_retries=3)
    busy = Reply.error(503, "busy", headers={"Retry-After": "30"})
    emulator.script(busy, busy)

    async def main() -> Any:
        return await provider.asend_message_streaming("hi", lambda _t: None,
                                                      _cancel_after(0.3))

    began = time.monotonic()
    response = asyncio.run(main())
    assert time.monotonic() - began < 1.3
    assert response.finish_reason.value == "cancelled"


@pytest.mark.parametrize("messages", [
    '[{"role":"user","parts":[{"text":"hi"}]},{"role":"tool","parts":[{"function_response":'
    '{"call_id":"","name":"f","result":1}}]}]',
    '[{"role":"model","parts":[{"function_call":{"id":"a","name":"f","args":{}}}]},'
    '{"role":"tool","parts":[{"function_response":{"call_id":"b","name":"f","result":1}}]}]',
    '[{"role":"model","parts":[{"function_call":{"id":"","name":"f","args":{}}}]}]',
    '[{"role":"model","parts":[{"function_call":{"id":"a","name":"f","args":{}}},'
    '{"function_call":{"id":"a","name":"g","args":{}}}]}]',
])
def test_restored_history_that_no_server_accepts_is_refused_by_create_session(
        emulator: Emulator, make_provider: Callable[..., Any], messages: str) -> None:
    provider = make_provider()
    history = provider.deserialize_history(ENVELOPE % messages)  # the document is well formed
    with pytest.raises(E.InvalidRequestError) as info:
        provider.create_session(history=history)
    assert info.value.param == "history"
    assert provider.send_message("hi").text == "Echo: hi"  # the previous session is intact


# ---- arguments of the wrong type, and model ids no request can carry ---------------------------


@pytest.mark.parametrize(("call", "param"), [
    (lambda p: p.send_message(None), "message"), (lambda p: p.send_message(b"hi"), "message"),
    (lambda p: p.send_message_streaming(42, print), "message"),
    (lambda p: p.send_message_with_parts(None), "parts"),
    (lambda p: p.send_message_with_parts("hi"), "parts"),
    (lambda p: p.send_message_with_parts([None]), "parts"),
    (lambda p: p.send_tool_results(None), "results"),
    (lambda p: p.send_tool_results("r"), "results"),
    (lambda p: p.send_message("hi", stop=["\ud800"]), "body"),
])
def test_arguments_of_the_wrong_type_are_refused_before_sending(
        emulator: Emulator, make_provider: Callable[..., Any], call: Callable[[Any], Any],
        param: str) -> None:
    provider = make_provider()
    refused(emulator, provider, lambda: call(provider), param)


@pytest.mark.parametrize("model", [123, "x\ny", "openai/\ud800", "a" * 300, "tab\there"])
def test_model_ids_no_request_can_carry_are_refused_at_connect(
        emulator: Emulator, make_provider: Callable[..., Any], model: Any) -> None:
    provider = make_provider(model=None, endpoint=emulator.url + "/v1")  # a gateway: no catalog
    with pytest.raises(E.ConfigurationError, match="model id") as info:
        provider.connect(model)
    assert info.value.setting == "model"
    str(info.value).encode("utf-8")  # the message itself is printable


def test_serialize_history_of_non_messages_raises_type_error(
        make_provider: Callable[..., Any]) -> None:
    provider = make_provider()
    with pytest.raises(TypeError, match="list of Message"):
        provider.serialize_history([None])


def test_error_messages_are_always_printable(emulator: Emulator,
                                             make_provider: Callable[..., Any]) -> None:
    provider = make_provider()
    emulator.script(Reply.error(400, {"error": {"code": "bad\ud800", "message": "no \udc00"}}))
    with pytest.raises(E.InvalidRequestError) as info:
        provider.send_message("hi")
    for text in (str(info.value), info.value.body, info.value.code or "", info.value.why):
        text.encode("utf-8")


@pytest.mark.parametrize(("kwargs", "param"), [
    ({"on_chunk": None}, "on_chunk"), ({"on_chunk": "print"}, "on_chunk"),
    ({"on_chunk": print, "cancel_token": True}, "cancel_token"),
    ({"on_chunk": print, "on_usage_update": 5}, "on_usage_update"),
])
def test_streaming_callbacks_and_tokens_are_checked_before_sending(
        emulator: Emulator, make_provider: Callable[..., Any], kwargs: dict[str, Any],
        param: str) -> None:
    import asyncio

    provider = make_provider()
    refused(emulator, provider, lambda: provider.send_message_streaming("hi", **kwargs), param)

    async def main() -> Any:
        return await provider.asend_message_streaming("hi", **kwargs)

    refused(emulator, provider, lambda: asyncio.run(main()), param)


@pytest.mark.parametrize(("config", "setting"), [
    ({"api_key": TEST_TOKEN}, "config"),
    (ProviderConfig(api_key=123, extra={"endpoint": "http://127.0.0.1:9/inference"}), "token"),  # type: ignore[arg-type]
    (ProviderConfig(api_key=TEST_TOKEN, extra=[("endpoint", "x")]), "extra"),  # type: ignore[arg-type]
    (ProviderConfig(api_key=TEST_TOKEN, extra={"endpoint": "http://127.0.0.1:9/inference",
                                               "timeout": True}), None),
    (ProviderConfig(api_key=TEST_TOKEN, extra={"endpoint": "http://h\ud800/inference"}),
     "endpoint"),
    (ProviderConfig(api_key=TEST_TOKEN, extra={"endpoint": "http://a b/inference"}), "endpoint"),
    (ProviderConfig(api_key=TEST_TOKEN, extra={"endpoint": "http://" + "a" * 5000}), "endpoint"),
    (ProviderConfig(api_key=TEST_TOKEN, extra={"endpoint": "http://127.0.0.1:9/inference",
                                               "user_agent": "a" * 5000}), "user_agent"),
])
def test_malformed_configurations_are_refused_at_initialize(config: Any,
                                                            setting: str | None) -> None:
    from shared.plugins.model_provider.github_models import GitHubModelsProvider

    with pytest.raises(E.ConfigurationError) as info:
        GitHubModelsProvider().initialize(config)
    assert info.value.setting == setting
    str(info.value).encode("utf-8")


def test_extra_none_is_an_empty_extra(emulator: Emulator) -> None:
    from shared.plugins.model_provider.github_models import GitHubModelsProvider

    provider = GitHubModelsProvider()
    provider.initialize(ProviderConfig(api_key=TEST_TOKEN, extra=None))  # type: ignore[arg-type]
    assert provider.settings.endpoint == "https://models.github.ai/inference"
    provider.shutdown()
