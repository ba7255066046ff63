"""Fixtures for the adversarial suite: a hostile raw-socket server and providers aimed at it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from shared import ProviderConfig, load_provider
from tests.adversarial.hostile import HostileServer

# Property tests run few examples in `make test` (the whole adversarial suite stays under a
# minute); `make adversarial` loads the long profile (HYPOTHESIS_PROFILE=adversarial) with a
# seed, e.g. `make adversarial SEED=1234`.
_COMMON = {"deadline": None,
           "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow]}
settings.register_profile("quick", max_examples=int(os.environ.get("ADVERSARIAL_EXAMPLES", 25)),
                          **_COMMON)
settings.register_profile("adversarial",
                          max_examples=int(os.environ.get("ADVERSARIAL_EXAMPLES", 1500)),
                          **_COMMON)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "quick")

TOKEN = "github_pat_11ADVERSARIAL_Zq7wXk2mPv9LrT4sNb6YcH8dJf3GuA5eQo1iWx0tKz"


@pytest.fixture
def hostile() -> Iterator[HostileServer]:
    """A raw-socket server on 127.0.0.1; script it with acts from tests.adversarial.hostile."""
    server = HostileServer()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def hostile_provider(hostile: HostileServer) -> Iterator[Callable[..., Any]]:
    """Providers connected to ``openai/gpt-4o`` at the hostile server (no retries, 5 s timeout)."""
    made: list[Any] = []

    def make(**extra: Any) -> Any:
        extra.setdefault("endpoint", hostile.url)
        extra.setdefault("pacing", False)
        extra.setdefault("max_retries", 0)
        extra.setdefault("timeout", 5)
        provider = load_provider("github_models", ProviderConfig(api_key=TOKEN, extra=extra))
        provider.connect("openai/gpt-4o")
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.shutdown()
