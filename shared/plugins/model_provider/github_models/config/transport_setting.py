"""The ``transport`` setting and a handed-in client (``extra["client"]``/``["async_client"]``).

Checked when the settings are resolved, so a typo or a missing extra is a ConfigurationError
before any request. Nothing here imports the SDK: whether it is installed is asked of the import
system (``importlib.util.find_spec``), which does not load it.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from typing import Any

from ..errors import ConfigurationError

__all__ = ["INFERENCE_EXTRA", "TRANSPORTS", "handed_clients", "transport_setting"]

TRANSPORTS = ("azure-core", "azure-ai-inference")
"""The values of the ``transport`` setting (the first is the default)."""
INFERENCE_EXTRA = "pip install 'jaato-github-models[inference]'"


def _sdk_installed() -> bool:
    try:
        return importlib.util.find_spec("azure.ai.inference") is not None
    except (ImportError, ValueError):  # a parent package missing or broken
        return False


def transport_setting(value: Any, env_name: str) -> str:
    """The transport a ``transport`` setting names (None or '': ``azure-core``).

    Raises:
        ConfigurationError: Not one of :data:`TRANSPORTS`, or ``azure-ai-inference`` without
            the package installed.
    """
    text = "" if value is None else str(value).strip().lower()
    if text in ("", "default", "azure_core", "core"):
        return TRANSPORTS[0]
    if text in ("azure_ai_inference", "inference", "sdk"):
        text = "azure-ai-inference"
    if text not in TRANSPORTS:
        shown = repr(text) if len(text) <= 24 else f"a value of {len(text)} characters"
        raise ConfigurationError(
            what="Checking the transport setting", why=f"{shown} is not a transport",
            fix=f"set extra['transport'] (or {env_name}) to 'azure-core' (the default) or "
                "'azure-ai-inference' (the retired SDK's ChatCompletionsClient)",
            setting="transport")
    if not _sdk_installed():
        raise ConfigurationError(
            what="Checking the transport setting",
            why="'azure-ai-inference' was chosen but the azure-ai-inference package is not "
                "installed (it is no longer a required dependency: the SDK was retired on "
                "2026-08-26)",
            fix=f"{INFERENCE_EXTRA}, or drop the setting to use azure-core's own client",
            setting="transport")
    return text


def handed_clients(extra: Mapping[str, Any]) -> tuple[Any, Any]:
    """``(client, async_client)`` from ``extra`` (either may be None).

    Raises:
        ConfigurationError: A value without ``send_request``, or a sync/aio mix-up.
    """
    import inspect

    found: list[Any] = []
    for key, want_async in (("client", False), ("async_client", True)):
        value = extra.get(key)
        if value is None:
            found.append(None)
            continue
        send = getattr(value, "send_request", None)
        if not callable(send):
            raise ConfigurationError(
                what=f"Checking extra[{key!r}]",
                why=f"it is {type(value).__name__}, which has no send_request()",
                fix="pass an azure.ai.inference ChatCompletionsClient (aio for async_client), "
                    "or leave it out", setting=key)
        # the aio client's send_request is a plain def returning an awaitable: ask its module
        is_async = inspect.iscoroutinefunction(send) or ".aio" in type(value).__module__
        if is_async != want_async:
            kind = "an aio (async)" if not want_async else "a sync"
            raise ConfigurationError(
                what=f"Checking extra[{key!r}]", why=f"it is {kind} client",
                fix="pass the sync ChatCompletionsClient as extra['client'] and the aio one "
                    "(azure.ai.inference.aio) as extra['async_client']", setting=key)
        found.append(value)
    return found[0], found[1]
