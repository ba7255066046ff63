"""An Entra ID token issued while a streamed request is on its way (an async credential's first
token; a sync one replaced by the request, as after a 401) is masked in what ``on_chunk`` and
``on_thinking`` receive, as the key always is."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from shared import ProviderConfig
from shared.plugins.model_provider.github_models import GitHubModelsProvider
from shared.plugins.model_provider.github_models.emulator import Emulator, Reply

from .entra_credentials import PREFIX, AsyncExpiringTestCredential


class RecordingCredential(AsyncExpiringTestCredential):
    """Remembers the whole tokens it issued (the test must know what may not come out)."""

    def __init__(self) -> None:
        super().__init__()
        self.tokens: list[str] = []

    async def get_token(self, *scopes: str, claims: str | None = None,  # type: ignore[override]
                        tenant_id: str | None = None, **kwargs: Any) -> Any:
        token = self._issue(scopes)
        self.tokens.append(token.token)
        return token


def test_the_first_async_entra_token_echoed_in_a_stream_is_masked(emulator: Emulator) -> None:
    emulator.require_entra_tokens(PREFIX)
    # the token is entra-test.t1.<expiry>: every expiry it can have is echoed, one is it
    soon = int(time.time()) + 3600
    echoes = " ".join(f"{PREFIX}t1.{soon + d}" for d in range(-1, 30))
    emulator.script(Reply.text(f"text {echoes} end", reasoning=f"thought {echoes} end",
                               chunk_size=7))
    credential = RecordingCredential()
    provider = GitHubModelsProvider()
    provider.initialize(ProviderConfig(extra={"endpoint": emulator.v1_url, "timeout": 10,
                                              "credential": credential}))
    provider.connect("gpt-4o")
    chunks: list[str] = []
    thoughts: list[str] = []

    async def run() -> Any:
        try:
            return await provider.asend_message_streaming("hi", chunks.append,
                                                          on_thinking=thoughts.append)
        finally:
            await provider.ashutdown()

    reply = asyncio.run(run())
    provider.shutdown()
    (token,) = credential.tokens
    assert token in echoes  # the test echoed the real token
    assert "thought" in "".join(thoughts) and "text" in "".join(chunks)
    for shown in ("".join(chunks), "".join(thoughts), reply.text, reply.thinking):
        assert token not in shown



class FixedTokens:
    """A sync credential issuing the given tokens in order (so a test can script their echo)."""

    def __init__(self, *tokens: tuple[str, int]) -> None:
        self._tokens = list(tokens)
        self.issued: list[str] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        token, expires_on = self._tokens.pop(0)
        self.issued.append(token)
        return AccessToken(token, expires_on)


def test_a_token_replaced_during_a_sync_stream_and_echoed_is_masked(emulator: Emulator) -> None:
    # the token fetched before the stream has expired, so the request fetches a fresh one
    # (as after a 401): issued after the stream's maskers were made
    now = int(time.time())
    stale, fresh = f"firstQ7w1x9.{now - 60}", f"KpZr3VbN8sLm2Xy.{now + 3600}"
    emulator.require_entra_tokens("")  # any '<id>.<expiry>' is accepted until it expires
    emulator.script(Reply.text(f"text {fresh} end", reasoning=f"thought {fresh} end",
                               chunk_size=5))
    credential = FixedTokens((stale, now - 60), (fresh, now + 3600))
    provider = GitHubModelsProvider()
    provider.initialize(ProviderConfig(extra={"endpoint": emulator.v1_url, "timeout": 10,
                                              "credential": credential}))
    provider.connect("gpt-4o")
    chunks: list[str] = []
    thoughts: list[str] = []
    try:
        reply = provider.send_message_streaming("hi", chunks.append, on_thinking=thoughts.append)
    finally:
        provider.shutdown()
    assert credential.issued == [stale, fresh]
    assert "text" in "".join(chunks) and "thought" in "".join(thoughts)
    for shown in ("".join(chunks), "".join(thoughts), reply.text, reply.thinking):
        assert fresh not in shown and fresh[:12] not in shown
