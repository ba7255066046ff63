"""The streamed-chunk check's fast path (``wire_check._plain_choice``) accepts only what the full
check accepts: for any JSON-shaped ``choices`` a hostile server could send, a list the fast path
passes never makes ``check_choices_fully`` raise, and a chunk whose choices the full check
refuses is refused by ``check_chunk`` too (the fast path never lets one through)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from shared.plugins.model_provider.github_models.common import wire_check as W

_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(allow_nan=False),
                     st.text(max_size=5))
_JSON: Any = st.recursive(_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=3),
    st.dictionaries(st.sampled_from(["content", "tool_calls", "role", "x"]), inner, max_size=3)),
    max_leaves=8)
_MESSAGE = st.one_of(_JSON, st.fixed_dictionaries({}, optional={
    "content": st.one_of(st.none(), st.text(max_size=5), _JSON),
    "tool_calls": st.one_of(st.none(), _JSON),
    "role": _JSON}))
_CHOICE = st.one_of(_JSON, st.fixed_dictionaries({}, optional={
    "index": st.one_of(st.integers(0, 3), _SCALARS),
    "finish_reason": st.one_of(st.none(), st.sampled_from(["stop", "length"]), _SCALARS),
    "delta": _MESSAGE, "message": _MESSAGE}))


@given(st.lists(_CHOICE, max_size=3), st.booleans())
def test_the_fast_path_accepts_only_what_the_full_check_accepts(choices: list[Any],
                                                                 streaming: bool) -> None:
    key = "delta" if streaming else "message"
    full_ok = True
    try:
        W.check_choices_fully(choices, key, streaming=streaming)
    except W.WireShapeError:
        full_ok = False
    if all(W._plain_choice(c, key) for c in choices):
        assert full_ok, choices
    check = W.check_chunk if streaming else W.check_completion
    try:
        check({"choices": choices})
    except W.WireShapeError:
        assert not full_ok
    else:
        assert full_ok


def test_the_fast_path_is_taken_for_a_text_chunk_and_refuses_a_bad_one() -> None:
    assert W._plain_choice({"index": 0, "delta": {"content": "hi"}, "finish_reason": None},
                           "delta")
    assert not W._plain_choice({"index": True, "delta": {"content": "hi"}}, "delta")
    assert not W._plain_choice({"index": 0, "delta": {"content": 3}}, "delta")
