"""The HTTP clients under ``transport``/``transport_async``: azure-core's own pipeline clients.

The default (``transport="azure-core"``) is ``azure.core.PipelineClient`` /
``AsyncPipelineClient`` with the policies ``transport._policies`` lists, over the requests
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

from .config.env import Settings

__all__ = ["absolute_url", "build_async_client", "build_sync_client", "check_async_credential"]


def absolute_url(endpoint: str, url: str) -> str:
    """``url`` when absolute, else joined to ``endpoint`` as azure-core's ``format_url`` joins
    (one slash between them), so a handed-in client never rewrites it."""
    if "://" in url:
        return url
    return endpoint.rstrip("/") + "/" + url.lstrip("/")


def build_sync_client(settings: Settings, transport: Any) -> tuple[Any, bool]:
    """``(client, owned)``: the sync client requests go through, and whether we close it.

    Raises:
        ImportError: ``azure-ai-inference`` chosen but gone since the settings were checked
            (``transport_setting`` refuses a missing package before any request).
    """
    if settings.client is not None:
        return settings.client, False
    from .transport import _policies

    if settings.transport == "azure-ai-inference":
        from azure.ai.inference import ChatCompletionsClient

        return ChatCompletionsClient(settings.endpoint, _placeholder_credential(settings),
                                     transport=transport, policies=_policies(settings)), True
    from azure.core import PipelineClient

    return PipelineClient(base_url=settings.endpoint, policies=_policies(settings),
                          transport=transport), True


def build_async_client(settings: Settings, transport: Any) -> tuple[Any, bool]:
    """``(client, owned)``: the aio twin of :func:`build_sync_client`.

    Raises:
        ImportError: ``azure-ai-inference`` chosen but gone since the settings were checked
            (``transport_setting`` refuses a missing package before any request).
    """
    if settings.async_client is not None:
        return settings.async_client, False
    from .transport import _policies

    if settings.transport == "azure-ai-inference":
        from azure.ai.inference.aio import ChatCompletionsClient

        return ChatCompletionsClient(settings.endpoint, _placeholder_credential(settings),
                                     transport=transport,
                                     policies=_policies(settings, aio=True)), True
    from azure.core import AsyncPipelineClient

    return AsyncPipelineClient(base_url=settings.endpoint,
                               policies=_policies(settings, aio=True), transport=transport), True


def check_async_credential(settings: Settings) -> None:
    """Refuse async calls that would have no credential.

    Raises:
        ConfigurationError: A sync client was handed in (with its own credential) without a key
            and without an aio client for async calls.
    """
    if (settings.client is not None and settings.async_client is None and not settings.token
            and settings.token_cache is None):
        from .errors import ConfigurationError

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
