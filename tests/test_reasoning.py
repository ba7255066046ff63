"""Reasoning over real HTTP: ``<think>`` blocks and ``reasoning_content`` become ``thinking`` /
``on_thinking`` and never text; ``reasoning_effort`` as a setting, per call and from jaato's
``ThinkingConfig``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import pytest

from shared import Message, Part, Role
from shared.plugins.model_provider.github_models import PROVIDER_CAPABILITIES
from shared.plugins.model_provider.github_models import errors as E
from shared.plugins.model_provider.github_models.emulator import Emulator, Reply

from .conftest import TEST_TOKEN


def chat_requests(emu: Emulator) -> list[Any]:
    return [r for r in emu.requests if r.path.endswith("/chat/completions")]


def assistant_contents(body: dict[str, Any]) -> list[Any]:
    return [m.get("content") for m in body["messages"] if m["role"] == "assistant"]


@pytest.mark.parametrize("stream", [False, True])
def test_deepseek_r1_think_block_is_thinking_not_text(make_provider: Any, emulator: Emulator,
                                                      stream: bool) -> None:
    provider = make_provider("deepseek/DeepSeek-R1")
    assert provider.supports_thinking() and PROVIDER_CAPABILITIES.thinking
    chunks: list[str] = []
    thoughts: list[str] = []
    reply = (provider.send_message_streaming("hello", chunks.append, on_thinking=thoughts.append)
             if stream else provider.send_message("hello"))
    assert reply.text == "Echo: hello"  # the emulator's R1 writes <think>...</think> first
    assert reply.thinking == "The user wrote: hello. I will echo it."
    if stream:
        assert "".join(chunks) == "Echo: hello"
        assert "".join(thoughts).strip() == reply.thinking
    # what goes back in history is the answer only: R1 must not be sent its reasoning
    provider.send_message("again")
    assert assistant_contents(chat_requests(emulator)[-1].body) == ["Echo: hello"]


def test_a_think_tag_split_across_chunks(make_provider: Any, emulator: Emulator) -> None:
    provider = make_provider("deepseek/DeepSeek-R1")
    emulator.script(Reply.text("<think>step one, step two</think>\n\nThe answer is 4.",
                               chunk_size=3))  # "<th" "ink" ">st" ... "</t" "hin" "k>\n"
    chunks: list[str] = []
    thoughts: list[str] = []
    reply = provider.send_message_streaming("2+2?", chunks.append, on_thinking=thoughts.append)
    assert "".join(chunks) == reply.text == "The answer is 4."
    assert not any("<" in c or ">" in c for c in chunks)
    assert "".join(thoughts) == "step one, step two" == reply.thinking


def test_a_literal_think_tag_later_in_an_answer_stays_text(make_provider: Any,
                                                           emulator: Emulator) -> None:
    provider = make_provider("deepseek/DeepSeek-R1")
    emulator.script(Reply.text("Use the <think> tag like this: <think>x</think>."))
    reply = provider.send_message("how?")
    assert reply.text == "Use the <think> tag like this: <think>x</think>."
    assert reply.thinking is None


@pytest.mark.parametrize("stream", [False, True])
def test_reasoning_content_is_thinking(make_provider: Any, emulator: Emulator,
                                       stream: bool) -> None:
    provider = make_provider("microsoft/Phi-4-reasoning")
    thoughts: list[str] = []
    reply = (provider.send_message_streaming("hi", lambda _t: None, on_thinking=thoughts.append)
             if stream else provider.send_message("hi"))
    assert reply.text == "Echo: hi"
    assert reply.thinking == "The user wrote: hi. I will echo it."
    if stream:
        assert "".join(thoughts) == reply.thinking
    provider.send_message("next")
    sent = chat_requests(emulator)[-1].body["messages"]
    assert all("reasoning_content" not in m for m in sent)
    assert assistant_contents(chat_requests(emulator)[-1].body) == ["Echo: hi"]


@pytest.mark.parametrize("stream", [False, True])
def test_a_secret_echoed_in_thinking_is_masked(make_provider: Any, emulator: Emulator,
                                               stream: bool) -> None:
    provider = make_provider("deepseek/DeepSeek-R1")
    emulator.script(Reply.text("ok", reasoning=f"the key is {TEST_TOKEN}, careful", chunk_size=4))
    thoughts: list[str] = []
    reply = (provider.send_message_streaming("hi", lambda _t: None, on_thinking=thoughts.append)
             if stream else provider.send_message("hi"))
    assert reply.thinking is not None and TEST_TOKEN not in reply.thinking
    assert "careful" in reply.thinking
    assert TEST_TOKEN not in "".join(thoughts)
    assert all(TEST_TOKEN[8:20] not in t for t in thoughts)


def test_complete_hands_thinking_to_on_thinking(make_provider: Any, emulator: Emulator) -> None:
    provider = make_provider("microsoft/Phi-4-reasoning")
    messages = [Message(role=Role.USER, parts=[Part(text="hi")])]
    thoughts: list[str] = []
    result = provider.complete(messages, on_thinking=thoughts.append)
    assert thoughts == ["The user wrote: hi. I will echo it."]
    assert result.response.thinking == thoughts[0] and result.response.text == "Echo: hi"
    streamed: list[str] = []
    provider.complete(messages, on_chunk=lambda _t: None, on_thinking=streamed.append)
    assert "".join(streamed) == thoughts[0]


def test_reasoning_effort_per_call_and_as_a_setting(make_provider: Any,
                                                   emulator: Emulator) -> None:
    o3 = make_provider("openai/o3-mini", reasoning_effort="low")
    o3.send_message("a")
    o3.send_message("b", reasoning_effort="HIGH")
    assert [r.body.get("reasoning_effort") for r in chat_requests(emulator)] == ["low", "high"]
    with pytest.raises(E.InvalidRequestError, match="reasoning_effort"):
        o3.send_message("c", reasoning_effort="extreme")
    gpt = make_provider("openai/gpt-4o")
    with pytest.raises(E.InvalidRequestError, match="does not accept reasoning_effort"):
        gpt.send_message("d", reasoning_effort="low")
    assert len(chat_requests(emulator)) == 2 and gpt.get_history() == []


def test_a_provider_default_effort_is_dropped_for_models_without_it(
        make_provider: Any, emulator: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        provider = make_provider("openai/gpt-4o-mini", reasoning_effort="medium")
        provider.send_message("x")
    assert "reasoning_effort" not in chat_requests(emulator)[0].body
    assert "does not accept reasoning_effort" in caplog.text


@dataclass
class ThinkingConfig:  # jaato-sdk 0.29's shape
    enabled: bool = False
    budget: int = 10000


def test_jaatos_thinking_config_becomes_reasoning_effort(make_provider: Any,
                                                        emulator: Emulator) -> None:
    provider = make_provider("openai/o4-mini")
    for config in (ThinkingConfig(True, 2000), ThinkingConfig(True, 10000),
                   ThinkingConfig(True, 32000), ThinkingConfig(False)):
        provider.set_thinking_config(config)
        provider.send_message("x")
    sent = [r.body.get("reasoning_effort") for r in chat_requests(emulator)]
    assert sent == ["low", "medium", "high", None]
    provider.set_thinking_config(ThinkingConfig(True, 32000))
    provider.set_options(reasoning_effort="low")  # an option set explicitly wins
    provider.send_message("y")
    provider.connect("openai/gpt-4o")  # a model without it: nothing sent, no error
    provider.send_message("z")
    tail = [r.body.get("reasoning_effort") for r in chat_requests(emulator)[-2:]]
    assert tail == ["low", None]


@pytest.mark.parametrize("callback", ["on_thinking", "on_function_call"])
def test_complete_refuses_a_callback_that_is_not_callable_before_sending(
        make_provider: Any, emulator: Emulator, callback: str) -> None:
    # without on_chunk, nothing streams: the callbacks are called only after the reply came
    # (billed), so a bad one must be refused before the request, as the stream's are
    provider = make_provider("microsoft/Phi-4-reasoning")
    result = provider.complete([Message(role=Role.USER, parts=[Part(text="hi")])],
                               **{callback: "not a function"})
    assert isinstance(result.error, E.InvalidRequestError)
    assert callback in str(result.error)
    assert chat_requests(emulator) == []
