"""Cold start and the flatter core: what loads with the provider, and what the public face shows.

Import cost itself is benchmarked (benchmarks/bench_cold_start.py); these tests pin the structure
that keeps it low: constructing a provider loads none of the request path.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

from shared.plugins.model_provider.github_models import GitHubModelsProvider
from shared.plugins.model_provider.github_models.turn.conversation import Conversation

PKG = "shared.plugins.model_provider.github_models"

# An allow-list: the only package modules `load_provider` may load (the rest of the request
# path loads at initialize / connect / the first call). A new module imported at load time fails
# here until it is added on purpose (benchmarks/bench_cold_start.py measures what it costs).
LOAD_PROVIDER_MAY_LOAD = frozenset({"", "._contracts", "._host", "._public", ".common",
                                    ".common.version", ".provider", ".turn",
                                    ".turn.accounting", ".turn.core", ".turn.turn"})


def _modules_after(code: str) -> set[str]:
    probe = (code + "\nimport json, sys\n"
             f"print(json.dumps(sorted(m for m in sys.modules if m.startswith({PKG!r}))))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_load_provider_loads_only_the_allowed_modules() -> None:
    loaded = _modules_after("from shared import load_provider; load_provider('github_models')")
    assert f"{PKG}.provider" in loaded and f"{PKG}.turn.turn" in loaded
    relative = {m.removeprefix(PKG) for m in loaded}
    early = sorted(relative - LOAD_PROVIDER_MAY_LOAD)
    assert early == [], f"loaded by load_provider, should wait for first use: {early}"


def test_importing_errors_compiles_no_pattern_and_loads_no_retry() -> None:
    code = (f"import re\nimport {PKG}.errors\n"
            f"from {PKG}.common import secret_text as m\n"
            "assert all(p._compiled is None for p, _ in m._SECRET_PATTERNS)")
    loaded = _modules_after(code)
    assert f"{PKG}.failures.retry" not in loaded


def test_a_429_is_decided_in_one_module() -> None:
    # the kind table, the 429 readers and the retry decision live in failures/retry.py
    from shared.plugins.model_provider.github_models.failures import retry
    from shared.plugins.model_provider.github_models.failures.error_body import WireError

    assert retry.classify(429, {}, WireError(code="insufficient_quota")) == "quota"
    assert retry.classify(429, {}, WireError(code="RateLimitReached")) == "rate_limit"
    assert retry.rate_limit_type("UserByModelByDay") == "per_day"
    assert retry.parse_retry_after({"Retry-After": "7"}, None) == 7.0
    assert not hasattr(retry, "__getattr__")


def test_lazy_patterns_match_like_compiled_ones() -> None:
    from shared.plugins.model_provider.github_models.common.secret_text import scrub

    assert scrub("key ghp_abcdefghijklmnop1234 here") == "key ghp_… here"


def test_messaging_methods_show_their_real_parameters() -> None:
    for cls in (GitHubModelsProvider, Conversation):
        params = inspect.signature(cls.send_message_streaming).parameters
        assert list(params)[:6] == ["self", "message", "on_chunk", "cancel_token",
                                    "response_schema", "on_usage_update"]
        assert list(inspect.signature(cls.send_tool_results).parameters)[:3] == [
            "self", "results", "response_schema"]
        assert cls.send_message.__doc__ and "reply" in cls.send_message.__doc__
