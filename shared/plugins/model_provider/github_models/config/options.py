"""Generation options: validation against the documented ranges, and per-model adaptation.

Options can be set per provider (``ProviderConfig.extra`` or ``set_options``) and per call
(keyword arguments of ``send_message`` and friends). Each is checked here, before any request,
against the ranges of the endpoint's profile (``profiles.py``): GitHub-shaped endpoints take
``temperature`` in [0, 1] (GitHub Models' REST description), Foundry and OpenAI-compatible gateways
in [0, 2]; ``top_p`` in [0, 1] and penalties in [-2, 2] everywhere. The catalog then says what
the chosen model accepts: reasoning models get ``max_completion_tokens`` instead of
``max_tokens`` and no ``temperature``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidRequestError
from ..kinds.profiles import ENDPOINT_KINDS, EndpointProfile, profile_named

__all__ = ["OPTION_NAMES", "adapt_for_model", "validate_options"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Spec:
    kind: str  # "number", "int", "stop", "choice", "format", "modalities", "tool_choice"
    low: float | None = None  # numbers: the endpoint profile's option_ranges decide
    high: float | None = None
    choices: tuple[str, ...] = ()
    label: str = ""  # the kind of endpoint whose range this is ("" for every kind)


_SPECS: dict[str, _Spec] = {
    "temperature": _Spec("number"),
    "top_p": _Spec("number"),
    "frequency_penalty": _Spec("number"),
    "presence_penalty": _Spec("number"),
    "max_tokens": _Spec("int", 1, 1_000_000),
    "seed": _Spec("int", -(2**63), 2**63 - 1),
    "stop": _Spec("stop"),
    "response_format": _Spec("format", choices=("text", "json_object", "json_schema")),
    "tool_choice": _Spec("tool_choice", choices=("auto", "required", "none")),
    "modalities": _Spec("modalities", choices=("text", "audio")),
    "reasoning_effort": _Spec("choice", choices=("low", "medium", "high")),
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
        where = f" for {spec.label}" if spec.label else ""
        wider = _wider_kinds(name, spec)
        raise _bad(name, value,
                   f"{name} {value:g} is outside the allowed range [{spec.low:g}, {spec.high:g}]"
                   f"{where}", f"pass a number between {spec.low:g} and {spec.high:g}" + (
                       f" ({wider} accept more; if this endpoint is one, set endpoint_kind or "
                       "JAATO_GITHUB_ENDPOINT_KIND)" if wider else ""))
    return float(value)


def _wider_kinds(name: str, spec: _Spec) -> str:
    """The labels of the kinds whose range of ``name`` reaches past ``spec``'s, or ''."""
    if not spec.label:
        return ""
    labels = [p.label for p in map(profile_named, ENDPOINT_KINDS)
              if (r := p.option_ranges.get(name)) and (r[0] < (spec.low or 0)
                                                       or r[1] > (spec.high or 0))]
    return ", ".join(labels)


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


def _check_choice(name: str, value: Any, spec: _Spec) -> str:
    if not isinstance(value, str) or value.strip().lower() not in spec.choices:
        raise _bad(name, value, f"it must be one of {', '.join(spec.choices)}",
                   f"pass e.g. {name}={spec.choices[0]!r}")
    return value.strip().lower()


_CHECKERS: dict[str, Callable[[str, Any, _Spec], Any]] = {
    "choice": _check_choice,
    "number": _check_number,
    "int": _check_int,
    "stop": _check_stop,
    "format": _check_format,
    "tool_choice": _check_tool_choice,
    "modalities": _check_modalities,
}


def validate_options(options: Mapping[str, Any], profile: EndpointProfile | None = None, *,
                     any_endpoint: bool = False) -> dict[str, Any]:
    """Validate generation options and return them normalized (``None`` values dropped).

    ``max_completion_tokens`` is accepted as an alias of ``max_tokens``: the model decides which
    name goes on the wire.

    Args:
        options: The options as given.
        profile: The endpoint's profile: its ``option_ranges`` bound the numbers (default: a
            GitHub-shaped endpoint's, the narrowest).
        any_endpoint: Check against the widest range of any kind instead (a check made before
            the endpoint is known, e.g. the CLI's; the provider checks again for its endpoint).

    Raises:
        InvalidRequestError: An unknown option or a value out of its documented range (the
            error names the kind of endpoint whose range it is); ``max_tokens`` and
            ``max_completion_tokens`` with different values.
    """
    specs = _specs_for(profile, any_endpoint)
    out: dict[str, Any] = {}
    for name, value in options.items():
        if value is None:
            continue
        key = "max_tokens" if name == "max_completion_tokens" else name
        spec = specs.get(key)
        if spec is None:
            raise _bad(name, value, "it is not a known generation option",
                       "use one of " + ", ".join(sorted(OPTION_NAMES)))
        checked = _CHECKERS[spec.kind](name, value, spec)
        if key in out and out[key] != checked:  # both spellings of the one reply cap
            raise _bad(name, value, f"max_tokens={out[key]!r} was given too, and both name the "
                       "one reply cap (the model decides which goes on the wire)",
                       "pass only one of max_tokens and max_completion_tokens")
        out[key] = checked
    return out


_SPECS_BY_KIND: dict[str, dict[str, _Spec]] = {}


def _specs_for(profile: EndpointProfile | None, any_endpoint: bool) -> dict[str, _Spec]:
    """``_SPECS`` with the numbers' bounds of ``profile`` (or the widest of every kind)."""
    key = "*" if any_endpoint else (profile.kind if profile is not None else "github")
    specs = _SPECS_BY_KIND.get(key)
    if specs is None:
        profiles = [profile_named(k) for k in ENDPOINT_KINDS] if any_endpoint else [
            profile if profile is not None else profile_named("github")]
        specs = dict(_SPECS)
        for name, spec in _SPECS.items():
            if spec.kind != "number":
                continue
            ranges = [p.option_ranges[name] for p in profiles]
            specs[name] = _Spec("number", min(r[0] for r in ranges), max(r[1] for r in ranges),
                                label="" if any_endpoint else profiles[0].label)
        _SPECS_BY_KIND[key] = specs
    return specs


_warned: set[tuple[str, str]] = set()


def adapt_for_model(
    defaults: Mapping[str, Any],
    call: Mapping[str, Any],
    *,
    model: str,
    token_param: str,
    supports_temperature: bool,
    max_output_tokens: int | None,
    supports_effort: bool = True,
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
    refused = [] if supports_temperature else ["temperature", "top_p"]
    if not supports_effort:
        refused.append("reasoning_effort")
    if refused:
        for name in refused:
            if name not in merged:
                continue
            if name in call:
                why = ("it is not a reasoning model that takes it" if name == "reasoning_effort"
                       else "a reasoning model")
                raise _bad(name, call[name], f"{model} does not accept {name} ({why})",
                           f"leave {name} unset for this model" + (
                               " (it works on e.g. openai/o3-mini, openai/o4-mini, the gpt-5 "
                               "family)" if name == "reasoning_effort" else ""))
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
