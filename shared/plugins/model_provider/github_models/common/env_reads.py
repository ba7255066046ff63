"""The environment variables the provider reads, each read by its name.

jaato-scaffold's ``validate`` decides whether a ``JAATO_*`` variable in a workspace's ``.env`` is
read by installed code by scanning the source for ``environ.get("NAME")``; reading the
variables through this table (not a loop over a list of names) is what lets it see them when
this folder is copied into jaato's tree (the ``# env:`` comments are what ``jaato-scaffold
explain env`` shows). ``env.py`` resolves every setting from this mapping.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["provider_environment"]


def provider_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The provider's variables that ``environ`` sets (unset ones left out)."""
    found = {
        "GITHUB_TOKEN": environ.get("GITHUB_TOKEN"),  # env: GitHub token or endpoint key
        "JAATO_GITHUB_ORGANIZATION": environ.get("JAATO_GITHUB_ORGANIZATION"),  # env: bill an org
        "JAATO_GITHUB_ENTERPRISE": environ.get("JAATO_GITHUB_ENTERPRISE"),  # env: enterprise
        "JAATO_GITHUB_ENDPOINT": environ.get("JAATO_GITHUB_ENDPOINT"),  # env: inference URL
        "JAATO_GITHUB_ENDPOINT_KIND": environ.get(
            "JAATO_GITHUB_ENDPOINT_KIND"),  # env: openai_v1, github, foundry, gateway, auto ...
        "JAATO_GITHUB_TIMEOUT": environ.get("JAATO_GITHUB_TIMEOUT"),  # env: read timeout, s
        "JAATO_GITHUB_MAX_RETRIES": environ.get("JAATO_GITHUB_MAX_RETRIES"),  # env: retries
        "JAATO_GITHUB_PACING": environ.get("JAATO_GITHUB_PACING"),  # env: free-tier pacing
        "JAATO_GITHUB_CATALOG": environ.get("JAATO_GITHUB_CATALOG"),  # env: static or live
        "JAATO_GITHUB_ENFORCE_TIER_LIMITS": environ.get(
            "JAATO_GITHUB_ENFORCE_TIER_LIMITS"),  # env: free-tier per-request token caps
        "JAATO_GITHUB_AUTH": environ.get("JAATO_GITHUB_AUTH"),  # env: key or entra
        "JAATO_GITHUB_AUTH_SCOPE": environ.get("JAATO_GITHUB_AUTH_SCOPE"),  # env: Entra scope
        "JAATO_GITHUB_TRACING": environ.get("JAATO_GITHUB_TRACING"),  # env: off or otel
        "JAATO_GITHUB_RATE_STORE": environ.get("JAATO_GITHUB_RATE_STORE"),  # env: redis:// URL
        "JAATO_GITHUB_RATE_STORE_STRICT": environ.get(
            "JAATO_GITHUB_RATE_STORE_STRICT"),  # env: fail instead of pacing alone
        "JAATO_GITHUB_ENV_FILE": environ.get("JAATO_GITHUB_ENV_FILE"),  # env: the .env to read
        "JAATO_GITHUB_TRANSPORT": environ.get(
            "JAATO_GITHUB_TRANSPORT"),  # env: azure-core or azure-ai-inference
    }
    return {name: value for name, value in found.items() if value is not None}
