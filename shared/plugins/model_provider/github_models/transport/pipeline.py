"""The pipeline a request runs: the fixed headers (API version, user agent, the key in the
endpoint kind's header(s)), the proxy, the HTTP log, and with Entra ID the bearer policy.

``pipeline_policies`` lists it for azure-core's clients (``clients``); ``request_policy`` is the
one step that sets the fixed headers and proxy (``clients.DirectPost`` reads the same headers to
POST without the pipeline); ``http_logger`` is the package's HTTP log (quiet unless set to INFO).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..common.version import __version__
from ..config.settings import Settings

if TYPE_CHECKING:
    from ..config.auth import TokenCache

__all__ = [
    "API_VERSION_HEADER",
    "GITHUB_API_VERSION",
    "USER_AGENT",
    "async_bearer_policy",
    "bearer_policy",
    "http_logger",
    "pipeline_policies",
    "request_policy",
    "resolve_proxy",
]

GITHUB_API_VERSION = "2022-11-28"
API_VERSION_HEADER = "X-GitHub-Api-Version"
USER_AGENT = f"jaato-github-models/{__version__}"

# The SDK's per-request HTTP log (method, URL, headers with credentials redacted) goes to our
# own logger, quiet unless asked for: set this logger to INFO to see every request.
http_logger = logging.getLogger(__name__.rsplit(".", 2)[0] + ".http")  # ``<package>.http``
if http_logger.level == logging.NOTSET:  # a level the application already chose stays
    http_logger.setLevel(logging.WARNING)


def request_policy(headers: Mapping[str, str], *, proxies: dict[str, str] | None = None,
                   log: Any = None) -> Any:
    """One azure-core policy that does, per request, what ``HeadersPolicy``,
    ``UserAgentPolicy``, ``AzureKeyCredentialPolicy`` and ``ProxyPolicy`` each did as a
    pipeline step of their own: set the fixed ``headers`` and the ``proxies`` option. With
    ``log`` (an ``HttpLoggingPolicy``) it also runs that policy, only while its logger is on
    for INFO, so a quiet log costs one level check instead of a step (issue 23)."""
    from azure.core.pipeline.policies import SansIOHTTPPolicy

    fixed = dict(headers)

    def logging_on() -> bool:
        return log is not None and log.logger.isEnabledFor(logging.INFO)

    class RequestPolicy(SansIOHTTPPolicy[Any, Any]):
        fixed_headers = fixed  # read by ``DirectPost``: the same headers without the pipeline
        proxy_map = proxies

        @staticmethod
        def logs() -> bool:
            """Whether the HTTP log is on (then requests go through the pipeline)."""
            return logging_on()

        def __repr__(self) -> str:  # names only: a value can be the key
            return f"RequestPolicy(headers={sorted(fixed)!r})"

        def on_request(self, request: Any) -> None:
            request.http_request.headers.update(fixed)
            if proxies and "proxies" not in request.context.options:
                request.context.options["proxies"] = proxies
            if logging_on():
                log.on_request(request)

        def on_response(self, request: Any, response: Any) -> None:
            if "logger" in request.context and logging_on():  # logged its request
                log.on_response(request, response)

    return RequestPolicy()


def resolve_proxy(url: str) -> str | None:
    """The proxy for ``url`` from ``HTTP(S)_PROXY``/``NO_PROXY``, looked up once per client.

    requests and aiohttp would otherwise scan the environment on every request (about 125 µs).
    """
    import urllib.request
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.hostname and urllib.request.proxy_bypass(parts.hostname):
        return None
    return urllib.request.getproxies().get(parts.scheme)


def pipeline_policies(settings: Settings, *, aio: bool = False) -> list[Any]:
    """The whole pipeline, explicitly: headers, user agent, auth, (proxy), quiet HTTP log.

    Left out on purpose: the SDK's retry policy (we own retries), redirects (a POST is not
    redirected), content decoding (we parse bodies), tracing, and network-trace logging (it
    prints the token). The duplicate ``api-key`` header goes only to non-GitHub hosts (Azure
    AI model inference / Foundry authenticate with it). With Entra ID auth the key headers
    give way to a bearer policy over the provider's one token cache (``auth.py``). The fixed
    headers, the proxy and (with a key) the HTTP log are one step: ``clients.request_policy``.
    """
    from azure.core.pipeline.policies import HttpLoggingPolicy

    headers: dict[str, str] = {}
    if settings.profile.sends_api_version:
        headers[API_VERSION_HEADER] = GITHUB_API_VERSION
    headers["User-Agent"] = settings.user_agent or USER_AGENT
    proxy = resolve_proxy(settings.endpoint) if settings.use_env_proxies else None
    proxies = {"http": proxy, "https": proxy} if proxy else None
    log = HttpLoggingPolicy(logger=http_logger)
    if settings.token_cache is None:
        for header, prefix in settings.profile.key_headers:
            headers[header] = f"{prefix} {settings.token}" if prefix else settings.token
        return [request_policy(headers, proxies=proxies, log=log)]
    bearer = (async_bearer_policy if aio else bearer_policy)(settings.token_cache)
    return [request_policy(headers, proxies=proxies), bearer, log]


def bearer_policy(cache: TokenCache) -> Any:
    """A sync azure-core policy that authenticates with ``cache`` and retries one 401."""
    from azure.core.pipeline.policies import HTTPPolicy

    class EntraBearerPolicy(HTTPPolicy[Any, Any]):
        def send(self, request: Any) -> Any:
            token = cache.token()
            request.http_request.headers["Authorization"] = f"Bearer {token}"
            response = self.next.send(request)
            if response.http_response.status_code != 401:
                return response
            _discard(response)
            cache.invalidate(token)
            request.http_request.headers["Authorization"] = f"Bearer {cache.token(force=True)}"
            return self.next.send(request)

    return EntraBearerPolicy()


def async_bearer_policy(cache: TokenCache) -> Any:
    """The aio form of :func:`bearer_policy`, sharing the same cache."""
    from azure.core.pipeline.policies import AsyncHTTPPolicy

    class AsyncEntraBearerPolicy(AsyncHTTPPolicy[Any, Any]):
        async def send(self, request: Any) -> Any:
            token = await cache.atoken()
            request.http_request.headers["Authorization"] = f"Bearer {token}"
            response = await self.next.send(request)
            if response.http_response.status_code != 401:
                return response
            await _adiscard(response)
            cache.invalidate(token)
            fresh = await cache.atoken(force=True)
            request.http_request.headers["Authorization"] = f"Bearer {fresh}"
            return await self.next.send(request)

    return AsyncEntraBearerPolicy()


def _discard(response: Any) -> None:
    """Read and close a refused response (so its connection is reused); failures don't matter."""
    with contextlib.suppress(Exception):
        response.http_response.read()
    with contextlib.suppress(Exception):
        response.http_response.close()


async def _adiscard(response: Any) -> None:
    with contextlib.suppress(Exception):
        await response.http_response.read()
    with contextlib.suppress(Exception):
        await response.http_response.close()
