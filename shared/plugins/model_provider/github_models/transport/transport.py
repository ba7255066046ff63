"""The sync transport: azure-core's ``PipelineClient`` over a requests session (``clients.py``
builds it with the policies ``pipeline.py`` lists).

It lists the whole pipeline instead of inheriting a default one:

* no retry policy (one layer owns retries: ours, in ``calls.py``);
* no network-trace logging (it prints the token); the HTTP logger is our own, quiet, with
  credentials redacted;
* a product user-agent on every request, ``X-GitHub-Api-Version`` where the profile wants it,
  the key in the header(s) the endpoint's profile names (once on Foundry v1);
* one client per provider with a connection pool sized for the configured concurrency; streams
  are drained after ``[DONE]`` so their connection goes back to the pool.

Requests go through the client's public ``send_request`` (the full pipeline: auth, headers,
transport); bodies are built and parsed by us. The retired ``azure-ai-inference`` SDK's client
is still an option (``transport`` setting, or a handed-in client): see ``clients.py``. Every
azure-core exception becomes a :class:`TransportFailure` (``azure_boundary.failure_from_azure``).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..config.settings import Settings
from ..errors import GitHubModelsError
from .azure_boundary import TransportFailure, failure_from_azure
from .body import DRAIN_LIMIT, MAX_BODY_BYTES, body_too_large, declared_length, plain_headers
from .urllib3_reads import available_blocks, find_socket, raw_body, urllib3_errors

__all__ = ["CHAT_PATH", "HttpResult", "StreamHandle", "SyncTransport", "build_request",
           "read_capped", "request_params"]

CHAT_PATH = "/chat/completions"  # the chat-completions route, under the endpoint


def read_capped(response: Any, headers: Mapping[str, str] | None = None) -> bytes:
    """Read a response body whole, refusing (and closing) one over ``MAX_BODY_BYTES``.

    Raises:
        TransportFailure: The body is too large (or the read broke: the caller maps that).
    """
    headers = plain_headers(response.headers) if headers is None else headers
    declared = declared_length(headers)
    if declared is not None and declared > MAX_BODY_BYTES:
        response.close()
        raise body_too_large(declared, declared=True)
    if declared is not None and "content-encoding" not in headers:
        raw = raw_body(response)  # the usual case: a declared, small, plain body
        if raw is not None:  # read from urllib3 at once (azure-core's read: 4 KiB blocks)
            with urllib3_errors():
                return bytes(raw.read())
        return bytes(response.read())
    blocks: list[bytes] = []
    total = 0
    for block in response.iter_bytes():
        total += len(block)
        if total > MAX_BODY_BYTES:
            response.close()
            raise body_too_large(total)
        blocks.append(block)
    return b"".join(blocks)

class _DropStreamDownloadNoise(logging.Filter):
    """azure-core logs 'Unable to stream download.' (a broken stream) and 'Incomplete download.'
    (a body cut short) at WARNING; we raise a typed error for the same event, so the line is
    noise (and lands on users' stderr)."""

    _NOISE = frozenset({"Unable to stream download.", "Incomplete download."})

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() not in self._NOISE


for _name in ("azure.core.pipeline.transport._requests_basic",
              "azure.core.pipeline.transport._requests_asyncio",
              "azure.core.pipeline.transport._aiohttp"):
    logging.getLogger(_name).addFilter(_DropStreamDownloadNoise())


@dataclass(frozen=True, slots=True)
class HttpResult:
    """A complete HTTP response as plain data."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON. Raises ValueError when it is not JSON or absurdly nested."""
        from ..common.wire_check import loads_json

        return loads_json(self.body)


@contextlib.contextmanager
def _typed_read_failures() -> Iterator[None]:
    """A failure while reading a started response as a ``TransportFailure`` (typed ones pass)."""
    try:
        yield
    except TransportFailure:
        raise
    except Exception as exc:
        raise failure_from_azure(exc, response_started=True) from None  # see failure_from_azure


@dataclass(eq=False)
class StreamHandle:
    """An open streaming response: status, headers, and its body as byte blocks."""

    _response: Any = field(repr=False)
    status: int
    headers: Mapping[str, str] = field(repr=False)
    _closed: bool = field(default=False, init=False)
    # One iterator for the whole body: iter_blocks stops at [DONE] and drain_and_close reads
    # the rest from the same iterator (azure-core refuses a second one), so the connection
    # goes back to the pool instead of being dropped.
    _blocks: Iterator[bytes] | None = field(default=None, init=False, repr=False)

    def _iterator(self) -> Iterator[bytes]:
        if self._blocks is None:
            self._blocks = available_blocks(self._response, self.headers) or iter(
                self._response.iter_bytes())
        return self._blocks

    def iter_blocks(self) -> Iterator[bytes]:
        """The body in blocks as they arrive.

        Raises:
            TransportFailure: The connection broke or timed out mid-stream.
        """
        try:
            for block in self._iterator():  # noqa: UP028 - ``yield from`` would close it on stop
                yield block
        except Exception as exc:
            if self._closed:
                return
            raise failure_from_azure(exc, response_started=True) from None  # see failure_from_azure

    def read(self) -> bytes:
        """The whole body (for error responses), at most ``MAX_BODY_BYTES``.

        Raises:
            TransportFailure: A broken read, or a body over the cap.
        """
        with _typed_read_failures():
            return read_capped(self._response, self.headers)

    def drain_and_close(self) -> None:
        """Read what is left (bounded) so the connection can be reused, then close."""
        if self._closed:
            return
        try:
            total = 0
            for block in self._iterator():
                total += len(block)
                if total > DRAIN_LIMIT:
                    break
        except Exception:  # noqa: S110 - the stream is finished either way
            pass
        self.close()

    def abort(self) -> None:
        """Stop a stream now, from any thread: shut the socket so a blocked read returns."""
        self._closed = True
        sock = find_socket(self._response)
        if sock is not None:
            try:
                import socket

                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self.close()

    def close(self) -> None:
        """Close the response (idempotent)."""
        self._closed = True
        with contextlib.suppress(Exception):  # closing twice or on a dead socket is harmless
            self._response.close()


def request_params(settings: Settings) -> dict[str, str]:
    """The query every request carries: ``api-version`` where the profile sends one (GitHub-shaped,
    Foundry's ``/models`` route), or where the user set one and the profile allows it (a gateway);
    never on Foundry v1."""
    profile = settings.profile
    if profile.sends_api_version or (settings.api_version_set and profile.api_version_opt_in):
        return {"api-version": settings.api_version}
    return {}


_QUERY_URLS: dict[tuple[str, tuple[tuple[str, str], ...]], str] = {}


def build_request(method: str, url: str, params: Mapping[str, str], body: Any) -> Any:
    from azure.core.rest import HttpRequest

    key = (url, tuple(params.items()))
    full = _QUERY_URLS.get(key)
    if full is None:  # azure-core merges the query into the URL: once per URL, not per request
        full = HttpRequest(method, url, params=dict(params)).url
        if len(_QUERY_URLS) < 256:
            _QUERY_URLS[key] = full
    if body is None:
        return HttpRequest(method, full)
    return HttpRequest(method, full,
                       content=json.dumps(body, ensure_ascii=False).encode("utf-8"),
                       headers={"Content-Type": "application/json"})


def _requests_transport(session: Any, settings: Settings) -> Any:
    """azure-core's transport over our requests ``session`` (which it does not own)."""
    from azure.core.pipeline.transport import RequestsTransport

    return RequestsTransport(session=session, session_owner=False,
                             connection_timeout=settings.connect_timeout,
                             read_timeout=settings.read_timeout)


class SyncTransport:
    """The sync HTTP client of one provider (thread-safe, reused): see ``clients.py``."""

    def __init__(self, settings: Settings) -> None:
        from .clients import build_requests_session, build_sync_client

        self._settings = settings
        # a handed-in client brings its own transport; else ours, over a lean requests session
        self._session: Any = (None if settings.client is not None
                              else build_requests_session(settings))
        self._client, self._owned = build_sync_client(
            settings, None if self._session is None else _requests_transport(self._session,
                                                                              settings))
        self._params = request_params(settings)
        self.closed = False

    def __repr__(self) -> str:
        from ..common.url_secrets import strip_url_secrets  # ;params can hold a key

        return f"SyncTransport(endpoint={strip_url_secrets(self._settings.endpoint)!r})"

    @property
    def settings(self) -> Settings:
        """The settings this client was built from."""
        return self._settings

    def _request(self, method: str, url: str, body: Any = None) -> Any:
        from .clients import absolute_url

        return build_request(method, absolute_url(self._settings.endpoint, url), self._params,
                             body)

    def post(self, path: str, body: Mapping[str, Any], *, timeout: float | None = None
             ) -> HttpResult:
        """POST JSON and read the whole response.

        Raises:
            TransportFailure: No HTTP response (refused, timeout, reset).
        """
        return self._send(self._request("POST", path, body), timeout)

    def get(self, url: str, *, timeout: float | None = None) -> HttpResult:
        """GET a URL (absolute or relative to the endpoint). Raises TransportFailure."""
        return self._send(self._request("GET", url), timeout)

    def _send(self, request: Any, timeout: float | None) -> HttpResult:
        kwargs: dict[str, Any] = {} if timeout is None else {"read_timeout": timeout}
        try:
            response = self._client.send_request(request, stream=True, **kwargs)
            headers = plain_headers(response.headers)
            body = read_capped(response, headers)
        except (GitHubModelsError, TransportFailure):
            raise  # typed already: the Entra auth policy's, or a body over the cap
        except Exception as exc:
            raise failure_from_azure(exc, streaming=False) from None  # see failure_from_azure
        return HttpResult(response.status_code, headers, body)

    def open_stream(self, path: str, body: Mapping[str, Any], *, timeout: float | None = None
                    ) -> StreamHandle:
        """POST JSON and return the response unread, for streaming.

        Raises:
            TransportFailure: No HTTP response.
        """
        kwargs: dict[str, Any] = {} if timeout is None else {"read_timeout": timeout}
        try:
            response = self._client.send_request(
                self._request("POST", path, body), stream=True, **kwargs)
        except GitHubModelsError:
            raise  # from the Entra auth policy: already typed
        except Exception as exc:
            raise failure_from_azure(exc) from None  # see failure_from_azure
        return StreamHandle(response, response.status_code, plain_headers(response.headers))

    def close(self) -> None:
        """Close the client and its connection pool (idempotent)."""
        if self.closed:
            return
        self.closed = True
        try:
            if self._owned:
                self._client.close()
        finally:
            if self._session is not None:
                self._session.close()

