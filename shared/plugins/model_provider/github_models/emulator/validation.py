"""Request-body validation with the OpenAI-style 400s the service passed through.

``validate`` returns ``None`` for a valid body, else ``(param, code, message)``. Ranges follow the
GitHub REST description (temperature and top_p in [0, 1], penalties in [-2, 2]); on the Azure AI
model inference route (Microsoft Foundry) temperature goes up to 2, as the OpenAI models it serves
accept. Reasoning models reject ``max_tokens`` and any temperature but 1.
"""

from __future__ import annotations

from typing import Any

from .models import ModelEntry

__all__ = ["MAX_TOKENS_MESSAGE", "ROLES", "Problem", "validate"]

ROLES = ("system", "developer", "user", "assistant", "tool", "function")

MAX_TOKENS_MESSAGE = (
    "Unsupported parameter: 'max_tokens' is not supported with this model. "
    "Use 'max_completion_tokens' instead."
)

Problem = tuple[str | None, str, str]  # (param, code, message)

_RANGES: tuple[tuple[str, float, float], ...] = (
    ("temperature", 0.0, 1.0),
    ("top_p", 0.0, 1.0),
    ("frequency_penalty", -2.0, 2.0),
    ("presence_penalty", -2.0, 2.0),
)
_FORMATS = ("text", "json_object", "json_schema")


def _type_name(value: Any) -> str:
    return {str: "a string", bool: "a boolean", list: "an array", dict: "an object"}.get(
        type(value), "null" if value is None else "a number"
    )


def _type_message(param: str, expected: str, value: Any) -> str:
    return f"Invalid type for '{param}': expected {expected}, but got {_type_name(value)} instead."


def _number(body: dict[str, Any], name: str, low: float, high: float) -> Problem | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return name, "invalid_type", _type_message(name, "a decimal", value)
    if value > high:
        msg = (
            f"Invalid '{name}': decimal above maximum value. Expected a value <= {high:g}, "
            f"but got {value} instead."
        )
        return name, "decimal_above_max_value", msg
    if value < low:
        msg = (
            f"Invalid '{name}': decimal below minimum value. Expected a value >= {low:g}, "
            f"but got {value} instead."
        )
        return name, "decimal_below_min_value", msg
    return None


def _messages(messages: Any) -> Problem | None:
    if messages is None:
        return "messages", "missing_required_parameter", "Missing required parameter: 'messages'."
    if not isinstance(messages, list):
        return "messages", "invalid_type", _type_message("messages", "an array", messages)
    if not messages:
        return "messages", "empty_array", "Invalid 'messages': empty array"
    supported = ", ".join(f"'{r}'" for r in ROLES[:-1]) + f", and '{ROLES[-1]}'"
    for i, msg_ in enumerate(messages):
        if not isinstance(msg_, dict):
            param = f"messages[{i}]"
            return param, "invalid_type", _type_message(param, "an object", msg_)
        role = msg_.get("role")
        if role not in ROLES:
            text = f"Invalid value: '{role}'. Supported values are: {supported}."
            return f"messages[{i}].role", "invalid_value", text
        if role == "tool" and not msg_.get("tool_call_id"):
            text = (
                "Missing parameter 'tool_call_id': messages with role 'tool' must have a "
                "'tool_call_id'."
            )
            return f"messages[{i}].tool_call_id", "missing_required_parameter", text
    return None


def _output_limit(body: dict[str, Any], entry: ModelEntry) -> Problem | None:
    for name in ("max_tokens", "max_completion_tokens"):
        value = body.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int):
            return name, "invalid_type", _type_message(name, "an integer", value)
        if value < 1:
            msg = (
                f"Invalid '{name}': integer below minimum value. Expected a value >= 1, "
                f"but got {value} instead."
            )
            return name, "integer_below_min_value", msg
        if entry.max_output_tokens is not None and value > entry.max_output_tokens:
            msg = (
                f"{name} is too large: {value}. This model supports at most "
                f"{entry.max_output_tokens} completion tokens, whereas you provided {value}."
            )
            return name, "invalid_value", msg
    return None


def _options(body: dict[str, Any]) -> Problem | None:
    if body.get("stream_options") is not None and not body.get("stream"):
        msg = "The 'stream_options' parameter is only allowed when 'stream' is enabled."
        return "stream_options", "invalid_value", msg
    fmt = body.get("response_format")
    if fmt is not None:
        kind = fmt.get("type") if isinstance(fmt, dict) else None
        if kind not in _FORMATS:
            msg = (
                f"Invalid value: '{kind}'. Supported values are: 'text', 'json_object', "
                "and 'json_schema'."
            )
            return "response_format.type", "invalid_value", msg
        if kind == "json_schema" and not isinstance(fmt.get("json_schema"), dict):
            msg = "Missing required parameter: 'response_format.json_schema'."
            return "response_format.json_schema", "missing_required_parameter", msg
    stop = body.get("stop")
    if stop is not None and not isinstance(stop, str):
        if not isinstance(stop, list) or not all(isinstance(s, str) for s in stop):
            return "stop", "invalid_type", _type_message("stop", "a string or an array", stop)
        if len(stop) > 4:
            msg = (
                "Invalid 'stop': array too long. Expected an array with maximum length 4, "
                f"but got an array with length {len(stop)} instead."
            )
            return "stop", "array_above_max_length", msg
    choice = body.get("tool_choice")
    if (
        choice is not None
        and not isinstance(choice, dict)
        and choice not in ("auto", "required", "none")
    ):
        msg = f"Invalid value: '{choice}'. Supported values are: 'none', 'auto', and 'required'."
        return "tool_choice", "invalid_value", msg
    return None


def validate(body: dict[str, Any], entry: ModelEntry, *,
             foundry: bool = False) -> Problem | None:
    """Check a chat-completions body for ``entry``; ``None`` when the service would accept it.

    ``foundry``: the request came to the Azure AI model inference route (temperature up to 2).
    """
    if entry.tier == "embeddings":
        return "model", "OperationNotSupported", (
            f"The chatCompletion operation does not work with the specified model, {entry.bare}."
            " Please choose different model and try again.")
    problem = _messages(body.get("messages"))
    if problem is None and entry.reasoning:
        if body.get("max_tokens") is not None:
            return "max_tokens", "unsupported_parameter", MAX_TOKENS_MESSAGE
        temperature = body.get("temperature")
        if temperature is not None and temperature != 1:
            msg = (
                f"Unsupported value: 'temperature' does not support {temperature} with this "
                "model. Only the default (1) value is supported."
            )
            return "temperature", "unsupported_value", msg
    for name, low, high in _RANGES if problem is None else ():
        high = 2.0 if foundry and name == "temperature" else high
        problem = _number(body, name, low, high)
        if problem is not None:
            break
    return problem or _output_limit(body, entry) or _options(body)
