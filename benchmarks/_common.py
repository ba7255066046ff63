"""Shared helpers of the benchmark suite: the emulator process, statistics, result records.

Every benchmark talks to an emulator running in its *own* process (so the server's CPU does not
share the client's GIL) and reports ratios against baselines measured in the same run against
the same emulator. Not part of the test run.
"""

from __future__ import annotations

import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO / "benchmarks" / "results"
EMULATOR_MODULE = "shared.plugins.model_provider.github_models.emulator"
TOKEN = "ghp_benchmark0000000000000000000000000000"
MODEL = "openai/gpt-4o"
LOW_TIER_MODEL = "openai/gpt-4o-mini"
PROMPT = "Say hi"
NOT_AVAILABLE = "not available"


# ---------------------------------------------------------------- the emulator process


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def child_env() -> dict[str, str]:
    """The environment for child processes: the repo importable, no proxies, no real token."""
    env = {k: v for k, v in os.environ.items()
           if k.lower() not in ("http_proxy", "https_proxy", "all_proxy", "no_proxy")
           and not k.startswith(("GITHUB_TOKEN", "JAATO_"))}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


class EmulatorProcess:
    """The GitHub Models emulator in a subprocess (``python -m ...emulator --port N``).

    Args:
        args: Extra command-line arguments (``--rate-limits`` ...).
        command: A whole command instead of ``python -m <emulator>`` (it must print the URL
            first and accept ``--port N``).
    """

    def __init__(self, args: Sequence[str] = (), command: Sequence[str] | None = None) -> None:
        self._args = list(args)
        self._command = list(command) if command else [sys.executable, "-m", EMULATOR_MODULE]
        self._proc: subprocess.Popen[str] | None = None
        self.url = ""

    def start(self) -> EmulatorProcess:
        """Start it on a free port and wait until it prints its URL (retries a taken port)."""
        for _ in range(3):
            port = free_port()
            proc = subprocess.Popen(
                [*self._command, "--port", str(port), "--request-log-limit", "1", *self._args],
                cwd=REPO, env=child_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL, text=True)
            assert proc.stdout is not None
            line = proc.stdout.readline().strip()
            if line.startswith("http://"):
                self._proc, self.url = proc, line
                return self
            proc.kill()
            proc.wait()
        raise RuntimeError("the emulator did not start (three ports tried)")

    @property
    def inference_url(self) -> str:
        """The inference endpoint: what a provider gets as ``extra["endpoint"]``."""
        return self.url + "/inference"

    @property
    def host_port(self) -> tuple[str, int]:
        """(host, port) of the server."""
        host, _, port = self.url.removeprefix("http://").rpartition(":")
        return host, int(port)

    def command(self, line: str) -> str:
        """Send one control line on stdin and return the reply line (scaled launcher only)."""
        proc = self._proc
        assert proc is not None and proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(line + "\n")
        proc.stdin.flush()
        return proc.stdout.readline().strip()

    def stop(self) -> None:
        """Terminate and reap the process (idempotent)."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def __enter__(self) -> EmulatorProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---------------------------------------------------------------- clients under test


def make_provider(endpoint: str, *, model: str = MODEL, **extra: Any) -> Any:
    """``load_provider("github_models", ...)`` connected to ``model``, pacing off by default."""
    from shared import ProviderConfig, load_provider

    options: dict[str, Any] = {"endpoint": endpoint, "pacing": False, **extra}
    provider = load_provider("github_models", ProviderConfig(api_key=TOKEN, extra=options))
    provider.connect(model)
    return provider


def sdk_messages(text: str) -> list[Any]:
    """``[UserMessage(text)]`` for the azure SDK clients (as a user would write it)."""
    from azure.ai.inference.models import UserMessage

    return [UserMessage(text)]


def has_async_api(provider: Any) -> bool:
    """Whether the provider already has the async API (``agenerate``)."""
    return callable(getattr(provider, "agenerate", None))


# ---------------------------------------------------------------- statistics


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation."""
    data = sorted(values)
    if not data:
        return float("nan")
    pos = (len(data) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(data) - 1)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def median(values: Sequence[float]) -> float:
    """The median (nan when empty)."""
    return statistics.median(values) if values else float("nan")


def ratio(value: float, base: float) -> float:
    """``value / base`` rounded to 3 places (nan when the base is 0 or missing)."""
    if not base or base != base or value != value:
        return float("nan")
    return round(value / base, 3)


def measure(clients: dict[str, Callable[[], Any]], per_client: int, rounds: int,
            warmup: int) -> dict[str, list[float]]:
    """Per-call seconds for each client, interleaved in ``rounds`` after ``warmup`` calls."""
    for fn in clients.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in clients}
    block = max(1, per_client // rounds)
    clock = time.perf_counter
    for _ in range(rounds):
        for name, fn in clients.items():
            out = samples[name]
            for _ in range(block):
                start = clock()
                fn()
                out.append(clock() - start)
    return samples


def timed(fn: Callable[[], Any]) -> float:
    """Seconds ``fn()`` took."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


# ---------------------------------------------------------------- result records


@dataclass(slots=True)
class Target:
    """One stated target and whether this run met it (``None``: could not be measured)."""

    name: str
    target: str
    value: str
    met: bool | None
    note: str = ""


@dataclass(slots=True)
class BenchResult:
    """What one benchmark measured: a table of rows, its targets, and notes."""

    name: str
    title: str
    columns: list[str]
    rows: list[dict[str, Any]] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def environment() -> dict[str, Any]:
    """Versions and machine facts for the results file."""
    versions: dict[str, Any] = {}
    for dist in ("azure-ai-inference", "azure-core", "openai", "httpx", "aiohttp", "requests"):
        try:
            from importlib.metadata import version

            versions[dist] = version(dist)
        except Exception:
            versions[dist] = None
    return {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "versions": versions,
        "git": _git_head(),
    }


def _git_head() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                             capture_output=True, text=True, timeout=5, check=False)
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "shared"], cwd=REPO,
                               capture_output=True, text=True, timeout=5, check=False)
    except OSError:
        return None
    head = out.stdout.strip() or None
    return f"{head}+dirty(shared)" if head and dirty.stdout.strip() else head


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        if value != value:
            return "n/a"
        return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _mark(met: bool | None) -> str:
    return {True: "✅ met", False: "❌ missed", None: "⏳ not measured"}[met]


def markdown_table(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> str:
    """A GitHub-flavoured markdown table of ``rows`` over ``columns``."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def render_markdown(results: Sequence[BenchResult], env: dict[str, Any], quick: bool) -> str:
    """The whole report: a targets summary, then one table per benchmark."""
    out = [f"# Benchmark results{' (quick run)' if quick else ''}", "",
           f"{env['date']} · Python {env['python']} · {env['cpus']} CPUs · git {env['git']} · "
           + ", ".join(f"{k} {v}" for k, v in env["versions"].items() if v), "",
           "Emulator in a separate process on 127.0.0.1; every ratio is against a baseline "
           "measured in the same run against the same emulator.", "",
           "## Targets", ""]
    summary = [{"benchmark": r.name, "target": t.name + ": " + t.target, "measured": t.value,
                "status": _mark(t.met), "note": t.note} for r in results for t in r.targets]
    out += [markdown_table(["benchmark", "target", "measured", "status", "note"], summary), ""]
    for r in results:
        out += [f"## {r.title}", "", markdown_table(r.columns, r.rows), ""]
        out += [f"- {n}" for n in r.notes]
        out += [f"- took {r.seconds:.1f} s", ""]
    return "\n".join(out)


def write_results(results: Sequence[BenchResult], quick: bool, path_stem: str = "latest"
                  ) -> tuple[Path, Path, str]:
    """Write ``<stem>.json`` and ``<stem>.md`` under ``benchmarks/results``; return the text."""
    env = environment()
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    json_path = RESULTS_DIR / f"{path_stem}.json"
    md_path = RESULTS_DIR / f"{path_stem}.md"
    doc = {"quick": quick, "environment": env, "benchmarks": [r.to_dict() for r in results]}
    json_path.write_text(json.dumps(doc, indent=2, default=str) + "\n")
    text = render_markdown(results, env, quick)
    md_path.write_text(text)
    return json_path, md_path, text


@contextmanager
def stopwatch(result: BenchResult) -> Iterator[None]:
    """Record how long a benchmark took in ``result.seconds``."""
    start = time.perf_counter()
    try:
        yield
    finally:
        result.seconds = round(time.perf_counter() - start, 2)


def standalone(run: Callable[[EmulatorProcess, bool], BenchResult], argv: list[str] | None = None
               ) -> int:
    """Run one benchmark module on its own: ``python benchmarks/bench_x.py [--quick]``."""
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer iterations (~1/4 the time)")
    args = parser.parse_args(argv)
    with EmulatorProcess() as emu:
        result = run(emu, args.quick)
    print(render_markdown([result], environment(), args.quick))
    return 0
