"""Benchmark 5: goodput under the free-tier limits (a burst against a 15-per-minute model).

The emulator's CLI has no clock option, so this module doubles as a launcher: ``--serve`` runs
an ``Emulator(clock=ScaledClock(k), rate_limits=True)`` in its own process and counts response
statuses per token (each scenario uses its own token, so its own rate-limit window). The
provider gets a ``ScaledClock`` of the same speed. Both windows slide, so the two clocks need
the same rate, not the same origin. Target: wall time at most 1.1x the ideal schedule (the
minimum the limit allows) with zero 429s surfaced to the caller.

    python benchmarks/bench_goodput.py [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))

from _common import (
    LOW_TIER_MODEL,
    NOT_AVAILABLE,
    PROMPT,
    TOKEN,
    BenchResult,
    EmulatorProcess,
    Target,
    environment,
    median,
    render_markdown,
    sdk_messages,
    stopwatch,
)

TARGET = 1.1
RPM = 15  # openai/gpt-4o-mini is in the "low" tier: 15 requests a minute, 5 concurrent


# ---------------------------------------------------------------- the launcher (child process)


def serve(scale: float, port: int, log_limit: int) -> int:
    """Run a rate-limited emulator on a scaled clock; answer ``stats`` lines on stdin."""
    from shared.plugins.model_provider.github_models.common.clock import ScaledClock
    from shared.plugins.model_provider.github_models.emulator import Emulator
    from shared.plugins.model_provider.github_models.emulator.handler import RequestHandler

    statuses: defaultdict[str, Counter[str]] = defaultdict(Counter)
    original = RequestHandler.__call__

    async def counting(self: RequestHandler, request: Any) -> Any:
        response = await original(self, request)
        token = request.headers.get("Authorization", "").partition(" ")[2]
        statuses[token][str(response.status)] += 1
        if response.status == 429:
            statuses[token]["429 " + response.headers.get("x-ratelimit-type", "?")] += 1
        return response

    RequestHandler.__call__ = counting  # type: ignore[method-assign]
    emulator = Emulator(clock=ScaledClock(scale), rate_limits=True, port=port,
                        request_log_limit=log_limit)
    emulator.start()
    print(emulator.url, flush=True)
    try:
        for line in sys.stdin:
            if line.strip() == "stats":
                print(json.dumps({t: dict(c) for t, c in statuses.items()}), flush=True)
    finally:
        emulator.stop()
    return 0


# ---------------------------------------------------------------- the scenarios (parent)


def ideal_seconds(requests: int, scale: float) -> float:
    """The least real time ``requests`` starts take under RPM per sliding minute."""
    return math.floor((requests - 1) / RPM) * 60.0 / scale


def paced_provider(endpoint: str, token: str, scale: float, pacing: bool) -> Any:
    """A provider on a ``ScaledClock(scale)``, connected to the low-tier model."""
    from shared import ProviderConfig
    from shared.plugins.model_provider.github_models import GitHubModelsProvider
    from shared.plugins.model_provider.github_models.common.clock import ScaledClock

    provider = GitHubModelsProvider(clock=ScaledClock(scale))
    provider.initialize(ProviderConfig(api_key=token, extra={
        "endpoint": endpoint, "pacing": pacing, "max_retries": 5}))
    provider.connect(LOW_TIER_MODEL)
    return provider


def burst_sync(call: Callable[[], Any], requests: int) -> tuple[float, int, int]:
    """Sequential burst: (seconds, responses, 429s raised to the caller)."""
    from shared.plugins.model_provider.github_models.errors import RateLimitError

    ok = surfaced = 0
    start = time.perf_counter()
    for _ in range(requests):
        try:
            call()
            ok += 1
        except RateLimitError:
            surfaced += 1
        except Exception as exc:  # the bare SDK's 429
            if getattr(exc, "status_code", None) != 429:
                raise
            surfaced += 1
    return time.perf_counter() - start, ok, surfaced


def burst_async(provider: Any, requests: int) -> tuple[float, int, int]:
    """All requests at once with ``agenerate``: (seconds, responses, 429s raised)."""
    from shared.plugins.model_provider.github_models.errors import RateLimitError

    async def main() -> tuple[float, int, int]:
        start = time.perf_counter()
        outcomes = await asyncio.gather(*(provider.agenerate(PROMPT) for _ in range(requests)),
                                        return_exceptions=True)
        elapsed = time.perf_counter() - start
        await provider.ashutdown()
        errors = [o for o in outcomes if isinstance(o, BaseException)]
        if any(not isinstance(e, RateLimitError) for e in errors):
            raise next(e for e in errors if not isinstance(e, RateLimitError))
        return elapsed, requests - len(errors), len(errors)

    return asyncio.run(main())


def run(emu: EmulatorProcess | None, quick: bool) -> BenchResult:
    """Burst scenarios against a scaled-clock, rate-limited emulator of our own."""
    del emu  # this benchmark needs its own emulator (scaled clock, limits on)
    result = BenchResult(
        "goodput", "5. Goodput under free-tier limits (burst on a 15/min low-tier model)",
        ["client", "requests", "runs", "wall s (median)", "ideal s", "vs ideal (median)",
         "vs ideal (worst)", "429s surfaced", "429s on the wire", "responses"])
    requests, scale, repeats = (30, 60.0, 1) if quick else (45, 60.0, 3)
    ideal = ideal_seconds(requests, scale)
    launcher = [sys.executable, __file__, "--serve", "--scale", str(scale)]
    with stopwatch(result), EmulatorProcess(command=launcher) as server:
        scenarios = build_scenarios(server.inference_url, requests, scale)
        measured: dict[str, list[tuple[float, int, int]]] = {name: [] for name in scenarios}
        tokens: dict[str, list[str]] = {name: [] for name in scenarios}
        for rep in range(repeats):
            for i, (name, scenario) in enumerate(scenarios.items()):
                if name.startswith("bare") and rep:
                    continue  # deterministic: one run is enough
                token = f"{TOKEN}{i:02d}{rep:02d}"
                tokens[name].append(token)
                try:
                    measured[name].append(scenario(token))
                except NotImplementedError:
                    break
        wire = json.loads(server.command("stats"))
    for name, outcomes in measured.items():
        add_row(result, name, outcomes, [wire.get(t, {}) for t in tokens[name]], requests,
                ideal)
    result.notes.append(
        f"clock scaled {scale:g}× (a 60 s window lasts {60 / scale:.2f} s real); ideal = "
        f"floor(({requests}-1)/{RPM}) windows = {ideal:.2f} s real. Statuses counted by the "
        "emulator per token; each run has its own token (its own window). 429 counts are "
        "summed over the runs.")
    paced_wire = sum(int(str(r.get("429s on the wire", 0)).split()[0]) for r in result.rows
                     if "pacing on" in r["client"] and r.get("runs"))
    if paced_wire:
        result.notes.append(
            "why: with pacing on, 429s still reach the wire at each window edge. The pacer "
            "grants the 16th start 1 µs (`pacing._MARGIN`) after the oldest start leaves its "
            "window, measured at send time; the server measures arrival, and the first request "
            "of a window (new connection) arrives later than the next ones, so it still counts "
            "16. The retry succeeds, but the refused attempt keeps its stamp in the pacer's "
            "window, so the pacer believes 15 slots are used and the burst's last requests wait "
            "one more window.")
    result.notes.append(
        "the bare SDK row keeps its retries off: with them on it sleeps the Retry-After in real "
        "seconds (60 s per window, uncapped), which a scaled clock cannot shorten.")
    return result


def build_scenarios(endpoint: str, requests: int, scale: float
                    ) -> dict[str, Callable[[str], tuple[float, int, int]]]:
    """Each scenario sends the burst with its own token; returns (seconds, ok, 429s raised)."""

    def sync_paced(token: str) -> tuple[float, int, int]:
        provider = paced_provider(endpoint, token, scale, pacing=True)
        try:
            return burst_sync(lambda: provider.generate(PROMPT), requests)
        finally:
            provider.shutdown()

    def async_paced(token: str) -> tuple[float, int, int]:
        provider = paced_provider(endpoint, token, scale, pacing=True)
        if not hasattr(provider, "agenerate"):
            raise NotImplementedError
        return burst_async(provider, requests)

    def sync_reactive(token: str) -> tuple[float, int, int]:
        provider = paced_provider(endpoint, token, scale, pacing=False)
        try:
            return burst_sync(lambda: provider.generate(PROMPT), requests)
        finally:
            provider.shutdown()

    def bare_no_retry(token: str) -> tuple[float, int, int]:
        from azure.ai.inference import ChatCompletionsClient
        from azure.core.credentials import AzureKeyCredential

        with ChatCompletionsClient(endpoint, AzureKeyCredential(token),
                                   retry_total=0) as client:
            return burst_sync(lambda: client.complete(
                messages=sdk_messages(PROMPT), model=LOW_TIER_MODEL), requests)

    return {
        "provider.generate, pacing on (sequential)": sync_paced,
        f"provider.agenerate, pacing on ({requests} at once)": async_paced,
        "provider.generate, pacing off (retries on 429, sequential)": sync_reactive,
        "bare ChatCompletionsClient, retry_total=0 (sequential)": bare_no_retry,
    }


def add_row(result: BenchResult, name: str, outcomes: list[tuple[float, int, int]],
            counts: list[dict[str, int]], requests: int, ideal: float) -> None:
    """One table row (and a target for paced scenarios) from a scenario's runs."""
    paced = "pacing on" in name
    goal = f"≤ {TARGET}× ideal, 0 429s surfaced"
    if not outcomes:
        result.rows.append({"client": name, "requests": requests, "runs": 0,
                            "wall s (median)": NOT_AVAILABLE})
        if paced:
            result.targets.append(Target(name, goal, NOT_AVAILABLE, None,
                                         "the async API is not in this checkout yet"))
        return
    on_wire = sum(c.get("429", 0) for c in counts)
    kinds: Counter[str] = Counter()
    for c in counts:
        kinds.update({k[4:]: v for k, v in c.items() if k.startswith("429 ")})
    surfaced = sum(o[2] for o in outcomes)
    walls = sorted(o[0] for o in outcomes)
    bare = name.startswith("bare")
    med, worst = median(walls) / ideal, walls[-1] / ideal
    result.rows.append({
        "client": name, "requests": requests, "runs": len(outcomes),
        "wall s (median)": round(median(walls), 3), "ideal s": ideal,
        "vs ideal (median)": None if bare else round(med, 3),
        "vs ideal (worst)": None if bare else round(worst, 3),
        "429s surfaced": surfaced,
        "429s on the wire": f"{on_wire} ({', '.join(f'{k} {v}' for k, v in kinds.items())})"
        if on_wire else 0,
        "responses": sum(o[1] for o in outcomes)})
    if paced:
        met = worst <= TARGET and surfaced == 0
        note = "" if met else (f"worst run {(worst / TARGET - 1) * 100:.0f}% over the time "
                               "target" if worst > TARGET else "429s reached the caller")
        result.targets.append(Target(
            name, goal, f"median {med:.3f}×, worst {worst:.3f}×; {surfaced} surfaced "
                        f"({on_wire} on the wire)", met, note))


def main(argv: list[str] | None = None) -> int:
    """``--serve``: be the scaled emulator; otherwise run the benchmark and print its table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--scale", type=float, default=30.0, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--request-log-limit", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        return serve(args.scale, args.port, args.request_log_limit)
    result = run(None, args.quick)
    print(render_markdown([result], environment(), args.quick))
    return 0


if __name__ == "__main__":
    sys.exit(main())
