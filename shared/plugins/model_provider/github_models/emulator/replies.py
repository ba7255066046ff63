"""Scripted replies (``Reply``) and the deterministic default replies of the emulator.

A ``Reply`` is what a test queues with ``Emulator.script``. When nothing is scripted the emulator
answers deterministically from the request itself (see ``default_plan``), so that the same
conversation always produces the same text, tool calls, JSON and token counts.
"""

from __future__ import annotations

import json as _json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "FAULT_KINDS",
    "Plan",
    "Reply",
    "default_plan",
    "estimate_prompt_tokens",
    "estimate_tokens",
    "plan_from_reply",
    "schema_instance",
]

#: Fault kinds accepted by ``Reply.fault`` (see ``faults.py`` for what each does).
FAULT_KINDS = frozenset(
    {
        "delay",
        "hang",
        "reset",
        "drop_mid_stream",
        "malformed_sse",
        "sse_comment",
        "crlf",
        "in_stream_error",
        "slow_stream",
    }
)


@dataclass(frozen=True, slots=True)
class Reply:
    """One scripted answer, consumed by exactly one request. Build it with the class methods."""

    kind: str
    content: str | None = None
    calls: tuple[tuple[str, Any], ...] = ()
    finish_reason: str | None = None
    usage: tuple[int, int] | None = None
    reasoning: str | None = None  # served as ``reasoning_content`` beside the content
    cached_tokens: int = 0  # reported as usage.prompt_tokens_details.cached_tokens
    reasoning_tokens: int = 0  # reported as usage.completion_tokens_details.reasoning_tokens
    chunk_size: int | None = None  # stream the content in pieces of this many characters
    status: int = 200
    body: str | dict[str, Any] | None = None
    headers: tuple[tuple[str, str], ...] = ()
    content_type: str | None = None
    fault_kind: str | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def text(
        cls, text: str, finish_reason: str = "stop", *, usage: tuple[int, int] | None = None,
        reasoning: str | None = None, cached_tokens: int = 0, reasoning_tokens: int = 0,
        chunk_size: int | None = None,
    ) -> Reply:
        """A plain assistant message.

        Args:
            text: The message content.
            finish_reason: ``stop``, ``length``, ``content_filter`` ...
            usage: ``(prompt_tokens, completion_tokens)`` to report instead of the estimate.
            reasoning: Reasoning text, served as ``reasoning_content`` (message and deltas).
            cached_tokens: Reported as ``prompt_tokens_details.cached_tokens``.
            reasoning_tokens: Reported as ``completion_tokens_details.reasoning_tokens`` (and
                added to ``completion_tokens``).
            chunk_size: Stream the content (and reasoning) in pieces of this many characters
                instead of word by word (a ``<think>`` tag can then be split across chunks).
        """
        return cls("text", content=text, finish_reason=finish_reason, usage=usage,
                   reasoning=reasoning, cached_tokens=cached_tokens,
                   reasoning_tokens=reasoning_tokens, chunk_size=chunk_size)

    @classmethod
    def tool_calls(
        cls,
        calls: Sequence[tuple[str, Any]],
        text: str | None = None,
        *,
        usage: tuple[int, int] | None = None,
        finish_reason: str = "tool_calls",
    ) -> Reply:
        """Parallel function calls, ids ``call_<n>``.

        Args:
            calls: ``(name, arguments)`` pairs; arguments is a dict (serialised) or a raw string.
            text: Optional content sent alongside the calls.
            usage: ``(prompt_tokens, completion_tokens)`` to report instead of the estimate.
            finish_reason: Normally ``tool_calls``.
        """
        return cls(
            "tool_calls",
            content=text,
            calls=tuple(calls),
            finish_reason=finish_reason,
            usage=usage,
        )

    @classmethod
    def json(cls, obj: Any, *, usage: tuple[int, int] | None = None) -> Reply:
        """A message whose content is ``obj`` serialised as JSON (for structured output)."""
        return cls("text", content=_json.dumps(obj), finish_reason="stop", usage=usage)

    @classmethod
    def error(
        cls,
        status: int,
        body: str | dict[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        content_type: str | None = None,
    ) -> Reply:
        """An error response served as is (validation, auth and limits are bypassed).

        Args:
            status: HTTP status.
            body: A dict (sent as JSON), a string (sent verbatim) or None (empty body).
            headers: Extra response headers.
            content_type: Defaults to the emulator's ``error_content_type``.
        """
        return cls(
            "error",
            status=status,
            body=body,
            headers=tuple((headers or {}).items()),
            content_type=content_type,
        )

    @classmethod
    def fault(cls, kind: str, **params: Any) -> Reply:
        """A transport fault (see ``FAULT_KINDS``).

        Args:
            kind: The fault, e.g. ``"drop_mid_stream"``.
            **params: Fault parameters: ``seconds`` (delay), ``after`` (chunks before the
                fault), ``interval`` (slow_stream), ``error`` (in_stream_error), ``line``
                (malformed_sse), ``comment`` (sse_comment), and ``reply``/``text`` for the
                content the faulty response carries.

        Raises:
            ValueError: for an unknown kind.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {sorted(FAULT_KINDS)}")
        return cls("fault", fault_kind=kind, params=dict(params))


@dataclass(slots=True)
class Plan:
    """The assistant turn to serialise: text, tool calls ``(id, name, arguments)`` and usage."""

    text: str | None
    calls: list[tuple[str, str, str]]
    finish_reason: str
    prompt_tokens: int
    completion_tokens: int  # reasoning_tokens included, as the service counts them
    reasoning: str | None = None
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    chunk_size: int | None = None


def estimate_tokens(text: str) -> int:
    """About four characters a token, at least one."""
    return max(1, (len(text) + 3) // 4)


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"
        )
    return ""


def estimate_prompt_tokens(body: Mapping[str, Any]) -> int:
    """Prompt tokens of a request: ~chars/4 per message plus 3 per message, tools included."""
    total = 3
    for msg in body.get("messages") or ():
        if not isinstance(msg, dict):
            continue
        content = msg.get("content")
        total += 3 + len(_content_text(content)) // 4
        if isinstance(content, list):
            total += 85 * sum(1 for p in content if isinstance(p, dict) and p.get("type") != "text")
        for call in msg.get("tool_calls") or ():
            fn = call.get("function", {}) if isinstance(call, dict) else {}
            total += 3 + len(str(fn.get("name", "")) + str(fn.get("arguments", ""))) // 4
    tools = body.get("tools")
    if tools:
        total += len(_json.dumps(tools)) // 4
    return total


def schema_instance(
    schema: Any, word: str = "example", defs: Mapping[str, Any] | None = None
) -> Any:
    """A minimal value valid against a JSON schema, chosen deterministically.

    Objects get their ``required`` properties; strings ``word`` (or the first enum/const);
    numbers ``1`` (clamped to minimum/maximum); booleans ``true``; arrays ``minItems`` items.
    """
    if not isinstance(schema, dict):
        return word
    if defs is None:
        defs = {**schema.get("definitions", {}), **schema.get("$defs", {})}
    ref = schema.get("$ref")
    if isinstance(ref, str):
        return schema_instance(defs.get(ref.rpartition("/")[2], {}), word, defs)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return schema_instance(schema[key][0], word, defs)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        props = schema.get("properties", {})
        return {
            name: schema_instance(props.get(name, {}), word, defs)
            for name in schema.get("required", ())
        }
    if kind == "array":
        return [schema_instance(schema.get("items", {}), word, defs)] * schema.get("minItems", 0)
    if kind in ("integer", "number"):
        value = max(1, schema.get("minimum", 1))
        if "maximum" in schema:
            value = min(value, schema["maximum"])
        return int(value) if kind == "integer" else value
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    min_len = schema.get("minLength", 0)
    return word if len(word) >= min_len else word + "x" * (min_len - len(word))


_WORD = re.compile(r"[A-Za-z0-9][\w-]*")


_SENTENCE = re.compile(r"[^.!?]+")


def _pick_word(prompt: str, exclude: Iterable[str]) -> str:
    """The first capitalised word that does not open a sentence ("weather in Paris? Use it"
    gives "Paris"), else the last word of the prompt."""
    excluded = {e.lower() for e in exclude}
    words: list[str] = []
    for sentence in _SENTENCE.findall(prompt):
        found: list[str] = [w for w in _WORD.findall(sentence) if w.lower() not in excluded]
        for word in found[1:]:
            if word[0].isupper():
                return word
        words.extend(found)
    return words[-1] if words else "example"


def _tool_functions(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for tool in body.get("tools") or ():
        fn = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(fn, dict) and isinstance(fn.get("name"), str):
            out.append(fn)
    return out


def _tools_to_call(body: Mapping[str, Any], prompt: str) -> list[dict[str, Any]]:
    functions = _tool_functions(body)
    choice = body.get("tool_choice", "auto")
    if not functions or choice == "none":
        return []
    if isinstance(choice, dict):
        wanted = (choice.get("function") or {}).get("name")
        return [f for f in functions if f["name"] == wanted][:1]
    lowered = prompt.lower()
    mentioned = [f for f in functions if f["name"].lower() in lowered]
    if not mentioned and choice == "required":
        return functions[:1]
    return mentioned


def _tool_summary(messages: list[Any]) -> str:
    names: dict[str, str] = {}
    for msg in messages:
        for call in (msg.get("tool_calls") or ()) if isinstance(msg, dict) else ():
            if isinstance(call, dict):
                names[str(call.get("id"))] = str((call.get("function") or {}).get("name", "tool"))
    results = []
    for msg in reversed(messages):
        if not isinstance(msg, dict) or msg.get("role") != "tool":
            break
        name = msg.get("name") or names.get(str(msg.get("tool_call_id")), "tool")
        results.append(f"{name} -> {_content_text(msg.get('content'))}")
    return "Tool results: " + "; ".join(reversed(results))


def _truncate(text: str, body: Mapping[str, Any]) -> tuple[str, str]:
    """Apply ``stop`` sequences and ``max_tokens``; return (text, finish_reason)."""
    stop = body.get("stop")
    stops = [stop] if isinstance(stop, str) else [s for s in stop or () if isinstance(s, str) and s]
    cut = min((i for i in (text.find(s) for s in stops) if i >= 0), default=-1)
    if cut >= 0:
        text = text[:cut]
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    if isinstance(limit, int) and limit > 0 and estimate_tokens(text) > limit:
        return text[: limit * 4], "length"
    return text, "stop"


def default_plan(body: Mapping[str, Any], new_call_id: Callable[[], str]) -> Plan:
    """The deterministic answer to a request when nothing is scripted.

    Tool results are summarised; a prompt naming a tool calls it; a ``json_schema`` response
    format gets a conforming JSON object; a judge prompt (ending "Answer with exactly one of:
    a, b, c.") gets its last choice; anything else is echoed. ``stop`` and ``max_tokens``
    truncate the text.
    """
    messages = [m for m in body.get("messages") or () if isinstance(m, dict)]
    prompt_tokens = estimate_prompt_tokens(body)
    last = messages[-1] if messages else {}
    if last.get("role") == "tool":
        text, finish = _truncate(_tool_summary(messages), body)
        return Plan(text, [], finish, prompt_tokens, estimate_tokens(text))
    prompt = next(
        (_content_text(m.get("content")) for m in reversed(messages) if m.get("role") == "user"),
        "",
    )
    to_call = _tools_to_call(body, prompt)
    if to_call:
        word = _pick_word(prompt, (f["name"] for f in _tool_functions(body)))
        calls = [
            (new_call_id(), f["name"], _json.dumps(schema_instance(f.get("parameters", {}), word)))
            for f in to_call
        ]
        completion = sum(estimate_tokens(name + args) for _, name, args in calls)
        return Plan(None, calls, "tool_calls", prompt_tokens, completion)
    fmt = body.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema", {})
        text = _json.dumps(schema_instance(schema))
        return Plan(text, [], "stop", prompt_tokens, estimate_tokens(text))
    if isinstance(fmt, dict) and fmt.get("type") == "json_object":
        text = _json.dumps({"echo": prompt})
        return Plan(text, [], "stop", prompt_tokens, estimate_tokens(text))
    judged = _judge_choice(prompt)
    if judged is not None:
        return Plan(judged, [], "stop", prompt_tokens, estimate_tokens(judged))
    text, finish = _truncate(f"Echo: {prompt}", body)
    return Plan(text, [], finish, prompt_tokens, estimate_tokens(text))


# A judge prompt (LLM-as-judge evaluators of `eval`) ends with this line; the emulator answers
# its last choice, which the CLI lists last because it scores highest. Script a reply to test
# a low grade.
_JUDGE_LINE = re.compile(r"Answer with exactly one of: (.+?)\.?\s*\Z")


def _judge_choice(prompt: str) -> str | None:
    match = _JUDGE_LINE.search(prompt)
    if match is None:
        return None
    choices = [c.strip() for c in match.group(1).split(",") if c.strip()]
    return choices[-1] if choices else None


def plan_from_reply(reply: Reply, body: Mapping[str, Any], new_call_id: Callable[[], str]) -> Plan:
    """The assistant turn of a scripted ``text``/``tool_calls`` reply (served as scripted)."""
    calls = [
        (new_call_id(), name, args if isinstance(args, str) else _json.dumps(args))
        for name, args in reply.calls
    ]
    text = reply.content
    if reply.usage is not None:
        prompt, completion = reply.usage
    else:
        prompt = estimate_prompt_tokens(body)
        completion = estimate_tokens((text or "") + "".join(n + a for _, n, a in calls))
    return Plan(text, calls, reply.finish_reason or "stop", prompt,
                completion + reply.reasoning_tokens, reply.reasoning,
                min(reply.cached_tokens, prompt), reply.reasoning_tokens, reply.chunk_size)
