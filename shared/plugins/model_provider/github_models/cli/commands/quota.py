"""``jaato-github-models quota``: the shared rate store's budget (the doctor's store line is
``doctor_answers.store_check``).

``jaato-github-models quota [--model ID] [--json]`` shows what is left of the quota that every
process sharing the store (``JAATO_GITHUB_RATE_STORE``) draws on: requests this minute and today,
requests in flight, a server-imposed pause, tokens this minute. Nothing is sent to the endpoint.
The store URL is shown with its password masked.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..arguments import add_command, add_connection_options, add_model_option

if TYPE_CHECKING:
    from ...provider import GitHubModelsProvider
    from ..output import Console

__all__ = ["budget_report", "register", "run"]

def budget_report(provider: GitHubModelsProvider) -> dict[str, Any]:
    """What is left of the connected model's shared quota (store, scope, limits, use, left).

    Raises:
        RateStoreError: A refused login; in strict mode, an unreachable store.
    """
    from ...pacing.shared_pacing import SharedPacer

    pacer = provider.pacer
    model = provider.model_name or ""
    if not isinstance(pacer, SharedPacer):
        settings = provider.settings
        if settings is not None and settings.rate_store and not settings.pacing:
            return {"store": None, "model": model,
                    "note": "pacing is off (on by default only for models.github.ai), so the "
                            "rate store is not used: set JAATO_GITHUB_PACING=true to share it"}
        return {"store": None, "model": model,
                "note": "no rate store: pacing is per process, nothing is shared"}
    limits = pacer.limits_for(provider.limits_key())
    report: dict[str, Any] = {"store": pacer.store.location.display, "model": model,
                              "tier": limits.tier, "scope": pacer.scope_of(model)}
    from ...pacing.rate_store import StoreDown

    try:
        use = pacer.budget(model)
    except StoreDown as exc:
        report["note"] = f"the store did not answer ({exc})"
        return report
    rows = [("requests this minute", use.minute, limits.requests_per_minute),
            ("requests today", use.day, limits.requests_per_day),
            ("in flight", use.in_flight, limits.concurrent_requests),
            ("tokens this minute", use.tokens, limits.tokens_per_minute)]
    report["rows"] = [{"what": what, "used": used, "limit": limit,
                       "left": None if limit is None else max(0, limit - used)}
                      for what, used, limit in rows
                      if limit is not None or what in ("requests this minute", "in flight")]
    report["paused_for_seconds"] = round(use.paused_for, 1)
    return report


def run(args: argparse.Namespace, console: Console) -> int:
    """What is left of the quota shared through the rate store (JAATO_GITHUB_RATE_STORE) by
    every process: requests this minute and today, in flight, tokens. Sends nothing to the
    endpoint.

    Returns 0 when the store answered (or none is set), else 1.

    Raises:
        GitHubModelsError: The provider cannot be configured (no token, a bad setting).
        RateStoreError: A refused login; in strict mode, an unreachable store.
    """
    from ..connect import connected, resolve_model

    with connected(args, console) as provider:
        provider.connect(resolve_model(args.model, provider.settings.dotenv_path))
        report = budget_report(provider)
    if args.json:
        console.json(report)
    else:
        console.print(f"store: {report['store'] or 'none'}  model: {report['model']}"
                      + (f"  tier: {report['tier']}" if "tier" in report else ""))
        for row in report.get("rows", []):
            limit = "unlimited" if row["limit"] is None else str(row["limit"])
            left = "" if row["left"] is None else f", {row['left']} left"
            console.print(f"  {row['what']}: {row['used']} of {limit}{left}")
        if report.get("paused_for_seconds"):
            console.print(f"  paused by the server for {report['paused_for_seconds']} s more")
        if report.get("note"):
            console.note(report["note"])
    return 0 if "rows" in report or report["store"] is None else 1


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``quota`` to the CLI's sub-parsers."""
    quota = add_command(sub, common, "quota", "show the shared rate budget left", run)
    add_model_option(quota)
    quota.add_argument("--json", action="store_true", help="machine-readable result")
    add_connection_options(quota)
