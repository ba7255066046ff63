"""The framework's history, tools and tool results as a chat-completions request.

No I/O here. The functions rely only on the fields and constructors of the framework types, so
the provider runs against the framework's own copies of them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .._host import Message, Part, Role, ToolResult, ToolSchema, render_for_model

__all__ = [
    "assemble_messages",
    "inline_fields",
    "message_to_wire",
    "messages_to_wire",
    "parts_to_content",
    "tool_result_content",
    "tools_to_wire",
]


def tools_to_wire(tools: Sequence[ToolSchema] | None) -> list[dict[str, Any]]:
    """Function tools in the chat-completions shape."""
    out: list[dict[str, Any]] = []
    for tool in tools or ():
        params = dict(tool.parameters) if tool.parameters else {"type": "object", "properties": {}}
        out.append({"type": "function", "function": {
            "name": tool.name, "description": tool.description or "", "parameters": params}})
    return out


def inline_fields(inline: Any) -> tuple[str, bytes]:
    """An inline image or attachment (a mapping or an ``Attachment``-like object) as
    ``(mime type, bytes)``; base64 text is decoded."""
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
            items.append(_image_part(*inline_fields(part.inline_data)))
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
            images.append(_image_part(*inline_fields(att)))
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
