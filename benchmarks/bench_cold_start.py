"""Benchmark 4: cold import and time to first response, each in a fresh interpreter.

Every snippet runs in a new ``python -c`` process (wall time seen by the parent, interpreter
start-up included); snippets take turns and the median of several runs is kept. Reported as the
time *added* over bare ``python -c pass``. Targets: importing the package and calling
``load_provider("github_models")`` add at most 50 ms; time to first response (import, init,
connect, one request) compared with the openai SDK's.

    python benchmarks/bench_cold_start.py [--quick]
"""

from __future__ import annotations

import re
import subprocess
import sys
import time

if __package__ in (None, ""):
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))

from _common import (
    MODEL,
    PROMPT,
    REPO,
    TOKEN,
    BenchResult,
    EmulatorProcess,
    Target,
    child_env,
    median,
    ratio,
    standalone,
    stopwatch,
)

IMPORT_TARGET_MS = 50.0
BARE = "python -c pass"
IMPORT = "from shared import load_provider"
LOAD = "+ load_provider('github_models')"
FIRST_PROVIDER = "provider: first response"
FIRST_OPENAI = "openai: first response"
FIRST_AZURE = "azure ChatCompletionsClient: first response"
LOAD_CODE = "from shared import load_provider; load_provider('github_models')"


def snippets(endpoint: str) -> dict[str, str]:
    """The code each fresh interpreter runs, by row name."""
    msg = repr(PROMPT)
    return {
        BARE: "pass",
        IMPORT: "from shared import load_provider",
        LOAD: LOAD_CODE,
        "import azure.ai.inference": "import azure.ai.inference",
        "import openai": "import openai",
        FIRST_PROVIDER: (
            "from shared import load_provider, ProviderConfig\n"
            f"p = load_provider('github_models', ProviderConfig(api_key={TOKEN!r}, "
            f"extra={{'endpoint': {endpoint!r}, 'pacing': False}}))\n"
            f"p.connect({MODEL!r})\nassert p.generate({msg}).text"),
        FIRST_AZURE: (
            "from azure.ai.inference import ChatCompletionsClient\n"
            "from azure.ai.inference.models import UserMessage\n"
            "from azure.core.credentials import AzureKeyCredential\n"
            f"c = ChatCompletionsClient({endpoint!r}, AzureKeyCredential({TOKEN!r}))\n"
            f"assert c.complete(messages=[UserMessage({msg})], model={MODEL!r}).choices"),
        FIRST_OPENAI: (
            "from openai import OpenAI\n"
            f"c = OpenAI(base_url={endpoint!r}, api_key={TOKEN!r})\n"
            f"assert c.chat.completions.create(model={MODEL!r}, "
            f"messages=[{{'role': 'user', 'content': {msg}}}]).choices"),
    }


def run_once(code: str, extra: tuple[str, ...] = ()) -> tuple[float, str]:
    """Wall seconds of ``python [extra] -c code`` and its stderr; raises if it failed."""
    env = child_env()
    # measured as installed: pip writes the bytecode at install time, so the warm-up run must
    # be allowed to write it here too (else every run re-compiles all sources)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, *extra, "-c", code], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode:
        raise RuntimeError(f"snippet failed ({proc.returncode}): {code!r}\n{proc.stderr[-800:]}")
    return elapsed, proc.stderr


def import_profile(code: str, top: int = 8
                   ) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """Under ``-X importtime``: our modules by *self* ms, and the third-party/stdlib modules our
    code imports directly, by *cumulative* ms (the cost of each dependency we pull in)."""
    _, err = run_once(code, ("-X", "importtime"))
    rows: list[tuple[str, float, float, int]] = []
    for line in err.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)", line)
        if m:
            rows.append((m.group(4), int(m.group(1)) / 1e3, int(m.group(2)) / 1e3,
                         len(m.group(3))))
    ours = sorted(((n, own) for n, own, _, _ in rows if n.startswith("shared")),
                  key=lambda r: -r[1])[:top]
    pulled: list[tuple[str, float]] = []
    for i, (name, _, cumulative, depth) in enumerate(rows):
        # children are printed before their parent: the parent is the next shallower line
        parent = next((r[0] for r in rows[i + 1:] if r[3] < depth), "")
        if not name.startswith("shared") and parent.startswith("shared"):
            pulled.append((name, cumulative))
    return ours, sorted(pulled, key=lambda r: -r[1])[:top]


def run(emu: EmulatorProcess, quick: bool) -> BenchResult:
    """Median wall time of each snippet in fresh processes, minus bare Python."""
    result = BenchResult(
        "cold_start", "4. Cold import and first response (fresh interpreter each run)",
        ["what", "median ms", "added over bare python ms", "vs openai"])
    runs = 5 if quick else 11
    codes = snippets(emu.inference_url)
    with stopwatch(result):
        for code in codes.values():
            run_once(code)  # warm the .pyc and OS file caches
        times: dict[str, list[float]] = {name: [] for name in codes}
        for _ in range(runs):
            for name, code in codes.items():
                times[name].append(run_once(code)[0] * 1e3)
        ours, pulled = import_profile(LOAD_CODE)
    med = {name: median(v) for name, v in times.items()}
    bare = med[BARE]
    for name, value in med.items():
        base = med["import openai"] if name.startswith("import") or name in (IMPORT, LOAD) \
            else med[FIRST_OPENAI]
        result.rows.append({"what": name, "median ms": round(value, 1),
                            "added over bare python ms": round(value - bare, 1),
                            "vs openai": None if name == BARE else ratio(value - bare,
                                                                         base - bare)})
    for name in (IMPORT, LOAD):
        added = med[name] - bare
        result.targets.append(Target(
            f"`{name}` import added", f"≤ {IMPORT_TARGET_MS:.0f} ms over bare Python",
            f"{added:.1f} ms", added <= IMPORT_TARGET_MS,
            "" if added <= IMPORT_TARGET_MS else
            f"{added - IMPORT_TARGET_MS:.0f} ms over ({added / IMPORT_TARGET_MS:.1f}× target)"))
    first = ratio(med[FIRST_PROVIDER] - bare, med[FIRST_OPENAI] - bare)
    result.targets.append(Target(
        "time to first response (import+init+connect+1 request)", "< openai SDK's (issue goal)",
        f"{med[FIRST_PROVIDER] - bare:.0f} ms vs {med[FIRST_OPENAI] - bare:.0f} ms "
        f"({first:.2f}×)", first < 1.0))
    result.notes.append(
        f"median of {runs} runs per snippet, snippets interleaved, after one warm-up run each; "
        "the `vs openai` column compares added time with `import openai` (imports) or with "
        "openai's first response (first-response rows).")
    result.notes.append(
        "`-X importtime` of `" + LOAD_CODE + "` (inflated by the tracing): our modules by self "
        "time: " + ", ".join(f"{n.removeprefix('shared.plugins.model_provider.')} {ms:.1f} ms"
                             for n, ms in ours)
        + "; dependencies our modules import directly, cumulative: "
        + ", ".join(f"{n} {ms:.1f} ms" for n, ms in pulled))
    return result


if __name__ == "__main__":
    sys.exit(standalone(run))
