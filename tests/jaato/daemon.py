"""A real jaato-server daemon on a unix socket and the ``jaato`` headless client (jaato-tui),
as users run them, for the daemon tests (``tests/test_jaato_daemon.py``)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

# jaato-tui colours its headless log even into a file
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class Reply:
    """One headless run: the client's exit code, its stderr and the agent's log, plain text."""

    returncode: int
    stderr: str
    log: str


class Daemon:
    """``jaato-server --ipc-socket SOCK`` started in its own folder with its own HOME."""

    def __init__(self, venv: Path, root: Path, env: dict[str, str]) -> None:
        self.venv = venv
        self.root = root
        self.socket = root / "jaato.sock"
        self.home = root / "home"
        self.cwd = root / "daemon"
        self.env = env
        self.proc: subprocess.Popen[str] | None = None

    def start(self, timeout: float = 240.0) -> None:
        """Start the daemon and wait for its socket (its runner template warms up first).

        Raises:
            RuntimeError: The daemon exited, or no socket appeared within ``timeout``.
        """
        self.home.mkdir(parents=True, exist_ok=True)
        self.cwd.mkdir(parents=True, exist_ok=True)
        out = (self.root / "daemon.out").open("w")
        self.proc = subprocess.Popen(
            [str(self.venv / "bin" / "jaato-server"), "--ipc-socket", str(self.socket),
             "--pid-file", str(self.root / "daemon.pid"),
             "--log-file", str(self.root / "daemon.log")],
            cwd=self.cwd, env={**self.env, "HOME": str(self.home)}, stdout=out,
            stderr=subprocess.STDOUT, text=True, start_new_session=True)
        deadline = time.monotonic() + timeout
        while not self.socket.exists():
            if self.proc.poll() is not None:
                raise RuntimeError(f"jaato-server exited ({self.proc.returncode}):\n"
                                   f"{self.output()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"jaato-server made no socket in {timeout:.0f} s:\n"
                                   f"{self.output()[-3000:]}")
            time.sleep(0.5)

    def output(self) -> str:
        """What the daemon printed so far."""
        path = self.root / "daemon.out"
        return path.read_text(errors="replace") if path.exists() else ""

    def ask(self, workspace: Path, prompt: str, timeout: float = 240.0) -> Reply:
        """``jaato --connect SOCK --headless --new-session -p PROMPT`` in ``workspace``."""
        out_dir = workspace / "jaato-headless-client-agents"
        done = subprocess.run(
            [str(self.venv / "bin" / "jaato"), "--connect", str(self.socket), "--no-auto-start",
             "--new-session", "--headless", "--workspace", str(workspace), "-p", prompt],
            cwd=workspace, env={**self.env, "HOME": str(self.home)}, capture_output=True,
            text=True, timeout=timeout, check=False)
        log = out_dir / "main.log"
        text = _ANSI.sub("", log.read_text(errors="replace")) if log.exists() else ""
        return Reply(done.returncode, done.stderr, text)

    def stop(self) -> None:
        """SIGTERM to the daemon, then to what is left of its process group (its runners)."""
        if self.proc is None:
            return
        pgid = self.proc.pid  # start_new_session: the group is the daemon's own
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        self.proc = None
