"""Generation options: validation against the documented ranges, and per-model adaptation.

Options can be set per provider (``ProviderConfig.extra`` or ``set_options``) and per call
(keyword arguments of ``send_message`` and friends). Each is checked here, before any request,
against the GitHub Models REST description: ``temperature`` and ``top_p`` in [0, 1], penalties
in [-2, 2], and so on. The catalog then says what the chosen model accepts: reasoning models get
``max_completion_tokens`` instead of ``max_tokens`` and no ``temperature``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import InvalidRequestError

__all__ = ["OPTION_NAMES", "adapt_for_model", "validate_options"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Spec:
    kind: str  # "number", "int", "stop", "choice", "format", "modalities", "tool_choice"
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()


_SPECS: dict[str, _Spec] = {
    "temperature": _Spec("number", 0.0, 1.0),
    "top_p": _Spec("number", 0.0, 1.0),
    "frequency_penalty": _Spec("number", -2.0, 2.0),
    "presence_penalty": _Spec("number", -2.0, 2.0),
    "max_tokens": _Spec("int", 1, 1_000_000),
    "seed": _Spec("int", -(2**63), 2**63 - 1),
    "stop": _Spec("stop"),
    "response_format": _Spec("format", choices=("text", "json_object", "json_schema")),
    "tool_choice": _Spec("tool_choice", choices=("auto", "required", "none")),
    "modalities": _Spec("modalities", choices=("text", "audio")),
}

OPTION_NAMES = frozenset(_SPECS)


def _bad(name: str, value: Any, why: str, fix: str) -> InvalidRequestError:
    return InvalidRequestError(
        what=f"Checking the request option {name}={value!r}", why=why, fix=fix, param=name)


def _check_number(name: str, value: Any, spec: _Spec) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _bad(name, value, "it is not a finite number",
                   f"pass a number between {spec.low:g} and {spec.high:g}")
    assert spec.low is not None and spec.high is not None
    if not spec.low <= value <= spec.high:
        raise _bad(name, value, f"it is outside the allowed range [{spec.low:g}, {spec.high:g}]",
                   f"pass a number between {spec.low:g} and {spec.high:g}")
    return float(value)


def _check_int(name: str, value: Any, spec: _Spec) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(name, value, "it is not a whole number", "pass an int")
    assert spec.low is not None and spec.high is not None
    if not spec.low <= value <= spec.high:
        raise _bad(name, value, f"it is outside [{int(spec.low)}, {int(spec.high)}]",
                   f"pass a whole number of at least {int(spec.low)}")
    return value


def _check_stop(name: str, value: Any, _spec: _Spec) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if (not isinstance(items, list | tuple) or not items
            or not all(isinstance(s, str) and s for s in items) or len(items) > 4):
        raise _bad(name, value, "it must be a non-empty string or a list of 1-4 non-empty strings",
                   "pass e.g. stop=['\\n\\n']")
    return list(items)


def _check_format(name: str, value: Any, spec: _Spec) -> Any:
    if isinstance(value, str):
        value = {"type": value}
    kind = value.get("type") if isinstance(value, Mapping) else None
    if kind not in spec.choices:
        raise _bad(name, value, f"the type must be one of {', '.join(spec.choices)}",
                   "pass 'text', 'json_object', or use response_schema= for a JSON schema")
    if kind == "json_schema":
        js = value.get("json_schema")
        if not isinstance(js, Mapping) or not isinstance(js.get("schema"), Mapping):
            raise _bad(name, value, "a json_schema format needs json_schema.schema (an object)",
                       "pass response_schema=<JSON schema dict> instead")
    return dict(value)


def _check_tool_choice(name: str, value: Any, spec: _Spec) -> Any:
    if isinstance(value, str) and value in spec.choices:
        return value
    if (isinstance(value, Mapping) and value.get("type") == "function"
            and isinstance(value.get("function"), Mapping)
            and isinstance(value["function"].get("name"), str)):
        return dict(value)
    raise _bad(name, value, "it must be 'auto', 'required', 'none' or "
               "{'type': 'function', 'function': {'name': ...}}", "pass one of those")


def _check_modalities(name: str, value: Any, spec: _Spec) -> list[str]:
    if (not isinstance(value, list | tuple) or not value
            or any(v not in spec.choices for v in value)):
        raise _bad(name, value, f"it must be a non-empty list of {', '.join(spec.choices)}",
                   "pass e.g. modalities=['text']")
    return list(value)


_CHECKERS: dict[str, Callable[[str, Any, _Spec], Any]] = {
    "number": _check_number,
    "int": _check_int,
    "stop": _check_stop,
    "format": _check_format,
    "tool_choice": _check_tool_choice,
    "modalities": _check_modalities,
}


def validate_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Validate generation options and return them normalized (``None`` values dropped).

    ``max_completion_tokens`` is accepted as an alias of ``max_tokens``: the model decides which
    name goes on the wire.

    Raises:
        InvalidRequestError: An unknown option or a value out of its documented range.
    """
    out: dict[str, Any] = {}
    for name, value in options.items():
        if value is None:
            continue
        key = "max_tokens" if name == "max_completion_tokens" else name
        spec = _SPECS.get(key)
        if spec is None:
            raise _bad(name, value, "it is not a known generation option",
                       "use one of " + ", ".join(sorted(OPTION_NAMES)))
        out[key] = _CHECKERS[spec.kind](name, value, spec)
    return out


_warned: set[tuple[str, str]] = set()


def adapt_for_model(
    defaults: Mapping[str, Any],
    call: Mapping[str, Any],
    *,
    model: str,
    token_param: str,
    supports_temperature: bool,
    max_output_tokens: int | None,
) -> dict[str, Any]:
    """Merge provider defaults with per-call options for one model.

    Provider-level defaults the model cannot take (``temperature``/``top_p`` on reasoning models)
    are dropped with one warning per model; the same option passed explicitly on the call is an
    error, because the caller asked for something the model will refuse.

    Raises:
        InvalidRequestError: A per-call option the model does not accept, or ``max_tokens`` above
            the model's output limit.
    """
    merged: dict[str, Any] = dict(defaults)
    merged.update(call)
    if not supports_temperature:
        for name in ("temperature", "top_p"):
            if name not in merged:
                continue
            if name in call:
                raise _bad(name, call[name], f"{model} does not accept {name} (a reasoning model)",
                           f"leave {name} unset for this model")
            del merged[name]
            if (model, name) not in _warned:
                _warned.add((model, name))
                logger.warning("%s does not accept %s; the provider default is not sent", model,
                               name)
    max_tokens = merged.pop("max_tokens", None)
    if max_tokens is not None:
        if max_output_tokens and max_tokens > max_output_tokens:
            raise _bad("max_tokens", max_tokens,
                       f"{model} produces at most {max_output_tokens} output tokens",
                       f"pass max_tokens <= {max_output_tokens}")
        merged[token_param] = max_tokens
    return merged
