"""Framework types: lossless dict round trips, history JSON round trips, small helpers."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared import (
    Attachment,
    CancelledException,
    CancelToken,
    FinishReason,
    FunctionCall,
    Message,
    Part,
    ProviderResponse,
    Role,
    TokenUsage,
    ToolResult,
)
from shared.plugins.model_provider.github_models import GitHubModelsProvider

json_scalars = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.text(max_size=20)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=4),
    max_leaves=12)
args = st.dictionaries(st.text(min_size=1, max_size=8), json_values, max_size=4)
ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789_", min_size=1, max_size=12)
attachments = st.builds(Attachment, mime_type=st.sampled_from(["image/png", "text/plain"]),
                        data=st.binary(max_size=64),
                        display_name=st.none() | st.text(max_size=10))
calls = st.builds(FunctionCall, id=ids, name=ids, args=args)
results = st.builds(ToolResult, call_id=ids, name=ids, result=json_values,
                    is_error=st.booleans(),
                    attachments=st.none() | st.lists(attachments, max_size=2))
parts = st.one_of(
    st.builds(Part, text=st.text(max_size=40)),
    st.builds(Part, function_call=calls),
    st.builds(Part, function_response=results),
    st.builds(Part, inline_data=st.fixed_dictionaries(
        {"mime_type": st.sampled_from(["image/png", "image/jpeg"]),
         "data": st.binary(max_size=64)})),
)
messages = st.builds(Message, role=st.sampled_from(list(Role)),
                     parts=st.lists(parts, max_size=4))


@settings(max_examples=150, deadline=None)
@given(messages)
def test_message_dict_round_trip_is_lossless(message: Message) -> None:
    assert Message.from_dict(message.to_dict()) == message


@settings(max_examples=100, deadline=None)
@given(st.lists(messages, max_size=8))
def test_history_json_round_trip_is_lossless(history: list[Message]) -> None:
    provider = GitHubModelsProvider()  # serialization needs no connection
    assert provider.deserialize_history(provider.serialize_history(history)) == history


@given(st.builds(ProviderResponse, text=st.none() | st.text(max_size=20),
                 function_calls=st.lists(calls, max_size=3),
                 usage=st.builds(TokenUsage, st.integers(0, 10**6), st.integers(0, 10**6),
                                 st.integers(0, 10**6)),
                 finish_reason=st.sampled_from(list(FinishReason)),
                 structured_output=json_values))
def test_response_dict_round_trip(response: ProviderResponse) -> None:
    assert ProviderResponse.from_dict(response.to_dict()) == response


def test_malformed_history_is_a_clear_value_error() -> None:
    provider = GitHubModelsProvider()
    for bad in ("not json", '{"format": "other/1", "messages": []}', '{"format": 1}',
                '[{"role": "wizard", "parts": []}]'):
        with pytest.raises(ValueError):
            provider.deserialize_history(bad)


def test_helpers() -> None:
    call = FunctionCall("c1", "f", {"x": 1})
    message = Message(Role.MODEL, [Part.from_text("a"), Part.from_function_call(call),
                                   Part.from_text("b")])
    assert message.text == "ab" and message.function_calls == [call]
    assert Message.from_text("user", "hi") == Message(Role.USER, [Part(text="hi")])
    result = ToolResult("c1", "f", {"ok": True})
    assert Part.from_function_response(result).function_response is result
    assert ProviderResponse(function_calls=[call]).has_function_calls
    assert not ProviderResponse().has_function_calls


def test_cancel_token_is_thread_safe_and_one_way() -> None:
    token = CancelToken()
    assert not token.is_cancelled and not token.wait(0.01)
    token.raise_if_cancelled()  # no-op before cancel
    threading.Timer(0.05, token.cancel).start()
    assert token.wait(5) and token.is_cancelled
    token.cancel()  # idempotent
    with pytest.raises(CancelledException):
        token.raise_if_cancelled()
    assert repr(token) == "CancelToken(cancelled=True)"


def test_conversation_usage_is_per_conversation(make_provider: Any) -> None:
    provider = make_provider()
    first, second = provider.new_session(), provider.new_session()
    first.send_message("one")
    first.send_message("two")
    second.send_message("three")
    assert (first.get_usage().requests, second.get_usage().requests) == (2, 1)
    assert provider.get_usage_summary()["requests"] == 3
