"""Pure conversions between the framework's types and the chat-completions wire format.

One name for the three jobs, each in its own module: ``wire_request`` (history, tools and tool
results -> a request's ``messages``/``tools``), ``wire_reply`` (a completion -> ``Reply``, and the
pieces ``streaming`` uses) and ``history_json`` (the provider's history JSON). Every name stays
importable from here.
"""

from __future__ import annotations

from .wire.history_json import (
    HISTORY_FORMAT,
    history_from_json,
    history_to_json,
    message_from_dict,
    message_to_dict,
)
from .wire.wire_reply import (
    content_text,
    finish_reason_from_wire,
    parse_arguments,
    response_from_wire,
    unique_call_ids,
    usage_from_wire,
)
from .wire.wire_request import (
    assemble_messages,
    message_to_wire,
    messages_to_wire,
    parts_to_content,
    tool_result_content,
    tools_to_wire,
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
