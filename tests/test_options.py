"""Generation options are checked against the documented ranges before any request."""

from __future__ import annotations

import math
import re
from typing import Any

import pytest

from shared.plugins.model_provider.github_models.config.options import (
    adapt_for_model,
    validate_options,
)
from shared.plugins.model_provider.github_models.errors import InvalidRequestError


@pytest.mark.parametrize(("name", "value"), [
    ("temperature", 0), ("temperature", 1), ("top_p", 0.5), ("frequency_penalty", -2),
    ("presence_penalty", 2), ("max_tokens", 1), ("seed", 42), ("stop", "END"),
    ("stop", ["a", "b"]), ("response_format", "json_object"), ("tool_choice", "required"),
    ("tool_choice", {"type": "function", "function": {"name": "f"}}), ("modalities", ["text"]),
])
def test_valid_values_pass(name: str, value: Any) -> None:
    assert name in validate_options({name: value})


@pytest.mark.parametrize(("name", "value", "why"), [
    ("temperature", 1.5, "outside the allowed range [0, 1]"),
    ("temperature", -0.1, "outside the allowed range [0, 1]"),
    ("temperature", math.nan, "not a finite number"),
    ("temperature", "hot", "not a finite number"),
    ("top_p", 2, "outside the allowed range [0, 1]"),
    ("frequency_penalty", 2.5, "outside the allowed range [-2, 2]"),
    ("presence_penalty", -3, "outside the allowed range [-2, 2]"),
    ("max_tokens", 0, "outside"),
    ("max_tokens", 1.5, "not a whole number"),
    ("seed", True, "not a whole number"),
    ("stop", [], "non-empty"),
    ("stop", ["a", "b", "c", "d", "e"], "1-4"),
    ("response_format", "yaml", "the type must be one of"),
    ("response_format", {"type": "json_schema"}, "needs json_schema.schema"),
    ("tool_choice", "sometimes", "must be 'auto'"),
    ("modalities", ["video"], "non-empty list of text, audio"),
    ("temprature", 0.5, "not a known generation option"),
])
def test_invalid_values_raise_clear_errors(name: str, value: Any, why: str) -> None:
    with pytest.raises(InvalidRequestError, match=re.escape(why)) as info:
        validate_options({name: value})
    assert info.value.param == name
    assert name in str(info.value)


def test_reasoning_models_get_max_completion_tokens_and_no_default_temperature() -> None:
    out = adapt_for_model({"temperature": 0.3, "max_tokens": 100}, {}, model="openai/o3-mini",
                          token_param="max_completion_tokens", supports_temperature=False,
                          max_output_tokens=100000)
    assert out == {"max_completion_tokens": 100}


def test_explicit_temperature_on_reasoning_model_is_an_error() -> None:
    with pytest.raises(InvalidRequestError, match="does not accept temperature"):
        adapt_for_model({}, {"temperature": 0.3}, model="openai/o3-mini",
                        token_param="max_completion_tokens", supports_temperature=False,
                        max_output_tokens=None)


def test_max_tokens_above_model_output_limit() -> None:
    with pytest.raises(InvalidRequestError, match=re.escape("produces at most 4096")):
        adapt_for_model({}, {"max_tokens": 5000}, model="m", token_param="max_tokens",
                        supports_temperature=True, max_output_tokens=4096)


def test_call_options_override_defaults() -> None:
    out = adapt_for_model({"temperature": 0.1, "seed": 1}, {"temperature": 0.9}, model="m",
                          token_param="max_tokens", supports_temperature=True,
                          max_output_tokens=None)
    assert out == {"temperature": 0.9, "seed": 1}
