"""Issue 12: property-based adversarial tests (hypothesis) through the public API.

Whatever the caller passes and whatever the server sends, the outcome is a response or a typed
``GitHubModelsError`` (``ValueError`` for ``deserialize_history``); a failed call leaves the history
as it was; a session never reaches a state where it can no longer send; the CLI never shows the
token, however the stream is cut. Examples per test: few in ``make test``, many in
``make adversarial`` (see conftest.py).
"""

from __future__ import annotations

import contextlib
import io
import json
import math
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared import ProviderConfig, load_provider
from shared.plugins.model_provider.github_models import errors as E
from shared.plugins.model_provider.github_models.cli.output import Console
from shared.plugins.model_provider.github_models.emulator import Emulator, Reply
from shared.plugins.model_provider.types import Part, ToolResult, ToolSchema
from tests.adversarial.conftest import PROFILE, TOKEN
from tests.adversarial.hostile import HostileServer, completion_body, drip, send_json, sse_chunk

PROPERTY = settings.get_profile(PROFILE)

# every code point, surrogates included (hypothesis leaves them out by default)
any_text = st.text(st.characters(blacklist_categories=()), max_size=30)
json_scalars = (st.none() | st.booleans() | st.integers(-2**70, 2**70)
                | st.floats(allow_nan=True, allow_infinity=True) | any_text)
json_like = st.recursive(
    json_scalars,
    lambda inner: (st.lists(inner, max_size=4)
                   | st.dictionaries(any_text, inner, max_size=4)
                   | st.tuples(inner) | st.builds(object)),
    max_leaves=15)
wire_json = st.recursive(  # what a server can send: real JSON values only
    st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner,
                                                                max_size=4),
    max_leaves=20)


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    emulator = Emulator()
    emulator.start()
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture(scope="module")
def server() -> Iterator[HostileServer]:
    hostile = HostileServer()
    try:
        yield hostile
    finally:
        hostile.stop()


def _provider(endpoint: str) -> Any:
    provider: Any = load_provider("github_models", ProviderConfig(api_key=TOKEN, extra={
        "endpoint": endpoint, "pacing": False, "max_retries": 0, "timeout": 5}))
    provider.connect("openai/gpt-4o")
    return provider


@pytest.fixture(scope="module")
def provider(emu: Emulator) -> Iterator[Any]:
    made = _provider(emu.inference_url)
    yield made
    made.shutdown()


@pytest.fixture(scope="module")
def hostile_client(server: HostileServer) -> Iterator[Any]:
    made = _provider(server.url)
    yield made
    made.shutdown()


def _still_sends(provider: Any, emu: Emulator) -> None:
    emu.clear_script()
    assert provider.send_message("still there?").text == "Echo: still there?"


# ---- the caller's input -----------------------------------------------------------------------


@PROPERTY
@given(text=any_text)
def test_any_message_text_is_sent_or_refused_before_sending(provider: Any, emu: Emulator,
                                                            text: str) -> None:
    provider.create_session()
    sent = len(emu.requests)
    try:
        provider.send_message(text)
    except E.InvalidRequestError as exc:
        assert exc.param == "message"
        assert len(emu.requests) == sent and provider.get_history() == []
    _still_sends(provider, emu)


@PROPERTY
@given(value=json_like)
def test_any_tool_result_is_sent_or_refused_before_sending(provider: Any, emu: Emulator,
                                                           value: Any) -> None:
    provider.create_session(tools=[ToolSchema("lookup", "Look up", {"type": "object"})])
    emu.script(Reply.tool_calls([("lookup", {"q": "x"})]))
    call = provider.send_message("use the tool").function_calls[0]
    history = provider.get_history()
    try:
        provider.send_tool_results([ToolResult(call.id, call.name, value)])
    except E.InvalidRequestError as exc:
        assert exc.param == "results"
        assert provider.get_history() == history
        provider.send_tool_results([ToolResult(call.id, call.name, "fallback")])
    _still_sends(provider, emu)


@PROPERTY
@given(name=any_text, description=any_text, parameters=json_like)
def test_any_tool_schema_is_accepted_or_refused_at_create_session(
        provider: Any, emu: Emulator, name: str, description: str, parameters: Any) -> None:
    try:
        provider.create_session(tools=[ToolSchema(name, description, parameters)])
    except E.InvalidRequestError as exc:
        assert exc.param == "tools"
        provider.create_session()
    with contextlib.suppress(E.GitHubModelsError):  # the server may judge a schema (a 400)
        provider.send_message("hello")
    provider.create_session()
    _still_sends(provider, emu)


@PROPERTY
@given(schema=json_like)
def test_any_response_schema_is_sent_or_refused(provider: Any, emu: Emulator,
                                                schema: Any) -> None:
    provider.create_session()
    try:
        provider.send_message("shape it", response_schema=schema)
    except E.GitHubModelsError:
        assert provider.get_history() == []
    _still_sends(provider, emu)


@PROPERTY
@given(mime=st.sampled_from(["image/png", "image/jpeg", "image/gif", "image/webp", "text/plain"])
       | any_text, data=st.binary(max_size=40) | any_text)
def test_any_image_part_is_sent_or_refused(provider: Any, emu: Emulator, mime: Any,
                                           data: Any) -> None:
    provider.create_session()
    try:
        provider.send_message_with_parts([Part(text="look"), Part(inline_data={
            "mime_type": mime, "data": data})])
    except E.InvalidRequestError as exc:
        assert exc.param == "parts"
        assert provider.get_history() == []
    _still_sends(provider, emu)


# ---- restored history --------------------------------------------------------------------------


def _valid_history_document(provider: Any, emu: Emulator) -> Any:
    provider.create_session(tools=[ToolSchema("lookup", "Look up", {"type": "object"})])
    emu.script(Reply.tool_calls([("lookup", {"q": "x"})]))
    call = provider.send_message("first").function_calls[0]
    provider.send_tool_results([ToolResult(call.id, call.name, {"r": [1, 2]})])
    return json.loads(provider.serialize_history(provider.get_history()))


def _mutate(doc: Any, path: list[int], value: Any) -> Any:
    """Replace the node reached by following ``path`` (indices mod the children) with value."""
    if not path or not isinstance(doc, dict | list) or not doc:
        return value
    keys = list(doc.keys()) if isinstance(doc, dict) else list(range(len(doc)))
    key = keys[path[0] % len(keys)]
    copy = dict(doc) if isinstance(doc, dict) else list(doc)
    copy[key] = _mutate(doc[key], path[1:], value)  # type: ignore[index]
    return copy


@PROPERTY
@given(path=st.lists(st.integers(0, 50), max_size=8), value=wire_json | any_text)
def test_a_mutated_history_document_is_refused_or_can_be_sent(
        provider: Any, emu: Emulator, path: list[int], value: Any) -> None:
    base = _valid_history_document(provider, emu)
    document = json.dumps(_mutate(base, path, value), ensure_ascii=True)
    try:
        history = provider.deserialize_history(document)
    except ValueError:
        return  # the documented refusal
    try:
        provider.create_session(history=history)
    except E.InvalidRequestError as exc:  # a result that answers no call: refused up front
        assert exc.param == "history"
        provider.create_session()
        _still_sends(provider, emu)
        return
    # accepted: the session can send (the server may still refuse with a typed error, but the
    # conversation is one it accepts, so the next turn goes through)
    with contextlib.suppress(E.GitHubModelsError):
        provider.send_message("continue")
    _still_sends(provider, emu)


@PROPERTY
@given(document=st.text(st.characters(blacklist_categories=()), max_size=60)
       | wire_json.map(json.dumps))
def test_any_history_text_raises_only_value_error(provider: Any, document: str) -> None:
    try:
        history = provider.deserialize_history(document)
    except ValueError:
        return
    assert isinstance(history, list)


# ---- what the server sends --------------------------------------------------------------------


@PROPERTY
@given(data=wire_json)
def test_any_200_body_is_a_response_or_a_typed_error(hostile_client: Any,
                                                     server: HostileServer, data: Any) -> None:
    hostile_client.create_session()
    server.script(send_json(data))
    try:
        response = hostile_client.send_message("hi")
    except E.GitHubModelsError:
        assert hostile_client.get_history() == []
        return
    (response.text or "").encode("utf-8")


@PROPERTY
@given(message=st.dictionaries(st.sampled_from(
    ["content", "tool_calls", "role", "refusal"]), wire_json, max_size=3),
    usage=wire_json, finish=wire_json)
def test_any_message_inside_a_200_is_a_response_or_a_typed_error(
        hostile_client: Any, server: HostileServer, message: dict[str, Any], usage: Any,
        finish: Any) -> None:
    hostile_client.create_session()
    body = completion_body("x")
    body["choices"][0]["message"] = message
    body["choices"][0]["finish_reason"] = finish
    body["usage"] = usage
    server.script(send_json(body))
    try:
        hostile_client.send_message("hi")
    except E.GitHubModelsError:
        assert hostile_client.get_history() == []


@PROPERTY
@given(events=st.lists(wire_json | st.dictionaries(st.sampled_from(["choices", "usage", "model",
                                                                    "error"]), wire_json),
                       max_size=5),
       texts=st.lists(any_text, max_size=4),
       cuts=st.lists(st.integers(1, 40), max_size=6), garbage=st.binary(max_size=20))
def test_any_stream_is_a_response_or_a_typed_error_with_what_was_delivered(
        hostile_client: Any, server: HostileServer, events: list[Any], texts: list[str],
        cuts: list[int], garbage: bytes) -> None:
    hostile_client.create_session()
    body = b"".join(sse_chunk({"content": t}) for t in texts)
    body += b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events)
    body += garbage + sse_chunk({}, "stop") + b"data: [DONE]\n\n"
    pieces, start = [], 0
    for cut in cuts:  # arbitrary network blocks
        pieces.append(body[start:start + cut])
        start += cut
    pieces.append(body[start:])
    server.script(drip([p for p in pieces if p]))
    delivered: list[str] = []
    try:
        response = hostile_client.send_message_streaming("hi", delivered.append)
    except E.StreamInterruptedError as exc:
        assert exc.partial_text == "".join(delivered)
        assert hostile_client.get_history() == []
    except E.GitHubModelsError:
        assert hostile_client.get_history() == []
    else:
        assert (response.text or "") == "".join(delivered)
    for piece in delivered:
        piece.encode("utf-8")


# ---- the CLI's masking -------------------------------------------------------------------------


@PROPERTY
@given(before=st.text(max_size=20), after=st.text(max_size=20),
       cuts=st.lists(st.integers(0, 120), max_size=12), body_only=st.booleans())
def test_the_console_never_prints_the_token_however_the_stream_is_cut(
        before: str, after: str, cuts: list[int], body_only: bool) -> None:
    secret = TOKEN[len("github_pat_"):] if body_only else TOKEN
    text = before + secret + after + secret
    out = io.StringIO()
    console = Console(out=out, err=io.StringIO(), environ={"NO_COLOR": ""})
    console.add_secret(TOKEN)
    points = sorted({c % (len(text) + 1) for c in cuts})
    for start, end in zip([0, *points], [*points, len(text)], strict=True):
        console.stream(text[start:end])
    console.end_stream()
    shown = out.getvalue()
    assert TOKEN[len("github_pat_"):][:12] not in shown
    assert shown == console.scrub(text)


def test_property_profiles_are_registered() -> None:
    assert settings.get_profile("adversarial").max_examples >= settings.get_profile(
        "quick").max_examples
    assert not math.isnan(PROPERTY.max_examples)


@PROPERTY
@given(before=st.text(max_size=15), after=st.text(max_size=15),
       cuts=st.lists(st.integers(0, 200), max_size=10))
def test_an_echoed_token_never_reaches_on_chunk_however_the_stream_is_cut(
        hostile_client: Any, server: HostileServer, before: str, after: str,
        cuts: list[int]) -> None:
    hostile_client.create_session()
    body = TOKEN[len("github_pat_"):]
    text = before + TOKEN + after + body
    points = sorted({c % (len(text) + 1) for c in cuts})
    pieces = [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]
    server.script(drip([*(sse_chunk({"content": p}) for p in pieces if p),
                        sse_chunk({}, "stop") + b"data: [DONE]\n\n"]))
    chunks: list[str] = []
    response = hostile_client.send_message_streaming("echo", chunks.append)
    joined = "".join(chunks)
    assert body[:12] not in joined and body[-12:] not in joined
    assert joined == response.text
    assert body[:12] not in json.dumps(response.raw) + hostile_client.serialize_history(
        hostile_client.get_history())
