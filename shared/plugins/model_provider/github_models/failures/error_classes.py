"""The provider's error classes (``errors`` re-exports them; see its docstring for the tree).

Standard library only (plus the stdlib-only ``common.secret_text``, ``error_context`` and
``wire_check``): no message ever shows a token, and no error keeps one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, ClassVar

from ..common.secret_text import lower_headers, scrub
from ..common.wire_check import repair_text
from .error_context import ErrorContext

BODY_KEEP_CHARS = 2048
"""How much of a response body an error keeps (after scrubbing)."""

__all__ = [
    "ConfigurationError",
    "ContentFilterError",
    "ContextLimitError",
    "GitHubModelsError",
    "InvalidRequestError",
    "ModelNotFoundError",
    "ModelsDisabledError",
    "PayloadTooLargeError",
    "ProviderConnectionError",
    "RateLimitError",
    "ServiceRetiredError",
    "ServiceUnavailableError",
    "StreamInterruptedError",
    "StructuredOutputError",
    "TokenInvalidError",
    "TokenNotFoundError",
    "TokenPermissionError",
]


def _restore(cls: type[GitHubModelsError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    obj = cls.__new__(cls)
    Exception.__init__(obj, *args)
    obj.__dict__.update(state)
    return obj


def _clean(text: str) -> str:
    return scrub(str(text)).strip().rstrip(".").strip()


class GitHubModelsError(Exception):
    """Base of every error this provider raises.

    Attributes:
        status: HTTP status, or None when no response was involved.
        code: The service's error code (``unknown_model``, ``RateLimitReached`` ...).
        request_id: From ``x-github-request-id`` (or ``apim-request-id``/``x-request-id``/
            ``x-ms-request-id``).
        headers: Response headers, names lower-cased, credentials masked.
        body: The response body, scrubbed of tokens and cut to about 2 KB.
        what, why, fix: The parts the message is built from.
        context: The :class:`ErrorContext`, when known.
    """

    _fields: ClassVar[dict[str, Any]] = {}
    """A subclass's own data, ``name: default``: its annotated class attributes (and its
    parents'), taken as keyword arguments; ``_convert`` normalises a value given."""
    _convert: ClassVar[Mapping[str, Callable[[Any], Any]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # a class's own annotations only (Python >= 3.10): the parents' come with cls._fields
        own = {name: getattr(cls, name) for name in cls.__annotations__
               if not name.startswith("_")}
        cls._fields = {**cls._fields, **own}

    def __init__(
        self,
        what: str = "GitHub Models request",
        why: str = "an unexpected error occurred",
        fix: str = "see the error's status, code and body for details",
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
        headers: Mapping[str, str] | None = None,
        body: str | None = None,
        context: ErrorContext | None = None,
        **data: Any,
    ) -> None:
        """The message parts and the response's facts; ``data``: the subclass's own attributes.

        Raises:
            TypeError: a keyword in ``data`` is not one of the class's attributes.
        """
        unknown = sorted(set(data) - set(self._fields))
        if unknown:
            raise TypeError(f"{type(self).__name__}() takes no {', '.join(unknown)}: its data "
                            f"is {', '.join(self._fields) or 'none beyond the base'}")
        for name, default in self._fields.items():  # before the scrubbing below, which sees it
            value = data.get(name, default)
            setattr(self, name, self._convert[name](value) if name in self._convert else value)
        self.what = _clean(what)
        self.why = _clean(why)
        self.fix = _clean(fix)
        self.status = status
        self.code = scrub(code)[:100] if code else None
        self.request_id = scrub(request_id)[:200] if request_id else None
        self.headers: dict[str, str] = lower_headers(headers)
        self.body = scrub(body[: BODY_KEEP_CHARS * 2])[: BODY_KEEP_CHARS] if body else ""
        self.context = context
        for name, value in list(vars(self).items()):  # printable, whatever the input held
            if isinstance(value, str):
                setattr(self, name, repair_text(value))
        if context is not None and context.secrets:
            self._redact(context.secrets)
            # the error outlives the call (pickled to other processes, queued, logged): it keeps
            # the context for its message data, never the credentials
            self.context = replace(context, secrets=())
        super().__init__(self._build_message())

    def _redact(self, secrets: tuple[str, ...]) -> None:
        """Mask echoes of the credentials in every text this error carries: literal ones, then
        cut-off, base64 and percent-encoded ones (``masking.SecretMasker``, as in replies)."""
        pieces = [s for s in secrets if len(s) >= 8]
        for secret in secrets:  # the body after a known prefix leaks just as much
            for prefix in ("github_pat_", "ghp_", "gho_", "ghs_", "ghu_", "ghr_", "sk-"):
                if secret.startswith(prefix) and len(secret) - len(prefix) >= 8:
                    pieces.append(secret[len(prefix):])
        if not pieces:
            return
        from ..common.masking import (
            SecretMasker,  # standard library only; loaded on a first failure
        )

        masker = SecretMasker(s for s in secrets if len(s) >= 8)

        def clean(text: str) -> str:
            for piece in pieces:
                text = text.replace(piece, "…")
            return masker.scrub(text)

        for name, value in list(vars(self).items()):
            if isinstance(value, str):
                setattr(self, name, clean(value))
        self.headers = {k: clean(v) for k, v in self.headers.items()}

    def _build_message(self) -> str:
        meta = []
        if self.status is not None:
            meta.append(f"status {self.status}")
        if self.code:
            meta.append(f"code {self.code}")
        if self.request_id:
            meta.append(f"request id {self.request_id}")
        tail = f" [{', '.join(meta)}]" if meta else ""
        return f"{self.what} failed: {self.why}. Fix: {self.fix}.{tail}"

    @property
    def message(self) -> str:
        """The full message (same as ``str(exc)``)."""
        return str(self)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (type(self), self.args, dict(self.__dict__)))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"request_id={self.request_id!r})"
        )


class TokenNotFoundError(GitHubModelsError):
    """No token anywhere. ``checked`` lists each place looked at and what was found there."""

    checked: tuple[tuple[str, str], ...] = ()
    _convert: ClassVar = {"checked": lambda pairs: tuple((str(a), str(b)) for a, b in pairs)}


class TokenInvalidError(GitHubModelsError):
    """The endpoint rejected the credentials (401). ``token_type`` says which kind was sent."""

    token_type: str | None = None


class TokenPermissionError(GitHubModelsError):
    """The token is valid but lacks the ``models`` permission or SSO authorization."""

    token_type: str | None = None


class ModelsDisabledError(GitHubModelsError):
    """GitHub Models (or this model) is not enabled for the account, organization or enterprise."""

    settings_url: str | None = None


class ModelNotFoundError(GitHubModelsError):
    """The model id is unknown or unavailable. ``suggestions`` holds close known ids."""

    model: str | None = None
    suggestions: Sequence[str] = ()
    _convert: ClassVar = {"suggestions": list}


class RateLimitError(GitHubModelsError):
    """A rate limit was hit: by the server (429) or by client-side pacing (status None).

    Attributes:
        retry_after: Seconds to wait before a retry may succeed, when known.
        limit_type: ``per_minute``, ``per_day``, ``concurrent``, ``quota`` (credit or quota
            exhausted: waiting will not help) or ``unknown``.
        raw_limit_type: ``x-ratelimit-type`` as sent (``UserByModelByDay`` ...).
        resets_at: When the wait ends (UTC), when known.
        limit: The limit's size (requests per window, or concurrent requests).
        window_seconds: The limit's window (86400 per day, 60 per minute, 0 concurrent).
        client_side: True when our own pacer refused before sending anything.
    """

    retry_after: float | None = None
    limit_type: str = "unknown"
    raw_limit_type: str | None = None
    resets_at: datetime | None = None
    limit: int | None = None
    window_seconds: int | None = None
    client_side: bool = False


class ContextLimitError(GitHubModelsError):
    """The request has too many tokens.

    Attributes:
        limit: The cap that was hit, in tokens, when known.
        requested: Tokens the request had, when known.
        limit_source: ``tier`` (the plan's per-request cap, 413 ``tokens_limit_reached``),
            ``model`` (the model's context window) or ``unknown``.
        model_window: The model's context window, when the caller knows it.
    """

    limit: int | None = None
    requested: int | None = None
    limit_source: str = "unknown"
    model_window: int | None = None


PayloadTooLargeError = ContextLimitError
"""jaato-server's retry layer imports this name from ``github_models.errors`` (a 413)."""


class ServiceRetiredError(GitHubModelsError):
    """The endpoint is retired (GitHub Models since 2026-07-30); see ``sunset`` and ``link``."""

    sunset: str | None = None
    deprecation: str | None = None
    link: str | None = None


class ContentFilterError(GitHubModelsError):
    """The content filter blocked the prompt or reply. ``categories`` names what was flagged."""

    categories: tuple[str, ...] = ()
    _convert: ClassVar = {"categories": tuple}


class InvalidRequestError(GitHubModelsError):
    """The request is invalid (400/422), or failed validation before sending (status None)."""

    param: str | None = None


class ServiceUnavailableError(GitHubModelsError):
    """The service failed (5xx). ``retry_after`` when the server asked for a wait."""

    retry_after: float | None = None


class ProviderConnectionError(GitHubModelsError):
    """No usable response arrived.

    Attributes:
        kind: ``refused``, ``dns``, ``connect_timeout``, ``read_timeout``, ``reset``, ``tls``,
            ``proxy``, ``stream_interrupted``, ``stream_malformed``, ``stream_error`` or ``other``.
        retryable: True only when the failure happened before any byte of a response arrived,
            so a retry cannot duplicate delivered output.
    """

    kind: str = "other"
    retryable: bool = False


class StreamInterruptedError(ProviderConnectionError):
    """A stream broke, was malformed, or carried an error event; ``partial_text`` was delivered."""

    partial_text: str = ""


class ConfigurationError(GitHubModelsError):
    """A setting is invalid (endpoint URL, organization login, unknown option). ``setting``."""

    setting: str | None = None


class StructuredOutputError(GitHubModelsError):
    """The model's reply is not valid JSON for the requested schema. ``raw_text`` is the reply."""

    raw_text: str = ""
    _convert: ClassVar = {"raw_text": scrub}


# The classes' public home is ``errors`` (tests, pickles and reprs name it): say so.
_PUBLIC_MODULE = __name__.rsplit(".", 2)[0] + ".errors"  # <package>.failures.error_classes
for _name in __all__:
    globals()[_name].__module__ = _PUBLIC_MODULE
