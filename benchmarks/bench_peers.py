"""Benchmark 11: the provider against its peers, on a minimal server pinned apart (issue 23).

The server is ``benchmarks/peer_server.py`` (written for this benchmark: no checks, no pacing)
in its own process pinned to core 1; this process pins itself to core 0 while it measures. The
clients take turns (interleaved rounds) and every ratio is taken within this run:

- sequential small requests: ``send_message`` vs raw httpx, http.client, the bare azure SDK, openai;
- jaato's stateless path: ``complete()`` over histories of 10 / 100 / 1,000 messages (the same
  ``Message`` objects each turn, and fresh copies each turn) vs the bare azure SDK (its own
  message objects, built once), openai, httpx and http.client sending the same messages; time
  is wall and *client CPU* (``time.process_time``: the server's work is not counted);
- streaming (a 100-word echo) vs httpx and the azure SDK;
- ``agenerate`` with 64 in flight vs aiohttp, httpx, azure aio and AsyncOpenAI (requests/s);
  the target's ratio is the median of per-round ratios of paired rounds (the provider and raw
  aiohttp back to back, order alternating, after a warm-up), so a slow round of either moves
  one sample, not the result;
- memory: 1,000 conversations of 20 messages (18 of history + one turn) vs the same
  histories as plain wire dicts (``tracemalloc``).

    python benchmarks/bench_peers.py [--quick] [--out STEM] [--only SECTION ...]
    # --quick: under a minute; --only async (history, sequential, streaming, memory): one part

Results: ``benchmarks/results/STEM.{json,md}`` (default stem ``peers``). To measure another
checkout's provider with this benchmark, put it first on ``PYTHONPATH``.
"""

from __future__ import annotations

import asyncio
import copy
import gc
import json
import os
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_async
import bench_latency
import bench_streaming
from _common import (
    MODEL,
    PROMPT,
    TOKEN,
    BenchResult,
    EmulatorProcess,
    Target,
    make_provider,
    measure,
    median,
    ratio,
    stopwatch,
    write_results,
)
from bench_history import build_history

SERVER = [sys.executable, str(Path(__file__).resolve().parent / "peer_server.py")]
HEADERS = bench_latency.HEADERS
SIZES = (10, 100, 1000)
GOALS = {"complete": 1.5, "send_message": 1.6, "agenerate": 0.4, "memory": 1.5,
         "streaming": 1.3}


@contextmanager
def pinned(cpu: int) -> Iterator[None]:
    """Run the block on one core (the server has the other), then restore the affinity."""
    if not hasattr(os, "sched_setaffinity") or (os.cpu_count() or 1) < 2:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def measure_cpu(clients: dict[str, Callable[[], Any]], per_client: int, rounds: int,
                warmup: int) -> dict[str, tuple[float, float]]:
    """Median (wall, client CPU) seconds per call, interleaved in rounds."""
    for fn in clients.values():
        for _ in range(warmup):
            fn()
    wall: dict[str, list[float]] = {n: [] for n in clients}
    cpu: dict[str, list[float]] = {n: [] for n in clients}
    for _ in range(rounds):
        for name, fn in clients.items():
            for _ in range(max(1, per_client // rounds)):
                c0, w0 = time.process_time(), time.perf_counter()
                fn()
                wall[name].append(time.perf_counter() - w0)
                cpu[name].append(time.process_time() - c0)
    return {n: (median(wall[n]), median(cpu[n])) for n in clients}


def sdk_history(wire: list[dict[str, Any]]) -> list[Any]:
    """The azure SDK's own message objects for wire messages (what its user would keep)."""
    from azure.ai.inference import models as m

    out: list[Any] = []
    for w in wire:
        if w["role"] == "user":
            out.append(m.UserMessage(w["content"]))
        elif w["role"] == "tool":
            out.append(m.ToolMessage(w["content"], tool_call_id=w["tool_call_id"]))
        else:
            calls = [m.ChatCompletionsToolCall(id=c["id"], function=m.FunctionCall(
                name=c["function"]["name"], arguments=c["function"]["arguments"]))
                for c in w.get("tool_calls") or ()]
            out.append(m.AssistantMessage(w["content"], tool_calls=calls or None))
    return out


def history_clients(endpoint: str, size: int, samples: int
                    ) -> tuple[dict[str, Callable[[], Any]], list[Callable[[], Any]]]:
    """Clients sending one turn over a ``size``-message history."""
    import http.client

    import httpx
    from azure.ai.inference import ChatCompletionsClient
    from azure.core.credentials import AzureKeyCredential
    from openai import OpenAI

    from shared.plugins.model_provider.github_models.wire.wire_request import messages_to_wire
    from shared.plugins.model_provider.types import Message, Part, Role

    history = [*build_history(size - 1), Message(role=Role.USER, parts=[Part(text=PROMPT)])]
    wire = messages_to_wire(history)
    provider = make_provider(endpoint, enforce_tier_limits=False)
    azure = ChatCompletionsClient(endpoint, AzureKeyCredential(TOKEN))
    oai = OpenAI(base_url=endpoint, api_key=TOKEN)
    hx = httpx.Client(base_url=endpoint, headers=HEADERS)
    host, _, port = endpoint.removeprefix("http://").partition("/")[0].rpartition(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    path = "/" + endpoint.removeprefix("http://").partition("/")[2] + "/chat/completions"
    sdk_msgs = sdk_history(wire)
    copies = [copy.deepcopy(history) for _ in range(samples)]

    def fresh() -> Any:  # jaato rebuilding its Message objects each turn (built in advance)
        return provider.complete(copies.pop() if copies else copy.deepcopy(history))

    def raw_http() -> Any:
        conn.request("POST", path, json.dumps({"model": MODEL, "messages": wire}), HEADERS)
        return json.loads(conn.getresponse().read())

    clients: dict[str, Callable[[], Any]] = {
        "provider.complete (same objects)": lambda: provider.complete(list(history)),
        "provider.complete (fresh copies)": fresh,
        "azure ChatCompletionsClient": lambda: azure.complete(messages=sdk_msgs, model=MODEL),
        "openai OpenAI": lambda: oai.chat.completions.create(model=MODEL, messages=wire),
        "httpx.Client + json": lambda: hx.post(
            "/chat/completions", content=json.dumps({"model": MODEL, "messages": wire})).json(),
        "http.client + json": raw_http,
    }
    return clients, [provider.shutdown, azure.close, oai.close, hx.close, conn.close]


def run_history(endpoint: str, quick: bool, result: BenchResult) -> None:
    """complete() over 10/100/1,000 messages against the bare azure SDK (client CPU)."""
    for size in SIZES:
        per_client = (12 if quick else 40) if size == 1000 else (40 if quick else 150)
        clients, closers = history_clients(endpoint, size, per_client + 8)
        try:
            stats = measure_cpu(clients, per_client, 4, 3)
        finally:
            for close in closers:
                close()
        base_wall, base_cpu = stats["azure ChatCompletionsClient"]
        for name, (wall, cpu) in stats.items():
            result.rows.append({"section": f"complete, {size:,} messages", "client": name,
                                "median µs": round(wall * 1e6, 1),
                                "client CPU µs": round(cpu * 1e6, 1),
                                "vs azure (CPU)": ratio(cpu, base_cpu),
                                "vs azure (wall)": ratio(wall, base_wall)})
        r = ratio(stats["provider.complete (same objects)"][1], base_cpu)
        fresh = ratio(stats["provider.complete (fresh copies)"][1], base_cpu)
        result.targets.append(Target(
            f"complete(), {size:,} messages, client CPU", f"≤ {GOALS['complete']}× bare azure "
            "SDK", f"{r:.3f}× (fresh copies {fresh:.3f}×)", r <= GOALS["complete"]
            if size == 1000 else None, "" if size == 1000 else "reported, the goal is at 1,000"))


def run_sequential(endpoint: str, quick: bool, result: BenchResult) -> None:
    """Small sequential requests: send_message vs raw httpx / http.client / SDKs."""
    clients, closers = bench_latency.build_clients(endpoint)
    keep = ("provider.send_message (new session each)", bench_latency.BASELINE, "openai OpenAI",
            "httpx.Client + json", "http.client keep-alive + json")
    try:
        samples = measure({k: clients[k] for k in keep}, 300 if quick else 1200, 6, 30)
    finally:
        for close in closers:
            close()
    stats = {k: median(v) for k, v in samples.items()}
    base = stats["httpx.Client + json"]
    for name, value in stats.items():
        result.rows.append({"section": "sequential small request", "client": name,
                            "median µs": round(value * 1e6, 1), "vs httpx": ratio(value, base)})
    r = ratio(stats[keep[0]], base)
    result.targets.append(Target("send_message median", f"≤ {GOALS['send_message']}× raw httpx",
                                 f"{r:.3f}×", r <= GOALS["send_message"],
                                 "transport: docs/performance.md, issue 23"))


def run_streaming(endpoint: str, quick: bool, result: BenchResult) -> None:
    """A 100-word streamed echo: total time vs httpx and the bare azure SDK."""
    streamers, closers = bench_streaming.build_streamers(endpoint)
    keep = (bench_streaming.PROVIDER, bench_streaming.AZURE, "openai OpenAI stream=True",
            "httpx + json.loads (raw SSE)")
    keep = tuple(k for k in keep if k in streamers)
    prompt = bench_streaming.long_prompt(100)
    totals: dict[str, list[float]] = {k: [] for k in keep}
    try:
        for _ in range(3):
            for k in keep:
                bench_streaming.one_stream(streamers[k], prompt)
        for _ in range(10 if quick else 40):
            for k in keep:
                totals[k].append(bench_streaming.one_stream(streamers[k], prompt)[1])
    finally:
        for close in closers:
            close()
    base = median(totals[keep[-1]])
    for k in keep:
        result.rows.append({"section": "streaming, 100 chunks", "client": k,
                            "median µs": round(median(totals[k]) * 1e6, 1),
                            "vs httpx": ratio(median(totals[k]), base)})
    r = ratio(median(totals[keep[0]]), base)
    result.targets.append(Target("streaming total", f"≤ {GOALS['streaming']}× httpx",
                                 f"{r:.3f}×", r <= GOALS["streaming"]))


async def paired_rounds(endpoint: str, total: int, rounds: int
                        ) -> tuple[list[float], list[float], dict[str, list[float]], int]:
    """``agenerate`` and raw aiohttp, 64 in flight each, back to back in every round (the order
    alternating), after a warm-up: (per-round requests/s ratios, per-round requests-per-CPU-
    second ratios, requests/s per client, errors). Both drive the same ``total`` requests with
    the same 64 workers."""
    clients, closers = await bench_async.build_clients(endpoint)
    provider, raw = clients[bench_async.AGENERATE], clients["aiohttp + json (raw)"]
    assert provider is not None and raw is not None
    ratios: list[float] = []
    cpu_ratios: list[float] = []
    rates: dict[str, list[float]] = {"provider": [], "aiohttp": []}
    errors = 0
    try:
        for call in (raw, provider):  # warm-up: connections, caches, lazy imports
            await bench_async.drive(call, total, 64)
        for i in range(rounds):
            order = [("aiohttp", raw), ("provider", provider)]
            this: dict[str, float] = {}
            cpu: dict[str, float] = {}
            for name, call in order if i % 2 == 0 else order[::-1]:
                gc.collect()  # no collection left over from the other client's round
                c0 = time.process_time()
                seconds, failed = await bench_async.drive(call, total, 64)
                cpu[name] = time.process_time() - c0
                errors += failed
                this[name] = total / seconds
                rates[name].append(this[name])
            ratios.append(this["provider"] / this["aiohttp"])
            cpu_ratios.append(cpu["aiohttp"] / cpu["provider"])
    finally:
        for close in closers:
            await close()
    return ratios, cpu_ratios, rates, errors


def run_async(endpoint: str, quick: bool, result: BenchResult) -> None:
    """agenerate with 64 in flight vs aiohttp and the others (requests/s); the target is the
    median of per-round ratios of paired, interleaved rounds against raw aiohttp."""
    total = 320 if quick else 1280
    rates = asyncio.run(bench_async.measure(endpoint, total, [64], 2 if quick else 3))
    base = rates[("aiohttp + json (raw)", 64)][0]
    for (name, _), (rate, errors) in rates.items():
        result.rows.append({"section": "async, 64 in flight", "client": name,
                            "requests/s": round(rate, 1), "vs aiohttp": ratio(rate, base),
                            "errors": errors})
    rounds, per_round = (7, 640) if quick else (15, 1280)
    ratios, cpu_ratios, rates, errors = asyncio.run(paired_rounds(endpoint, per_round, rounds))
    r = median(ratios)
    for name, values in ((f"paired rounds: {bench_async.AGENERATE}", rates["provider"]),
                         ("paired rounds: aiohttp + json (raw)", rates["aiohttp"])):
        result.rows.append({"section": "async, 64 in flight", "client": name,
                            "requests/s": round(median(values), 1),
                            "vs aiohttp": ratio(median(values), median(rates["aiohttp"])),
                            "errors": errors})
    result.targets.append(Target(
        "agenerate x64 requests/s", f"≥ {GOALS['agenerate']}× raw aiohttp",
        f"{r:.3f}× (median of {rounds} paired rounds; min {min(ratios):.3f}, max "
        f"{max(ratios):.3f}; per client CPU second {median(cpu_ratios):.3f}×)",
        r >= GOALS["agenerate"], f"{per_round} requests per client per round, order "
        "alternating; docs/performance.md"))


def _conversation(c: int) -> list[Any]:
    from shared.plugins.model_provider.types import Message, Part

    return [Message(role=m.role, parts=[Part(text=f"[{c}] {p.text}") if p.text else p
                                        for p in m.parts]) for m in build_history(18)]


def run_memory(endpoint: str, quick: bool, result: BenchResult) -> None:
    """1,000 conversations x 20 messages held by the provider vs plain dicts."""
    from shared.plugins.model_provider.github_models.wire.wire_request import messages_to_wire

    count = 1000
    provider = make_provider(endpoint, enforce_tier_limits=False)
    provider.new_session(history=_conversation(-1)).send_message(PROMPT)  # warm imports

    def traced(build: Callable[[], Any]) -> int:
        gc.collect()
        tracemalloc.start()
        try:
            held = build()
            gc.collect()
            size = tracemalloc.get_traced_memory()[0]
        finally:
            tracemalloc.stop()
        del held
        return size

    def with_provider() -> Any:
        sessions = [provider.new_session(history=_conversation(c)) for c in range(count)]
        for session in sessions:
            session.send_message(PROMPT)
        return sessions

    def as_dicts() -> Any:
        out = []
        for c in range(count):
            wire = messages_to_wire(_conversation(c))
            out.append([*wire, {"role": "user", "content": PROMPT},
                        {"role": "assistant", "content": "Hi! How can I help you today?"}])
        return out

    try:
        dicts = traced(as_dicts)
        held = traced(with_provider)
    finally:
        provider.shutdown()
    r = ratio(held, dicts)
    for name, size in (("provider sessions (after one turn each)", held), ("plain dicts", dicts)):
        result.rows.append({"section": "memory, 1,000 × 20 messages", "client": name,
                            "KiB": round(size / 1024, 1), "vs dicts": ratio(size, dicts)})
    result.targets.append(Target("memory, 1,000 conversations × 20 messages",
                                 f"≤ {GOALS['memory']}× plain dicts", f"{r:.3f}×",
                                 r <= GOALS["memory"]))


SECTIONS = ("history", "sequential", "streaming", "async", "memory")


def run(emu: EmulatorProcess | None, quick: bool,
        sections: tuple[str, ...] = SECTIONS) -> BenchResult:
    """Every section against one peer server pinned to core 1, this process on core 0."""
    del emu  # this benchmark brings its own server
    result = BenchResult("peers", "11. Against peers on a minimal server pinned apart",
                         ["section", "client", "median µs", "client CPU µs", "vs azure (CPU)",
                          "vs azure (wall)", "vs httpx", "requests/s", "vs aiohttp", "errors",
                          "KiB", "vs dicts"])
    with stopwatch(result), EmulatorProcess(args=["--cpu", "1"], command=SERVER) as server, \
            pinned(0):
        endpoint = server.inference_url
        for section in (run_history, run_sequential, run_streaming, run_async, run_memory):
            if section.__name__.removeprefix("run_") not in sections:
                continue
            print(f"[{time.strftime('%H:%M:%S')}] peers: {section.__name__}", file=sys.stderr,
                  flush=True)
            section(endpoint, quick, result)
    result.notes.append(
        "server: benchmarks/peer_server.py (asyncio, keep-alive, fixed reply; SSE echo) pinned "
        "to core 1; clients pinned to core 0. 'client CPU' is time.process_time of this "
        "process per call, so the server's work is not in it. History messages cycle user "
        "text, a model turn with 2 function calls, a tool turn with 2 dict results, model text.")
    return result


def main(argv: list[str] | None = None) -> int:
    """``--quick``; ``--out STEM`` writes ``benchmarks/results/STEM.{json,md}``."""
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="about a minute")
    parser.add_argument("--out", default="peers", help="results file stem (default: peers)")
    parser.add_argument("--only", action="append", choices=SECTIONS,
                        help="run only this section (repeatable; default: all)")
    args = parser.parse_args(argv)
    result = run(None, args.quick, tuple(args.only or SECTIONS))
    json_path, _, text = write_results([result], args.quick, path_stem=args.out)
    print(text)
    print(f"written: {json_path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
