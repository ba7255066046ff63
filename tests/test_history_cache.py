"""The content-keyed conversion cache (wire_cache): what is sent always matches the history.

jaato's stateless ``complete()`` passes the whole conversation on every turn; its converted form
is cached by content across calls. These tests check over real HTTP that a cache hit never sends
stale content: in-place edits, fresh copies, look-alike values, and values that cannot be sent.
"""

from __future__ import annotations

import copy
import math
from typing import Any

from shared import FunctionCall, Message, Part, Role, ToolResult, ToolSchema, TurnOutcome
from shared.plugins.model_provider.github_models import errors as E
from shared.plugins.model_provider.github_models.emulator import Emulator

WEATHER = ToolSchema(name="get_weather", description="Weather for a city", parameters={
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]})


def user(text: str) -> Message:
    return Message(role=Role.USER, parts=[Part(text=text)])


def conversation(result: Any = None, args: Any = None) -> list[Message]:
    call = FunctionCall(id="call_1", name="get_weather", args=args or {"city": "Oslo"})
    return [user("Oslo?"), Message(role=Role.MODEL, parts=[Part(function_call=call)]),
            Message(role=Role.TOOL, parts=[Part(function_response=ToolResult(
                "call_1", "get_weather", {"temp_c": 3} if result is None else result))]),
            Message(role=Role.MODEL, parts=[Part(text="It is 3 °C.")]),
            user("And tomorrow?")]


def sent_messages(emulator: Emulator) -> list[list[dict[str, Any]]]:
    return [r.body["messages"] for r in emulator.requests if r.path.endswith("/chat/completions")]


def test_an_edit_in_place_between_stateless_calls_is_what_the_next_call_sends(
        make_provider: Any, emulator: Emulator) -> None:
    provider = make_provider()
    history = conversation()
    assert provider.complete(history, tools=[WEATHER]).outcome is TurnOutcome.RESPONSE
    history[0].parts[0].text = "[redacted]"  # jaato redacts and truncates in place
    tool_result = history[2].parts[0].function_response
    assert tool_result is not None
    tool_result.result["temp_c"] = 4
    history[1].parts[0].function_call.args["city"] = "Bergen"  # type: ignore[union-attr]
    assert provider.complete(history, tools=[WEATHER]).outcome is TurnOutcome.RESPONSE
    first, second = sent_messages(emulator)
    assert first[0]["content"] == "Oslo?" and second[0]["content"] == "[redacted]"
    assert second[1]["tool_calls"][0]["function"]["arguments"] == '{"city": "Bergen"}'
    assert second[2]["content"] == '{"temp_c": 4}'
    assert second[3:] == first[3:]


def test_fresh_copies_with_the_same_content_send_the_same_request(
        make_provider: Any, emulator: Emulator) -> None:
    provider = make_provider()
    history = conversation()
    for _ in range(3):  # a fresh list of fresh objects each turn, as jaato may pass them
        assert provider.complete(copy.deepcopy(history), tools=[WEATHER]).outcome \
            is TurnOutcome.RESPONSE
    first, *rest = sent_messages(emulator)
    assert all(messages == first for messages in rest)
    assert [m["role"] for m in first] == ["user", "assistant", "tool", "assistant", "user"]


def test_values_that_look_alike_are_not_confused(make_provider: Any, emulator: Emulator
                                                 ) -> None:
    provider = make_provider()
    for value in (1, 1.0, True, "1", [1], {"v": 1}):
        provider.complete(conversation(result={"v": value}), tools=[WEATHER])
    contents = [messages[2]["content"] for messages in sent_messages(emulator)]
    assert contents == ['{"v": 1}', '{"v": 1.0}', '{"v": true}', '{"v": "1"}', '{"v": [1]}',
                        '{"v": {"v": 1}}']


def test_a_value_that_cannot_be_sent_is_refused_every_time_before_sending(
        make_provider: Any, emulator: Emulator) -> None:
    provider = make_provider()
    history = conversation(result={"temp_c": math.nan})
    for _ in range(2):  # a refusal is never cached as a success
        result = provider.complete(history, tools=[WEATHER])
        assert isinstance(result.error, E.InvalidRequestError)
    assert sent_messages(emulator) == []
    history[2].parts[0].function_response.result = {"temp_c": 3}  # type: ignore[union-attr]
    assert provider.complete(history, tools=[WEATHER]).outcome is TurnOutcome.RESPONSE


def test_a_stateful_session_sends_its_history_as_edited_in_place(
        make_provider: Any, emulator: Emulator) -> None:
    provider = make_provider()
    history = conversation()
    provider.create_session(tools=[WEATHER], history=history[:-1])
    provider.send_message("And tomorrow?")
    history[0].parts[0].text = "Where is Oslo?"
    provider.send_message("And the day after?")
    first, second = sent_messages(emulator)
    assert first[0]["content"] == "Oslo?" and second[0]["content"] == "Where is Oslo?"
    assert second[1:5] == first[1:5]


def test_the_cache_is_bounded_and_keeps_what_is_used() -> None:
    from shared.plugins.model_provider.github_models.wire.wire_cache import WireCache

    cache = WireCache(max_entries=3)
    messages = [user(f"message {i}") for i in range(3)]
    for message in messages:
        assert cache.convert(message)[2] is True
    assert cache.get(messages[0]) is not None  # used: now the most recent
    cache.convert(user("message 3"))
    assert len(cache) == 3
    assert cache.get(messages[1]) is None  # the least recently used went first
    wire, tokens = cache.get(copy.deepcopy(messages[0])) or ([], 0)
    assert wire == [{"role": "user", "content": "message 0"}] and tokens > 0
