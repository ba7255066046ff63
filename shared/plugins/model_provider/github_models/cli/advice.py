"""Advice in command-line terms: the provider's messages name Python (``extra['endpoint']``,
``provider.list_models()``, ``ProviderConfig(api_key=...)``); a CLI user needs the flag, command
or variable. ``cli_terms`` rewrites them through one table, and ``first_run_message`` answers a
run with nothing configured: the service is retired, here is ``--endpoint`` and the emulator.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["CLI_TERMS", "cli_terms", "first_run_message"]

_MODELS = "`jaato-github-models models`"
_DEPLOYMENTS = ("the deployment or model name this endpoint serves (Microsoft Foundry: the "
                "resource's Deployments page; a gateway: its model list), passed with --model; "
                f"{_MODELS} lists GitHub's catalog, not your deployments")

# (pattern, replacement), applied in order; specific phrases before the generic ones.
CLI_TERMS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement) for pattern, replacement in (
        (r"(provider\.)?list_models\(\) or `jaato-github-models models`", _MODELS),
        (r"(provider\.)?list_models\(\)", _MODELS),
        (r"\(connect\(\) with its id\)", "(--model ID)"),
        (r"JAATO_GITHUB_ENDPOINT or extra\[[\"']endpoint[\"']\]", "--endpoint URL or "
                                                                  "JAATO_GITHUB_ENDPOINT"),
        (r"JAATO_GITHUB_ENDPOINT \(or extra\[[\"']endpoint[\"']\]\)",
         "JAATO_GITHUB_ENDPOINT (or --endpoint URL)"),
        (r"extra\[[\"']endpoint[\"']\]", "--endpoint URL"),
        (r"JAATO_GITHUB_ORGANIZATION \(extra\[[\"']organization[\"']\]\)",
         "JAATO_GITHUB_ORGANIZATION (or --org)"),
        (r"\(or extra\[[\"']organization[\"']\]\)", "(or --org)"),
        (r"extra\[[\"']organization[\"']\]", "--org LOGIN"),
        (r"extra\[[\"']timeout[\"']\]", "JAATO_GITHUB_TIMEOUT (seconds)"),
        (r"JAATO_GITHUB_ENFORCE_TIER_LIMITS=false, extra\[[\"']enforce_tier_limits[\"']\]=False,"
         r" or --no-tier-limits on the command line", "--no-tier-limits or "
                                                      "JAATO_GITHUB_ENFORCE_TIER_LIMITS=false"),
        (r"extra\[[\"']enforce_tier_limits[\"']\]=False", "--no-tier-limits"),
        (r" or raise the tier's max_input_tokens in extra\[[\"']rate_limits[\"']\]", ""),
        (r"\(extra\[[\"']trim_history[\"']\]=True drops the oldest turns\)",
         "(/reset in an interactive chat starts over)"),
        (r"start a new session \(create_session\), or set extra\[[\"']trim_history[\"']\]=True"
         r" to drop the oldest turns", "or start over (/reset in an interactive chat, or a "
                                       "chat without -c/--cid)"),
        (r"as config\.api_key or GITHUB_TOKEN", "as GITHUB_TOKEN (environment or .env)"),
        (r", or pass ProviderConfig\(api_key=\.\.\.\)", ""),
        (r"ProviderConfig\.api_key: not set; ", ""),
        (r"as ProviderConfig\.api_key or GITHUB_TOKEN", "as GITHUB_TOKEN"),
        (r"ProviderConfig\.api_key", "GITHUB_TOKEN"),
        (r"ProviderConfig\(api_key=\.\.\.\)", "GITHUB_TOKEN=<token>"),
        (r"use response_schema= for a JSON schema", "use --schema for a JSON schema"),
        (r"pass response_schema=<JSON schema dict> instead", "use --schema FILE instead"),
        (r"drop response_schema", "drop --schema"),
        (r"pass max_tokens <= (\d+)", r"pass --max-tokens \1 or less"),
        (r"pass e\.g\. stop=\['(.*?)'\]", r"""pass e.g. -o stop '["\1"]'"""),
        (r"pass e\.g\. modalities=\['text'\]", """pass e.g. -o modalities '["text"]'"""),
        (r"leave (temperature|top_p) unset for this model", r"drop --\1 / -o \1 for this model"),
    ))
_CUSTOM_ONLY = re.compile(r"list valid ids with " + re.escape(_MODELS))


def cli_terms(text: str, *, custom_endpoint: bool = False) -> str:
    """``text`` with Python-API advice replaced by flags, commands and variables.

    ``custom_endpoint`` (Foundry, gateways): advice to list catalog ids becomes advice to use
    the endpoint's deployment names.
    """
    for pattern, replacement in CLI_TERMS:
        text = pattern.sub(replacement, text)
    if custom_endpoint:
        text = _CUSTOM_ONLY.sub("use " + _DEPLOYMENTS, text)
        text = text.replace(f"choose one of {_MODELS}", "choose " + _DEPLOYMENTS)
    return text


def first_run_message(extra: Mapping[str, Any],
                      environ: Mapping[str, str] | None = None) -> str | None:
    """The message for a run with no token and GitHub's retired default endpoint, or None when
    an endpoint is configured (then the token error itself is the right advice)."""
    from .._host import ProviderConfig
    from ..config.env import resolve_settings
    from ..errors import RETIREMENT_DATE, GitHubModelsError

    try:
        settings = resolve_settings(ProviderConfig(api_key="placeholder", extra=dict(extra)),
                                    environ)
    except GitHubModelsError:
        return None
    if not settings.is_retired_host:
        return None
    return (f"Nothing is configured yet, and GitHub Models itself was retired on "
            f"{RETIREMENT_DATE} (models.github.ai answers 410 Gone), so a GitHub token alone "
            "no longer works. Fix: point the CLI at an endpoint that speaks the protocol with "
            "--endpoint URL (or JAATO_GITHUB_ENDPOINT) and put its key in GITHUB_TOKEN: "
            "Microsoft Foundry / Azure AI model inference "
            "(https://<resource>.services.ai.azure.com/models), GitHub Enterprise Server or a "
            "proxy (.../inference), or an OpenAI-compatible gateway. To try it offline, run "
            "`jaato-github-models emulator` in another terminal, then "
            "`GITHUB_TOKEN=anything jaato-github-models chat --endpoint "
            "http://127.0.0.1:<port>/inference hello`. `jaato-github-models doctor` checks "
            "a setup step by step; docs/migration.md has the details.")
