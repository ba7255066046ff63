"""Test credentials: real azure-core ``TokenCredential`` / ``AsyncTokenCredential``
implementations that issue tokens the emulator's Entra mode accepts until they expire."""

from __future__ import annotations

import itertools
import threading
import time
from typing import Any

from azure.core.credentials import AccessToken

PREFIX = "entra-test."


class ExpiringTestCredential:
    """Issues ``entra-test.<n>.<expires_on>`` tokens valid for ``lifetime`` seconds.

    Args:
        lifetime: Seconds each token lives (the first ``len(lifetimes)`` may differ).
        lifetimes: Per-token lifetimes, used in order before ``lifetime``.
        fail_after: Raise ``ClientAuthenticationError`` for every request after this many tokens.
    """

    def __init__(self, lifetime: float = 3600, *, lifetimes: tuple[float, ...] = (),
                 fail_after: int | None = None, delay: float = 0.0) -> None:
        self.lifetime = lifetime
        self._lifetimes = list(lifetimes)
        self.fail_after = fail_after
        self.delay = delay
        self.scopes: list[tuple[str, ...]] = []
        self.issued: list[str] = []  # token ids
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def _issue(self, scopes: tuple[str, ...]) -> AccessToken:
        from azure.core.exceptions import ClientAuthenticationError

        with self._lock:
            self.scopes.append(scopes)
            if self.fail_after is not None and len(self.issued) >= self.fail_after:
                raise ClientAuthenticationError(
                    "AADSTS700082: The refresh token has expired due to inactivity.")
            lifetime = self._lifetimes.pop(0) if self._lifetimes else self.lifetime
            token_id = f"t{next(self._ids)}"
            self.issued.append(token_id)
        expires_on = int(time.time() + lifetime)
        return AccessToken(f"{PREFIX}{token_id}.{expires_on}", expires_on)

    def get_token(self, *scopes: str, claims: str | None = None, tenant_id: str | None = None,
                  **kwargs: Any) -> AccessToken:
        if self.delay:
            time.sleep(self.delay)
        return self._issue(scopes)


class AsyncExpiringTestCredential(ExpiringTestCredential):
    """The ``AsyncTokenCredential`` form."""

    async def get_token(self, *scopes: str, claims: str | None = None,  # type: ignore[override]
                        tenant_id: str | None = None, **kwargs: Any) -> AccessToken:
        return self._issue(scopes)

    async def close(self) -> None:
        return None
