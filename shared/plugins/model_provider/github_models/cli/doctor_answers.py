"""``doctor``: what the test request's answer says about each check (service, token,
organization, model, rate-limit headroom) and the shared rate store's line. ``doctor_checks.Doctor``
runs the checks and records.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from ..errors import (
    RETIREMENT_DATE,
    GitHubModelsError,
    ModelsDisabledError,
    ProviderConnectionError,
    RateLimitError,
    ServiceRetiredError,
    ServiceUnavailableError,
    TokenInvalidError,
    TokenPermissionError,
)
from .output import FAIL, PASS, SKIP, Check

if TYPE_CHECKING:
    from ..config.settings import Settings
    from ..provider import GitHubModelsProvider

__all__ = ["RETIRED_FIX", "Recorder", "ping_failed", "rate_limits", "store_check"]

RETIRED_FIX = (
    f"GitHub Models was retired on {RETIREMENT_DATE}: every models.github.ai endpoint answers "
    "410 Gone. Point the provider at an endpoint that still speaks the protocol: set "
    "JAATO_GITHUB_ENDPOINT in the environment or .env (or pass --endpoint), e.g. "
    "JAATO_GITHUB_ENDPOINT=https://<resource>.services.ai.azure.com/models for Microsoft Foundry "
    "/ Azure AI model inference (with that resource's key as GITHUB_TOKEN, and JAATO_GITHUB_MODEL "
    "set to your deployment's name, e.g. gpt-4o), a GitHub Enterprise "
    "Server or proxy URL ending in /inference, an OpenAI-compatible gateway, or the local "
    "emulator (jaato-github-models emulator, then JAATO_GITHUB_ENDPOINT="
    "http://127.0.0.1:<port>/inference); see docs/migration.md")


class Recorder(Protocol):
    """What the verdicts write to (``doctor_checks.Doctor``)."""

    checks: dict[str, Check]
    endpoint: str | None

    def set(self, name: str, status: str, detail: str, next_step: str = "") -> None:
        """Record one check's result."""

    def skip_rest(self, reason: str) -> None:
        """Mark every check without a result as skipped for ``reason``."""


# the checks a test request's answer decides, in order, and what each says when it passed
_ORDER = ("service", "endpoint", "auth", "organization")
_PASSED = {"service": "no retirement answer (410, Deprecation or Sunset)",
           "auth": "the endpoint accepted the token"}


def _refusal(exc: GitHubModelsError, endpoint: str | None, via_org: bool
             ) -> tuple[str, str, str, str] | None:
    """``(check, why, fix, reason)`` when the answer fails a check and rules out the later ones
    (``via_org``: the request went to the organization's path); None otherwise."""
    if isinstance(exc, ServiceRetiredError):
        return "service", exc.why, RETIRED_FIX, "the service is retired"
    if isinstance(exc, ServiceUnavailableError):
        return "service", exc.why, exc.fix, "the service failed the test request"
    if exc.status == 404 and type(exc) is GitHubModelsError:  # no such path, not a model
        return ("endpoint", f"{endpoint}/chat/completions answered 404: {exc.why}", exc.fix,
                "the endpoint URL is wrong")
    if isinstance(exc, TokenInvalidError | TokenPermissionError):
        return "auth", exc.why, exc.fix, "the token was not accepted"
    if isinstance(exc, ModelsDisabledError) and via_org:
        return "organization", exc.why, exc.fix, "the organization refused the request"
    if isinstance(exc, ModelsDisabledError):
        return "auth", exc.why, exc.fix, "GitHub Models is not enabled for this token"
    return None


def ping_failed(doc: Recorder, provider: GitHubModelsProvider, exc: GitHubModelsError,
                is_chosen: bool) -> None:
    """Record what a failed test request says about each check."""
    s = provider.settings
    if isinstance(exc, ProviderConnectionError):
        if doc.checks["reachable"].status == SKIP:
            doc.set("reachable", FAIL, exc.why, exc.fix)
        else:
            doc.set("service", FAIL, f"the test request failed: {exc.why}", exc.fix)
        doc.skip_rest("the endpoint did not answer the test request")
        return
    if doc.checks["reachable"].status == SKIP:
        doc.set("reachable", PASS, f"{doc.endpoint} answered (HTTP {exc.status})")
    refusal = _refusal(exc, doc.endpoint, bool(s.organization and s.org_path_applied))
    failed = _ORDER.index(refusal[0]) if refusal else len(_ORDER)
    for check, detail in _PASSED.items():  # every check before the failed one passed
        if _ORDER.index(check) < failed:
            doc.set(check, PASS, detail)
    if refusal is not None:
        check, why, fix, reason = refusal
        doc.set(check, FAIL, why, fix)
        doc.skip_rest(reason)
        return
    if s.organization and s.org_path_applied:
        doc.set("organization", PASS, f"/orgs/{s.organization}/inference accepted the token")
    if isinstance(exc, RateLimitError):
        rate_limits(doc, provider, exc)
        doc.skip_rest("rate-limited before the model answered")
        return
    if is_chosen or doc.checks["model"].status != FAIL:
        doc.set("model", FAIL, f"the test request failed: {exc.why}", exc.fix)
    rate_limits(doc, provider, None)


def rate_limits(doc: Recorder, provider: GitHubModelsProvider, exc: RateLimitError | None
                ) -> None:
    """Record the rate-limit headroom (``exc``: the 429 the test request got, if any)."""
    from ..common.limits import limits_for_tier

    s = provider.settings
    if exc is not None:
        headers = ", ".join(f"{k}: {v}" for k, v in sorted(exc.headers.items())
                            if k.startswith("x-ratelimit") or k == "retry-after")
        wait = f"retry after {exc.retry_after:g} s" if exc.retry_after is not None else ""
        detail = "; ".join(x for x in (f"limit hit ({exc.limit_type})", wait, headers) if x)
        doc.set("rate_limits", FAIL, detail, exc.fix)
        return
    if not s.profile.free_tier_defaults:
        doc.set("rate_limits", PASS, "the test request was not rate-limited; GitHub's "
                                      "free-tier caps do not apply to this endpoint (its "
                                      "own quotas do)")
        return
    info = provider.model_info
    tier = info.tier if info is not None else None
    limits = limits_for_tier(tier)
    changes = s.rate_limit_overrides.get(tier or "", {})
    if changes:
        limits = limits.with_overrides(**changes)
    note = "the test request was not rate-limited"
    seen: dict[str, str] = provider.get_rate_limit_status().get("headers") or {}
    pairs = [(k.removeprefix("x-ratelimit-remaining-"), v, seen.get(
        "x-ratelimit-limit-" + k.removeprefix("x-ratelimit-remaining-")))
        for k, v in sorted(seen.items()) if k.startswith("x-ratelimit-remaining-")]
    if pairs:
        note += "; headers say " + ", ".join(
            f"{v}{'/' + str(lim) if lim else ''} {what} remaining" for what, v, lim in pairs)
        note += " (advisory on GitHub: enforced limits show up as 429s)"
    if tier is None or limits.requests_per_minute is None:
        doc.set("rate_limits", PASS, f"{note}; no tier limits known for this model")
        return
    pacing = "client-side pacing on" if s.pacing else "client-side pacing off"
    if not s.pacing and not s.enforce_tier_limits:
        pacing = ("free-tier caps and pacing off: on by default only for models.github.ai "
                  "(JAATO_GITHUB_ENFORCE_TIER_LIMITS=true and JAATO_GITHUB_PACING=true apply "
                  "them)")
    doc.set("rate_limits", PASS,
             f"{note}; tier {tier} (free tier: {limits.requests_per_minute}/min, "
             f"{limits.requests_per_day}/day, {limits.concurrent_requests} concurrent, "
             f"{limits.max_input_tokens} tokens in / {limits.max_output_tokens} out per "
             f"request); {pacing}")


_HOW = ("set JAATO_GITHUB_RATE_STORE=redis://host:6379/0 (or extra['rate_store']) so that every "
        "process billed to this quota paces against one shared budget; see docs/fleet.md")


def store_check(settings: Settings) -> tuple[str, str, str]:
    """The doctor's "Shared rate store" line: ``(status, detail, next step)``.

    PASS: reachable (server, round trip, keys in use); FAIL: a bad URL, a refused login or no
    answer (pacing then falls back per process); SKIP: no store configured.
    """
    if not settings.rate_store:
        return SKIP, "no rate store: pacing is per process", _HOW
    from ..pacing.rate_store import RateStore, StoreDown, parse_store_url

    try:
        location = parse_store_url(settings.rate_store)
        store = RateStore(location)
    except GitHubModelsError as exc:
        return FAIL, exc.why, exc.fix
    try:
        latency = min(store.ping() for _ in range(3))
        info = store.server_info()
        keys, scopes = store.keys_in_use()
    except StoreDown as exc:
        return (FAIL, f"{location.display} did not answer ({exc}); requests fall back to "
                      "per-process pacing" + (", or fail in strict mode"
                                              if not settings.rate_store_strict else
                                              " - strict mode is on: requests fail"),
                "start the store or fix the URL (host, port, rediss:// for TLS, "
                "?socket_timeout=SECONDS)")
    except GitHubModelsError as exc:
        return FAIL, exc.why, exc.fix
    finally:
        store.close()
    server = (f"valkey {info['valkey_version']}" if "valkey_version" in info
              else f"redis {info.get('redis_version', '?')}")
    mode = "strict" if settings.rate_store_strict else "falls back per process when down"
    return (PASS, f"{location.display} reachable ({server}), round trip "
                  f"{latency * 1000:.1f} ms, {keys} key(s) in use for {scopes} quota scope(s); "
                  f"{mode}", "")
