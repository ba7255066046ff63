"""Benchmark 6: a 1,000-message history: serialize + deserialize time and memory per message.

The history mixes user text, model text, model function calls and tool results. Baseline: plain
``json.dumps``/``json.loads`` of the equivalent dicts (what the provider writes, built in
advance), so the ratio is the cost of the typed objects and validation on top of the JSON work.
Memory with ``tracemalloc``. Target: round trip at most 50 ms. No network involved.

    python benchmarks/bench_history.py [--quick]
"""

from __future__ import annotations

import gc
import json
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))

from _common import (
    BenchResult,
    EmulatorProcess,
    Target,
    environment,
    median,
    ratio,
    render_markdown,
    stopwatch,
)

TARGET_MS = 50.0
MESSAGES = 1000


def build_history(n: int = MESSAGES) -> list[Any]:
    """``n`` messages cycling user text, a model tool call, its result, and a model reply."""
    from shared.plugins.model_provider.types import (
        FunctionCall,
        Message,
        Part,
        Role,
        ToolResult,
    )

    out: list[Any] = []
    for i in range(n):
        kind = i % 4
        if kind == 0:
            parts = [Part(text=f"Turn {i}: what is the weather in Paris and Lyon today? " * 3)]
            out.append(Message(role=Role.USER, parts=parts))
        elif kind == 1:
            calls = [Part(function_call=FunctionCall(f"call_{i}_{c}", "get_weather",
                                                     {"city": city, "units": "metric"}))
                     for c, city in enumerate(("Paris", "Lyon"))]
            out.append(Message(role=Role.MODEL, parts=[Part(text="Let me check."), *calls]))
        elif kind == 2:
            results = [Part(function_response=ToolResult(
                f"call_{i - 1}_{c}", "get_weather",
                {"temp_c": 18 + c, "conditions": "partly cloudy", "hourly": list(range(12))}))
                for c in range(2)]
            out.append(Message(role=Role.TOOL, parts=results))
        else:
            text = f"Reply {i}: Paris is 18 °C and partly cloudy; Lyon is 19 °C. " * 4
            out.append(Message(role=Role.MODEL, parts=[Part(text=text)]))
    return out


def best_ms(fn: Callable[[], Any], runs: int) -> tuple[float, float]:
    """(median, min) milliseconds of ``fn()`` over ``runs`` calls."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1e3)
    return median(times), min(times)


def retained_bytes(fn: Callable[[], Any]) -> tuple[int, int]:
    """(bytes still held by ``fn()``'s result, peak bytes while it ran), via tracemalloc."""
    gc.collect()
    tracemalloc.start()
    try:
        result = fn()
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return current, peak


def run(emu: EmulatorProcess | None, quick: bool) -> BenchResult:
    """Round-trip time and memory of the provider's history JSON vs plain json on dicts."""
    del emu  # no network
    from shared.plugins.model_provider.github_models import GitHubModelsProvider
    from shared.plugins.model_provider.github_models.converters import (
        HISTORY_FORMAT,
        message_to_dict,
    )

    result = BenchResult(
        "history", f"6. History of {MESSAGES:,} messages (serialize + deserialize)",
        ["what", "median ms", "min ms", "vs json", "held KiB", "bytes/message held",
         "peak bytes/message", "JSON bytes/message"])
    runs = 7 if quick else 25
    provider = GitHubModelsProvider()  # no initialize needed: pure conversion
    with stopwatch(result):
        history = build_history()
        data = provider.serialize_history(history)
        assert provider.deserialize_history(data) == history, "round trip is not lossless"
        doc = {"format": HISTORY_FORMAT, "messages": [message_to_dict(m) for m in history]}
        text = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
        cases: dict[str, tuple[Callable[[], Any], Callable[[], Any]]] = {
            "provider.serialize_history": (lambda: provider.serialize_history(history),
                                           lambda: provider.serialize_history(history)),
            "provider.deserialize_history": (lambda: provider.deserialize_history(data),
                                             lambda: provider.deserialize_history(data)),
            "provider round trip": (
                lambda: provider.deserialize_history(provider.serialize_history(history)),
                lambda: provider.deserialize_history(data)),
            "json.dumps (dicts)": (
                lambda: json.dumps(doc, ensure_ascii=False, separators=(",", ":")),
                lambda: json.dumps(doc, ensure_ascii=False, separators=(",", ":"))),
            "json.loads (dicts)": (lambda: json.loads(text), lambda: json.loads(text)),
            "json round trip": (
                lambda: json.loads(json.dumps(doc, ensure_ascii=False, separators=(",", ":"))),
                lambda: json.loads(text)),
        }
        timings = {name: best_ms(fn, runs) for name, (fn, _) in cases.items()}
        memory = {name: retained_bytes(keep) for name, (_, keep) in cases.items()}
    base = {"provider.serialize_history": "json.dumps (dicts)",
            "provider.deserialize_history": "json.loads (dicts)",
            "provider round trip": "json round trip"}
    for name, (med, low) in timings.items():
        held, peak = memory[name]
        result.rows.append({
            "what": name, "median ms": round(med, 2), "min ms": round(low, 2),
            "vs json": ratio(med, timings[base.get(name, name)][0]),
            "held KiB": round(held / 1024, 1), "bytes/message held": round(held / MESSAGES),
            "peak bytes/message": round(peak / MESSAGES),
            "JSON bytes/message": round(len(data.encode()) / MESSAGES)})
    trip = timings["provider round trip"][0]
    result.targets.append(Target(
        f"history round trip ({MESSAGES:,} messages)", f"≤ {TARGET_MS:.0f} ms", f"{trip:.1f} ms",
        trip <= TARGET_MS, "" if trip <= TARGET_MS else f"{trip - TARGET_MS:.1f} ms over"))
    result.notes.append(
        f"messages cycle: user text (~170 chars), model text + 2 function calls, a tool message "
        f"with 2 dict results, model text (~240 chars); median of {runs} runs. 'held' is what "
        "the result keeps alive (Message objects for deserialize, the str for serialize); "
        "'peak' is the tracemalloc peak while producing it. The lossless round trip is checked.")
    return result


if __name__ == "__main__":
    quick_run = "--quick" in sys.argv[1:]
    print(render_markdown([run(None, quick_run)], environment(), quick_run))
