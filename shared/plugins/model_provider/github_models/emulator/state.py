"""Mutable emulator state shared by the test thread and the server thread.

Tokens, organizations, enterprise policies, limits, the scripted reply queue and the request log
live here behind one lock. The server thread reads and updates them once per request; tests
configure them between requests.
"""

from __future__ import annotations

import functools
import math
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..common.clock import Clock
from ..common.limits import TierLimits
from ..common.masking import SecretMasker, mask_secret
from ..common.secret_text import scrub
from .published_limits import published_limits
from .replies import Reply

__all__ = [
    "MODES",
    "EmulatorState",
    "OrgInfo",
    "RateLimitHit",
    "RateLimiter",
    "RecordedRequest",
    "TokenInfo",
    "is_credential_name",
    "redact",
    "redact_headers",
    "redact_query",
    "redact_request",
]

MODES = ("normal", "retired", "deprecated")


def redact(value: str) -> str:
    """Keep only a credential's scheme and well-known type prefix: ``Bearer ghp_…``."""
    scheme, sep, token = value.strip().partition(" ")
    if not sep or not _SCHEME_RE.match(scheme):  # no scheme: the whole value is the secret
        scheme, sep, token = "", "", value.strip()
    return f"{scheme}{sep}{mask_secret(token.strip())}"


# any header or query parameter whose name holds one of these carries a credential
_CREDENTIAL_WORDS = ("auth", "key", "token", "secret", "cookie", "password", "passwd",
                     "credential", "signature", "session", "sig")
_SCHEME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9._-]{0,19}$")


@functools.lru_cache(maxsize=512)
def is_credential_name(name: str) -> bool:
    """Whether a header or query parameter named ``name`` can carry a credential.

    ``authorization``, ``proxy-authorization``, ``api-key``, ``x-api-key``,
    ``ocp-apim-subscription-key``, ``x-ms-…-key``, ``cookie``, ``set-cookie``, ``x-auth-token``,
    ``sig``, ``code`` ... (names are compared lower-cased).
    """
    low = name.lower()
    return low == "code" or any(word in low for word in _CREDENTIAL_WORDS)


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers (names lower-cased) with every credential-like value masked (``Bearer ghp_…``)."""
    return {k.lower(): redact(v) if is_credential_name(k) else v for k, v in headers.items()}


def redact_query(query: Mapping[str, str]) -> dict[str, str]:
    """Query parameters with every credential-like value masked."""
    return {k: mask_secret(v) if is_credential_name(k) else v for k, v in query.items()}


def redact_request(method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str],
                   body: Any, raw_body_size: int, known: Iterable[str] = ()) -> RecordedRequest:
    """The request as the log keeps it: credential headers and parameters masked by name, and
    everywhere else (other headers, the query, the path, the body's keys and strings) the
    credentials this request presented, the ``known`` ones, and anything shaped like a token.
    """
    presented = [v for k, v in [*headers.items(), *query.items()] if is_credential_name(k)]
    presented += [v.strip().partition(" ")[2] for v in presented]  # "Bearer <token>"
    masker = _masker(tuple(sorted({*presented, *known})))

    def clean(text: str) -> str:
        return scrub(masker.scrub(text))

    # the common case (every test and benchmark request): nothing outside the credential
    # headers to mask, found with one pass over everything the log keeps
    plain = [path, *[f"{k}\n{v}" for k, v in query.items() if not is_credential_name(k)],
             *[v for k, v in headers.items() if not is_credential_name(k)]]
    try:
        # the decoded strings, not the JSON text: "\n" + token reads as "ntoken" there
        body_text: str | None = "\n".join(_body_texts(body))
    except RecursionError:
        body_text = None
    if body_text is not None:
        everything = "\n".join([*plain, body_text])
        if clean(everything) == everything:
            return RecordedRequest(
                method, path,
                {k: mask_secret(v) if is_credential_name(k) else v for k, v in query.items()},
                {k.lower(): redact(v) if is_credential_name(k) else v
                 for k, v in headers.items()},
                body, raw_body_size)
    return RecordedRequest(
        method, clean(path),
        {clean(k): mask_secret(v) if is_credential_name(k) else clean(v)
         for k, v in query.items()},
        {k.lower(): redact(v) if is_credential_name(k) else clean(v) for k, v in headers.items()},
        _redact_body(body, clean), raw_body_size)


@functools.lru_cache(maxsize=64)
def _masker(secrets: tuple[str, ...]) -> SecretMasker:
    """One masker per set of secrets (building one costs tens of microseconds per secret, and
    the emulator is the server every benchmark measures against)."""
    return SecretMasker(secrets)


def _redact_body(body: Any, clean: Callable[[str], str]) -> Any:
    try:
        text = "\n".join(_body_texts(body))
        if clean(text) == text:
            return body  # the common case: nothing to mask, the body as it came
        return _walk(body, clean)
    except RecursionError:
        return "<body not logged: too deeply nested to redact>"


def _body_texts(value: Any) -> Iterator[str]:
    """Every text of a body as :func:`_walk` cleans it: keys, strings, and each string value
    after its key (``api_key=...``: a value only its key shows to be a credential)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from _body_texts(v)
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            if isinstance(v, str):
                yield f"{k}={v}"
            else:
                yield from _body_texts(v)


def _walk(value: Any, clean: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, list):
        return [_walk(v, clean) for v in value]
    if isinstance(value, dict):
        return {clean(k): _walk_item(k, v, clean) for k, v in value.items()}
    return value


def _walk_item(key: str, value: Any, clean: Callable[[str], str]) -> Any:
    """A dict's value cleaned; a string that is a credential only after its key
    (``{"api_key": "..."}``) masked whole."""
    if not isinstance(value, str):
        return _walk(value, clean)
    cleaned = clean(value)
    pair = f"{key}={value}"
    return mask_secret(value) if clean(pair) != f"{clean(key)}={cleaned}" else cleaned


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as it arrived (credentials redacted, header names lower-case)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    raw_body_size: int


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """A registered token and what it may do."""

    scopes: frozenset[str]
    expired: bool
    orgs: frozenset[str]
    sso_orgs: frozenset[str]
    account_supported: bool


@dataclass(slots=True)
class OrgInfo:
    """A registered organization and its Models policy."""

    login: str
    members: set[str]
    models_enabled: bool
    allowed_models: frozenset[str] | None  # lower-case ids; None = every model
    enterprise: str | None


@dataclass(frozen=True, slots=True)
class RateLimitHit:
    """Which limit a request hit and how long to wait."""

    kind: str  # UserByModelByMinute | UserByModelByDay | UserConcurrentRequests
    limit: int
    window: int  # seconds (0 for concurrency)
    wait: int  # seconds


@dataclass(slots=True)
class _Counters:
    minute: deque[float] = field(default_factory=deque)
    day: deque[float] = field(default_factory=deque)
    in_flight: int = 0


class RateLimiter:
    """Sliding per-minute and per-day windows plus in-flight counts, per token and model.

    Not thread-safe by itself: ``EmulatorState`` calls it under its lock.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._counters: dict[tuple[str, str], _Counters] = {}

    def reset(self) -> None:
        """Forget every window."""
        self._counters.clear()

    def acquire(self, key: tuple[str, str], limits: TierLimits) -> RateLimitHit | None:
        """Count a request if it is within every limit; otherwise say which limit it hit."""
        now = self._clock.now()
        c = self._counters.setdefault(key, _Counters())
        for kind, window, stamps, limit in (
            ("UserByModelByDay", 86400, c.day, limits.requests_per_day),
            ("UserByModelByMinute", 60, c.minute, limits.requests_per_minute),
        ):
            while stamps and stamps[0] <= now - window:
                stamps.popleft()
            if limit is not None and len(stamps) >= limit:
                wait = max(1, math.ceil(stamps[len(stamps) - limit] + window - now))
                return RateLimitHit(kind, limit, window, wait)
        conc = limits.concurrent_requests
        if conc is not None and c.in_flight >= conc:
            return RateLimitHit("UserConcurrentRequests", conc, 0, 0)
        c.minute.append(now)
        c.day.append(now)
        c.in_flight += 1
        return None

    def release(self, key: tuple[str, str]) -> None:
        """A counted request finished (its response, stream included, is fully written)."""
        c = self._counters.get(key)
        if c is not None and c.in_flight > 0:
            c.in_flight -= 1


class EmulatorState:
    """Everything configurable about a running emulator, guarded by ``lock``."""

    def __init__(
        self,
        clock: Clock,
        *,
        mode: str,
        strict_auth: bool,
        rate_limits: bool,
        token_limits: bool,
        request_log_limit: int,
    ) -> None:
        self.lock = threading.Lock()
        self.mode = mode
        self.strict_auth = strict_auth
        self.explicit_permission_errors = False
        self.tokens: dict[str, TokenInfo] = {}
        self.orgs: dict[str, OrgInfo] = {}
        self.enterprise_enabled: dict[str, bool] = {}
        self.rate_limits = rate_limits
        self.tier_overrides: dict[str, TierLimits] = {}
        self.token_limits = token_limits
        self.limiter = RateLimiter(clock)
        self.scripts: deque[tuple[str | None, Reply]] = deque()
        self.log: deque[RecordedRequest] = deque(maxlen=request_log_limit)
        self.on_record: Callable[[RecordedRequest], None] | None = None  # e.g. a log file
        self._serial = 0
        # Entra mode: only bearer tokens "<prefix><id>.<expires_on>" that have not expired
        self.entra_prefix: str | None = None
        self.entra_seen: list[str] = []  # ids of the accepted tokens, in order
        # the v1 route's own deployment names (lower-cased) -> the catalog id they serve
        self.deployments: dict[str, str] = {}

    def next_serial(self) -> int:
        """A fresh number for request ids, completion ids and tool-call ids."""
        with self.lock:
            self._serial += 1
            return self._serial

    def limits_for(self, tier: str | None, model: str | None = None) -> TierLimits:
        """The limits of a model of ``tier`` (its own row for the special custom models, as
        the service had), with any test override of the tier applied."""
        if tier is not None and tier.lower() in self.tier_overrides:
            return self.tier_overrides[tier.lower()]
        return published_limits(tier, model)  # the emulator's own copy of the docs' table

    def add_token(
        self,
        token: str,
        scopes: Iterable[str],
        expired: bool,
        orgs: Iterable[str],
        sso_orgs: Iterable[str],
        account_supported: bool,
    ) -> None:
        """Register a token (and turn on strict auth)."""
        info = TokenInfo(
            frozenset(scopes),
            expired,
            frozenset(o.lower() for o in orgs),
            frozenset(o.lower() for o in sso_orgs),
            account_supported,
        )
        with self.lock:
            self.tokens[token] = info
            self.strict_auth = True

    def add_org(
        self,
        login: str,
        members: Iterable[str],
        models_enabled: bool,
        allowed_models: Iterable[str] | None,
        enterprise: str | None,
    ) -> None:
        """Register (or replace) an organization."""
        allowed = None if allowed_models is None else frozenset(m.lower() for m in allowed_models)
        org = OrgInfo(login, set(members), models_enabled, allowed, enterprise)
        with self.lock:
            self.orgs[login.lower()] = org

    def script(self, replies: Iterable[Reply], model: str | None) -> None:
        """Queue replies for the next requests (for ``model`` only, when given)."""
        key = model.lower() if model else None
        with self.lock:
            self.scripts.extend((key, r) for r in replies)

    def take_script(self, model_keys: tuple[str, ...], kinds: frozenset[str]) -> Reply | None:
        """Pop the first queued reply of one of ``kinds`` that matches the request's model.

        Only the first matching reply in the queue is considered, so replies are served in
        the order they were scripted.
        """
        with self.lock:
            for i, (key, reply) in enumerate(self.scripts):
                if key is None or key in model_keys:
                    if reply.kind not in kinds:
                        return None
                    del self.scripts[i]
                    return reply
        return None

    def known_tokens(self) -> list[str]:
        """The registered tokens (masked in the request log wherever they appear)."""
        with self.lock:
            return list(self.tokens)

    def record(self, request: RecordedRequest) -> None:
        """Append to the request log (and hand it to ``on_record``, if set)."""
        with self.lock:
            self.log.append(request)
            listener = self.on_record
        if listener is not None:
            listener(request)

    def set_overrides(self, overrides: Mapping[str, TierLimits] | None) -> None:
        """Replace per-tier limit overrides."""
        with self.lock:
            self.tier_overrides = {k.lower(): v for k, v in (overrides or {}).items()}
