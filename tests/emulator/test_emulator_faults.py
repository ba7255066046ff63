"""Transport faults: delays, hangs, resets, cut and malformed streams."""

from __future__ import annotations

import http.client
import json
import threading
import time
from typing import Any

import pytest
from emulator_http import TOKEN, Http, chat_body

from shared.plugins.model_provider.github_models.emulator import Emulator, Reply

STREAM = chat_body("one two three four five", stream=True)


def exchange(emu: Emulator, body: dict[str, Any], timeout: float = 5) -> tuple[int, bytes, str]:
    """Send one request on a fresh connection; return (status, body read, error class name)."""
    conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=timeout)
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    try:
        conn.request("POST", "/inference/chat/completions", json.dumps(body), headers)
        resp = conn.getresponse()
        try:
            return resp.status, resp.read(), ""
        except http.client.IncompleteRead as exc:
            return resp.status, exc.partial, type(exc).__name__
    except (http.client.HTTPException, OSError) as exc:
        return 0, b"", type(exc).__name__
    finally:
        conn.close()


def data_lines(raw: bytes, eol: str = "\n") -> list[str]:
    return [block for block in raw.decode().split(eol + eol) if block]


def test_delay_holds_the_answer(emu: Emulator) -> None:
    emu.script(Reply.fault("delay", seconds=0.3))
    started = time.monotonic()
    status, raw, error = exchange(emu, chat_body("late"))
    assert time.monotonic() - started >= 0.3
    assert (status, error) == (200, "")
    assert json.loads(raw)["choices"][0]["message"]["content"] == "Echo: late"


def test_delay_then_scripted_reply_or_error(emu: Emulator) -> None:
    emu.script(
        Reply.fault("delay", seconds=0.05, reply=Reply.text("slow text")),
        Reply.fault("delay", seconds=0.05, reply=Reply.error(504, "gateway timeout")),
    )
    assert json.loads(exchange(emu, chat_body())[1])["choices"][0]["message"]["content"] == (
        "slow text"
    )
    assert exchange(emu, chat_body())[:2] == (504, b"gateway timeout\n")


def test_reset_closes_without_a_response(emu: Emulator) -> None:
    emu.script(Reply.fault("reset"))
    status, raw, error = exchange(emu, chat_body())
    assert status == 0 and raw == b""
    assert error in {"RemoteDisconnected", "ConnectionResetError"}
    assert exchange(emu, chat_body())[0] == 200  # the next request is served normally


def test_hang_is_released_by_stop() -> None:
    emu = Emulator(catalog=[{"id": "openai/gpt-4o", "rate_limit_tier": "high"}])
    emu.start()
    emu.script(Reply.fault("hang"))
    outcome: list[tuple[int, bytes, str]] = []
    client = threading.Thread(target=lambda: outcome.append(exchange(emu, chat_body(), 10)))
    client.start()
    while not emu.requests:
        time.sleep(0.005)
    time.sleep(0.05)
    assert not outcome  # still hanging
    started = time.monotonic()
    emu.stop()
    assert time.monotonic() - started < 2
    client.join(5)
    assert outcome and outcome[0][0] == 0  # connection dropped, no response


def test_drop_mid_stream_after_n_content_chunks(emu: Emulator) -> None:
    emu.script(Reply.fault("drop_mid_stream", after=2))
    status, raw, error = exchange(emu, STREAM)
    assert status == 200
    assert error == "IncompleteRead"
    chunks = [json.loads(b[len("data: ") :]) for b in data_lines(raw)]
    content = [c["choices"][0]["delta"].get("content") for c in chunks]
    assert content == ["", "Echo:", " one"]  # role chunk, then exactly two content chunks
    assert b"[DONE]" not in raw


def test_drop_mid_body_of_a_non_streaming_response(emu: Emulator) -> None:
    emu.script(Reply.fault("drop_mid_stream"))
    status, raw, error = exchange(emu, chat_body())
    assert (status, error) == (200, "IncompleteRead")
    with pytest.raises(ValueError):
        json.loads(raw)


def test_malformed_sse_line_then_the_rest(emu: Emulator) -> None:
    emu.script(Reply.fault("malformed_sse", after=1))
    status, raw, _ = exchange(emu, STREAM)
    assert status == 200
    blocks = data_lines(raw)
    assert blocks[2] == "data: {malformed"
    assert blocks[-1] == "data: [DONE]"
    bad = [b for b in blocks if b != "data: [DONE]" and not _is_json(b[len("data: ") :])]
    assert bad == ["data: {malformed"]


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def test_sse_comment(emu: Emulator) -> None:
    emu.script(Reply.fault("sse_comment", after=0, comment="keep-alive"))
    _, raw, _ = exchange(emu, STREAM)
    blocks = data_lines(raw)
    assert blocks[1] == ": keep-alive"
    assert blocks[-1] == "data: [DONE]"


def test_crlf_line_endings(emu: Emulator) -> None:
    emu.script(Reply.fault("crlf"))
    _, raw, _ = exchange(emu, STREAM)
    text = raw.decode()
    assert text.endswith("data: [DONE]\r\n\r\n")
    assert text.count("\n") == text.count("\r\n")


def test_in_stream_error_event_ends_the_stream(emu: Emulator) -> None:
    error = {"code": "server_error", "message": "boom"}
    emu.script(Reply.fault("in_stream_error", after=1, error=error))
    status, raw, err = exchange(emu, STREAM)
    assert (status, err) == (200, "")
    blocks = data_lines(raw)
    assert json.loads(blocks[-1][len("data: ") :]) == {"error": error}
    assert "[DONE]" not in raw.decode()


def test_slow_stream_and_fault_text(emu: Emulator) -> None:
    emu.script(Reply.fault("slow_stream", interval=0.05, text="a b c d"))
    started = time.monotonic()
    _, raw, _ = exchange(emu, STREAM)
    assert time.monotonic() - started >= 0.2
    chunks = [json.loads(b[len("data: ") :]) for b in data_lines(raw)[:-1]]
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks) == "a b c d"


def test_repeated_scripted_errors_make_a_burst(emu: Emulator) -> None:
    emu.script(*[Reply.error(503, "busy")] * 3)
    http = Http(emu)
    assert [http.chat(chat_body()).status for _ in range(4)] == [503, 503, 503, 200]


def test_unknown_fault_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown fault kind"):
        Reply.fault("explode")


def test_a_fault_is_one_reply_and_leaves_the_next_in_the_queue(emu: Emulator) -> None:
    emu.script(Reply.fault("sse_comment", after=0), Reply.text("second"))
    _, raw, _ = exchange(emu, chat_body("first", stream=True))
    text = "".join(
        json.loads(b[len("data: ") :])["choices"][0]["delta"].get("content") or ""
        for b in data_lines(raw)
        if b.startswith("data: {") and '"choices":[{' in b
    )
    assert text == "Echo: first"
    assert emu.pending_replies == 1
    assert json.loads(exchange(emu, chat_body())[1])["choices"][0]["message"]["content"] == "second"
