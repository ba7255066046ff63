"""No azure-core exception escapes unmapped: every exception type the SDK defines becomes a
``TransportFailure`` with a known kind, and, raised from the HTTP layer under a real provider
(a requests adapter mounted on the provider's own session, the SDK client untouched), reaches
the caller as a ``GitHubModelsError`` with the original exception in its cause chain."""

from __future__ import annotations

import inspect
import socket
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
import requests
import urllib3.exceptions
from azure.core import exceptions as az

from shared.plugins.model_provider.github_models import errors as E
from shared.plugins.model_provider.github_models.common.clock import ManualClock
from shared.plugins.model_provider.github_models.transport.azure_boundary import (
    TransportFailure,
    failure_from_azure,
)

KINDS = frozenset({"refused", "dns", "connect_timeout", "read_timeout", "reset", "tls",
                   "proxy", "stream_interrupted", "closed", "other"})
AZURE_TYPES = sorted(
    (cls for cls in vars(az).values()
     if inspect.isclass(cls) and issubclass(cls, BaseException)
     and cls.__module__.startswith("azure.")),
    key=lambda cls: cls.__name__)


def instantiate(cls: type[BaseException], message: str = "boom from the transport") -> Any:
    """An instance of ``cls``, whatever its constructor wants."""
    builders: list[Callable[[], Any]] = [lambda: cls(message),
                                         lambda: cls(message=message)]  # type: ignore[call-arg]
    for build in builders:
        try:
            return build()
        except Exception:  # try the next way to build it
            continue
    exc = cls.__new__(cls)
    Exception.__init__(exc, message)
    return exc


def bare(cls: type[BaseException]) -> Any:
    """An instance whose own ``__init__`` never ran (missing attributes, no message)."""
    exc = cls.__new__(cls)
    Exception.__init__(exc)
    return exc


def causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and everything it chains: ``__cause__``/``__context__``, and the SDK's own link
    (``AzureError.inner_exception``, set from its ``error=`` argument)."""
    seen: set[int] = set()
    todo: list[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [c for c in (current.__cause__, current.__context__,
                             getattr(current, "inner_exception", None))
                 if isinstance(c, BaseException)]


def each_type(types: Sequence[type[BaseException]]) -> list[Any]:
    return [pytest.param(cls, id=cls.__name__) for cls in types]


def test_the_sdk_defines_the_types_we_expect() -> None:
    names = {cls.__name__ for cls in AZURE_TYPES}
    assert {"AzureError", "ServiceRequestError", "ServiceResponseError", "HttpResponseError",
            "IncompleteReadError", "StreamClosedError"} <= names
    assert len(AZURE_TYPES) >= 15


@pytest.mark.parametrize("cls", each_type(AZURE_TYPES))
@pytest.mark.parametrize("build", [instantiate, bare], ids=["built", "bare"])
def test_every_azure_exception_maps_to_a_known_kind(cls: type[BaseException],
                                                    build: Callable[[type], Any]) -> None:
    exc = build(cls)
    for started in (False, True):
        failure = failure_from_azure(exc, response_started=started)
        assert type(failure) is TransportFailure
        assert failure.kind in KINDS
        assert failure.response_started is started
        assert failure.detail.startswith(f"{cls.__name__}: ")
        assert str(failure).startswith(f"{failure.kind}: ")


@pytest.mark.parametrize(("cls", "kind"), [
    (az.ServiceRequestTimeoutError, "connect_timeout"),
    (az.ServiceResponseTimeoutError, "read_timeout"),
    (az.ServiceRequestError, "refused"),
    (az.ServiceResponseError, "reset"),
    (az.IncompleteReadError, "stream_interrupted"),
    (az.StreamClosedError, "closed"),
    (az.StreamConsumedError, "closed"),
    (az.HttpResponseError, "other"),
    (az.AzureError, "other"),
])
def test_the_kinds_that_matter(cls: type[BaseException], kind: str) -> None:
    assert failure_from_azure(instantiate(cls)).kind == kind


# ---- through a real provider: a requests adapter raising under the SDK -------------------------


class RaisingAdapter(requests.adapters.BaseAdapter):
    """A transport adapter whose every send raises ``exc`` (the SDK pipeline runs as usual)."""

    def __init__(self, exc: BaseException) -> None:
        super().__init__()
        self.exc = exc
        self.sent = 0

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        self.sent += 1
        raise self.exc

    def close(self) -> None:
        pass


class BrokenBody:
    """A raw body that gives some bytes, then raises ``exc`` (read by requests' iter_content)."""

    def __init__(self, first: bytes, exc: BaseException) -> None:
        self._first: bytes | None = first
        self._exc = exc

    def read(self, *args: Any, **kwargs: Any) -> bytes:
        if self._first is not None:
            first, self._first = self._first, None
            return first
        raise self._exc

    def close(self) -> None:
        pass

    def release_conn(self) -> None:
        pass


class BrokenBodyAdapter(requests.adapters.BaseAdapter):
    """Answers 200 with a body that breaks after its first bytes."""

    def __init__(self, content_type: str, first: bytes, exc: BaseException) -> None:
        super().__init__()
        self.content_type, self.first, self.exc = content_type, first, exc

    def send(self, request: Any, *args: Any, **kwargs: Any) -> requests.Response:
        response = requests.Response()
        response.status_code = 200
        response.headers["Content-Type"] = self.content_type
        response.raw = BrokenBody(self.first, self.exc)
        response.request = request
        response.url = request.url
        return response

    def close(self) -> None:
        pass


def call(provider: Any, streaming: bool) -> None:
    if streaming:
        provider.send_message_streaming("hello", lambda _t: None)
    else:
        provider.send_message("hello")


def assert_mapped(error: BaseException, original: BaseException) -> None:
    assert isinstance(error, E.GitHubModelsError), type(error)
    assert not isinstance(error, az.AzureError)
    assert type(error).__module__ == E.__name__
    chain = list(causes(error))
    # the SDK's exception stays behind at the boundary (it holds the request's Authorization
    # header and the pool's proxy credentials); the failure names its type instead
    assert not any(c is original or isinstance(c, az.AzureError) for c in chain), chain
    failures = [c for c in chain if isinstance(c, TransportFailure)]
    assert failures and failures[0].detail, chain


AZURE_RAISED = [cls for cls in AZURE_TYPES if issubclass(cls, Exception)]


@pytest.mark.parametrize("streaming", [False, True], ids=["complete", "stream"])
@pytest.mark.parametrize("cls", each_type(AZURE_RAISED))
def test_an_azure_exception_under_the_provider_is_mapped(make_provider: Callable[..., Any],
                                                         cls: type[Exception],
                                                         streaming: bool) -> None:
    provider = make_provider(clock=ManualClock(), max_retries=0)
    original = instantiate(cls)
    adapter = RaisingAdapter(original)
    provider._runner.transport._session.mount("http://", adapter)
    with pytest.raises(E.GitHubModelsError) as info:
        call(provider, streaming)
    assert_mapped(info.value, original)
    assert adapter.sent == 1
    assert provider.get_history() == []


# What the SDK's requests transport makes of the exceptions requests really raises.
REQUESTS_RAISED: list[tuple[str, Callable[[], BaseException], type[E.GitHubModelsError], str]] = [
    ("connect-timeout", lambda: requests.exceptions.ConnectTimeout("connect timed out"),
     E.ProviderConnectionError, "connect_timeout"),
    ("read-timeout", lambda: requests.exceptions.ReadTimeout("read timed out"),
     E.ProviderConnectionError, "read_timeout"),
    ("refused", lambda: requests.exceptions.ConnectionError(
        urllib3.exceptions.NewConnectionError(
            None, "Failed to establish a new connection: [Errno 111] Connection refused")),  # type: ignore[arg-type]
     E.ProviderConnectionError, "refused"),
    ("dns", lambda: requests.exceptions.ConnectionError(
        "Failed to resolve 'models.example' ([Errno -2] Name or service not known)"),
     E.ProviderConnectionError, "dns"),
    ("tls", lambda: requests.exceptions.SSLError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate "
                                                 "verify failed"),
     E.ProviderConnectionError, "tls"),
    ("aborted", lambda: requests.exceptions.ConnectionError(
        urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionResetError(104))),
     E.ProviderConnectionError, "reset"),
    ("incomplete-read", lambda: requests.exceptions.ChunkedEncodingError(
        "IncompleteRead(10 bytes read, 20 more expected)"), E.StreamInterruptedError,
     "stream_interrupted"),
    ("other-request-exception", lambda: requests.exceptions.TooManyRedirects("Exceeded 30 "
                                                                             "redirects"),
     E.ProviderConnectionError, "reset"),  # the SDK calls any other RequestException a
                                           # ServiceResponseError
    ("os-reset", lambda: ConnectionResetError(104, "Connection reset by peer"),
     E.ProviderConnectionError, "reset"),
    ("socket-timeout", lambda: TimeoutError("timed out"), E.ProviderConnectionError,
     "read_timeout"),
    ("gaierror", lambda: socket.gaierror(-2, "Name or service not known"),
     E.ProviderConnectionError, "other"),
    ("runtime", lambda: RuntimeError("something odd in a transport plug-in"),
     E.ProviderConnectionError, "other"),
]


@pytest.mark.parametrize("streaming", [False, True], ids=["complete", "stream"])
@pytest.mark.parametrize(("name", "make_exc", "cls", "kind"), REQUESTS_RAISED,
                         ids=[r[0] for r in REQUESTS_RAISED])
def test_what_requests_raises_reaches_the_caller_typed(
        make_provider: Callable[..., Any], name: str, make_exc: Callable[[], BaseException],
        cls: type[E.GitHubModelsError], kind: str, streaming: bool) -> None:
    if name == "incomplete-read" and not streaming:
        # a plain response cut short is a reset, not an interrupted stream
        cls, kind = E.ProviderConnectionError, "reset"
    provider = make_provider(clock=ManualClock(), max_retries=0)
    original = make_exc()
    provider._runner.transport._session.mount("http://", RaisingAdapter(original))
    with pytest.raises(E.GitHubModelsError) as info:
        call(provider, streaming)
    error = info.value
    assert type(error) is cls, repr(error)
    assert error.kind == kind  # type: ignore[attr-defined]
    assert_mapped(error, original)


def test_a_proxy_failure_is_reported_as_a_proxy_failure(
        make_provider: Callable[..., Any]) -> None:
    provider = make_provider(clock=ManualClock(), max_retries=0)
    original = requests.exceptions.ProxyError("Unable to connect to proxy",
                                              OSError("Tunnel connection failed: 403"))
    provider._runner.transport._session.mount("http://", RaisingAdapter(original))
    with pytest.raises(E.ProviderConnectionError) as info:
        provider.send_message("hello")
    assert info.value.kind == "proxy"
    assert "HTTPS_PROXY" in str(info.value)


@pytest.mark.parametrize("exc", [
    urllib3.exceptions.ProtocolError("Connection broken: IncompleteRead"),
    ConnectionResetError(104, "Connection reset by peer"),
    az.ServiceResponseError("socket closed"),
    RuntimeError("decoder blew up"),
], ids=["protocol", "reset", "azure", "runtime"])
@pytest.mark.parametrize("streaming", [False, True],
                         ids=["complete", "stream"])
def test_a_body_that_breaks_mid_way_is_mapped(make_provider: Callable[..., Any],
                                              exc: BaseException, streaming: bool) -> None:
    provider = make_provider(clock=ManualClock(), max_retries=0)
    first = (b'data: {"choices":[{"index":0,"delta":{"content":"partial"}}]}\n\n' if streaming
             else b'{"choices": [')
    ctype = "text/event-stream" if streaming else "application/json"
    provider._runner.transport._session.mount("http://", BrokenBodyAdapter(ctype, first, exc))
    chunks: list[str] = []
    with pytest.raises(E.GitHubModelsError) as info:
        if streaming:
            provider.send_message_streaming("hello", chunks.append)
        else:
            provider.send_message("hello")
    error = info.value
    assert isinstance(error, E.ProviderConnectionError), repr(error)
    assert not isinstance(error, az.AzureError)
    assert any(isinstance(c, TransportFailure) for c in causes(error))
    if streaming:
        assert chunks == ["partial"]
        assert isinstance(error, E.StreamInterruptedError)
        assert (error.partial_text, error.retryable) == ("partial", False)
    assert provider.get_history() == []
