"""What each failure means for the user: the why/fix text and the data of every error kind.

``errors.error_from_response`` reads the failure with ``error_body``, asks :func:`diagnose`
for the text and the attributes, and instantiates the class of the kind. Standard library only;
``ErrorContext`` and the retirement date come from ``error_context`` (never ``errors``: no cycle).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from ..common.secret_text import scrub
from ..kinds.profiles import GitHubProfile
from ._access_messages import ENTRA_ADVICE, disabled, permission, token_invalid
from ._error_facts import Diagnosis
from ._error_facts import Facts as _Facts
from .error_body import WireError, deprecation_info, parse_error_body, parse_token_counts
from .retry import classify, parse_retry_after, read_rate_limit

if TYPE_CHECKING:
    from .error_context import ErrorContext

__all__ = [
    "CONNECTION_KINDS",
    "ENTRA_ADVICE",
    "Diagnosis",
    "connection_text",
    "diagnose",
    "not_found_text",
]


def _duration(seconds: float) -> str:
    total = round(seconds)
    if total < 60:
        return f"{seconds:.3g} s" if seconds < 10 else f"{total} s"
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if secs else f"{minutes} min"


def _retarget(hint: str) -> str:
    return (
        f"point the provider at an endpoint that still speaks this protocol: set {hint} to "
        "Microsoft Foundry's OpenAI v1 route (https://<resource>.openai.azure.com/openai/v1/ or "
        "https://<resource>.services.ai.azure.com/openai/v1/, with that resource's key and your "
        "deployment names as model ids), a GitHub Enterprise Server or proxy URL ending in "
        "/inference, or an OpenAI-compatible gateway; GitHub points users to Microsoft Foundry"
    )


def _retired(f: _Facts) -> Diagnosis:
    deprecation, sunset, link = deprecation_info(f.headers)
    brownout = bool(f.wire.code and f.wire.code.lower() == "github_models_retirement_brownout")
    known = f.context.advice.retired_why(f.status, f.context.shown_endpoint, f.said)
    if known is None and brownout:  # GitHub's own retirement code, whatever the URL
        known = GitHubProfile().retired_why(410, f.context.shown_endpoint, f.said)
    if known is not None:
        why = known
    elif f.status == 410 and "model" in f.wire.search_text:
        # a Foundry/gateway model or deployment was retired, not the whole endpoint
        why = (f"{f.context.shown_endpoint} answered 410 Gone: the model or deployment "
               f"{f.context.model or ''} is retired{f.said}")
        fix = ("choose another model or deployment on this endpoint (connect() with its id), "
               "e.g. the successor the provider names")
        return Diagnosis("retired", why, fix, {"sunset": sunset, "deprecation": deprecation,
                                               "link": link})
    elif f.status == 410:
        why = f"{f.context.shown_endpoint} answered 410 Gone: the endpoint or model is retired"
        why += f.said
    else:
        why = f"the endpoint refused the request (HTTP {f.status}) and announced its retirement"
        why += f.context.advice.retirement_note
    if f.status != 410 and (sunset or deprecation):
        why += " (the refusal carried " + ", ".join(
            f"{n} {v}" for n, v in (("Sunset", sunset), ("Deprecation", deprecation)) if v) + ")"
    fix = f.context.advice.retired_fix(f.context.shown_endpoint, f.said) or _retarget(f.hint)
    fix += f"; see {link}" if link else ""
    return Diagnosis("retired", why, fix, {"sunset": sunset, "deprecation": deprecation,
                                           "link": link})


_RL_LABEL = {
    "per_minute": "per-minute ", "per_day": "per-day ", "concurrent": "concurrent-request "
}


def _rate_limit(f: _Facts) -> Diagnosis:
    # what the 429 says is read in retry.py (read_rate_limit), beside the decision it drives;
    # this writes the why and the fix
    read = read_rate_limit(f.headers, f.all_text, f.now)
    limit_type, raw_type, retry_after, resets = (read.limit_type, read.raw_limit_type,
                                                 read.retry_after, read.resets_at)
    why = f"the endpoint's {_RL_LABEL.get(limit_type, '')}rate limit was reached"
    if limit_type == "concurrent" and read.limit is not None:
        why += f" ({read.limit} requests at once"
    elif read.limit is not None:
        why += f" ({read.limit} requests per {read.window_seconds} s"
    else:
        why += " (" if raw_type else ""
    if raw_type:
        why += (", " if read.limit is not None else "") + f"{raw_type})"
    elif read.limit is not None:
        why += ")"
    fixes = []
    when = f" (until {resets:%Y-%m-%d %H:%M:%S} UTC)" if resets is not None else ""
    if limit_type == "concurrent":
        fixes.append("send fewer requests at once, or wait for running ones to finish")
    elif retry_after is not None and limit_type == "per_day":
        fixes.append(f"the daily budget resets in {_duration(retry_after)}{when}: retrying sooner "
                     "will not help")
    elif retry_after is not None:
        fixes.append(f"wait {_duration(retry_after)}{when} before retrying")
    else:
        fixes.append("wait a minute before retrying")
    fixes.extend(f.context.advice.rate_limit_fixes(f.context.organization))
    return Diagnosis("rate_limit", why, "; ".join(fixes), {
        "retry_after": retry_after, "limit_type": limit_type, "raw_limit_type": raw_type,
        "resets_at": resets, "limit": read.limit, "window_seconds": read.window_seconds})


def _quota(f: _Facts) -> Diagnosis:
    return Diagnosis(
        "rate_limit",
        f"the quota or credit of this key is exhausted{f.said}",
        "add credit or raise the quota of this key (waiting will not help), or use another key "
        f"or endpoint ({f.hint})",
        {"limit_type": "quota"},
    )


_MODEL_IN_TEXT = (
    re.compile(r"(?:unknown|unavailable) model:?\s*[`'\"]?([^\s`'\",]+)", re.I),
    re.compile(r"\bmodel [`'\"]([^`'\"]{1,200})[`'\"]", re.I),
)


def not_found_text(
    model: str, ctx: ErrorContext, *, unavailable: bool = False, said: str = ""
) -> tuple[str, str, list[str]]:
    """``(why, fix, suggestions)`` for an unknown or unavailable model id."""
    suggestions = _suggest(model, ctx.known_models)
    if unavailable:
        why = (f"model '{model}' exists but is not available to this account (custom-tier "
               "models need a plan that includes them, and some are refused from GitHub "
               f"Actions){said}")
    else:
        why = f"the endpoint does not know model '{model}'{said}"
    hints = []
    if suggestions:
        hints.append("did you mean " + ", ".join(suggestions) + "?")
    spelling = ctx.advice.model_id_hint(model)
    if spelling:
        hints.append(spelling)
    if unavailable:
        hints.append("choose a model of the low or high tier")
    hints.append("list valid ids with provider.list_models() or `jaato-github-models models`")
    return why, "; ".join(hints), suggestions


def _suggest(model: str, known: Sequence[str]) -> list[str]:
    if not model or not known:
        return []
    by_lower = {k.lower(): k for k in known}
    name = model.strip().strip("/").lower()
    bare = name.rsplit("/", 1)[-1]
    picks = [k for k in by_lower if k.rsplit("/", 1)[-1] == bare and k != name]
    picks += difflib.get_close_matches(name, list(by_lower), n=3, cutoff=0.6)
    bare_close = set(difflib.get_close_matches(
        bare, [k.rsplit("/", 1)[-1] for k in by_lower], n=3, cutoff=0.6))
    picks += [k for k in by_lower if k.rsplit("/", 1)[-1] in bare_close]
    return [by_lower[k] for k in dict.fromkeys(picks) if k != name][:3]


def _model_not_found(f: _Facts) -> Diagnosis:
    model = f.context.model
    if model is None:
        for pattern in _MODEL_IN_TEXT:
            found = pattern.search(f.all_text)
            if found:
                model = found.group(1)
                break
    codes = " ".join(c for c in (f.wire.code, f.wire.search_text) if c).lower()
    unavailable = "unavailable" in codes
    why, fix, suggestions = not_found_text(model or "(unnamed)", f.context,
                                           unavailable=unavailable, said=f.said)
    return Diagnosis("model_not_found", why, fix, {"model": model, "suggestions": suggestions})


def _context_limit(f: _Facts) -> Diagnosis:
    limit, requested, _model = parse_token_counts(f.all_text)
    text = f.wire.search_text
    code = (f.wire.code or "").lower()
    source = "model" if ("context length" in text or code == "context_length_exceeded") else (
        "tier" if (f.status == 413 or code == "tokens_limit_reached" or "max size" in text)
        else "unknown")
    had = f", the request had {requested}" if requested is not None else ""
    if source == "model":
        size = f" of {limit} tokens" if limit is not None else ""
        why = f"the request exceeds the model's context window{size}{had}"
    else:
        size = f" ({limit} tokens{had})" if limit is not None else ""
        why = f"the request is larger than the per-request token cap of the model's tier{size}"
        why += f.context.advice.tier_cap_note
    fix = ("shorten the prompt or history (drop or summarise older turns, send smaller "
           "attachments) and lower max_tokens")
    if source != "model":
        fix += f", or use paid usage or an endpoint without the free-plan cap ({f.hint})"
    return Diagnosis("context_limit", why + (f.said if limit is None else ""), fix, {
        "limit": limit, "requested": requested, "limit_source": source})


def _content_filter(f: _Facts) -> Diagnosis:
    cats = f.wire.filtered
    flagged = f" (flagged: {', '.join(cats)})" if cats else ""
    return Diagnosis(
        "content_filter", f"the content filter blocked the prompt or the reply{flagged}",
        "rephrase or remove the flagged content and retry; the filter belongs to the service and "
        "cannot be turned off from the client", {"categories": cats})


_INVALID_HINTS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"max_completion_tokens"),
     "send max_completion_tokens instead of max_tokens: reasoning models (o1, o3, o4-mini, the "
     "gpt-5 family) reject max_tokens"),
    (re.compile(r"unsupported[ _]value|does not support|not supported with this model"),
     "omit '{param}' (or leave it at its default) for this model: reasoning models reject some "
     "sampling parameters and system messages"),
    (re.compile(r"empty[ _]array|at least one message"), "send at least one message"),
)


def _invalid(f: _Facts) -> Diagnosis:
    param = f.wire.param
    why = "the endpoint rejected the request as invalid"
    why += (f" (parameter '{param}')" if param else "") + f.said
    fix = ("check the request parameters against the model's capabilities (the service's message "
           "names the problem)")
    for pattern, hint in _INVALID_HINTS:
        if pattern.search(f.wire.search_text):
            fix = hint.format(param=param or "the parameter")
            break
    return Diagnosis("invalid_request", why, fix, {"param": param})


def _unavailable(f: _Facts) -> Diagnosis:
    return Diagnosis(
        "unavailable", f"the endpoint had a server-side failure (HTTP {f.status}){f.said}",
        "retry after a short wait (the provider retries 500, 502, 503 and 504 itself); if it "
        f"persists, check the service's status or the proxy/gateway at "
        f"{f.context.shown_endpoint}",
        {"retry_after": parse_retry_after(f.headers, None, f.now)})


def _not_found(f: _Facts) -> Diagnosis:
    return Diagnosis(
        "not_found", f"the endpoint answered 404 Not Found{f.said}: the URL path is likely wrong",
        f"check the endpoint URL ({f.hint}): GitHub-shaped endpoints end in /inference (e.g. "
        "https://models.github.ai/inference), Microsoft Foundry model inference endpoints in "
        "/models, OpenAI-compatible gateways usually in /v1")


def _generic(f: _Facts) -> Diagnosis:
    status = f"answered HTTP {f.status}" if f.status is not None else "reported an error"
    return Diagnosis(
        "generic", f"the endpoint {status}{f.said}",
        f"check the endpoint URL ({f.hint}) and the request; the error's status, code and body "
        "hold the details")


_BUILDERS: dict[str, Callable[[_Facts], Diagnosis]] = {
    "retired": _retired, "rate_limit": _rate_limit, "quota": _quota, "disabled": disabled,
    "permission": permission, "token_invalid": token_invalid,
    "model_not_found": _model_not_found, "context_limit": _context_limit,
    "content_filter": _content_filter, "invalid_request": _invalid, "unavailable": _unavailable,
    "not_found": _not_found, "generic": _generic,
}


def diagnose(
    status: int | None, headers: Mapping[str, str], text: str, context: ErrorContext,
    now: datetime | None = None,
) -> tuple[Diagnosis, WireError]:
    """Classify a failure and write its text.

    Args:
        status: HTTP status (None for an in-stream error event).
        headers: Lower-cased response headers.
        text: The decoded body.
        context: What the provider was doing.
        now: The time rate-limit resets are measured from (default: ``Date`` header, else clock).

    Returns:
        The diagnosis, and the parsed body.
    """
    wire = parse_error_body(text)
    facts = _Facts(status, headers, wire, context, now)
    kind = classify(status, headers, wire, context.advice.bare_refusal_is_retirement)
    diag = _BUILDERS[kind](facts)
    deprecation, sunset, _link = deprecation_info(headers)
    if kind != "retired" and (sunset or deprecation):
        note = f"Sunset {sunset}" if sunset else f"Deprecation {deprecation}"
        diag = Diagnosis(diag.kind, diag.why, diag.fix + f"; note: this endpoint announced its "
                         f"retirement ({note}), plan to move with {context.endpoint_config_hint}",
                         diag.attrs)
    return diag, wire


CONNECTION_KINDS: Mapping[str, tuple[str, str, bool]] = {
    # kind: (why, fix, retryable when no response byte arrived)
    "refused": ("nothing accepted the connection to {host} (connection refused)",
                "check the endpoint URL ({hint}) and that the server, proxy or local emulator "
                "(`jaato-github-models emulator`) is running", True),
    "dns": ("the host name {host} could not be resolved",
            "check the endpoint URL ({hint}) for typos, and the network, DNS or proxy settings",
            False),
    "connect_timeout": ("connecting to {host} timed out",
                        "check the network, firewall and proxy (HTTPS_PROXY, NO_PROXY); raise "
                        "extra['timeout'] on a slow network", True),
    "read_timeout": ("{host} accepted the request but sent no answer in time",
                     "raise extra['timeout'] (long generations need more time) or stream the "
                     "response", True),
    "reset": ("the connection to {host} was closed or reset before a response arrived",
              "retry; if it persists, check the proxy or gateway in between", True),
    "tls": ("the TLS handshake with {host} failed (certificate or protocol)",
            "check the URL scheme (http or https) and the certificates (SSL_CERT_FILE or "
            "REQUESTS_CA_BUNDLE for a corporate proxy)", False),
    "proxy": ("the HTTP proxy failed to reach {host}",
              "check HTTPS_PROXY, HTTP_PROXY and NO_PROXY", False),
    "stream_interrupted": ("the response stream from {host} ended before it was complete",
                           "retry the request; if it keeps happening, check the proxy's buffering "
                           "and timeouts, or disable streaming", True),
    "stream_malformed": ("the response stream from {host} held data that is not valid "
                         "server-sent events or JSON",
                         "check that the endpoint ({hint}) really speaks the chat-completions "
                         "protocol and that no proxy rewrites the stream", False),
    "stream_error": ("{host} sent an error inside the response stream",
                     "retry the request; the error's code and body hold the service's words",
                     True),
    "too_large": ("{host} sent a response body larger than this client reads",
                  "check that the endpoint ({hint}) is a chat-completions endpoint and that no "
                  "proxy in between pads or rewrites responses (a completion is kilobytes)",
                  False),
    "other": ("the connection to {host} failed",
              "check the endpoint URL ({hint}), the network and the proxy settings", False),
}


def connection_text(kind: str, detail: str, context: ErrorContext) -> tuple[str, str, bool]:
    """``(why, fix, retryable_if_no_bytes)`` for a connection-level failure ``kind``."""
    why, fix, retryable = CONNECTION_KINDS.get(kind, CONNECTION_KINDS["other"])
    host = context.shown_endpoint
    why = why.format(host=host, hint=context.endpoint_config_hint)
    detail = scrub(" ".join(str(detail).split()))[:300]
    if detail:
        why += f" ({detail})"
    return why, fix.format(host=host, hint=context.endpoint_config_hint), retryable
