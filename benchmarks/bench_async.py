"""Benchmark 2: async throughput at 16- and 64-way concurrency for a fixed number of requests.

All clients share one event loop; each scenario sends the same number of small completions with
C workers, and clients take turns in rounds. Targets: the provider's async API at least 0.9x the
bare ``azure.ai.inference.aio.ChatCompletionsClient`` and at least 1.6x ``AsyncOpenAI``.

    python benchmarks/bench_async.py [--quick]
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))

from _common import (
    MODEL,
    NOT_AVAILABLE,
    PROMPT,
    TOKEN,
    BenchResult,
    EmulatorProcess,
    Target,
    has_async_api,
    make_provider,
    median,
    ratio,
    sdk_messages,
    standalone,
    stopwatch,
)

AZURE = "azure aio ChatCompletionsClient (default)"
OPENAI = "openai AsyncOpenAI"
AGENERATE = "provider.agenerate"
SESSIONS = "provider.new_session().asend_message"
DIAGNOSTIC = "provider.agenerate, extra use_env_proxies=False (diagnostic)"
HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json",
           "X-GitHub-Api-Version": "2022-11-28"}
BODY = json.dumps({"model": MODEL, "messages": [{"role": "user", "content": PROMPT}]}).encode()
Call = Callable[[], Awaitable[Any]]


async def drive(call: Call, total: int, concurrency: int) -> tuple[float, int]:
    """Send ``total`` requests with ``concurrency`` workers; return (seconds, errors)."""
    remaining = total
    errors = 0

    async def worker() -> None:
        nonlocal remaining, errors
        while remaining > 0:
            remaining -= 1
            try:
                await call()
            except Exception:
                errors += 1

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start, errors


async def build_clients(endpoint: str) -> tuple[dict[str, Call | None], list[Call]]:
    """The clients under test (``None``: not available yet) and their async close functions."""
    import aiohttp
    import httpx
    from azure.ai.inference.aio import ChatCompletionsClient
    from azure.core.credentials import AzureKeyCredential
    from openai import AsyncOpenAI

    provider = make_provider(endpoint)
    no_proxy_provider = make_provider(endpoint, use_env_proxies=False)
    azure = ChatCompletionsClient(endpoint, AzureKeyCredential(TOKEN))
    oai = AsyncOpenAI(base_url=endpoint, api_key=TOKEN)
    hx = httpx.AsyncClient(base_url=endpoint, headers=HEADERS,
                           limits=httpx.Limits(max_connections=100))
    session = aiohttp.ClientSession()
    url = endpoint + "/chat/completions"

    async def raw_aiohttp() -> Any:
        async with session.post(url, data=BODY, headers=HEADERS) as resp:
            return json.loads(await resp.read())

    async def raw_httpx() -> Any:
        return (await hx.post("/chat/completions", content=BODY)).json()

    async def with_session() -> Any:
        return await provider.new_session().asend_message(PROMPT)

    available = has_async_api(provider)
    clients: dict[str, Call | None] = {
        AGENERATE: (lambda: provider.agenerate(PROMPT)) if available else None,
        SESSIONS: with_session if available and hasattr(provider, "new_session") else None,
        DIAGNOSTIC: (lambda: no_proxy_provider.agenerate(PROMPT)) if available else None,
        AZURE: lambda: azure.complete(messages=sdk_messages(PROMPT), model=MODEL),
        OPENAI: lambda: oai.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": PROMPT}]),
        "httpx.AsyncClient + json": raw_httpx,
        "aiohttp + json (raw)": raw_aiohttp,
    }

    async def close_providers() -> None:
        for p in (provider, no_proxy_provider):
            closer = getattr(p, "ashutdown", None)
            if closer is not None:
                await closer()
            else:
                p.shutdown()

    return clients, [close_providers, azure.close, oai.close, hx.aclose, session.close]


async def measure(endpoint: str, total: int, levels: list[int], rounds: int
                  ) -> dict[tuple[str, int], tuple[float, int]]:
    """Median requests/s and total errors per (client, concurrency)."""
    clients, closers = await build_clients(endpoint)
    runs: dict[tuple[str, int], list[float]] = {}
    errors: dict[tuple[str, int], int] = {}
    try:
        for call in clients.values():
            if call is not None:
                await drive(call, 2 * max(levels), max(levels))  # warm-up: open the connections
        for _ in range(rounds):
            for level in levels:
                for name, call in clients.items():
                    if call is None:
                        continue
                    seconds, failed = await drive(call, total, level)
                    runs.setdefault((name, level), []).append(total / seconds)
                    errors[(name, level)] = errors.get((name, level), 0) + failed
    finally:
        for close in closers:
            await close()
    out = {key: (median(v), errors[key]) for key, v in runs.items()}
    for name, call in clients.items():
        if call is None:
            for level in levels:
                out[(name, level)] = (float("nan"), -1)
    return out


def run(emu: EmulatorProcess, quick: bool) -> BenchResult:
    """Throughput of every async client at each concurrency, against azure aio and AsyncOpenAI."""
    result = BenchResult(
        "async", "2. Async throughput (fixed number of small completions, one event loop)",
        ["client", "concurrency", "req/s", "vs azure aio", "vs AsyncOpenAI", "errors"])
    total, rounds, levels = (300, 2, [16, 64]) if quick else (500, 6, [16, 64])
    with stopwatch(result):
        stats = asyncio.run(measure(emu.inference_url, total, levels, rounds))
    names = list(dict.fromkeys(name for name, _ in stats))
    for level in levels:
        base_az, base_oai = stats[(AZURE, level)][0], stats[(OPENAI, level)][0]
        for name in names:
            rps, errs = stats[(name, level)]
            missing = rps != rps
            result.rows.append({
                "client": name, "concurrency": level,
                "req/s": NOT_AVAILABLE if missing else round(rps, 1),
                "vs azure aio": NOT_AVAILABLE if missing else ratio(rps, base_az),
                "vs AsyncOpenAI": NOT_AVAILABLE if missing else ratio(rps, base_oai),
                "errors": NOT_AVAILABLE if errs < 0 else errs})
        rps = stats[(AGENERATE, level)][0]
        for base, label, goal in ((base_az, "bare azure aio", 0.9), (base_oai, "AsyncOpenAI", 1.6)):
            if rps != rps:
                result.targets.append(Target(f"provider.agenerate x{level}",
                                             f"≥ {goal}× {label}", NOT_AVAILABLE, None,
                                             "the async API is not in this checkout yet"))
                continue
            r = ratio(rps, base)
            result.targets.append(Target(
                f"provider.agenerate x{level}", f"≥ {goal}× {label}", f"{r:.3f}×", r >= goal,
                "" if r >= goal else f"{(1 - r / goal) * 100:.0f}% under target"))
    if stats[(DIAGNOSTIC, levels[0])][0] == stats[(DIAGNOSTIC, levels[0])][0]:
        result.notes.append(
            "why: the diagnostic row (`use_env_proxies=False`) reaches " + ", ".join(
                f"{ratio(stats[(DIAGNOSTIC, lv)][0], stats[(AZURE, lv)][0]):.2f}× azure aio "
                f"at x{lv}" for lv in levels)
            + ": with `trust_env=True` aiohttp looks up proxy variables (and .netrc) on every "
            "request; resolving them once per client removes that cost.")
    result.notes.append(
        f"{total} requests per scenario, median of {rounds} interleaved rounds after a warm-up; "
        "`new_session()` opens one conversation per request (history does not grow). "
        "Provider built with default settings plus pacing=False.")
    return result


if __name__ == "__main__":
    sys.exit(standalone(run))
