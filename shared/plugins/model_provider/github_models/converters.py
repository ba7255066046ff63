"""Pure conversions between the framework's types and the chat-completions wire format.

No I/O here. The functions rely only on the fields and constructors of the framework types, so
the provider runs against the framework's own copies of them. History JSON is written by this
module too (not by helpers on the types) for the same reason.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ._host import (
    FinishReason,
    FunctionCall,
    Message,
    Part,
    Reply,
    Role,
    TokenUsage,
    ToolResult,
    ToolSchema,
    make_usage,
    render_for_model,
    unreadable_call,
)
from .wire_check import (
    MAX_JSON_DEPTH,
    check_completion,
    json_depth,
    loads_json,
    repair_json,
    repair_text,
)

__all__ = [
    "HISTORY_FORMAT",
    "assemble_messages",
    "content_text",
    "finish_reason_from_wire",
    "history_from_json",
    "history_to_json",
    "message_from_dict",
    "message_to_dict",
    "message_to_wire",
    "messages_to_wire",
    "parse_arguments",
    "parts_to_content",
    "response_from_wire",
    "tool_result_content",
    "tools_to_wire",
    "unique_call_ids",
    "usage_from_wire",
]

HISTORY_FORMAT = "jaato.github_models.history/1"

_FINISH: dict[str, FinishReason] = {
    "stop": FinishReason.STOP,
    "end_turn": FinishReason.STOP,
    "length": FinishReason.MAX_TOKENS,
    "max_tokens": FinishReason.MAX_TOKENS,
    "tool_calls": FinishReason.TOOL_USE,
    "function_call": FinishReason.TOOL_USE,
    "content_filter": FinishReason.SAFETY,
}


def finish_reason_from_wire(value: str | None) -> FinishReason:
    """Map a wire ``finish_reason`` to ``FinishReason`` (unknown values -> UNKNOWN)."""
    return _FINISH.get(value or "", FinishReason.UNKNOWN)


def usage_from_wire(usage: Mapping[str, Any] | None) -> TokenUsage:
    """Build ``TokenUsage`` from a wire ``usage`` object (missing fields count as 0)."""
    if not usage:  # nothing reported: zeros, marked as not reported where the host can say so
        return make_usage(0, 0, 0, reported=False)
    prompt = int(usage.get("prompt_tokens") or 0)
    output = int(usage.get("completion_tokens") or 0)
    total = int(usage.get("total_tokens") or (prompt + output))
    return TokenUsage(prompt_tokens=prompt, output_tokens=output, total_tokens=total)


def unique_call_ids(calls: list[FunctionCall]) -> list[FunctionCall]:
    """Give empty or repeated tool-call ids a unique suffix (``call_1``, ``call_1~2``).

    Results are matched to calls by id, so two calls sharing one could not both be answered;
    the renamed ids go back to the model consistently in the assistant turn and the tool turn.
    """
    seen: set[str] = set()
    for index, call in enumerate(calls):
        base = call.id or f"call_{index}"
        new, n = base, 1
        while new in seen:
            n += 1
            new = f"{base}~{n}"
        seen.add(new)
        call.id = new
    return calls


def content_text(content: Any) -> str:
    """Wire ``content`` as text: a string as is, a list of parts (Mistral-style
    ``[{"type": "text", "text": ...}]``, sometimes with reasoning parts) joined by its text parts;
    anything else is empty."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p["text"] for p in content
                       if isinstance(p, Mapping) and p.get("type", "text") == "text"
                       and isinstance(p.get("text"), str))
    return ""  # callers that must refuse other types check the shape first (wire_check)


def parse_arguments(raw: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """Parse a tool call's ``arguments`` JSON text into a dict.

    Raises:
        ValueError: The text is not a JSON object.
    """
    if raw is None or raw == "":
        return {}
    if isinstance(raw, Mapping):
        value: Any = dict(raw)
        if json_depth(value) > MAX_JSON_DEPTH:
            raise ValueError("tool call arguments are nested too deeply")
    elif isinstance(raw, str):
        value = loads_json(raw)
    else:
        raise ValueError(f"tool call arguments are {type(raw).__name__}, not JSON text")
    if not isinstance(value, dict):
        raise ValueError(f"tool call arguments are not a JSON object: {str(raw)[:200]!r}")
    return dict(repair_json(value))


def tools_to_wire(tools: Sequence[ToolSchema] | None) -> list[dict[str, Any]]:
    """Function tools in the chat-completions shape."""
    out: list[dict[str, Any]] = []
    for tool in tools or ():
        params = dict(tool.parameters) if tool.parameters else {"type": "object", "properties": {}}
        out.append({"type": "function", "function": {
            "name": tool.name, "description": tool.description or "", "parameters": params}})
    return out


def _inline_fields(inline: Any) -> tuple[str, bytes]:
    if isinstance(inline, Mapping):
        mime, data = inline.get("mime_type"), inline.get("data")
    else:  # an Attachment-like object
        mime, data = getattr(inline, "mime_type", None), getattr(inline, "data", None)
    if isinstance(data, str):
        data = base64.b64decode(data)
    return str(mime or "application/octet-stream"), bytes(data or b"")


def _image_part(mime: str, data: bytes) -> dict[str, Any]:
    url = f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"
    return {"type": "image_url", "image_url": {"url": url}}


def parts_to_content(parts: Iterable[Part]) -> str | list[dict[str, Any]]:
    """User content: a plain string for text only, else a list of text and image parts."""
    items: list[dict[str, Any]] = []
    only_text = True
    for part in parts:
        if part.text is not None:
            items.append({"type": "text", "text": part.text})
        elif part.inline_data is not None:
            only_text = False
            items.append(_image_part(*_inline_fields(part.inline_data)))
    if only_text:
        return "".join(i["text"] for i in items)
    return items


def tool_result_content(result: ToolResult) -> str:
    """The text sent in a ``tool`` message for one result (JSON; errors wrapped)."""
    value: Any = result.result
    if result.is_error and not (isinstance(value, Mapping) and "error" in value):
        value = {"error": value}
    if isinstance(value, str):
        text = value
    else:
        from .inputs import json_default  # dates, decimals ... as text; other objects are refused

        text = json.dumps(value, ensure_ascii=False, allow_nan=False, default=json_default)
    suffix = getattr(result, "model_suffix", None)
    untrusted = bool(getattr(result, "untrusted", False))
    if (suffix or untrusted) and render_for_model is not None:
        # jaato's steering suffix and untrusted-content boundary, as its own providers send them
        rendered: str = render_for_model(text, suffix, untrusted=untrusted,
                                         untrusted_source=getattr(result, "untrusted_source", None))
        return rendered
    return text


def _assistant_to_wire(message: Message) -> dict[str, Any]:
    text = "".join(p.text for p in message.parts if p.text)
    wire: dict[str, Any] = {"role": "assistant", "content": text or None}
    calls = [p.function_call for p in message.parts if p.function_call is not None]
    if calls:
        wire["tool_calls"] = [
            {"id": c.id, "type": "function",
             "function": {"name": c.name, "arguments": json.dumps(c.args, ensure_ascii=False)}}
            for c in calls
        ]
    return wire


def _tool_to_wire(message: Message) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    images: list[dict[str, Any]] = []
    for part in message.parts:
        res = part.function_response
        if res is None:
            continue
        out.append({"role": "tool", "tool_call_id": res.call_id,
                    "content": tool_result_content(res)})
        for att in res.attachments or ():
            images.append(_image_part(*_inline_fields(att)))
    if images:  # tool messages carry text only: attachments follow as a user turn
        out.append({"role": "user", "content": [
            {"type": "text", "text": "Attachments returned by the tool calls above:"}, *images]})
    rest = [p for p in message.parts if p.function_response is None
            and (p.text or p.inline_data is not None)]
    if rest:  # text or images beside the results (jaato adds such notes): a user turn after
        out.append({"role": "user", "content": parts_to_content(rest)})
    return out


def message_to_wire(message: Message) -> list[dict[str, Any]]:
    """One history message as wire messages (a tool turn becomes one message per result)."""
    role = Role(message.role)
    if role is Role.MODEL:
        wire = _assistant_to_wire(message)
        # a model turn of only what the protocol cannot carry (jaato's Part.thought) is left
        # out: an assistant message with neither content nor tool calls is refused upstream
        return [wire] if wire["content"] or wire.get("tool_calls") else []
    if role is Role.TOOL or any(p.function_response is not None for p in message.parts):
        return _tool_to_wire(message)  # a user message holding tool results reads the same
    return [{"role": "user", "content": parts_to_content(message.parts)}]


def assemble_messages(
    converted: Iterable[list[dict[str, Any]]],
    system_instruction: str | None = None,
    *,
    supports_system: bool = True,
) -> list[dict[str, Any]]:
    """The ``messages`` array from already converted history messages.

    The system instruction goes first as a ``system`` message or, for models that refuse
    system messages, is prepended to the first user message (a copy: inputs are not changed).
    """
    wire: list[dict[str, Any]] = []
    pending = system_instruction if system_instruction and not supports_system else None
    if system_instruction and supports_system:
        wire.append({"role": "system", "content": system_instruction})
    for items in converted:
        for item in items:
            if pending is not None and item["role"] == "user":
                content = item["content"]
                item = {"role": "user", "content": (
                    f"{pending}\n\n{content}" if isinstance(content, str)
                    else [{"type": "text", "text": pending}, *content])}
                pending = None
            wire.append(item)
    return wire


def messages_to_wire(
    history: Sequence[Message],
    system_instruction: str | None = None,
    *,
    supports_system: bool = True,
) -> list[dict[str, Any]]:
    """The ``messages`` array for a request.

    Args:
        history: The conversation, oldest first.
        system_instruction: Sent as a ``system`` message, or, for models that refuse system
            messages, prepended to the first user message.
        supports_system: Whether the model accepts a system message.
    """
    return assemble_messages((message_to_wire(m) for m in history), system_instruction,
                             supports_system=supports_system)


# ---- history JSON (the provider's own, lossless) ----

def _part_to_dict(part: Part) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if part.text is not None:
        out["text"] = part.text
    if part.function_call is not None:
        fc = part.function_call
        out["function_call"] = {"id": fc.id, "name": fc.name, "args": fc.args}
    if part.function_response is not None:
        fr = part.function_response
        out["function_response"] = {
            "call_id": fr.call_id, "name": fr.name, "result": fr.result, "is_error": fr.is_error,
            "attachments": None if fr.attachments is None else [
                {"mime_type": a.mime_type, "data": base64.b64encode(a.data).decode("ascii"),
                 "display_name": getattr(a, "display_name", None)} for a in fr.attachments],
        }
    if part.inline_data is not None:
        mime, data = _inline_fields(part.inline_data)
        out["inline_data"] = {"mime_type": mime, "data": base64.b64encode(data).decode("ascii")}
    return out


def _b64(text: Any) -> bytes:
    """Strict base64 (``b64decode`` alone drops stray characters and accepts ``@@@`` as b"")."""
    if not isinstance(text, str):
        raise ValueError(f"base64 data is {type(text).__name__}, not text")
    return base64.b64decode(text, validate=True)


def _part_from_dict(data: Mapping[str, Any]) -> Part:
    from ._host import Attachment

    fc = data.get("function_call")
    fr = data.get("function_response")
    inline = data.get("inline_data")
    response = None
    if fr is not None:
        atts = fr.get("attachments")
        response = ToolResult(
            call_id=fr["call_id"], name=fr["name"], result=fr.get("result"),
            is_error=bool(fr.get("is_error", False)),
            attachments=None if atts is None else [
                Attachment(mime_type=a["mime_type"], data=_b64(a["data"]),
                           display_name=a.get("display_name")) for a in atts],
        )
    return Part(
        text=data.get("text"),
        function_call=None if fc is None else FunctionCall(
            id=fc["id"], name=fc["name"], args=dict(fc.get("args") or {})),
        function_response=response,
        inline_data=None if inline is None else {
            "mime_type": inline["mime_type"], "data": _b64(inline["data"])},
    )


def message_to_dict(message: Message) -> dict[str, Any]:
    """One message as a JSON-ready dict."""
    return {"role": Role(message.role).value, "parts": [_part_to_dict(p) for p in message.parts]}


def message_from_dict(data: Mapping[str, Any]) -> Message:
    """The inverse of :func:`message_to_dict`.

    Raises:
        ValueError: Unknown role or malformed base64.
        KeyError: A required field is missing.
    """
    return Message(role=Role(data["role"]), parts=[_part_from_dict(p) for p in data["parts"]])


def history_to_json(history: Sequence[Message]) -> str:
    """History as compact JSON text (a versioned envelope).

    Raises:
        TypeError: An item is not a Message, or a tool result is not JSON-serializable.
    """
    try:
        messages = [message_to_dict(m) for m in history]
    except (AttributeError, ValueError) as exc:
        raise TypeError(f"history must be a list of Message objects ({exc})") from exc
    return json.dumps({"format": HISTORY_FORMAT, "messages": messages},
                      ensure_ascii=False, separators=(",", ":"))


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def history_from_json(data: str) -> list[Message]:
    """Parse :func:`history_to_json` output (a bare list of messages is accepted too).

    Raises:
        ValueError: Not JSON, an unknown format, or malformed messages.
    """
    if not isinstance(data, str | bytes | bytearray):
        raise ValueError(f"serialized history must be JSON text, not {type(data).__name__}")
    try:
        # depth: only call arguments and tool results nest freely, and check_history bounds
        # each of them below; the parser's own recursion limit covers the rest
        doc = loads_json(data, limit=None)
    except ValueError as exc:
        raise ValueError(f"serialized history is not JSON: {exc}") from exc
    if isinstance(doc, dict):
        if doc.get("format") != HISTORY_FORMAT:
            raise ValueError(f"serialized history has format {doc.get('format')!r}; "
                             f"expected {HISTORY_FORMAT!r}")
        items = doc.get("messages")
    else:
        items = doc
    if not isinstance(items, list):
        raise ValueError("serialized history holds no message list")
    try:
        messages = [message_from_dict(m) for m in items]
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise ValueError(f"serialized history has a malformed message: {exc!r}") from exc
    from .errors import InvalidRequestError
    from .inputs import check_history

    text = data if isinstance(data, str) else bytes(data).decode("utf-8", "replace")
    # JSON text without NaN/Infinity literals and without surrogate escapes or characters can
    # only hold values that encode: then values need just their depth checked
    clean = ("NaN" not in text and "Infinity" not in text
             and _SURROGATE_ESCAPE.search(text) is None and _encodes(text))
    try:  # what is accepted here can be sent later: same checks as new turns
        check_history(messages, parsed=clean)
    except InvalidRequestError as exc:
        raise ValueError(f"serialized history holds a value that cannot be sent: "
                         f"{exc.why}") from exc
    return messages


def response_from_wire(data: Mapping[str, Any]) -> Reply:
    """A non-streaming chat completion as a ``Reply`` (``raw`` keeps the body).

    Raises:
        ValueError: A tool call's arguments are not a JSON object (message names the call), or
            the body is not the chat-completions shape (:class:`WireShapeError`).
    """
    check_completion(data)
    choices = data.get("choices") or []
    choice = choices[0] if choices else {}
    message = choice.get("message") or {}
    calls: list[FunctionCall] = []
    for tc in message.get("tool_calls") or ():
        fn = tc.get("function") or {}
        call_id = repair_text(tc.get("id") or f"call_{len(calls)}")
        name = repair_text(fn.get("name") or "")
        try:
            args = parse_arguments(fn.get("arguments"))
        except ValueError as exc:
            odd = unreadable_call(call_id, name, repair_text(str(fn.get("arguments"))))
            if odd is None:  # a host without unreadable_args: the reply cannot be used
                raise ValueError(f"the arguments of the call to {fn.get('name')!r} are not a "
                                 f"JSON object: {exc}") from exc
            calls.append(odd)
            continue
        calls.append(FunctionCall(id=call_id, name=name, args=args))
    calls = unique_call_ids(calls)
    finish = finish_reason_from_wire(choice.get("finish_reason"))
    if calls and finish is FinishReason.UNKNOWN:
        finish = FinishReason.TOOL_USE
    return Reply(text=repair_text(content_text(message.get("content"))) or None,
                 function_calls=calls, usage=usage_from_wire(data.get("usage")),
                 finish_reason=finish, raw=data)
