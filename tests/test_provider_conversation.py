"""The provider's conversation API, end to end over real HTTP against the emulator."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from shared import (
    CancelToken,
    FinishReason,
    Message,
    ModelProviderPlugin,
    Part,
    ProviderConfig,
    Role,
    ToolResult,
    ToolSchema,
    load_provider,
)
from shared.plugins.model_provider.github_models.emulator import Reply
from shared.plugins.model_provider.github_models.errors import (
    ConfigurationError,
    InvalidRequestError,
    ServiceUnavailableError,
    StructuredOutputError,
)

from .conftest import TEST_TOKEN

WEATHER = ToolSchema("get_weather", "Weather for a city", {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})
TIME = ToolSchema("get_time", "Time in a zone", {
    "type": "object", "properties": {"tz": {"type": "string"}}, "required": ["tz"]})


def chat_requests(emulator: Any) -> list[Any]:
    return [r for r in emulator.requests if r.path.endswith("/chat/completions")]


def test_load_provider_from_config_and_protocol(emulator: Any) -> None:
    provider = load_provider("github_models", ProviderConfig(
        api_key=TEST_TOKEN, extra={"endpoint": emulator.inference_url, "pacing": False}))
    try:
        assert isinstance(provider, ModelProviderPlugin)
        provider.connect("OpenAI/GPT-4o")  # the service's ids are mixed case
        assert provider.model_name == "openai/gpt-4o" and provider.is_connected
        response = provider.send_message("hello there")
        assert response.text == "Echo: hello there"
        assert response.finish_reason is FinishReason.STOP
        assert response.usage.total_tokens == (response.usage.prompt_tokens
                                               + response.usage.output_tokens) > 0
        assert provider.get_token_usage() == response.usage
    finally:
        provider.shutdown()
        provider.shutdown()  # idempotent


def test_wire_headers_and_body(emulator: Any, make_provider: Any) -> None:
    provider = make_provider()
    provider.create_session(system_instruction="Be brief.")
    provider.send_message("hi", temperature=0.2, max_tokens=50, seed=7, stop=["END"])
    (req,) = chat_requests(emulator)
    assert req.path == "/inference/chat/completions"
    assert req.headers["x-github-api-version"] == "2022-11-28"
    assert "jaato-github-models" in req.headers["user-agent"]
    assert "api-key" not in req.headers  # the SDK's duplicate token is stripped on GitHub hosts
    assert req.headers["authorization"].startswith("Bearer github_pat_")
    assert TEST_TOKEN not in json.dumps(req.headers)  # the log redacts; the wire had it
    assert req.body["model"] == "openai/gpt-4o"
    assert req.body["messages"] == [{"role": "system", "content": "Be brief."},
                                    {"role": "user", "content": "hi"}]
    assert (req.body["temperature"], req.body["max_tokens"], req.body["seed"],
            req.body["stop"]) == (0.2, 50, 7, ["END"])


def test_org_attribution_uses_the_org_path(emulator: Any, make_provider: Any) -> None:
    provider = make_provider(organization="https://github.com/acme-corp")
    provider.send_message("bill the org")
    (req,) = chat_requests(emulator)
    assert req.path == "/orgs/acme-corp/inference/chat/completions"
    assert provider.get_usage_summary()["attributed_to"] == "acme-corp"


def test_an_endpoint_for_another_org_fails_before_any_request(emulator: Any,
                                                             make_provider: Any) -> None:
    endpoint = emulator.inference_url.replace("/inference", "/orgs/other/inference")
    with pytest.raises(ConfigurationError, match=r"'other'.*'acme'"):
        make_provider(endpoint=endpoint, organization="acme")
    assert emulator.requests == []


def test_tools_round_trip_with_two_parallel_calls(emulator: Any, make_provider: Any) -> None:
    provider = make_provider()
    provider.create_session("Use tools.", tools=[WEATHER, TIME])
    emulator.script(Reply.tool_calls([("get_weather", {"city": "Paris"}),
                                      ("get_time", {"tz": "CET"})]))
    first = provider.send_message("weather and time in Paris?")
    assert first.finish_reason is FinishReason.TOOL_USE
    assert [(c.name, c.args) for c in first.function_calls] == [
        ("get_weather", {"city": "Paris"}), ("get_time", {"tz": "CET"})]
    ids = [c.id for c in first.function_calls]
    assert len(set(ids)) == 2
    # answered out of order: the provider sends them in call order, each as its own message
    second = provider.send_tool_results([
        ToolResult(ids[1], "get_time", {"time": "10:00"}),
        ToolResult(ids[0], "get_weather", {"temp_c": 18})])
    assert second.finish_reason in (FinishReason.STOP, FinishReason.UNKNOWN)
    assert second.text and "get_weather" in second.text
    req = chat_requests(emulator)[-1]
    tools = [m for m in req.body["messages"] if m["role"] == "tool"]
    assert [(m["tool_call_id"], json.loads(m["content"])) for m in tools] == [
        (ids[0], {"temp_c": 18}), (ids[1], {"time": "10:00"})]
    assistant = next(m for m in req.body["messages"] if m["role"] == "assistant")
    assert [tc["id"] for tc in assistant["tool_calls"]] == ids
    assert [t["function"]["name"] for t in req.body["tools"]] == ["get_weather", "get_time"]
    roles = [m.role for m in provider.get_history()]
    assert roles == [Role.USER, Role.MODEL, Role.TOOL, Role.MODEL]


def test_tool_results_must_answer_every_pending_call(emulator: Any, make_provider: Any) -> None:
    provider = make_provider()
    provider.create_session(tools=[WEATHER, TIME])
    emulator.script(Reply.tool_calls([("get_weather", {"city": "X"}), ("get_time", {"tz": "Y"})]))
    calls = provider.send_message("both please").function_calls
    before, sent = provider.get_history(), len(emulator.requests)
    with pytest.raises(InvalidRequestError, match="have no result"):
        provider.send_tool_results([ToolResult(calls[0].id, calls[0].name, {})])
    with pytest.raises(InvalidRequestError, match="no pending call has id"):
        provider.send_tool_results([ToolResult("call_zzz", "x", {}),
                                    ToolResult(calls[0].id, calls[0].name, {}),
                                    ToolResult(calls[1].id, calls[1].name, {})])
    assert provider.get_history() == before and len(emulator.requests) == sent


def test_error_results_and_attachments_go_on_the_wire(emulator: Any, make_provider: Any) -> None:
    from shared import Attachment

    provider = make_provider()
    provider.create_session(tools=[WEATHER])
    emulator.script(Reply.tool_calls([("get_weather", {"city": "Nowhere"})]))
    call = provider.send_message("weather?").function_calls[0]
    provider.send_tool_results([ToolResult(call.id, call.name, "city not found", is_error=True,
                                           attachments=[Attachment("image/png", b"\x89PNG")])])
    msgs = chat_requests(emulator)[-1].body["messages"]
    tool = next(m for m in msgs if m["role"] == "tool")
    assert json.loads(tool["content"]) == {"error": "city not found"}
    image_turn = msgs[-1]
    assert image_turn["role"] == "user"
    assert image_turn["content"][1]["image_url"]["url"].startswith("data:image/png;base64,")


def test_streamed_text_equals_final_text_and_usage_is_filled(emulator: Any,
                                                             make_provider: Any) -> None:
    provider = make_provider()
    emulator.script(Reply.text("The quick brown fox jumps over the lazy dog."))
    chunks: list[str] = []
    usages: list[Any] = []
    response = provider.send_message_streaming("tell me", chunks.append,
                                               on_usage_update=usages.append)
    assert len(chunks) > 3
    assert "".join(chunks) == response.text == "The quick brown fox jumps over the lazy dog."
    assert response.usage.output_tokens > 0 and response.usage.prompt_tokens > 0
    assert usages and usages[-1] == response.usage
    req = chat_requests(emulator)[-1]
    assert req.body["stream"] is True and req.body["stream_options"] == {"include_usage": True}
    assert provider.get_history()[-1].text == response.text


@pytest.mark.parametrize("style", ["openai", "azure"])
def test_streamed_parallel_tool_calls(emulator: Any, make_provider: Any, style: str) -> None:
    emulator.stream_style = style
    provider = make_provider()
    provider.create_session(tools=[WEATHER, TIME])
    emulator.script(Reply.tool_calls([("get_weather", {"city": "Oslo"}),
                                      ("get_time", {"tz": "Europe/Oslo"})]))
    response = provider.send_message_streaming("go", lambda _t: None)
    assert [(c.name, c.args) for c in response.function_calls] == [
        ("get_weather", {"city": "Oslo"}), ("get_time", {"tz": "Europe/Oslo"})]
    assert response.finish_reason is FinishReason.TOOL_USE
    results = [ToolResult(c.id, c.name, {"ok": True}) for c in response.function_calls]
    final = provider.send_tool_results_streaming(results, lambda _t: None)
    assert final.text and final.usage.total_tokens > 0


def test_json_schema_is_sent_and_parsed(emulator: Any, make_provider: Any) -> None:
    schema = {"title": "City facts", "type": "object",
              "properties": {"name": {"type": "string"}, "population": {"type": "integer"}},
              "required": ["name", "population"]}
    provider = make_provider()
    emulator.script(Reply.json({"name": "Paris", "population": 2102650}))
    response = provider.send_message("facts about Paris", response_schema=schema)
    assert response.structured_output == {"name": "Paris", "population": 2102650}
    fmt = chat_requests(emulator)[-1].body["response_format"]
    assert fmt == {"type": "json_schema", "json_schema": {"name": "City_facts", "schema": schema}}
    # without a script, the emulator generates JSON conforming to the schema
    generated = provider.send_message("again", response_schema=schema).structured_output
    assert set(generated) == {"name", "population"}
    assert isinstance(generated["population"], int)


def test_invalid_json_for_a_schema_is_a_clear_error(emulator: Any, make_provider: Any) -> None:
    provider = make_provider()
    emulator.script(Reply.text("Sure! Here it is: {name: Paris"))
    before = provider.get_history()
    with pytest.raises(StructuredOutputError, match="not valid JSON") as info:
        provider.send_message("facts", response_schema={"type": "object"})
    assert info.value.raw_text.startswith("Sure!")
    assert provider.get_history() == before


def test_images_are_sent_as_content_parts(emulator: Any, make_provider: Any) -> None:
    provider = make_provider()
    png = b"\x89PNG\r\n\x1a\nfake"
    provider.send_message_with_parts([
        Part(text="What is in this picture?"),
        Part(inline_data={"mime_type": "image/png", "data": png})])
    content = chat_requests(emulator)[-1].body["messages"][-1]["content"]
    assert content[0] == {"type": "text", "text": "What is in this picture?"}
    assert content[1]["type"] == "image_url"
    assert content[1]["image_url"]["url"] == "data:image/png;base64,iVBORw0KGgpmYWtl"
    assert provider.get_history()[0].parts[1].inline_data["data"] == png


def test_images_to_a_text_only_model_are_refused_before_sending(emulator: Any,
                                                                make_provider: Any) -> None:
    provider = make_provider("meta/Llama-3.3-70B-Instruct")
    with pytest.raises(InvalidRequestError, match="accepts no image input"):
        provider.send_message_with_parts([Part(text="x"), Part(inline_data={
            "mime_type": "image/png", "data": b"1"})])
    assert emulator.requests == []


@pytest.mark.parametrize(("call", "fragment"), [
    (lambda p: p.send_message("hi", temperature=1.7), "outside the allowed range [0, 1]"),
    (lambda p: p.send_message("hi", top_p=-1), "outside the allowed range [0, 1]"),
    (lambda p: p.send_message("hi", presence_penalty=9), "[-2, 2]"),
    (lambda p: p.send_message("hi", max_tokens=10**6), "produces at most"),
    (lambda p: p.send_message("hi", bogus=1), "not a known generation option"),
    (lambda p: p.send_message("   "), "it is empty"),
    (lambda p: p.send_message_with_parts([]), "no text or image part"),
    (lambda p: p.send_tool_results([ToolResult("c", "f", {})]), "asked for no function call"),
    (lambda p: p.send_message("hi", response_schema={}), "not a JSON-schema object"),
    (lambda p: p.send_message("x " * 9000), "tier accepts 8000 tokens in"),
])
def test_bad_input_is_rejected_with_zero_requests(emulator: Any, make_provider: Any,
                                                  call: Any, fragment: str) -> None:
    provider = make_provider(enforce_tier_limits=True)
    provider.create_session("sys")
    with pytest.raises(Exception, match=__import__("re").escape(fragment)):
        call(provider)
    assert chat_requests(emulator) == []
    assert provider.get_history() == []


def test_bad_provider_defaults_fail_at_initialize(emulator: Any, make_provider: Any) -> None:
    with pytest.raises(InvalidRequestError, match="temperature"):
        make_provider(temperature=3)
    assert emulator.requests == []


def test_history_unchanged_after_a_failed_call(emulator: Any, make_provider: Any) -> None:
    provider = make_provider(max_retries=0)
    provider.send_message("first")
    before = provider.get_history()
    emulator.script(Reply.error(500, {"error": {"code": "server_error", "message": "boom"}}))
    with pytest.raises(ServiceUnavailableError):
        provider.send_message("second")
    assert provider.get_history() == before
    emulator.script(Reply.fault("drop_mid_stream", after=2))
    with pytest.raises(Exception):  # noqa: B017 - the class is tested in the fault tests
        provider.send_message_streaming("third", lambda _t: None)
    assert provider.get_history() == before


def test_reasoning_model_gets_max_completion_tokens(emulator: Any, make_provider: Any) -> None:
    provider = make_provider("openai/o3-mini", temperature=0.5, max_tokens=64)
    response = provider.send_message("think")
    assert response.text
    body = chat_requests(emulator)[-1].body
    assert body["max_completion_tokens"] == 64
    assert "max_tokens" not in body and "temperature" not in body


def test_generate_is_one_shot(emulator: Any, make_provider: Any) -> None:
    provider = make_provider()
    provider.create_session("sys", tools=[WEATHER])
    response = provider.generate("just this")
    assert response.text == "Echo: just this"
    body = chat_requests(emulator)[-1].body
    assert body["messages"] == [{"role": "user", "content": "just this"}]
    assert "tools" not in body
    assert provider.get_history() == []


def test_session_reset_and_restore(emulator: Any, make_provider: Any) -> None:
    provider = make_provider()
    provider.send_message("one")
    saved = provider.serialize_history(provider.get_history())
    provider.create_session()
    assert provider.get_history() == []
    provider.create_session(history=provider.deserialize_history(saved))
    provider.send_message("two")
    msgs = chat_requests(emulator)[-1].body["messages"]
    assert [m["content"] for m in msgs] == ["one", "Echo: one", "two"]


def test_cancel_stops_a_stream_and_returns_partial_text(emulator: Any,
                                                        make_provider: Any) -> None:
    provider = make_provider()
    emulator.script(Reply.fault("slow_stream", interval=0.01,
                                 text=" ".join(f"w{i}" for i in range(400))))
    token = CancelToken()
    seen: list[str] = []

    def on_chunk(text: str) -> None:
        seen.append(text)
        if len(seen) == 3:
            token.cancel()

    response = provider.send_message_streaming("long please", on_chunk, cancel_token=token)
    assert response.finish_reason is FinishReason.CANCELLED
    assert response.text == "".join(seen) and 3 <= len(seen) < 50
    assert provider.supports_stop()


def test_cancel_from_another_thread_while_the_server_is_silent(emulator: Any,
                                                               make_provider: Any) -> None:
    provider = make_provider(timeout=30)
    emulator.script(Reply.fault("slow_stream", interval=20, text="a b c"))
    token = CancelToken()
    threading.Timer(0.3, token.cancel).start()
    import time

    started = time.monotonic()
    response = provider.send_message_streaming("slow", lambda _t: None, cancel_token=token)
    assert response.finish_reason is FinishReason.CANCELLED
    assert time.monotonic() - started < 5


def test_accounting_and_capabilities(emulator: Any, make_provider: Any) -> None:
    # off the retired host (here: the emulator) the free tier's caps are off by default ...
    assert make_provider("openai/gpt-4.1").get_context_limit() == 1048576
    # ... and on when asked for: 8000 in + 4000 out
    provider = make_provider("openai/gpt-4.1", enforce_tier_limits=True)
    assert provider.model_info.max_input_tokens == 1048576
    assert (provider.get_context_limit(), provider.get_max_output_tokens()) == (12000, 4000)
    assert provider.supports_streaming() and provider.supports_structured_output()
    assert 8 <= provider.count_tokens("The quick brown fox jumps over the lazy dog.") <= 12
    provider.send_message("one")
    provider.send_message("two")
    totals = provider.get_session_usage()
    assert totals.requests == 2
    assert totals.total_tokens == totals.prompt_tokens + totals.output_tokens > 0
    assert totals.cost_usd > 0  # gpt-4.1 has published multipliers
    assert provider.list_models("OPENAI/")[:1] and all(
        m.lower().startswith("openai/") for m in provider.list_models("openai/"))


def test_history_messages_are_framework_types(emulator: Any, make_provider: Any) -> None:
    provider = make_provider()
    provider.send_message("x")
    history = provider.get_history()
    assert history == [Message(Role.USER, [Part(text="x")]),
                       Message(Role.MODEL, [Part(text="Echo: x")])]


def test_live_catalog_is_fetched_through_the_client(emulator: Any, make_provider: Any) -> None:
    provider = make_provider(organization="acme")
    entries = provider.fetch_catalog_entries()
    ids = {e["id"].lower() for e in entries}
    assert "openai/gpt-4o" in ids
    assert all(not k.startswith("x_") for e in entries for k in e)
    (req,) = [r for r in emulator.requests if r.path == "/catalog/models"]
    assert req.method == "GET" and req.headers["x-github-api-version"] == "2022-11-28"


def test_live_catalog_on_a_retired_service(emulator: Any, make_provider: Any) -> None:
    from shared.plugins.model_provider.github_models.errors import ServiceRetiredError

    provider = make_provider()
    emulator.set_mode("retired")
    with pytest.raises(ServiceRetiredError, match="2026-07-30"):
        provider.fetch_catalog_entries()


def test_trim_history_drops_oldest_exchanges_to_fit_the_tier_cap(emulator: Any,
                                                                 make_provider: Any) -> None:
    from shared.plugins.model_provider.github_models.errors import ContextLimitError

    big = "word " * 2500  # about 2500 tokens each
    strict = make_provider(enforce_tier_limits=True)
    strict.send_message("a " + big)
    strict.send_message("b " + big)
    with pytest.raises(ContextLimitError) as info:
        strict.send_message("c " + big)
    assert info.value.limit == 8000 and info.value.limit_source == "tier"
    assert "trim_history" in str(info.value)

    trimming = make_provider(enforce_tier_limits=True, trim_history=True)
    trimming.create_session("system stays")
    for tag in "abcd":
        trimming.send_message(f"{tag} " + big)
    sent = chat_requests(emulator)[-1].body["messages"]
    assert sent[0] == {"role": "system", "content": "system stays"}
    assert sent[1]["role"] == "user" and sent[1]["content"].startswith("c ")  # a, b dropped
    assert sent[-1]["content"].startswith("d ")
    assert len(trimming.get_history()) == 8  # the stored history keeps everything
    with pytest.raises(ContextLimitError, match="even after dropping"):
        trimming.send_message("e " + "word " * 9000)


def test_models_without_system_messages_get_it_in_the_first_user_turn(
        emulator: Any, make_provider: Any) -> None:
    provider = make_provider("openai/o1-mini")
    provider.create_session("Answer in French.")
    provider.send_message("hello")
    provider.send_message("again")
    msgs = chat_requests(emulator)[-1].body["messages"]
    assert [m["role"] for m in msgs] == ["user", "assistant", "user"]
    assert msgs[0]["content"] == "Answer in French.\n\nhello"
    assert msgs[2]["content"] == "again"
    assert provider.get_history()[0].text == "hello"  # stored history is not rewritten


def test_wire_messages_match_a_fresh_conversion_on_every_turn(emulator: Any,
                                                              make_provider: Any) -> None:
    from shared.plugins.model_provider.github_models.converters import messages_to_wire

    provider = make_provider()
    provider.create_session("sys", tools=[WEATHER])
    emulator.script(Reply.tool_calls([("get_weather", {"city": "Lyon"})]))
    call = provider.send_message("weather?").function_calls[0]
    provider.send_tool_results([ToolResult(call.id, call.name, {"t": 1})])
    provider.send_message("thanks")
    sent = chat_requests(emulator)[-1].body["messages"]
    history = provider.get_history()[:-1]  # everything before the last reply
    assert sent == messages_to_wire(history, "sys")


def test_custom_endpoint_sends_the_id_as_given_and_keeps_api_key(emulator: Any,
                                                                  make_provider: Any) -> None:
    # The emulator's root serves the legacy-shaped /chat/completions (bare model names); from
    # 127.0.0.1 it is a "custom" endpoint, like a Foundry resource or a gateway.
    provider = make_provider("gpt-4o", endpoint=emulator.url)
    assert provider.settings.profile.kind == "gateway"
    assert provider.get_context_limit() == 131072  # catalog facts still apply
    response = provider.send_message("hi")
    assert response.text == "Echo: hi"
    (req,) = chat_requests(emulator)
    assert req.path == "/chat/completions"
    assert req.body["model"] == "gpt-4o"  # not rewritten to openai/gpt-4o
    assert "api-key" in req.headers  # Azure-style hosts authenticate with it


def test_unknown_model_on_a_gateway_is_accepted_with_one_warning(
        emulator: Any, make_provider: Any, caplog: pytest.LogCaptureFixture) -> None:
    import logging

    with caplog.at_level(logging.WARNING):
        provider = make_provider("my-deployment-7", endpoint=emulator.url)
        make_provider("my-deployment-7", endpoint=emulator.url)
    assert caplog.text.count("my-deployment-7") == 1
    # an unknown window is 0 (jaato does not guess) and no reply cap is sent or reported
    assert provider.get_context_limit() == 0 and provider.model_name == "my-deployment-7"
    assert provider.get_max_output_tokens() is None


def test_unknown_model_on_github_endpoint_fails_before_any_request(emulator: Any,
                                                                   make_provider: Any) -> None:
    from shared.plugins.model_provider.github_models.errors import ModelNotFoundError

    provider = make_provider(None)
    with pytest.raises(ModelNotFoundError) as info:
        provider.connect("openai/gpt4o")
    assert "openai/gpt-4o" in info.value.suggestions
    assert "openai/gpt-4o" in str(info.value)
    assert emulator.requests == []


def test_rate_limit_status_reports_headers_and_pacer(emulator: Any, make_provider: Any) -> None:
    provider = make_provider(pacing=True)
    assert provider.get_rate_limit_status()["headers"] == {}
    provider.send_message("x")
    status = provider.get_rate_limit_status()
    assert int(status["headers"]["x-ratelimit-remaining-requests"]) >= 0
    assert status["requests_sent"] == 1 and status["pacer"]["granted"] == 1


def test_live_catalog_from_configuration(emulator: Any, make_provider: Any,
                                         monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    provider = make_provider(catalog="live", catalog_ttl=60)
    assert provider.live_catalog is not None
    provider.live_catalog.refresh(force=True)
    assert any(r.path == "/catalog/models" for r in emulator.requests)
    assert provider.catalog.get("openai/gpt-4o") is not None
    from shared.plugins.model_provider.github_models.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="is not static or live"):
        make_provider(catalog="sometimes")


def test_not_a_member_of_the_billing_org_says_how_to_fix(emulator: Any,
                                                         make_provider: Any) -> None:
    from shared.plugins.model_provider.github_models.errors import ModelsDisabledError

    emulator.add_org("acme", members=("github_pat_someone_else",))
    provider = make_provider(organization="acme")
    with pytest.raises(ModelsDisabledError) as info:
        provider.send_message("bill acme")
    text = str(info.value)
    assert "not a member of acme" in text and "unset JAATO_GITHUB_ORGANIZATION" in text
    assert "must enable GitHub Models" not in text
