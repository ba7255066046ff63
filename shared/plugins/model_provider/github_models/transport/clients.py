"""The HTTP clients under ``transport``/``transport_async``: azure-core's own pipeline clients.

The default (``transport="azure-core"``) is ``azure.core.PipelineClient`` /
``AsyncPipelineClient`` with the policies ``pipeline.pipeline_policies`` lists, over the requests
session (sync) or aiohttp session (async) the transport configured. The retired
``azure-ai-inference`` SDK's ``ChatCompletionsClient`` was exactly that (with explicit
``policies=`` its constructor builds ``PipelineClient(base_url="{endpoint}", policies=...)`` and
its ``send_request`` formats the URL and runs the pipeline), so nothing it did is lost.

Still supported, never imported unless asked for:

* ``transport="azure-ai-inference"`` (``JAATO_GITHUB_TRANSPORT``): the SDK's client built from
  the same settings and policies (``pip install 'jaato-github-models[inference]'``);
* ``extra["client"]`` / ``extra["async_client"]``: a ``ChatCompletionsClient`` (sync / aio) the
  application built; every request of that kind goes through its ``send_request`` (its own
  pipeline: credential, retries and logging are the application's). The provider never closes
  it. With only a sync client, async calls use the default client and need the key.
"""

from __future__ import annotations

from typing import Any

from ..config.settings import Settings
from .body import MAX_BODY_BYTES, body_too_large, declared_length, plain_headers
from .pipeline import pipeline_policies

__all__ = ["DirectPost", "absolute_url", "build_async_client", "build_requests_session",
           "build_sync_client", "check_async_credential", "direct_post"]

_URL_CACHE_SIZE = 64  # distinct request URLs one provider sends: a handful


def absolute_url(endpoint: str, url: str) -> str:
    """``url`` when absolute, else joined to ``endpoint`` as azure-core's ``format_url`` joins
    (one slash between them), so a handed-in client never rewrites it."""
    if "://" in url:
        return url
    return endpoint.rstrip("/") + "/" + url.lstrip("/")


def build_requests_session(settings: Settings) -> Any:
    """The requests session under the sync transport: a lean one (see ``_lean_session_class``)
    with a pool sized for the configured concurrency, no retries, no environment lookups
    (proxies are resolved once per client, in ``pipeline.pipeline_policies``)."""
    import requests

    session = _lean_session_class()()
    adapter = requests.adapters.HTTPAdapter(
        pool_connections=4, pool_maxsize=settings.pool_size, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.trust_env = False
    return session


_LEAN_SESSION: Any = None


def _lean_session_class() -> Any:
    """A ``requests.Session`` whose ``request`` skips the per-call merging we never need.

    ``Session.request`` builds a ``Request``, merges it with the session's (empty) cookies,
    params, auth and hooks, re-parses and re-quotes the URL and scans settings on every call:
    about a third of a small request's client time (profiled, issue 23). azure-core's
    ``RequestsTransport`` calls it with bytes (or no) data, headers and connection options
    only, so this builds the ``PreparedRequest`` directly: the same headers (the session's
    defaults under the request's, each validated as requests validates it), the URL as
    requests prepares it (cached per URL string), the same body framing, and hands it to the
    unchanged ``Session.send`` (adapter, cookies kept, hooks). Anything else -- files, params,
    auth or credentials in the URL, session cookies, proxies or hooks, redirects -- takes
    requests' own path.
    """
    global _LEAN_SESSION
    if _LEAN_SESSION is not None:
        return _LEAN_SESSION
    import requests
    from requests.structures import CaseInsensitiveDict

    lean_keys = frozenset({"headers", "data", "files", "verify", "timeout", "cert",
                           "allow_redirects", "proxies", "stream"})

    class LeanSession(requests.Session):
        _prepared_urls: dict[str, str]

        def _lean(self, url: Any, kwargs: dict[str, Any]) -> bool:
            return (isinstance(url, str) and "@" not in url and kwargs.keys() <= lean_keys
                    and not kwargs.get("files") and not kwargs.get("allow_redirects", True)
                    and not self.cookies and not self.auth and not self.params
                    and not self.proxies and not self.trust_env
                    and not any(self.hooks.values())
                    and isinstance(kwargs.get("data"), bytes | None))

        def _url(self, url: str) -> str:
            cache: dict[str, str] = self.__dict__.setdefault("_prepared_urls", {})
            prepared = cache.get(url)
            if prepared is None:
                probe = requests.PreparedRequest()
                probe.prepare_url(url, None)  # raises what requests raises for a bad URL
                prepared = str(probe.url)
                if len(cache) < _URL_CACHE_SIZE:
                    cache[url] = prepared
            return prepared

        def request(self, method: Any, url: Any, *args: Any, **kwargs: Any
                    ) -> requests.Response:
            if args or not self._lean(url, kwargs):
                return super().request(method, url, *args, **kwargs)
            prep = requests.PreparedRequest()
            prep.method = str(method).upper()
            prep.url = self._url(url)
            headers = CaseInsensitiveDict(self.headers)
            for name, value in (kwargs.get("headers") or {}).items():
                if value is None:
                    headers.pop(name, None)
                else:
                    headers[name] = value
            prep.prepare_headers(headers)
            prep.prepare_body(kwargs.get("data"), None)
            verify = kwargs.get("verify")
            return self.send(prep, timeout=kwargs.get("timeout"), allow_redirects=False,
                             proxies=dict(kwargs.get("proxies") or {}),
                             stream=kwargs.get("stream") or False,
                             verify=self.verify if verify is None else verify,
                             cert=kwargs.get("cert") or self.cert)

    _LEAN_SESSION = LeanSession
    return LeanSession


def build_sync_client(settings: Settings, transport: Any) -> tuple[Any, bool]:
    """``(client, owned)``: the sync client requests go through, and whether we close it.

    Raises:
        ImportError: ``azure-ai-inference`` chosen but gone since the settings were checked
            (``transport_setting`` refuses a missing package before any request).
    """
    return _build_client(settings, transport, aio=False)


def build_async_client(settings: Settings, transport: Any) -> tuple[Any, bool]:
    """``(client, owned)``: the aio twin of :func:`build_sync_client`.

    Raises:
        ImportError: As :func:`build_sync_client`.
    """
    return _build_client(settings, transport, aio=True)


def _build_client(settings: Settings, transport: Any, *, aio: bool) -> tuple[Any, bool]:
    handed = settings.async_client if aio else settings.client
    if handed is not None:
        return handed, False
    policies = pipeline_policies(settings, aio=aio)
    if settings.transport == "azure-ai-inference":
        from importlib import import_module

        sdk: Any = import_module("azure.ai.inference.aio" if aio else "azure.ai.inference")
        return sdk.ChatCompletionsClient(settings.endpoint, _placeholder_credential(settings),
                                         transport=transport, policies=policies), True
    from azure.core import AsyncPipelineClient, PipelineClient

    pipeline_client = AsyncPipelineClient if aio else PipelineClient
    return pipeline_client(base_url=settings.endpoint, policies=policies,
                           transport=transport), True


def check_async_credential(settings: Settings) -> None:
    """Refuse async calls that would have no credential.

    Raises:
        ConfigurationError: A sync client was handed in (with its own credential) without a key
            and without an aio client for async calls.
    """
    if (settings.client is not None and settings.async_client is None and not settings.token
            and settings.token_cache is None):
        from ..errors import ConfigurationError

        raise ConfigurationError(
            what="Building the async client", why="extra['client'] (a sync client with its own "
            "credential) was handed in without a key, so an async call has nothing to "
            "authenticate with", fix="also pass an aio ChatCompletionsClient as "
            "extra['async_client'], or give the key (config.api_key) as well",
            setting="async_client")


def _placeholder_credential(settings: Settings) -> Any:
    """The credential the SDK insists on; our policies authenticate, so with Entra ID auth
    (or a handed-in client's own credential) a placeholder that is never sent."""
    from azure.core.credentials import AzureKeyCredential

    return AzureKeyCredential(settings.token or "unused-placeholder")


def direct_post(settings: Settings, transport: Any) -> DirectPost | None:
    """The pipeline-free sender for ``transport`` (azure-core's ``AioHttpTransport``), or
    ``None`` when a request needs more than ``pipeline.request_policy`` (Entra ID's bearer
    policy, a handed-in client, the retired SDK): see :class:`DirectPost`."""
    if transport is None or settings.async_client is not None or settings.token_cache is not None \
            or settings.transport != "azure-core":
        return None
    policies = pipeline_policies(settings, aio=True)
    if len(policies) != 1 or not hasattr(policies[0], "fixed_headers"):
        return None
    return DirectPost(transport, policies[0])


class DirectPost:
    """A JSON POST through azure-core's ``AioHttpTransport``'s aiohttp session, without the
    ``AsyncPipelineClient`` (issue 23).

    With a key, the pipeline is one step (``pipeline.request_policy``: fixed headers, the proxy
    option, a quiet log), yet ``AsyncPipelineClient`` → ``AsyncPipeline`` →
    ``AioHttpTransport.send`` costs per request about as much as aiohttp itself: an
    ``HttpRequest`` and its headers, a ``PipelineRequest``/context, two runner frames,
    ``ClientTimeout``, two response wrappers and a multipart check. This sends what that
    pipeline sends -- the same headers, URL, body, timeouts (the transport's connection
    settings), proxy, ``allow_redirects=False`` -- on the transport's own session, maps
    aiohttp's exceptions to azure-core's exactly as ``AioHttpTransport.send`` and its response's
    ``read`` do, and is used only while the HTTP log is off (``usable``), so logging still goes
    through ``HttpLoggingPolicy``.
    """

    def __init__(self, transport: Any, policy: Any) -> None:
        self._transport = transport
        self._policy = policy
        self._headers = {**policy.fixed_headers, "Content-Type": "application/json"}
        proxies = policy.proxy_map or {}
        self._proxy: str | None = proxies.get("https") or proxies.get("http")
        config = transport.connection_config
        self._connect_timeout = config.timeout
        self._read_timeout = config.read_timeout
        self._timeouts: dict[float | None, Any] = {}

    def __repr__(self) -> str:  # header names only: a value is the key
        return f"DirectPost(headers={sorted(self._headers)!r})"

    def usable(self) -> bool:
        """Whether a request may skip the pipeline now (the HTTP log is off)."""
        return not self._policy.logs()

    def _timeout(self, read_timeout: float | None) -> Any:
        import aiohttp

        key = self._read_timeout if read_timeout is None else read_timeout
        timeout = self._timeouts.get(key)
        if timeout is None:
            timeout = aiohttp.ClientTimeout(sock_connect=self._connect_timeout, sock_read=key)
            if len(self._timeouts) < 8:
                self._timeouts[key] = timeout
        return timeout

    async def post(self, url: str, data: bytes, read_timeout: float | None = None
                   ) -> tuple[int, dict[str, str], bytes]:
        """``(status, lower-cased headers, body)`` of a POST of ``data`` to ``url``.

        Raises:
            azure.core.exceptions.AzureError: What ``AioHttpTransport`` raises for the same
                failure (the caller maps it with ``failure_from_azure``).
            TransportFailure: A body over ``MAX_BODY_BYTES``.
        """
        await self._transport.open()
        with _SEND_ERRORS:
            response = await self._transport.session.request(
                "POST", url, headers=self._headers, data=data,
                timeout=self._timeout(read_timeout), allow_redirects=False, proxy=self._proxy)
        try:
            headers = plain_headers(response.headers)
            declared = declared_length(headers)
            if declared is not None and declared > MAX_BODY_BYTES:
                raise body_too_large(declared, declared=True)
            with _READ_ERRORS:
                if declared is not None and "content-encoding" not in headers:
                    content = await response.read()  # the usual case: declared, small, plain
                else:
                    blocks: list[bytes] = []
                    total = 0
                    async for block in response.content.iter_any():
                        total += len(block)
                        if total > MAX_BODY_BYTES:
                            raise body_too_large(total)
                        blocks.append(block)
                    content = b"".join(blocks)
        except BaseException:
            response.close()
            raise
        response.release()
        return response.status, headers, content


class _AzureErrors:
    """Raise aiohttp's exceptions as azure-core's ``AioHttpTransport`` (``reading``: its
    response's ``read``) raises them, so ``failure_from_azure`` maps them as before."""

    def __init__(self, *, reading: bool = False) -> None:
        self._reading = reading

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is None or not isinstance(exc, Exception):
            return
        import asyncio

        import aiohttp
        from azure.core import exceptions as az

        errors = aiohttp.client_exceptions
        connect_timeout = getattr(errors, "ConnectionTimeoutError", ())
        mapped: type[Exception] | None
        if self._reading and isinstance(exc, errors.ClientPayloadError):
            mapped = az.IncompleteReadError
        elif isinstance(exc, errors.ClientResponseError):
            mapped = az.ServiceResponseError
        elif not self._reading and connect_timeout and isinstance(exc, connect_timeout):
            mapped = az.ServiceRequestTimeoutError
        elif isinstance(exc, asyncio.TimeoutError):
            mapped = az.ServiceResponseTimeoutError
        elif isinstance(exc, errors.ClientError):
            mapped = az.ServiceRequestError
        else:
            return
        raise mapped(exc, error=exc) from exc


_SEND_ERRORS = _AzureErrors()  # stateless: one each, shared by every request
_READ_ERRORS = _AzureErrors(reading=True)
