"""The azure boundary: every azure-core (or socket) exception becomes a ``TransportFailure``
here, raised ``from None`` and with no implicit context, so the SDK's exception, which holds the
request's ``Authorization``/``api-key`` headers and the pool (a proxy's ``user:password``), never
rides along in the chain a caller gets. ``transport`` and ``transport_async`` use it.
"""

from __future__ import annotations

import re

__all__ = ["TransportFailure", "failure_from_azure"]


class TransportFailure(Exception):
    """A request failed before an HTTP status was received (or a stream broke).

    Attributes:
        kind: "refused", "connect_timeout", "read_timeout", "reset", "dns", "tls",
            "stream_interrupted", "closed", "too_large" (a body over the transport's cap) or
            "other".
        detail: The underlying message, token-free.
        response_started: Whether any response byte had been received.
    """

    def __init__(self, kind: str, detail: str, *, response_started: bool = False) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail
        self.response_started = response_started

    # Raised while the SDK's exception is being handled, a failure would chain it implicitly;
    # that exception holds the request (Authorization, api-key) and the pool (a proxy's
    # user:password), so the boundary exposes no context ("from None" hides it from
    # tracebacks, this from anything that walks the chain).
    @property
    def __context__(self) -> BaseException | None:
        return None

    @__context__.setter
    def __context__(self, value: BaseException | None) -> None:
        del value


def failure_from_azure(exc: BaseException, *, response_started: bool = False,
                       streaming: bool = True) -> TransportFailure:
    """Translate an azure-core (or underlying socket) exception into a TransportFailure.

    Never raises. A body cut short reads as ``stream_interrupted`` for a stream and as
    ``reset`` for a plain response. The failure is raised ``from None``: the SDK's exception
    keeps the request (its ``Authorization`` and ``api-key`` headers) and the connection pool
    (a proxy's ``user:password``), so it must not ride along in the chain the caller gets; its
    type and (scrubbed) message are kept in ``detail``.
    """
    from azure.core import exceptions as az

    try:
        text = str(exc) or type(exc).__name__
    except Exception:  # some azure exceptions fail in __str__ without a real response
        text = type(exc).__name__
    lowered = text.lower()
    if isinstance(exc, az.ServiceRequestTimeoutError):
        kind = "connect_timeout"
    elif isinstance(exc, az.ServiceResponseTimeoutError):
        kind = "read_timeout"
    elif isinstance(exc, az.ServiceRequestError):
        if "proxyerror" in lowered or "proxy" in lowered:
            kind = "proxy"
        elif "name or service not known" in lowered or "getaddrinfo" in lowered or (
                "nodename" in lowered):
            kind = "dns"
        elif "ssl" in lowered or "certificate" in lowered:
            kind = "tls"
        else:
            kind = "refused"
    elif isinstance(exc, az.IncompleteReadError) or "prematurely" in lowered:
        kind = "stream_interrupted"
    elif isinstance(exc, az.ServiceResponseError):
        kind = "reset"
    elif isinstance(exc, az.StreamClosedError | az.StreamConsumedError):
        kind = "closed"
    elif isinstance(exc, TimeoutError):
        kind = "read_timeout"
    elif isinstance(exc, ConnectionError):
        kind = "reset"
    else:
        kind = "other"
    if kind == "stream_interrupted" and not streaming:
        kind = "reset"
    from ..common.secret_text import scrub
    from ..common.url_secrets import strip_url_secrets

    shown = re.sub(r"[a-z][a-z0-9+.-]*://\S+", lambda m: strip_url_secrets(m.group(0)),
                   scrub(text[:300]), flags=re.IGNORECASE)
    return TransportFailure(kind, f"{type(exc).__name__}: {shown}",
                            response_started=response_started)
