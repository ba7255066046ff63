"""Entra ID credentials that misbehave, over real HTTP against the emulator's Entra mode: one whose
``get_token()`` blocks must not hold up a cancel; one that returns a token a header cannot carry
is refused before anything is sent, without quoting it; and with a shared rate store each
identity (not every Entra caller together) has its own quota scope, on a real Valkey."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from hypothesis import given, settings
from hypothesis import strategies as st

from shared import ProviderConfig
from shared.plugins.model_provider.github_models import GitHubModelsProvider
from shared.plugins.model_provider.github_models import errors as E
from shared.plugins.model_provider.github_models.emulator import Emulator
from shared.plugins.model_provider.types import CancelToken
from tests.adversarial.conftest import PROFILE
from tests.entra_credentials import PREFIX, ExpiringTestCredential
from tests.store_server import StoreServer, running_store

PROPERTY = settings.get_profile(PROFILE)
JWT_HEAD = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').decode().rstrip("=") + "."


@pytest.fixture
def entra() -> Iterator[Emulator]:
    emu = Emulator()
    emu.start()
    emu.require_entra_tokens(PREFIX)
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def make(entra: Emulator) -> Iterator[Callable[..., GitHubModelsProvider]]:
    made: list[GitHubModelsProvider] = []

    def build(credential: Any, **extra: Any) -> GitHubModelsProvider:
        provider = GitHubModelsProvider()
        provider.initialize(ProviderConfig(extra={
            "endpoint": entra.foundry_url, "credential": credential, "timeout": 5,
            "max_retries": 0, **extra}))
        provider.connect("openai/gpt-4o")
        made.append(provider)
        return provider

    yield build
    for provider in made:
        provider.shutdown()


def chat_requests(emu: Emulator) -> list[Any]:
    return [r for r in emu.requests if r.path.endswith("/chat/completions")]


# ---- a credential that blocks ------------------------------------------------------------------


def test_a_sync_cancel_does_not_wait_for_a_blocking_credential(
        entra: Emulator, make: Callable[..., GitHubModelsProvider]) -> None:
    provider = make(ExpiringTestCredential(delay=3.0))
    token = CancelToken()
    threading.Timer(0.2, token.cancel).start()
    started = time.monotonic()
    provider.send_message_streaming("hi", lambda _t: None, cancel_token=token)
    assert time.monotonic() - started < 1.5
    assert chat_requests(entra) == [] and provider.get_history() == []


@pytest.mark.parametrize("streaming", [False, True])
def test_an_async_cancel_does_not_wait_for_a_blocking_credential(
        entra: Emulator, make: Callable[..., GitHubModelsProvider], streaming: bool) -> None:
    provider = make(ExpiringTestCredential(delay=3.0))
    ticks: list[float] = []

    async def main() -> float:
        async def tick() -> None:  # the event loop must stay free while get_token() blocks
            while True:
                ticks.append(time.monotonic())
                await asyncio.sleep(0.02)

        ticker = asyncio.ensure_future(tick())
        call = (provider.asend_message_streaming("hi", lambda _t: None) if streaming
                else provider.asend_message("hi"))
        task = asyncio.ensure_future(call)
        await asyncio.sleep(0.2)
        started = time.monotonic()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        ticker.cancel()
        return time.monotonic() - started

    began = time.monotonic()
    assert asyncio.run(main()) < 0.5
    assert time.monotonic() - began < 1.5  # asyncio.run does not wait for get_token() either
    gaps = [b - a for a, b in itertools.pairwise(ticks)]
    assert max(gaps) < 0.5, "the event loop was blocked by get_token()"
    assert chat_requests(entra) == [] and provider.get_history() == []


# ---- what a credential returns ----------------------------------------------------------------


class Returns:
    """A credential whose get_token() returns (or raises) what it is given."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        if isinstance(self.value, BaseException):
            raise self.value
        return self.value


def _exp() -> int:
    return int(time.time()) + 3600


@pytest.mark.parametrize("token", [
    f"{PREFIX}t1\r\nX-Injected: 1.{{exp}}", f"{PREFIX}tést.{{exp}}", f"{PREFIX}t 1.{{exp}}",
    f"{PREFIX}t1\x00.{{exp}}", "x" * 40_000,
], ids=["crlf", "non-ascii", "space", "nul", "huge"])
def test_a_token_a_header_cannot_carry_is_refused_before_sending(
        entra: Emulator, make: Callable[..., GitHubModelsProvider], token: str) -> None:
    value = token.replace("{exp}", str(_exp()))
    provider = make(Returns(AccessToken(value, _exp())))
    with pytest.raises(E.TokenInvalidError) as info:
        provider.send_message("hi")
    assert value not in str(info.value) and "get_token() returned a token" in str(info.value)
    assert chat_requests(entra) == [] and provider.get_history() == []


@PROPERTY
@given(value=st.one_of(
    st.none(), st.text(max_size=20), st.integers(), st.tuples(st.text(max_size=5), st.integers()),
    st.builds(AccessToken, st.text(max_size=60), st.one_of(
        st.integers(-10**12, 10**12), st.floats(allow_nan=True), st.text(max_size=5))),
    st.sampled_from([ValueError("boom"), RuntimeError(), KeyError("k"), OSError("no")])))
def test_whatever_a_credential_returns_is_a_token_or_a_typed_error(
        entra: Emulator, make: Callable[..., GitHubModelsProvider], value: Any) -> None:
    provider = make(Returns(value))
    try:
        provider.send_message("hi")
    except E.GitHubModelsError as exc:
        assert provider.get_history() == []
        token = getattr(value, "token", None)
        if isinstance(token, str) and len(token) >= 8:
            assert token not in str(exc)


# ---- the shared store's quota scope under Entra ID -------------------------------------------


def jwt_credential(oid: str) -> ExpiringTestCredential:
    """Issues ``<PREFIX><JWT head>.<payload with oid>.<expiry>``: a JWT whose third part is the
    expiry the emulator checks."""
    payload = base64.urlsafe_b64encode(json.dumps({"tid": "tenant-1", "oid": oid}).encode())
    body = payload.decode().rstrip("=")

    class Jwt(ExpiringTestCredential):
        def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
            issued = super().get_token(*scopes, **kwargs)
            return AccessToken(f"{PREFIX}{JWT_HEAD}{body}.{issued.expires_on}",
                               issued.expires_on)

    return Jwt()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StoreServer]:
    with running_store(tmp_path) as server:
        yield server


def test_each_entra_identity_has_its_own_shared_quota(
        entra: Emulator, make: Callable[..., GitHubModelsProvider], store: StoreServer) -> None:
    shared = {"pacing": True, "rate_store": store.url, "rate_store_strict": True,
              "max_retry_wait": 1, "rate_limits": {
                  tier: {"requests_per_minute": 1} for tier in ("high", "low", "custom")}}
    alice, bob = (make(jwt_credential(who), **shared) for who in ("alice", "bob"))
    alice_again = make(jwt_credential("alice"), **shared)  # another process, same identity
    assert alice.send_message("hi").text == "Echo: hi"
    assert bob.send_message("hi").text == "Echo: hi"  # not held by alice's minute
    with pytest.raises(E.RateLimitError) as info:  # alice's minute is spent, in every process
        alice_again.send_message("hi")
    assert info.value.client_side
    assert len(chat_requests(entra)) == 2
