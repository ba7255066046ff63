"""The CLI's connection: flags to ``ProviderConfig.extra``, opening the provider (its token
registered with the console so nothing prints it), the model to use, the shown endpoint.
Shared by every command that talks to an endpoint.
"""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from .arguments import DEFAULT_MODEL
from .output import Console

if TYPE_CHECKING:  # the provider (and azure) load only when a command needs them
    from ..provider import GitHubModelsProvider

__all__ = ["ENV_MODEL", "connected", "connection_extra", "open_provider", "resolve_model",
           "shown_endpoint"]

ENV_MODEL = "JAATO_GITHUB_MODEL"


def connection_extra(args: argparse.Namespace) -> dict[str, Any]:
    """``ProviderConfig.extra`` from the connection flags (only those given)."""
    extra: dict[str, Any] = {}
    if getattr(args, "endpoint", None):
        extra["endpoint"] = args.endpoint
    if getattr(args, "endpoint_kind", None):
        extra["endpoint_kind"] = args.endpoint_kind
    if getattr(args, "org", None):
        extra["organization"] = args.org
    if getattr(args, "no_pacing", False):
        extra["pacing"] = False
    if getattr(args, "no_tier_limits", False):
        extra["enforce_tier_limits"] = False
    return extra


def open_provider(extra: Mapping[str, Any], console: Console) -> GitHubModelsProvider:
    """A provider configured from ``extra``, the environment and
    ``.env``; its token is registered with ``console`` so it can never be printed.

    Raises:
        TokenNotFoundError: No token anywhere.
        ConfigurationError: A malformed setting.
    """
    from .. import create_provider
    from .._host import ProviderConfig

    provider = create_provider(ProviderConfig(extra=dict(extra)))
    console.add_secret(provider.settings.token)
    # Foundry/gateways: advice names deployments, not catalog ids
    console.custom_endpoint = not provider.settings.profile.knows_model_ids
    return provider


@contextlib.contextmanager
def connected(args: argparse.Namespace, console: Console) -> Iterator[GitHubModelsProvider]:
    """``open_provider`` from the connection flags, shut down when the block ends.

    Raises:
        TokenNotFoundError: No token anywhere.
        ConfigurationError: A malformed setting.
    """
    provider = open_provider(connection_extra(args), console)
    try:
        yield provider
    finally:
        provider.shutdown()


def resolve_model(explicit: str | None, dotenv_path: str | None,
                  environ: Mapping[str, str] | None = None) -> str:
    """``--model`` > ``JAATO_GITHUB_MODEL`` (environment, then ``.env``) > ``openai/gpt-4o``."""
    if explicit and explicit.strip():
        return explicit.strip()
    env = os.environ if environ is None else environ
    if env.get(ENV_MODEL, "").strip():
        return env[ENV_MODEL].strip()
    if dotenv_path:
        from ..config.env import read_dotenv  # UTF-16 files too, and a clear error for others

        value = read_dotenv(dotenv_path).get(ENV_MODEL)
        if value and value.strip():
            return value.strip()
    return DEFAULT_MODEL


def shown_endpoint(endpoint: str) -> str:
    """The endpoint without user info, query or fragment (they can hold keys)."""
    from ..errors import ErrorContext

    return ErrorContext(endpoint=endpoint).shown_endpoint
