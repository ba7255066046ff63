"""A Redis/Valkey store that holds rate-limit state shared by every process billed to one quota.

Switched on by ``JAATO_GITHUB_RATE_STORE`` (or ``extra["rate_store"]``): a ``redis://`` or
``rediss://`` URL, with a password in it if the store needs one. The ``redis`` client is an
optional extra (``pip install jaato-github-models[redis]``) and is imported only here, only when
the setting is on. Every decision is one Lua script (``rate_store_lua``): atomic, and timed by the
store's clock.

Keys are scoped to what the service counts: the endpoint (hashed), the billed party (the
organization, else a hash of the token: never the token) and the pacer key (the model).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from ..common.limits import TierLimits
from ..common.url_secrets import url_shown_with_password_mark
from ..errors import ConfigurationError, GitHubModelsError
from .rate_store_lua import ACQUIRE, BLOCK, BUDGET, RELEASE, SUFFIXES

__all__ = [
    "KEY_PREFIX",
    "Budget",
    "Decision",
    "RateStore",
    "RateStoreError",
    "StoreDown",
    "StoreLocation",
    "parse_store_url",
    "scope_name",
]

KEY_PREFIX = "jaato:rl:"
DEFAULT_TIMEOUT = 0.5  # seconds a store call may take before the store counts as down
_SCHEMES = ("redis", "rediss", "unix")
_HOW = ("set JAATO_GITHUB_RATE_STORE (or extra['rate_store']) to a URL such as "
        "redis://host:6379/0 or rediss://:PASSWORD@host:6380/0")


class RateStoreError(GitHubModelsError):
    """The shared rate store cannot be used: a bad URL, a refused login, or (strict mode) the
    store is unreachable. ``reason`` is ``url``, ``auth``, ``missing_client`` or ``unreachable``;
    ``store`` is the URL with its password masked."""

    def __init__(self, *args: Any, reason: str = "unreachable", store: str = "",
                 **kw: Any) -> None:
        self.reason = reason
        self.store = store
        super().__init__(*args, **kw)


class StoreDown(Exception):
    """The store did not answer (refused, reset, timed out, loading); the text has no password."""


@dataclass(frozen=True)
class StoreLocation:
    """A validated store URL: ``url`` (with its password, never shown) and ``display``."""

    url: str = field(repr=False)
    display: str
    password: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        shown = "<redacted>" if self.password else "<none>"
        return f"StoreLocation(display={self.display!r}, url='<redacted>', password={shown!r})"

    def scrub(self, text: str) -> str:
        """``text`` with the password (plain or URL-quoted) replaced by ``***``."""
        if self.password:
            for secret in {self.password, unquote(self.password)}:
                if secret:
                    text = text.replace(secret, "***")
        return text


def parse_store_url(raw: str) -> StoreLocation:
    """Check a store URL before anything connects.

    Raises:
        ConfigurationError: Not a ``redis://``, ``rediss://`` or ``unix://`` URL, no host, a
            bad port or database number; the message masks the password.
    """
    text, secrets = _quote_userinfo(raw.strip())
    display = url_shown_with_password_mark(text)
    try:
        parts = urlsplit(text)
        port = parts.port
        password = parts.password
    except ValueError as exc:
        raise _bad_url(display, f"it does not parse ({_scrub(str(exc), secrets)})") from exc
    if parts.scheme not in _SCHEMES:
        raise _bad_url(display, f"the scheme {parts.scheme!r} is not one of redis, rediss, unix")
    if parts.scheme != "unix":
        if not parts.hostname:
            raise _bad_url(display, "it names no host")
        db = parts.path.strip("/")
        if db and not db.isdigit():
            raise _bad_url(display, f"the database {db!r} is not a number")
        if port == 0:
            raise _bad_url(display, "port 0 is not a port a store listens on")
    elif not parts.path:
        raise _bad_url(display, "a unix:// URL needs the socket's path")
    for name, value in parse_qsl(parts.query):
        if name in ("socket_timeout", "socket_connect_timeout"):
            try:
                float(value)
            except ValueError as exc:
                raise _bad_url(display, f"{name}={value!r} is not a number of seconds") from exc
    return StoreLocation(text, display, password)


def _quote_userinfo(text: str) -> tuple[str, tuple[str, ...]]:
    """``text`` with its user name and password URL-quoted, and the raw parts to scrub.

    Azure Cache for Redis keys are base64: a ``/``, ``+`` or ``=`` in a password, and a ``#`` or
    ``?`` typed by hand, would otherwise end the authority early and spill the rest of the
    password into the port, path or fragment (and from there into an error). Everything between
    ``//`` and the last ``@`` is user info, as ``strip_url_secrets`` reads it.
    """
    scheme, sep, rest = text.partition("://")
    if not sep or "@" not in rest:
        return text, ()
    userinfo, _, host = rest.rpartition("@")
    user, colon, password = userinfo.partition(":")
    quoted = quote(unquote(user), safe="") + (colon + quote(unquote(password), safe=""))
    secrets = tuple(s for s in (userinfo, password, unquote(password)) if s)
    return f"{scheme}://{quoted}@{host}", secrets


def _scrub(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` without any piece of the user info (a parse error quotes what it could not read)."""
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def _bad_url(display: str, why: str) -> ConfigurationError:
    return ConfigurationError(what=f"Checking the rate store URL {display}", why=why, fix=_HOW,
                              setting="rate_store")


def scope_name(endpoint: str, organization: str | None, token: str, key: str) -> str:
    """The key prefix of one quota: endpoint, billed party and model (``{...}``: a hash tag)."""
    where = hashlib.sha256(endpoint.rstrip("/").lower().encode()).hexdigest()[:12]
    party = (f"org-{organization.lower()}" if organization
             else "tok-" + hashlib.sha256(token.encode()).hexdigest()[:16])
    return f"{KEY_PREFIX}{{{where}:{party}:{key.lower()}}}"


@dataclass(frozen=True, slots=True)
class Decision:
    """What the store decided: ``ok`` (granted at ``seconds`` store time), ``wait``
    (``seconds``, ``why``), ``busy`` (every concurrency slot taken) or ``day`` (spent)."""

    kind: str
    seconds: float
    why: str = ""


@dataclass(frozen=True, slots=True)
class Budget:
    """A scope's use right now: starts in the last minute and day, in flight, pause left
    (store seconds) and tokens in the last minute."""

    minute: int
    day: int
    in_flight: int
    paused_for: float
    tokens: int


def _limit(value: int | None) -> int:
    return -1 if value is None else value


class RateStore:
    """One connection pool to the store and the registered scripts (thread-safe).

    Args:
        location: From :func:`parse_store_url`.
        timeout: Seconds a call may take (``?socket_timeout=`` in the URL wins).

    Raises:
        RateStoreError: The ``redis`` client is not installed (``reason='missing_client'``).
        ConfigurationError: The client rejects an option of the URL.
    """

    def __init__(self, location: StoreLocation, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        try:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry
        except ImportError as exc:
            raise RateStoreError(
                what="Loading the rate store client", why="the redis package is not installed",
                fix="pip install 'jaato-github-models[redis]', or unset JAATO_GITHUB_RATE_STORE",
                reason="missing_client", store=location.display) from exc
        self.location = location
        self._redis = redis
        # one retry on a fresh connection: a pooled connection to a restarted store is stale
        try:
            self._client: Any = redis.Redis.from_url(
                location.url, socket_timeout=timeout, socket_connect_timeout=timeout,
                retry=Retry(NoBackoff(), 1), decode_responses=True, health_check_interval=0)
        except (ValueError, TypeError) as exc:  # an option the client cannot read
            raise _bad_url(location.display, location.scrub(str(exc))) from None
        self._acquire = self._client.register_script(ACQUIRE)
        self._release = self._client.register_script(RELEASE)
        self._block = self._client.register_script(BLOCK)
        self._budget = self._client.register_script(BUDGET)

    def __repr__(self) -> str:
        return f"RateStore({self.location.display})"

    # ---- calls ----------------------------------------------------------------------------------

    def _call(self, fn: Any, *args: Any, **kw: Any) -> Any:
        """Run one store call; map failures to StoreDown or RateStoreError (password masked).

        Raises:
            StoreDown: Unreachable, timed out, loading, or any other failure to answer.
            RateStoreError: The store refused the login (``reason='auth'``).
        """
        errors = self._redis.exceptions
        try:
            return fn(*args, **kw)
        except (errors.AuthenticationError, errors.AuthenticationWrongNumberOfArgsError,
                errors.NoPermissionError) as exc:
            raise RateStoreError(
                what=f"Logging in to the rate store {self.location.display}",
                why=f"the store refused the login ({self.location.scrub(str(exc))})",
                fix="check the user name and password in JAATO_GITHUB_RATE_STORE "
                    "(redis://user:PASSWORD@host:port/db) and the store's ACL",
                reason="auth", store=self.location.display) from None
        except errors.RedisError as exc:
            raise StoreDown(f"{type(exc).__name__}: {self.location.scrub(str(exc))}") from None
        except OSError as exc:  # ssl and socket failures the client did not wrap
            raise StoreDown(f"{type(exc).__name__}: {self.location.scrub(str(exc))}") from None

    def ping(self) -> float:
        """Round-trip seconds of a PING. Raises StoreDown, RateStoreError."""
        began = time.perf_counter()
        self._call(self._client.ping)
        return time.perf_counter() - began

    def acquire(self, scope: str, limits: TierLimits, request_id: str, tokens: int, *,
                minute: float, day: float, lease: float) -> Decision:
        """Try to start a request on ``scope`` (windows and lease in store seconds).

        Raises:
            StoreDown, RateStoreError: As :meth:`ping`.
        """
        reply = self._call(self._acquire, keys=[f"{scope}:{s}" for s in SUFFIXES], args=[
            request_id, _limit(limits.requests_per_minute), _limit(limits.requests_per_day),
            _limit(limits.concurrent_requests), _limit(limits.tokens_per_minute), tokens,
            minute, day, lease])
        return Decision(str(reply[0]), float(reply[1]), str(reply[2]) if len(reply) > 2 else "")

    def release(self, scope: str, request_id: str, *, refused: bool, ago: float,
                used_tokens: int | None, minute: float, day: float) -> None:
        """End a request: free its slot, move its stamp to its answer (``ago`` store seconds
        back), drop it if refused, record its real token usage. Raises StoreDown,
        RateStoreError."""
        keys = [f"{scope}:{s}" for s in ("m", "d", "c", "t", "tv")]
        self._call(self._release, keys=keys, args=[
            request_id, 1 if refused else 0, max(0.0, ago),
            -1 if used_tokens is None else used_tokens, minute, day])

    def block(self, scope: str, seconds: float, kind: str) -> float:
        """Hold every process's requests on ``scope`` for ``seconds`` (a server's 429 wait).
        Returns the pause left. Raises StoreDown, RateStoreError."""
        return float(self._call(self._block, keys=[f"{scope}:b"], args=[seconds, kind]))

    def budget(self, scope: str, *, minute: float, day: float) -> Budget:
        """A scope's current use. Raises StoreDown, RateStoreError."""
        reply = self._call(self._budget, keys=[f"{scope}:{s}" for s in SUFFIXES],
                           args=[minute, day])
        m, d, c, paused, tokens = (float(x) for x in reply)
        return Budget(int(m), int(d), int(c), paused, int(tokens))

    def keys_in_use(self, limit: int = 100_000) -> tuple[int, int]:
        """How many of the provider's keys, and of distinct quota scopes, the store holds
        (counting stops at ``limit`` keys). Raises StoreDown, RateStoreError."""
        def scan() -> tuple[int, int]:
            keys, scopes = 0, set()
            for key in self._client.scan_iter(match=f"{KEY_PREFIX}*", count=1000):
                keys += 1
                scopes.add(str(key).rsplit(":", 1)[0])
                if keys >= limit:
                    break
            return keys, len(scopes)

        result: tuple[int, int] = self._call(scan)
        return result

    def server_info(self) -> Mapping[str, Any]:
        """The store's ``INFO server`` section. Raises StoreDown, RateStoreError."""
        info: Mapping[str, Any] = self._call(self._client.info, "server")
        return info

    def close(self) -> None:
        """Close the pool's connections (idempotent)."""
        with suppress(Exception):  # closing a dead pool has nothing left to report
            self._client.close()
