"""How many requests per second the emulator can serve: the ceiling client benchmarks run under.

Runs the emulator in a subprocess (``python -m ...emulator``) and drives it with the leanest
clients available: raw ``http.client`` keep-alive connections from N threads, and a raw aiohttp
client at 16 concurrent requests. Prints requests/s and writes
``benchmarks/results/emulator_ceiling.json``. Not part of the test run.

    python benchmarks/emulator_ceiling.py [--duration 3] [--threads 1 4] [--concurrency 16]
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import aiohttp

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "emulator_ceiling.json"
PATH = "/inference/chat/completions"
HEADERS = {
    "Authorization": "Bearer ghp_benchmark",
    "Content-Type": "application/json",
    "X-GitHub-Api-Version": "2022-11-28",
}
BODY = json.dumps(
    {"model": "openai/gpt-4o-mini", "messages": [{"role": "user", "content": "Say hi"}]}
).encode()
STREAM_BODY = json.dumps(
    {
        "model": "openai/gpt-4o-mini",
        "messages": [{"role": "user", "content": "count one two three four five"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
).encode()


def start_emulator() -> tuple[subprocess.Popen[str], str, int]:
    """The emulator in its own process; returns (process, host, port)."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shared.plugins.model_provider.github_models.emulator",
            "--port",
            "0",
            "--request-log-limit",
            "1",
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url.startswith("http://"):
        proc.kill()
        raise SystemExit(f"emulator did not start (printed {url!r})")
    host, _, port = url.removeprefix("http://").rpartition(":")
    return proc, host, int(port)


def http_client_threads(host: str, port: int, threads: int, duration: float) -> dict[str, Any]:
    """Keep-alive http.client connections, one per thread, for ``duration`` seconds."""
    counts = [0] * threads
    errors = [0] * threads
    deadline = time.perf_counter() + duration
    barrier = threading.Barrier(threads + 1)

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection(host, port, timeout=10)
        barrier.wait()
        while time.perf_counter() < deadline:
            conn.request("POST", PATH, BODY, HEADERS)
            resp = conn.getresponse()
            resp.read()
            if resp.status == 200:
                counts[i] += 1
            else:
                errors[i] += 1
        conn.close()

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - started
    total = sum(counts)
    return {
        "client": "http.client keep-alive",
        "threads": threads,
        "requests": total,
        "errors": sum(errors),
        "seconds": round(elapsed, 3),
        "requests_per_second": round(total / elapsed, 1),
        "mean_latency_us": round(elapsed * threads / max(total, 1) * 1e6, 1),
    }


async def aiohttp_client(
    host: str, port: int, concurrency: int, duration: float, body: bytes, label: str
) -> dict[str, Any]:
    """A raw aiohttp session with ``concurrency`` workers for ``duration`` seconds."""
    url = f"http://{host}:{port}{PATH}"
    count = errors = 0
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        deadline = time.perf_counter() + duration

        async def worker() -> None:
            nonlocal count, errors
            while time.perf_counter() < deadline:
                async with session.post(url, data=body, headers=HEADERS) as resp:
                    await resp.read()
                    if resp.status == 200:
                        count += 1
                    else:
                        errors += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {
        "client": f"aiohttp {label}",
        "concurrency": concurrency,
        "requests": count,
        "errors": errors,
        "seconds": round(elapsed, 3),
        "requests_per_second": round(count / elapsed, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per scenario")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    proc, host, port = start_emulator()
    runs: list[dict[str, Any]] = []
    try:
        http_client_threads(host, port, 1, 0.5)  # warm-up (imports, catalog, caches)
        for threads in args.threads:
            runs.append(http_client_threads(host, port, threads, args.duration))
        for body, label in ((BODY, "non-streaming"), (STREAM_BODY, "streaming (7 chunks)")):
            runs.append(
                asyncio.run(
                    aiohttp_client(host, port, args.concurrency, args.duration, body, label)
                )
            )
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    for run in runs:
        width = run.get("threads", run.get("concurrency"))
        print(
            f"{run['client']:<34} x{width:<3} {run['requests_per_second']:>9.1f} req/s"
            f"  ({run['requests']} requests, {run['errors']} errors)"
        )
    result = {
        "benchmark": "emulator_ceiling",
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
        "cpus": os.cpu_count(),
        "duration_per_scenario_s": args.duration,
        "request": "small non-streaming completion, openai/gpt-4o-mini, default echo reply",
        "runs": runs,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
