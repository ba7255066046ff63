"""A conversation handle: every messaging call, sync and async, for one extra session.

``provider.new_session()`` returns these; they share the provider's client, pacing and
retries, so many conversations run concurrently on one provider (threads or asyncio). The
messaging calls themselves are ``turn.Messaging`` (the same code the provider's default
session runs); this class only says which session a turn runs on.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .turn import Messaging, OnChunk, OnUsage

if TYPE_CHECKING:
    from .._host import Message
    from ..wire.session import ChatSession
    from ..wire.usage import UsageTotals
    from .core import ProviderCore

__all__ = ["Conversation", "OnChunk", "OnUsage"]


class Conversation(Messaging):
    """Messaging for one :class:`ChatSession` of a provider.

    History is committed only when a turn succeeds. Calls on one conversation are serialized
    (a thread lock for sync calls, an asyncio lock for async ones); different conversations run
    in parallel.
    """

    def __init__(self, core: ProviderCore, session: ChatSession) -> None:
        self._core = core
        self.session = session

    def __repr__(self) -> str:
        return f"Conversation(model={self._core.model_name!r}, " \
               f"messages={len(self.session.history)})"

    def _turn_on(self) -> tuple[ProviderCore, ChatSession]:
        return self._core, self.session

    def get_history(self) -> list[Message]:
        """A copy of the conversation so far."""
        with self.session.lock:
            return list(self.session.history)

    def get_usage(self) -> UsageTotals:
        """Running totals of this conversation (tokens, requests, estimated cost)."""
        return self.session.usage.totals()
