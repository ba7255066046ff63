"""Start/stop, the request log and its redaction, and the ``python -m`` entry point."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from emulator_http import CATALOG, TOKEN, Http, chat_body

from shared.plugins.model_provider.github_models.emulator import Emulator, RecordedRequest, Reply

REPO = Path(__file__).resolve().parents[2]


def test_start_stop_many_times_quickly() -> None:
    started = time.monotonic()
    ports = set()
    for _ in range(15):
        with Emulator(catalog=CATALOG) as emu:
            ports.add(emu.port)
            assert Http(emu).chat(chat_body()).status == 200
    assert time.monotonic() - started < 5
    assert len(ports) > 1


def test_stop_is_idempotent_and_restart_works() -> None:
    emu = Emulator(catalog=CATALOG)
    emu.stop()  # never started: no-op
    emu.start()
    with pytest.raises(RuntimeError, match="already running"):
        emu.start()
    emu.stop()
    emu.stop()
    with pytest.raises(RuntimeError, match="not running"):
        _ = emu.url
    emu.start()
    try:
        assert emu.inference_url == emu.url + "/inference"
        assert Http(emu).chat(chat_body()).status == 200
    finally:
        emu.stop()


def test_stop_does_not_wait_for_streams_in_flight() -> None:
    emu = Emulator(catalog=CATALOG)
    emu.start()
    emu.script(Reply.fault("slow_stream", interval=1.0, text="a b c d e f g h"))
    client = threading.Thread(target=lambda: _quiet_request(emu), daemon=True)
    client.start()
    while not emu.requests:
        time.sleep(0.005)
    time.sleep(0.05)
    started = time.monotonic()
    emu.stop()
    assert time.monotonic() - started < 2
    client.join(5)
    assert not client.is_alive()


def _quiet_request(emu: Emulator) -> None:
    with contextlib.suppress(http.client.HTTPException, OSError):
        Http(emu).chat(chat_body(stream=True))


def test_start_fails_cleanly_on_a_busy_port() -> None:
    with Emulator(catalog=CATALOG) as first:
        second = Emulator(catalog=CATALOG, port=first.port)
        with pytest.raises(RuntimeError, match="failed to start"):
            second.start()
        second.stop()


def test_request_log_records_the_wire_with_credentials_redacted(emu: Emulator, http_: Http) -> None:
    http_.chat(
        chat_body(temperature=0.5),
        path="/orgs/acme/inference/chat/completions?api-version=2024-05-01-preview",
        headers={"api-key": TOKEN, "X-Custom": "yes"},
    )
    (req,) = emu.requests
    assert isinstance(req, RecordedRequest)
    assert req.method == "POST"
    assert req.path == "/orgs/acme/inference/chat/completions"
    assert req.query == {"api-version": "2024-05-01-preview"}
    assert req.headers["authorization"] == "Bearer github_pat_…"
    assert req.headers["api-key"] == "github_pat_…"
    assert req.headers["x-github-api-version"] == "2022-11-28"
    assert req.headers["x-custom"] == "yes"
    assert req.body["temperature"] == 0.5
    assert req.raw_body_size == len(json.dumps(chat_body(temperature=0.5)))
    assert TOKEN not in repr(emu.requests)
    with pytest.raises(AttributeError):
        req.path = "/changed"  # type: ignore[misc]
    http_.chat(chat_body(), token="some-opaque-token")
    assert emu.requests[-1].headers["authorization"] == "Bearer …"
    emu.clear_requests()
    assert emu.requests == []


def test_request_log_is_bounded() -> None:
    with Emulator(catalog=CATALOG, request_log_limit=3) as emu:
        http = Http(emu)
        for i in range(5):
            http.chat(chat_body(f"n{i}"))
        assert [r.body["messages"][0]["content"] for r in emu.requests] == ["n2", "n3", "n4"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_python_dash_m_entry_point_serves_until_sigterm() -> None:
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shared.plugins.model_provider.github_models.emulator",
            "--port",
            str(port),
            "--mode",
            "normal",
            "--rate-limits",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=REPO,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url == f"http://127.0.0.1:{port}"
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request(
            "POST",
            "/inference/chat/completions",
            json.dumps(chat_body("from a process")),
            {"Authorization": "Bearer ghp_x", "Content-Type": "application/json"},
        )
        resp = conn.getresponse()
        assert resp.status == 200
        assert json.loads(resp.read())["choices"][0]["message"]["content"] == "Echo: from a process"
        conn.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.stderr is not None
    assert "JAATO_GITHUB_ENDPOINT" in proc.stderr.read()


def test_main_rejects_bad_arguments() -> None:
    from shared.plugins.model_provider.github_models.emulator.__main__ import main

    with pytest.raises(SystemExit) as info:
        main(["--mode", "sideways"])
    assert info.value.code == 2
