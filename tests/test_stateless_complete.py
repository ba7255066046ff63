"""The stateless protocol of jaato-server 0.15 / 1.x, on this project's own framework side.

``complete(messages, ...) -> TurnResult``: history in, nothing kept; transient errors raised for
the caller's retry layer, the rest returned as ``TurnResult.from_exception``; plus
``verify_auth``, ``get_auth_info``, ``classify_error`` / ``get_retry_after``, the capability
queries and the module contracts. All over real HTTP against the emulator.
"""

from __future__ import annotations

import json
import pickle
import threading
from typing import Any

import pytest

from shared import (
    CancelToken,
    FinishReason,
    FunctionCall,
    Message,
    Part,
    ProviderConfig,
    Role,
    ToolResult,
    ToolSchema,
    TurnOutcome,
    TurnResult,
    load_provider,
)
from shared.plugins.model_provider import StatelessModelProvider
from shared.plugins.model_provider.github_models import (
    PROVIDER_CAPABILITIES,
    PROVIDER_KNOBS,
    GitHubModelsProvider,
)
from shared.plugins.model_provider.github_models import errors as E
from shared.plugins.model_provider.github_models.config.env import SETTING_KEYS
from shared.plugins.model_provider.github_models.config.options import OPTION_NAMES
from shared.plugins.model_provider.github_models.emulator import Emulator, Reply
from tests.conftest import TEST_TOKEN

WEATHER = ToolSchema(name="get_weather", description="Weather for a city", parameters={
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})


def user(text: str) -> Message:
    return Message(role=Role.USER, parts=[Part(text=text)])


def run_tool(call: FunctionCall) -> ToolResult:
    return ToolResult(call_id=call.id, name=call.name, result={"city": call.args["city"],
                                                               "temp_c": 18})


def agent_loop(provider: Any, prompt: str, *, stream: bool) -> tuple[list[Message], TurnResult,
                                                                       list[str]]:
    """What jaato's session does: it owns the history and calls complete() until no tool call."""
    history = [user(prompt)]
    chunks: list[str] = []
    on_chunk = chunks.append if stream else None
    while True:
        result = provider.complete(list(history), "Be brief.", [WEATHER], on_chunk=on_chunk)
        assert isinstance(result, TurnResult)
        assert result.response is not None, result.error
        calls = result.response.function_calls
        history.append(Message(role=Role.MODEL, parts=(
            [Part(text=result.response.text)] if result.response.text else [])
            + [Part(function_call=c) for c in calls]))
        if not calls:
            return history, result, chunks
        history.append(Message(role=Role.TOOL, parts=[
            Part(function_response=run_tool(c)) for c in calls]))


@pytest.mark.parametrize("stream", [False, True], ids=["batch", "streaming"])
def test_loaded_by_name_it_runs_an_agent_loop_through_complete(emulator: Emulator,
                                                                stream: bool) -> None:
    provider = load_provider("github_models", ProviderConfig(api_key=TEST_TOKEN, extra={
        "endpoint": emulator.inference_url, "pacing": False}))
    assert isinstance(provider, StatelessModelProvider)
    provider.connect("openai/gpt-4o")
    history, result, chunks = agent_loop(provider, "Weather in Paris? use get_weather",
                                         stream=stream)
    assert [m.role for m in history] == [Role.USER, Role.MODEL, Role.TOOL, Role.MODEL]
    assert history[1].function_calls[0].args == {"city": "Paris"}
    assert result.outcome is TurnOutcome.RESPONSE and result.finish_reason is FinishReason.STOP
    assert '"temp_c": 18' in result.text
    assert bool(chunks) is stream and (not stream or "".join(chunks) == result.text)
    # stateless: the provider kept nothing between the calls
    assert provider.get_history() == []
    chats = [r for r in emulator.requests if r.path.endswith("/chat/completions")]
    assert [len(r.body["messages"]) for r in chats] == [2, 4]  # system + the history sent
    assert chats[1].body["messages"][2]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert provider.get_token_usage().total_tokens > 0
    provider.shutdown()


def test_complete_reports_the_tool_use_outcome_and_calls_on_function_call(
        make_provider: Any, emulator: Emulator) -> None:
    provider = make_provider()
    emulator.script(Reply.tool_calls([("get_weather", {"city": "Oslo"}),
                                      ("get_weather", {"city": "Rome"})]))
    seen: list[FunctionCall] = []
    result = provider.complete([user("two cities")], tools=[WEATHER], on_function_call=seen.append)
    assert result.outcome is TurnOutcome.TOOL_USE
    assert [c.args["city"] for c in seen] == ["Oslo", "Rome"]
    assert [c.id for c in seen] == [c.id for c in result.response.function_calls]


def test_a_cancelled_stream_is_a_cancelled_turn_with_its_partial_text(
        make_provider: Any, emulator: Emulator) -> None:
    provider = make_provider()
    emulator.script(Reply.fault("slow_stream", interval=0.05,
                                text=" ".join(f"w{i}" for i in range(200))))
    token = CancelToken()
    chunks: list[str] = []

    def on_chunk(text: str) -> None:
        chunks.append(text)
        if len(chunks) == 3:
            token.cancel()

    result = provider.complete([user("a long story")], on_chunk=on_chunk, cancel_token=token)
    assert result.outcome is TurnOutcome.CANCELLED
    assert result.response is not None and result.response.text == "".join(chunks)
    assert len(chunks) < 10


def test_a_cancel_token_alone_makes_a_batch_call_cancellable(make_provider: Any,
                                                             emulator: Emulator) -> None:
    provider = make_provider()
    emulator.script(Reply.fault("delay", seconds=5, text="late"))
    token = CancelToken()
    threading.Timer(0.2, token.cancel).start()
    result = provider.complete([user("hello")], cancel_token=token)
    assert result.outcome is TurnOutcome.CANCELLED


def test_non_transient_errors_come_back_as_error_results_before_or_after_sending(
        make_provider: Any, emulator: Emulator) -> None:
    provider = make_provider()
    empty = provider.complete([])
    assert empty.outcome is TurnOutcome.ERROR and isinstance(empty.error, E.InvalidRequestError)
    assert emulator.requests == []  # refused before any request
    emulator.script(Reply.error(401, {"error": {"code": "unauthorized",
                                                "message": "Bad credentials"}}))
    refused = provider.complete([user("hi")])
    assert isinstance(refused.error, E.TokenInvalidError)
    assert refused.finish_reason is FinishReason.ERROR
    assert "Bad credentials" in refused.error_message
    emulator.set_mode("retired")
    retired = provider.complete([user("hi")])
    assert isinstance(retired.error, E.ServiceRetiredError)
    assert provider.classify_error(retired.error) == {"transient": False, "rate_limit": False,
                                                      "infra": False}


def test_transient_errors_are_raised_with_their_wait_for_the_callers_retry_layer(
        make_provider: Any, emulator: Emulator) -> None:
    provider = make_provider(max_retries=0)
    body = {"error": {"code": "RateLimitReached",
                      "message": "Rate limit of 10 per 60s exceeded for UserByModelByMinute. "
                                 "Please wait 7 seconds before retrying."}}
    emulator.script(Reply.error(429, body, headers={"retry-after": "7",
                                                    "x-ratelimit-type": "UserByModelByMinute"}))
    with pytest.raises(E.RateLimitError) as caught:
        provider.complete([user("hi")])
    assert provider.classify_error(caught.value) == {"transient": True, "rate_limit": True,
                                                     "infra": False}
    assert provider.get_retry_after(caught.value) == 7.0
    day = {"error": {"code": "RateLimitReached",
                     "message": "Rate limit of 50 per 86400s exceeded for UserByModelByDay. "
                                "Please wait 40000 seconds before retrying."}}
    emulator.script(Reply.error(429, day, headers={"retry-after": "40000",
                                                   "x-ratelimit-type": "UserByModelByDay"}))
    per_day = provider.complete([user("hi")])  # a day limit is not transient: returned
    assert isinstance(per_day.error, E.RateLimitError) and per_day.error.limit_type == "per_day"
    assert provider.classify_error(per_day.error)["transient"] is False
    assert provider.get_retry_after(per_day.error) is None
    emulator.script(Reply.error(503, "upstream down"))
    with pytest.raises(E.ServiceUnavailableError) as down:
        provider.complete([user("hi")])
    assert provider.classify_error(down.value) == {"transient": True, "rate_limit": False,
                                                   "infra": True}
    assert provider.classify_error(ValueError("not ours")) is None


def test_tool_choice_reaches_the_wire_and_thought_parts_are_not_sent(
        make_provider: Any, emulator: Emulator) -> None:
    provider = make_provider()
    forced = {"type": "function", "function": {"name": "get_weather"}}
    provider.complete([user("Paris")], tools=[WEATHER], tool_choice=forced)
    (sent,) = [r for r in emulator.requests if r.path.endswith("/chat/completions")]
    assert sent.body["tool_choice"] == forced
    bad = provider.complete([user("Paris")], tools=[WEATHER], tool_choice="sometimes")
    assert isinstance(bad.error, E.InvalidRequestError)


def test_verify_auth_checks_the_credentials_without_a_completion(emulator: Emulator) -> None:
    config = ProviderConfig(api_key=TEST_TOKEN, extra={"endpoint": emulator.inference_url})
    fresh = GitHubModelsProvider()  # jaato asks an instance it never initialized
    lines: list[str] = []
    assert fresh.verify_auth(config=config, on_message=lines.append) is True
    assert lines and TEST_TOKEN not in lines[0] and "github_pat_…" in lines[0]
    (probe,) = emulator.requests
    assert probe.body["messages"] == []  # refused by the service with 400: nothing billed
    emulator.add_token("github_pat_11NOMODELS", scopes=())
    no_scope = ProviderConfig(api_key="github_pat_11NOMODELS",
                              extra={"endpoint": emulator.inference_url})
    with pytest.raises(E.GitHubModelsError) as caught:
        GitHubModelsProvider().verify_auth(config=no_scope)
    assert caught.value.status == 401
    with pytest.raises(E.TokenNotFoundError):
        GitHubModelsProvider(environ={}).verify_auth(config=ProviderConfig(
            extra={"endpoint": emulator.inference_url, "env_file": "/nonexistent/.env"}))


def test_auth_info_capabilities_and_contracts_tell_the_truth(make_provider: Any) -> None:
    provider = make_provider("openai/gpt-4o", enforce_tier_limits=True)
    info = provider.get_auth_info()
    assert info == "github_pat_… from config.api_key" and TEST_TOKEN not in info
    assert provider.modalities() == {"text", "image"}
    assert provider.supports_modality("image") and not provider.supports_modality("audio")
    assert provider.modalities("openai/o3-mini") == {"text"}
    assert not provider.supports_thinking()
    provider.connect("openai/o3-mini")
    assert provider.supports_thinking()
    assert provider.get_max_output_tokens() == 4000  # the tier's reply cap, under o3-mini's
    assert provider.capabilities() is PROVIDER_CAPABILITIES
    assert PROVIDER_CAPABILITIES.user_message_images and PROVIDER_CAPABILITIES.thinking
    layers = {layer.layer: {k.name for k in layer.knobs} for layer in PROVIDER_KNOBS.layers}
    # jaato reads a top-level `modalities` as the model's input modalities: the request option
    # of that name (output modalities) is declared only in api_params; `credential`, `client`
    # and `async_client` are objects, which jaato's knob types (bool, dict, float, int, list,
    # str) cannot declare
    assert layers["top_level"] == (SETTING_KEYS | OPTION_NAMES | {"api_key",
                                                                  "max_completion_tokens"}
                                   ) - {"modalities", "credential", "client", "async_client"}
    assert layers["api_params"] == OPTION_NAMES | {"max_completion_tokens"}


def test_api_params_nested_as_jaato_profiles_write_them_become_request_defaults(
        make_provider: Any, emulator: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    provider = make_provider(api_params={"temperature": 0.3, "seed": 7}, temperature=0.9,
                             workspace_path="/w")
    provider.complete([user("hi")])
    (sent,) = [r for r in emulator.requests if r.path.endswith("/chat/completions")]
    # the nested form wins over the flat one, as in jaato's profiles, and says so
    assert (sent.body["temperature"], sent.body["seed"]) == (0.3, 7)
    assert "api_params wins" in caplog.text and "temperature" in caplog.text
    with pytest.raises(E.InvalidRequestError):
        make_provider(api_params={"temperature": 5})


def test_nothing_complete_returns_holds_the_token(make_provider: Any, emulator: Emulator) -> None:
    provider = make_provider()
    ok = provider.complete([user("hi")])
    emulator.script(Reply.error(403, {"error": {"code": "no_access",
                                                "message": f"No access for {TEST_TOKEN}"}}))
    failed = provider.complete([user("hi")])
    for result in (ok, failed):
        blob = pickle.dumps(result)
        assert TEST_TOKEN.encode() not in blob
        assert TEST_TOKEN not in json.dumps(str(result.__dict__))


def test_verify_auth_takes_a_profile_key_that_jaato_left_in_extra(emulator: Emulator) -> None:
    # jaato's runtime hands plugin_configs over as extra without promoting api_key for this call
    config = ProviderConfig(extra={"endpoint": emulator.inference_url, "api_key": TEST_TOKEN})
    assert GitHubModelsProvider(environ={}).verify_auth(config=config) is True
    (probe,) = emulator.requests
    assert probe.headers["authorization"] != f"Bearer {TEST_TOKEN}"  # redacted in the log...
    assert probe.headers["authorization"].startswith("Bearer github_pat_")  # ...but it was sent


def test_verify_auth_does_not_take_a_wrong_path_for_accepted_credentials(
        emulator: Emulator) -> None:
    for path in ("/wrong/inference", "/inferenc"):
        config = ProviderConfig(api_key=TEST_TOKEN, extra={"endpoint": emulator.url + path})
        with pytest.raises(E.GitHubModelsError) as caught:
            GitHubModelsProvider().verify_auth(config=config)
        assert caught.value.status == 404


def test_trim_history_shortens_what_complete_sends_as_a_session_would(
        make_provider: Any, emulator: Emulator) -> None:
    provider = make_provider(trim_history=True, enforce_tier_limits=True)
    long_turns: list[Message] = []
    for i in range(12):  # ~12 x 1000 tokens of history, over the tier's 8000-token cap
        long_turns += [user(f"question {i} " + "word " * 1000),
                       Message(role=Role.MODEL, parts=[Part(text=f"answer {i}")])]
    result = provider.complete([*long_turns, user("and now?")])
    assert result.outcome is TurnOutcome.RESPONSE, result.error_message
    (sent,) = [r for r in emulator.requests if r.path.endswith("/chat/completions")]
    assert len(sent.body["messages"]) < len(long_turns) + 1
    assert sent.body["messages"][-1]["content"] == "and now?"
    refused = make_provider(enforce_tier_limits=True).complete(
        [*long_turns, user("and now?")])  # trimming off
    assert isinstance(refused.error, E.ContextLimitError)


def test_complete_refuses_an_image_for_a_text_only_model_before_sending(
        make_provider: Any, emulator: Emulator) -> None:
    provider = make_provider("openai/o3-mini")
    image = Part(inline_data={"mime_type": "image/png", "data": b"\x89PNG\r\n\x1a\n0000"})
    result = provider.complete([Message(role=Role.USER, parts=[Part(text="what is it?"), image])])
    assert isinstance(result.error, E.InvalidRequestError)
    assert emulator.requests == []


def test_the_context_limit_is_what_a_request_may_carry(make_provider: Any) -> None:
    # what jaato checks: prompt + max_tokens <= limit; free-tier caps only when asked for
    capped = make_provider("openai/gpt-4o", enforce_tier_limits=True)
    assert (capped.get_context_limit(), capped.get_max_output_tokens()) == (12000, 4000)
    paid = make_provider("openai/gpt-4o")  # the emulator is not the retired host: no caps
    assert paid.get_context_limit() == paid.model_info.max_input_tokens == 131072
    # the cap sent, not the catalog's 16384 (budget.py: min(16384, 4096, window // 4))
    assert paid.get_max_output_tokens() == 4096 < paid.model_info.max_output_tokens


def test_text_beside_tool_results_is_sent_after_them_not_dropped(make_provider: Any,
                                                                 emulator: Emulator) -> None:
    provider = make_provider()
    call = FunctionCall(id="call_1", name="get_weather", args={"city": "Oslo"})
    history = [user("Oslo?"), Message(role=Role.MODEL, parts=[Part(function_call=call)]),
               Message(role=Role.TOOL, parts=[
                   Part(function_response=ToolResult("call_1", "get_weather", {"temp_c": 3})),
                   Part(text="Note: the user prefers Fahrenheit.")])]
    result = provider.complete(history, tools=[WEATHER])
    assert result.outcome is TurnOutcome.RESPONSE
    (sent,) = [r for r in emulator.requests if r.path.endswith("/chat/completions")]
    assert [m["role"] for m in sent.body["messages"]] == ["user", "assistant", "tool", "user"]
    assert sent.body["messages"][-1]["content"] == "Note: the user prefers Fahrenheit."
