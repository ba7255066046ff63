"""``chat -a URL`` against broken image servers (the hostile raw-socket server) and with
``user:password@`` in the URL: a typed, clear error that quotes no piece of the password; a
working Basic login when the server is fine. Real CLI subprocesses."""

from __future__ import annotations

import base64
import socket
from pathlib import Path
from typing import Any

import pytest

from tests.adversarial.hostile import Act, HostileServer, chunked, response_head
from tests.test_cli import chat_requests, run_cli

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PIECES = ("Vq8Rt", "Lm2Xz")
PASSWORD = f"{PIECES[0]}/{PIECES[1]}"


def raw(data: bytes, *, hold: bool = False) -> Act:
    def act(conn: socket.socket) -> None:
        conn.sendall(data)
    return act


def image(conn: socket.socket) -> None:
    conn.sendall(response_head(200, "image/png", length=len(PNG)) + PNG)


def chat_with(tmp_path: Path, emulator: Any, url: str) -> Any:
    result = run_cli(tmp_path, "chat", "--no-log", "-a", url, "what is it?",
                     endpoint=emulator.inference_url, timeout=60)
    for piece in PIECES:
        assert piece not in result.stdout + result.stderr, "a piece of the password leaked"
    assert "Traceback" not in result.stderr
    return result


@pytest.mark.parametrize("act", [
    raw(b"SSH-2.0-OpenSSH_9.6\r\n"),  # not HTTP at all
    raw(response_head(200, "image/png", chunked_body=True) + b"400\r\n" + PNG),  # cut chunk
    raw(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n"),  # a huge header line
    raw(response_head(200, "image/png", length=10_000) + PNG),  # shorter than announced
    raw(b""),  # closed without a word
], ids=["not-http", "cut-chunk", "huge-header", "short-body", "closed"])
def test_a_broken_image_server_is_a_clear_error(tmp_path: Path, emulator: Any,
                                                hostile: HostileServer, act: Act) -> None:
    hostile.script(act)
    port = hostile.url.split(":")[2].split("/")[0]
    result = chat_with(tmp_path, emulator, f"http://ada:{PASSWORD}@127.0.0.1:{port}/i.png")
    assert result.returncode != 0
    assert "Reading the attachment http://127.0.0.1:" in result.stderr, result.stderr
    assert chat_requests(emulator) == []  # refused before the model was asked


def test_a_refused_url_with_a_password_quotes_no_piece_of_it(tmp_path: Path,
                                                             emulator: Any) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    for url in (f"http://ada:{PASSWORD}@127.0.0.1:{port}/i.png",
                f"http://ada:{PIECES[0]}@127.0.0.1:{port}/i.png",
                f"http://{PIECES[0]}@127.0.0.1:{port}/i.png"):
        result = chat_with(tmp_path, emulator, url)
        assert result.returncode != 0 and "Reading the attachment" in result.stderr


def test_a_password_in_the_url_logs_in_with_basic_auth(tmp_path: Path, emulator: Any,
                                                       hostile: HostileServer) -> None:
    hostile.script(image)
    port = hostile.url.split(":")[2].split("/")[0]
    result = chat_with(tmp_path, emulator, f"http://ada:{PASSWORD}@127.0.0.1:{port}/i.png")
    assert result.returncode == 0, result.stderr
    (request,) = hostile.requests
    expected = base64.b64encode(f"ada:{PASSWORD}".encode()).decode()
    assert f"Authorization: Basic {expected}".encode() in request
    assert request.startswith(b"GET /i.png ")
    (sent,) = chat_requests(emulator)
    assert "image_url" in str(sent.body["messages"][-1]["content"])


def test_chunked_images_still_arrive(tmp_path: Path, emulator: Any,
                                     hostile: HostileServer) -> None:
    hostile.script(raw(response_head(200, "image/png", chunked_body=True) + chunked(PNG[:10])
                       + chunked(PNG[10:]) + b"0\r\n\r\n"))
    result = chat_with(tmp_path, emulator, hostile.url.replace("/inference", "/i.png"))
    assert result.returncode == 0, result.stderr
