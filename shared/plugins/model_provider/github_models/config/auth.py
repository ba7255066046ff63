"""Keyless Microsoft Entra ID auth: the credential and a shared token cache (the pipeline
policies that send its tokens are ``transport/pipeline.py``'s ``bearer_policy``).

Keys stay the default. With ``extra["credential"]`` (any azure-core ``TokenCredential`` or
``AsyncTokenCredential``) or ``JAATO_GITHUB_AUTH=entra`` (``DefaultAzureCredential`` from the
optional ``azure-identity`` package, imported only then), requests carry
``Authorization: Bearer <Entra access token>`` instead of the key.

One :class:`TokenCache` per provider sits in front of the credential and is shared by the sync
client and every async client: a token is fetched once, reused until ``REFRESH_MARGIN`` seconds
before it expires, then replaced. A 401 answer drops the cached token and the request is sent
once more with a fresh one (``transport/pipeline.py``); a second 401 reaches the caller as
``TokenInvalidError`` with advice in Entra terms. A credential that cannot produce a token
raises ``TokenInvalidError`` too.

Nothing here imports azure-core; ``azure-identity`` only for ``JAATO_GITHUB_AUTH=entra``.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
import time
from collections.abc import Callable
from typing import Any

from ..errors import ConfigurationError, TokenInvalidError
from ..failures._error_messages import ENTRA_ADVICE
from ..kinds.profiles import ENTRA_SCOPE

__all__ = [
    "DEFAULT_SCOPE",
    "ENTRA_ADVICE",
    "REFRESH_MARGIN",
    "TokenCache",
    "default_azure_credential",
]

# The audience of Azure AI model inference / Microsoft Foundry (``*.services.ai.azure.com``)
# and Azure OpenAI. The azure-ai-inference SDK defaults to ``https://ml.azure.com/.default``,
# which is for Azure Machine Learning endpoints, not Foundry: we do not inherit it.
DEFAULT_SCOPE = ENTRA_SCOPE  # the one copy lives with the endpoint profiles
REFRESH_MARGIN = 300.0  # seconds before expiry a token is replaced (azure-core uses the same)



def default_azure_credential() -> Any:
    """A ``DefaultAzureCredential`` from azure-identity (constructing it sends nothing).

    Raises:
        ConfigurationError: azure-identity is not installed.
    """
    try:
        from azure.identity import DefaultAzureCredential
    except ImportError as exc:
        raise ConfigurationError(
            what="Setting up Microsoft Entra ID auth (JAATO_GITHUB_AUTH=entra)",
            why="the azure-identity package is not installed",
            fix="pip install 'jaato-github-models[entra]' (or pip install azure-identity), or "
                "pass any TokenCredential as extra['credential'], or use a key "
                "(unset JAATO_GITHUB_AUTH)") from exc
    return DefaultAzureCredential()


def _is_async(credential: Any) -> bool:
    return inspect.iscoroutinefunction(getattr(credential, "get_token", None))


class TokenCache:
    """The current Entra access token of one provider, fetched and refreshed on demand.

    Thread-safe; shared by the sync client and the async clients of every event loop. The
    token is never shown (``repr`` names the credential only) and is not pickled.

    Args:
        credential: A ``TokenCredential`` or ``AsyncTokenCredential``.
        scope: The scope to request (e.g. ``https://cognitiveservices.azure.com/.default``).
        refresh_margin: Seconds before expiry at which a cached token is replaced.
        now: Wall-clock source in epoch seconds (tokens' ``expires_on`` is epoch time).
    """

    def __init__(self, credential: Any, scope: str, *, refresh_margin: float = REFRESH_MARGIN,
                 now: Callable[[], float] = time.time) -> None:
        if not callable(getattr(credential, "get_token", None)):
            raise ConfigurationError(
                what="Checking extra['credential']",
                why=f"{type(credential).__name__} has no get_token() method",
                fix="pass an azure-core TokenCredential such as "
                    "azure.identity.DefaultAzureCredential() or ManagedIdentityCredential()")
        self.credential = credential
        self.scope = scope
        self.refresh_margin = refresh_margin
        self.is_async = _is_async(credential)
        self._now = now
        self._lock = threading.Lock()
        # (token, expires_on) replaced as one object, so a reader never pairs a token with
        # another token's expiry
        self._entry: tuple[str, float] | None = None
        self._issued: list[str] = []  # the last few tokens, so an echo of any is masked
        self.fetches = 0  # how many tokens were obtained (doctor and tests read it)

    @property
    def issued(self) -> tuple[str, ...]:
        """The tokens obtained most recently (the provider masks any echo of them)."""
        return tuple(self._issued)

    @property
    def credential_name(self) -> str:
        """The credential's class name (``DefaultAzureCredential``, ...)."""
        return type(self.credential).__name__

    def describe(self) -> str:
        """The credential's name and, for a chain such as ``DefaultAzureCredential``, the
        member that produced the last token (best effort; never the token)."""
        inner = getattr(self.credential, "_successful_credential", None)  # azure-identity chains
        if inner is None:
            return self.credential_name
        return f"{self.credential_name} (via {type(inner).__name__})"

    def __repr__(self) -> str:
        return f"TokenCache(credential={self.credential_name}, scope={self.scope!r})"

    def __reduce__(self) -> Any:
        raise TypeError("a TokenCache holds a live credential and token: it is not picklable")

    def _fresh(self) -> str | None:
        entry = self._entry
        if entry is not None and entry[1] - self._now() > self.refresh_margin:
            return entry[0]
        return None

    def _store(self, result: Any) -> str:
        token = getattr(result, "token", None)
        expires = getattr(result, "expires_on", None)
        if not isinstance(token, str) or not token or not isinstance(expires, int | float):
            raise TokenInvalidError(
                what=f"Getting an Entra ID token from {self.credential_name}",
                why="get_token() did not return an AccessToken (token, expires_on)",
                fix="pass an azure-core TokenCredential", token_type="entra")  # noqa: S106 - a kind, not a secret
        problem = _token_problem(token, float(expires))
        if problem:  # refused before it goes into a header (never quoted: it is the secret)
            raise TokenInvalidError(
                what=f"Getting an Entra ID token from {self.credential_name}",
                why=f"get_token() returned a token that {problem}",
                fix="check the credential: Entra ID access tokens are JWTs (base64url text)",
                token_type="entra")  # noqa: S106 - a kind, not a secret
        self._entry = (token, float(expires))
        self._issued = [*self._issued[-2:], token]
        self.fetches += 1
        return token

    def _failed(self, exc: Exception) -> TokenInvalidError:
        why = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
        return TokenInvalidError(
            what=f"Getting an Entra ID token for {self.scope} from {self.credential_name}",
            why=why.rstrip(": "), fix=ENTRA_ADVICE, token_type="entra")  # noqa: S106 - a kind, not a secret

    def token(self, *, force: bool = False) -> str:
        """The cached token, or a new one when none is cached or it expires soon.

        Args:
            force: Fetch a new token even if the cached one looks valid (after a 401).

        Raises:
            TokenInvalidError: The credential could not produce a token.
            ConfigurationError: An AsyncTokenCredential used from the sync API.
        """
        if self.is_async:  # even with a cached token: no call should work only sometimes
            raise ConfigurationError(
                what="Getting an Entra ID token for a synchronous call",
                why=f"{self.credential_name} is an AsyncTokenCredential",
                fix="use the async API (asend_message ...) or pass a synchronous "
                    "TokenCredential (azure.identity, not azure.identity.aio)")
        if not force and (token := self._fresh()) is not None:
            return token
        with self._lock:
            if not force and (token := self._fresh()) is not None:
                return token  # another thread refreshed it meanwhile
            try:
                result = self.credential.get_token(self.scope)
            except Exception as exc:
                raise self._failed(exc) from exc
            return self._store(result)

    async def atoken(self, *, force: bool = False) -> str:
        """Async :meth:`token`: a sync credential runs on a worker thread (it may block).

        Raises:
            TokenInvalidError: The credential could not produce a token.
        """
        if not force and (token := self._fresh()) is not None:
            return token
        if not self.is_async:  # a daemon thread: a blocked get_token() holds no cancel or exit
            loop = asyncio.get_running_loop()
            future: asyncio.Future[str] = loop.create_future()

            def run() -> None:
                try:
                    outcome: tuple[str | None, BaseException | None] = (self.token(force=force),
                                                                        None)
                except BaseException as exc:  # handed to the awaiting task
                    outcome = (None, exc)
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                    loop.call_soon_threadsafe(_settle, future, *outcome)

            threading.Thread(target=run, name="entra-get-token", daemon=True).start()
            return await future
        try:
            result = await self.credential.get_token(self.scope)
        except Exception as exc:
            raise self._failed(exc) from exc
        with self._lock:
            return self._store(result)

    def token_unless(self, cancelled: Callable[[], bool]) -> str | None:
        """:meth:`token`, but None as soon as ``cancelled()`` is true (checked every 50 ms): a
        credential whose ``get_token()`` blocks must not hold up a cancel. The fetch goes on on
        a daemon thread and fills the cache when it returns.

        Raises:
            TokenInvalidError, ConfigurationError: As :meth:`token` (when not cancelled).
        """
        if not self.is_async and (token := self._fresh()) is not None:
            return token
        box: dict[str, Any] = {}
        done = threading.Event()

        def run() -> None:
            try:
                box["token"] = self.token()
            except BaseException as exc:  # handed to the waiting caller
                box["error"] = exc
            finally:
                done.set()

        threading.Thread(target=run, name="entra-get-token", daemon=True).start()
        while not done.wait(0.05):
            if cancelled():
                return None
        if "error" in box:
            raise box["error"]
        return str(box["token"])

    def identity(self) -> str:
        """Who the tokens belong to, for the shared rate store's quota scope (never the token):
        a hash of the JWT's tenant and object id (``tid``/``oid``; else ``appid``/``sub``), the
        same for every token of one identity, in every process. A token that is not a JWT
        (a custom credential) is hashed whole. With no token cached, a sync credential is asked
        for one; an async one (whose calls fetch it first) gives ``entra-unknown``.

        Raises:
            TokenInvalidError: The credential could not produce a token.
        """
        import hashlib

        entry = self._entry
        token = entry[0] if entry is not None else ("" if self.is_async else self.token())
        if not token:
            return "entra-unknown"
        claims = _jwt_claims(token)
        who = ":".join(str(claims.get(k) or "") for k in ("tid", "oid", "appid", "sub"))
        if who.strip(":"):
            return "entra-" + hashlib.sha256(who.encode()).hexdigest()[:16]
        return "entra-tok-" + hashlib.sha256(token.encode()).hexdigest()[:16]

    def invalidate(self, token: str) -> None:
        """Forget ``token`` if it is the cached one (the endpoint refused it)."""
        with self._lock:
            if self._entry is not None and self._entry[0] == token:
                self._entry = None


def _jwt_claims(token: str) -> dict[str, Any]:
    """The (unverified) claims of a JWT, or {} when ``token`` is not one. Never raises."""
    import base64
    import json

    parts = token.split(".")
    if len(parts) != 3 or len(parts[1]) > 16_384:
        return {}
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
    except (ValueError, RecursionError):
        return {}
    return claims if isinstance(claims, dict) else {}


MAX_TOKEN_CHARS = 32_768  # Entra access tokens are a few KiB; servers cap a header near 8 KiB


def _token_problem(token: str, expires: float) -> str:
    """Why ``token`` cannot be sent as ``Authorization: Bearer <token>`` ("" when it can)."""
    import math

    if len(token) > MAX_TOKEN_CHARS:
        return f"is {len(token):,} characters long (more than {MAX_TOKEN_CHARS:,})"
    if not token.isascii() or not token.isprintable() or any(c.isspace() for c in token):
        return ("holds characters a header cannot carry (not printable ASCII, or white space "
                "such as a line break)")
    if not math.isfinite(expires):
        return f"expires at {expires} (not a time)"
    return ""


def _settle(future: asyncio.Future[str], result: str | None,
            error: BaseException | None) -> None:
    if future.done():  # the awaiting task was cancelled
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result or "")
