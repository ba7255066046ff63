"""One worker process of a fleet sharing a quota (used by tests and benchmarks/bench_shared_quota).

Run as ``python -m tests.fleet_worker`` with a JSON job on the command line. It builds a paced
provider (with the shared rate store when the job names one), prints ``ready``, waits for a line
on stdin (so every worker starts its burst together), sends its requests from a few threads,
then prints one JSON line: the status of every response on the wire with its time
(``time.monotonic``, comparable across processes on one machine), the replies and the failures.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def run(job: dict[str, Any]) -> dict[str, Any]:
    from shared import ProviderConfig
    from shared.plugins.model_provider.github_models import GitHubModelsProvider
    from shared.plugins.model_provider.github_models.common.clock import ScaledClock

    clock = ScaledClock(job["factor"])
    extra: dict[str, Any] = {"endpoint": job["endpoint"], "pacing": True, "timeout": 5,
                             "max_retries": job.get("max_retries", 3)}
    if job.get("store"):
        extra["rate_store"] = job["store"]
    provider = GitHubModelsProvider(clock=clock)
    provider.initialize(ProviderConfig(api_key=job["token"], extra=extra))
    provider.connect(job["model"])
    seen: list[tuple[float, int]] = []
    lock = threading.Lock()

    def hook(response: Any, *args: Any, **kwargs: Any) -> None:
        with lock:
            seen.append((time.monotonic(), response.status_code))

    provider._runner.transport._session.hooks["response"].append(hook)
    print("ready", flush=True)
    sys.stdin.readline()
    texts: list[str] = []
    failures: list[str] = []

    def one(i: int) -> None:
        try:
            text = provider.generate(f"{job['name']} request {i}").text
            with lock:
                texts.append(text)
        except Exception as exc:  # every failure is reported to the parent
            with lock:
                failures.append(f"{type(exc).__name__}: {exc}")

    began = time.monotonic()
    with ThreadPoolExecutor(job.get("threads", 3)) as pool:
        list(pool.map(one, range(job["count"])))
    pacer = provider._runner.pacer
    result = {"name": job["name"], "began": began, "ended": time.monotonic(), "seen": seen,
              "texts": texts, "failures": failures,
              "fallbacks": getattr(pacer, "fallbacks", None)}
    provider.shutdown()
    return result


if __name__ == "__main__":
    print(json.dumps(run(json.loads(sys.argv[1]))), flush=True)
