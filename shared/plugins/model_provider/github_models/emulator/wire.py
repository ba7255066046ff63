"""Wire shapes: response bodies, SSE chunk payloads, error bodies and fixed header sets.

Every shape follows what the real service sent (OpenAI chat-completion objects, optionally with
Azure content-filter annotations; GitHub's ``{"error": {"code", "message", "details"}}`` errors).
Functions here are pure and return ``bytes``/``str`` ready to write.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .replies import Plan

__all__ = [
    "DEPRECATED_HEADERS",
    "LEGACY_HEADERS",
    "MODEL_FORMAT_MESSAGE",
    "RETIRED_BODY",
    "completion_body",
    "github_error",
    "openai_error",
    "split_arguments",
    "split_text",
    "stream_payloads",
]

#: Headers the legacy ``models.inference.ai.azure.com`` host put on every response.
LEGACY_HEADERS: tuple[tuple[str, str], ...] = (
    ("deprecation", "Fri, 17 July 2025 00:00:00 GMT"),
    ("sunset", "Fri, 17 Oct 2025 00:00:00 GMT"),
    (
        "link",
        "<https://github.blog/changelog/2025-07-17-deprecation-of-azure-endpoint-for-github-models/>;"
        ' rel="deprecation"',
    ),
    ("link", '<https://github.models.ai/inference>; rel="alternate"'),
)

#: The empty 403 of July 2026, when the service was closing.
DEPRECATED_HEADERS: tuple[tuple[str, str], ...] = (
    ("deprecation", "@1777939200"),
    ("sunset", "Thu, 30 Jul 2026 00:00:00 GMT"),
    (
        "link",
        "<https://github.blog/changelog/2026-07-01-github-models-is-being-fully-retired-on-july-30-2026/>;"
        ' rel="deprecation"',
    ),
)

RETIRED_BODY = json.dumps(
    {
        "error": {
            "code": "github_models_retirement_brownout",
            "message": "GitHub Models is temporarily unavailable as part of a scheduled "
            "retirement brownout.",
        }
    },
    separators=(",", ":"),
)

MODEL_FORMAT_MESSAGE = (
    "Model not found; expected format: {publisher}/{model_name}. "
    "Valid models can be found by calling /catalog/models."
)

_SAFE = {"filtered": False, "severity": "safe"}
_CONTENT_FILTER: dict[str, Any] = {
    "hate": _SAFE,
    "self_harm": _SAFE,
    "sexual": _SAFE,
    "violence": _SAFE,
}
_PROMPT_FILTER: list[dict[str, Any]] = [
    {
        "prompt_index": 0,
        "content_filter_results": {
            **_CONTENT_FILTER,
            "jailbreak": {"filtered": False, "detected": False},
        },
    }
]
_COMPACT = (",", ":")


def github_error(code: str, message: str, details: str | bool | None = True) -> str:
    """GitHub's error body: ``{"error": {"code", "message", "details"}}``.

    Args:
        code: The error code (``unknown_model``, ``unauthorized`` ...).
        message: Human text.
        details: ``True`` repeats the message (the 2025+ service), ``None`` gives ``null``
            (the legacy host), ``False`` leaves the key out.
    """
    err: dict[str, Any] = {"code": code, "message": message}
    if details is True:
        err["details"] = message
    elif details is None or isinstance(details, str):
        err["details"] = details
    return json.dumps({"error": err}, separators=_COMPACT)


def openai_error(code: str, message: str, param: str | None) -> str:
    """An OpenAI-style validation error as the service passed it through."""
    return json.dumps(
        {
            "error": {
                "code": code,
                "message": message,
                "param": param,
                "type": "invalid_request_error",
            }
        },
        separators=_COMPACT,
    )


def _message(plan: Plan) -> dict[str, Any]:
    msg: dict[str, Any] = {"role": "assistant", "content": plan.text}
    if plan.reasoning is not None:
        msg["reasoning_content"] = plan.reasoning
    if plan.calls:
        msg["tool_calls"] = [
            {"id": cid, "type": "function", "function": {"name": name, "arguments": args}}
            for cid, name, args in plan.calls
        ]
    return msg


def _usage(plan: Plan) -> dict[str, Any]:
    usage: dict[str, Any] = {
        "prompt_tokens": plan.prompt_tokens,
        "completion_tokens": plan.completion_tokens,
        "total_tokens": plan.prompt_tokens + plan.completion_tokens,
    }
    # subsets of the counts above, as OpenAI-shaped services report them
    if plan.cached_tokens:
        usage["prompt_tokens_details"] = {"cached_tokens": plan.cached_tokens}
    if plan.reasoning_tokens:
        usage["completion_tokens_details"] = {"reasoning_tokens": plan.reasoning_tokens}
    return usage


def completion_body(plan: Plan, model: str, cid: str, created: int, azure: bool) -> bytes:
    """A non-streaming ``chat.completion`` body."""
    choice: dict[str, Any] = {
        "index": 0,
        "message": _message(plan),
        "logprobs": None,
        "finish_reason": plan.finish_reason,
    }
    body: dict[str, Any] = {
        "id": cid,
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [choice],
        "usage": _usage(plan),
        "system_fingerprint": "fp_emulator",
    }
    if azure:
        choice["content_filter_results"] = _CONTENT_FILTER
        body["prompt_filter_results"] = _PROMPT_FILTER
    return json.dumps(body, separators=_COMPACT).encode()


_PIECES = re.compile(r"\s*\S+|\s+")


def split_text(text: str) -> list[str]:
    """Word-sized content deltas, each word carrying its leading whitespace."""
    return _PIECES.findall(text)


def split_arguments(arguments: str, size: int = 8) -> list[str]:
    """Argument JSON cut into fixed-size fragments, as models stream it."""
    return [arguments[i : i + size] for i in range(0, len(arguments), size)] or [""]


def _tool_call_deltas(calls: list[tuple[str, str, str]]) -> list[dict[str, Any]]:
    """One delta per chunk; calls interleaved round-robin by index, each led by its header."""
    pieces = [split_arguments(args) for _, _, args in calls]
    deltas: list[dict[str, Any]] = []
    for step in range(1 + max(len(p) for p in pieces)):
        for index, (cid, name, _) in enumerate(calls):
            if step == 0:
                deltas.append(
                    {
                        "index": index,
                        "id": cid,
                        "type": "function",
                        "function": {"name": name, "arguments": ""},
                    }
                )
            elif step <= len(pieces[index]):
                deltas.append({"index": index, "function": {"arguments": pieces[index][step - 1]}})
    return deltas


def stream_payloads(
    plan: Plan, model: str, cid: str, created: int, azure: bool, include_usage: bool
) -> tuple[list[str], list[str], list[str]]:
    """The JSON payloads of a stream, as (prelude, content, tail).

    The prelude is the Azure empty-choices chunk (azure style) and the role chunk; content holds
    one chunk per text piece or tool-call delta; the tail is the finish chunk and, when asked,
    the usage chunk. ``[DONE]`` is added by the writer.
    """
    head: dict[str, Any] = {
        "id": cid,
        "object": "chat.completion.chunk",
        "created": created,
        "model": model,
        "system_fingerprint": "fp_emulator",
    }
    if include_usage:
        head["usage"] = None

    def chunk(delta: dict[str, Any], finish: str | None = None, filters: bool = False) -> str:
        choice: dict[str, Any] = {
            "index": 0,
            "delta": delta,
            "logprobs": None,
            "finish_reason": finish,
        }
        if azure:
            choice["content_filter_results"] = _CONTENT_FILTER if filters else {}
        return json.dumps({**head, "choices": [choice]}, separators=_COMPACT)

    prelude: list[str] = []
    if azure:
        prelude.append(
            json.dumps(
                {
                    "choices": [],
                    "created": 0,
                    "id": "",
                    "model": "",
                    "object": "",
                    "prompt_filter_results": _PROMPT_FILTER,
                },
                separators=_COMPACT,
            )
        )
    prelude.append(chunk({"role": "assistant", "content": "" if plan.text is not None else None}))
    size = plan.chunk_size

    def pieces(text: str) -> list[str]:
        return ([text[i:i + size] for i in range(0, len(text), size)] if size and size > 0
                else split_text(text))

    content = [chunk({"reasoning_content": piece}) for piece in pieces(plan.reasoning or "")]
    content += [chunk({"content": piece}, filters=True) for piece in pieces(plan.text or "")]
    if plan.calls:
        content += [chunk({"tool_calls": [d]}) for d in _tool_call_deltas(plan.calls)]
    tail = [chunk({}, plan.finish_reason)]
    if include_usage:
        tail.append(json.dumps({**head, "choices": [], "usage": _usage(plan)}, separators=_COMPACT))
    return prelude, content, tail
