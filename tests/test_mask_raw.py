"""A reply's ``raw`` body is masked as before (issue 23 made the usual case cheap: its strings
are scanned instead of encoding the whole body): for any JSON body, with or without an echo of
the key in any form, the result equals encoding, scrubbing and parsing the whole body."""

from __future__ import annotations

import base64
import json
import urllib.parse
from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shared.plugins.model_provider.github_models.common.masking import SecretMasker, mask_response

SECRET = "ghp_" + "Zq9Xw2Lm7Rt4Yv8Kp3Hn6Bc1"
FORMS = [SECRET, SECRET[4:], SECRET[:16], base64.b64encode(f"x:{SECRET}".encode()).decode(),
         urllib.parse.quote(SECRET, safe=""), "%67hp_" + SECRET[4:]]

_text = st.one_of(st.text(max_size=20),
                  st.builds(lambda a, f, b: a + f + b, st.text(max_size=5),
                            st.sampled_from(FORMS), st.text(max_size=5)))
_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_text, inner, max_size=4),
    max_leaves=12)


def _whole_text(value: Any, masker: SecretMasker) -> Any:
    """What masking ``raw`` meant before: encode it all, scrub the text, parse it back."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    masked = masker.scrub(text)
    return value if masked == text else json.loads(masked)


@settings(max_examples=300, deadline=None)
@given(_json)
def test_raw_is_masked_as_the_whole_text_would_be(raw: Any) -> None:
    masker = SecretMasker([SECRET])
    reply = SimpleNamespace(text=None, thinking=None, function_calls=[], raw=raw)
    expected = _whole_text(json.loads(json.dumps(raw)), masker)
    assert mask_response(reply, masker).raw == expected


def test_an_echo_deep_in_raw_is_masked_and_a_clean_body_is_kept_as_is() -> None:
    masker = SecretMasker([SECRET])
    raw = {"choices": [{"message": {"content": "ok", "extra": [{"k": f"see {SECRET}"}]}}]}
    shown = json.dumps(mask_response(SimpleNamespace(
        text=None, thinking=None, function_calls=[], raw=raw), masker).raw, ensure_ascii=False)
    assert SECRET not in shown and SECRET[4:] not in shown and "ghp_…" in shown
    clean = {"choices": [{"message": {"content": "nothing to see"}}], "usage": {"n": 1}}
    reply = SimpleNamespace(text=None, thinking=None, function_calls=[], raw=clean)
    assert mask_response(reply, masker).raw is clean
    keyed = {SECRET: 1}  # in a key too
    reply = SimpleNamespace(text=None, thinking=None, function_calls=[], raw=keyed)
    assert SECRET not in json.dumps(mask_response(reply, masker).raw)
