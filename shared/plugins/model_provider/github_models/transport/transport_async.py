"""The asyncio transport: azure-core's ``AsyncPipelineClient`` (aiohttp) and its streaming handle.

The twin of ``transport.SyncTransport``/``StreamHandle``, sharing their request building,
client options and failure mapping (``transport.failure_from_azure``). Loaded at the first
async call.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import GitHubModelsError
from .azure_boundary import TransportFailure, failure_from_azure
from .body import DRAIN_LIMIT, MAX_BODY_BYTES, body_too_large, declared_length, plain_headers
from .transport import HttpResult, build_request, request_params

if TYPE_CHECKING:
    from ..config.settings import Settings

__all__ = ["AsyncStreamHandle", "AsyncTransport"]


async def aread_capped(response: Any, headers: Mapping[str, str] | None = None) -> bytes:
    """``transport.read_capped`` for an aio response. Raises TransportFailure."""
    headers = plain_headers(response.headers) if headers is None else headers
    declared = declared_length(headers)
    if declared is not None and declared > MAX_BODY_BYTES:
        await response.close()
        raise body_too_large(declared, declared=True)
    if declared is not None and "content-encoding" not in headers:
        return bytes(await response.read())  # the usual case: a declared, small, plain body
    blocks: list[bytes] = []
    total = 0
    async for block in response.iter_bytes():
        total += len(block)
        if total > MAX_BODY_BYTES:
            await response.close()
            raise body_too_large(total)
        blocks.append(block)
    return b"".join(blocks)


def _encoded(body: Any) -> bytes | None:
    """The body's own encoding when the turn kept it (``turn_request.EncodedBody``)."""
    encoded = getattr(body, "encoded", None)
    return encoded if isinstance(encoded, bytes) else None


class AsyncStreamHandle:
    """An open streaming response of the aio client."""

    def __init__(self, response: Any, status: int, headers: Mapping[str, str]) -> None:
        self._response = response
        self.status = status
        self.headers = headers
        self._closed = False
        self._blocks: AsyncIterator[bytes] | None = None  # one iterator, as in StreamHandle

    def _iterator(self) -> AsyncIterator[bytes]:
        if self._blocks is None:
            self._blocks = aiter(self._response.iter_bytes())
        return self._blocks

    async def iter_blocks(self) -> AsyncIterator[bytes]:
        """The body in blocks as they arrive.

        Raises:
            TransportFailure: The connection broke or timed out mid-stream.
        """
        try:
            async for block in self._iterator():
                yield block
        except Exception as exc:
            if self._closed:
                return
            raise failure_from_azure(exc, response_started=True) from None  # see failure_from_azure

    async def read(self) -> bytes:
        """The whole body (for error responses), at most ``MAX_BODY_BYTES``.

        Raises:
            TransportFailure: A broken read, or a body over the cap.
        """
        try:
            return await aread_capped(self._response, self.headers)
        except TransportFailure:
            raise
        except Exception as exc:
            raise failure_from_azure(exc, response_started=True) from None  # see failure_from_azure

    async def drain_and_close(self) -> None:
        """Read what is left (bounded) so the connection is reused, then close."""
        if self._closed:
            return
        try:
            total = 0
            async for block in self._iterator():
                total += len(block)
                if total > DRAIN_LIMIT:
                    break
        except Exception:  # noqa: S110 - the stream is finished either way
            pass
        await self.close()

    async def abort(self) -> None:
        """Stop the stream now (a cancel): close without draining."""
        self._closed = True
        await self.close()

    async def close(self) -> None:
        """Close the response (idempotent)."""
        self._closed = True
        with contextlib.suppress(Exception):
            await self._response.close()


class AsyncTransport:
    """The aio HTTP client (aiohttp) for one provider and one event loop: see ``clients.py``."""

    def __init__(self, settings: Settings) -> None:
        from .clients import build_async_client, check_async_credential, direct_post

        check_async_credential(settings)
        self._settings = settings
        self._session: Any = None
        transport = None
        if settings.async_client is None:
            import aiohttp
            from azure.core.pipeline.transport import AioHttpTransport

            # aiohttp's own default (100) at least: a small pool throttles many sessions
            connector = aiohttp.TCPConnector(limit=max(settings.pool_size, 100),
                                             limit_per_host=0)
            self._session = aiohttp.ClientSession(connector=connector, trust_env=False)
            transport = AioHttpTransport(session=self._session, session_owner=False,
                                         connection_timeout=settings.connect_timeout,
                                         read_timeout=settings.read_timeout)
        self._client, self._owned = build_async_client(settings, transport)
        self._params = request_params(settings)
        self._direct = direct_post(settings, transport)
        self._urls: dict[str, str] = {}
        self.closed = False

    def _request(self, method: str, url: str, body: Any = None) -> Any:
        from .clients import absolute_url

        encoded = _encoded(body)
        if encoded is None:
            return build_request(method, absolute_url(self._settings.endpoint, url),
                                 self._params, body)
        from azure.core.rest import HttpRequest

        return HttpRequest(method, self._url(url), content=encoded,
                           headers={"Content-Type": "application/json"})

    def __repr__(self) -> str:
        from ..common.url_secrets import strip_url_secrets  # ;params can hold a key

        return f"AsyncTransport(endpoint={strip_url_secrets(self._settings.endpoint)!r})"

    def _url(self, path: str) -> str:
        url = self._urls.get(path)
        if url is None:  # the pipeline's URL for this path: endpoint, path, query
            url = self._request("POST", path).url
            if len(self._urls) < 16:
                self._urls[path] = url
        return url

    async def post(self, path: str, body: Mapping[str, Any], *, timeout: float | None = None
                   ) -> HttpResult:
        """POST JSON and read the whole response. Raises TransportFailure."""
        direct = self._direct
        if direct is not None and direct.usable():  # a key and a quiet log: no pipeline needed
            data = _encoded(body) or json.dumps(body, ensure_ascii=False).encode("utf-8")
            try:
                status, headers, content = await direct.post(self._url(path), data, timeout)
            except TransportFailure:
                raise  # a body over the cap
            except Exception as exc:
                raise failure_from_azure(exc, streaming=False) from None  # see failure_from_azure
            return HttpResult(status, headers, content)
        kwargs: dict[str, Any] = {} if timeout is None else {"read_timeout": timeout}
        try:
            response = await self._client.send_request(
                self._request("POST", path, body), stream=True, **kwargs)
            headers = plain_headers(response.headers)
            data = await aread_capped(response, headers)
        except (GitHubModelsError, TransportFailure):
            raise  # typed already: the Entra auth policy's, or a body over the cap
        except Exception as exc:
            raise failure_from_azure(exc, streaming=False) from None  # see failure_from_azure
        return HttpResult(response.status_code, headers, data)

    async def open_stream(self, path: str, body: Mapping[str, Any], *,
                          timeout: float | None = None) -> AsyncStreamHandle:
        """POST JSON and return the response unread. Raises TransportFailure."""
        kwargs: dict[str, Any] = {} if timeout is None else {"read_timeout": timeout}
        try:
            response = await self._client.send_request(
                self._request("POST", path, body), stream=True, **kwargs)
        except GitHubModelsError:
            raise  # from the Entra auth policy: already typed
        except Exception as exc:
            raise failure_from_azure(exc) from None  # see failure_from_azure
        return AsyncStreamHandle(response, response.status_code,
                                 plain_headers(response.headers))

    async def close(self) -> None:
        """Close the client and its aiohttp session (idempotent)."""
        if self.closed:
            return
        self.closed = True
        try:
            if self._owned:
                await self._client.close()
        finally:
            if self._session is not None:
                await self._session.close()
