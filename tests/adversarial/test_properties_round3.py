"""Issue 21: property-based tests (hypothesis) of the newer surface: store URLs, prompt files, the
conversation log's stored history, and OpenTelemetry attributes with content capture on.
Few examples in ``make test``, many in ``make adversarial`` (see conftest.py)."""

from __future__ import annotations

import io
import json
import pickle
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared import ProviderConfig, load_provider
from shared.plugins.model_provider.github_models.errors import (
    ConfigurationError,
    InvalidRequestError,
)
from shared.plugins.model_provider.github_models.pacing.rate_store import parse_store_url
from tests.adversarial.conftest import PROFILE, TOKEN

PROPERTY = settings.get_profile(PROFILE)

# distinctive: an 8-character run of these never occurs by chance in a message
SECRET_CHARS = "qxzjQXZJ0123456789/#?+=@:%"
secrets_ = st.text(SECRET_CHARS, min_size=8, max_size=40)


def windows(secret: str, size: int = 8) -> set[str]:
    return {secret[i:i + size] for i in range(len(secret) - size + 1)}


# ---- store URLs -------------------------------------------------------------------------------


@PROPERTY
@given(password=secrets_, user=st.sampled_from(["", "default", "ada"]),
       tail=st.sampled_from(["127.0.0.1:6379/0", "127.0.0.1/0", "h:notaport/0", "/0",
                             "127.0.0.1:6379/db?socket_timeout=x"]),
       scheme=st.sampled_from(["redis", "rediss", "unix", "http"]))
def test_no_store_url_shows_a_piece_of_its_password(password: str, user: str, tail: str,
                                                    scheme: str) -> None:
    url = f"{scheme}://{user}:{password}@{tail}"
    try:
        location = parse_store_url(url)
    except ConfigurationError as exc:
        shown = str(exc) + repr(exc)
    else:
        shown = location.display + repr(location)
        if "%" not in password:  # percent-escapes mean what URLs say they mean
            from urllib.parse import unquote

            assert unquote(location.password or "") == password  # the password is intact
    assert not windows(password) & {shown[i:i + 8] for i in range(len(shown))}, shown


@PROPERTY
@given(password=secrets_)
def test_no_pickled_settings_holds_the_store_password(password: str) -> None:
    from shared.plugins.model_provider.github_models.config.env import resolve_settings

    settings_ = resolve_settings(ProviderConfig(api_key=TOKEN, extra={
        "rate_store": f"redis://:{password}@127.0.0.1:6379/0"}), {})
    blob = pickle.dumps(settings_).decode("latin-1")
    assert not any(w in blob for w in windows(password))


# ---- prompt files -----------------------------------------------------------------------------

yaml_scalars = st.one_of(
    st.sampled_from(["2024-01-05", "2024-01-05 10:00:00", "!!timestamp 2001-12-14", "yes", "~",
                     "!!binary aGk=", "!!set {a}", "0x1F", ".nan", "-.inf", "'{{q}}'", "*a",
                     "&a x", "<<: *a", "!!python/object:os.system x", "[", "{", "]"]),
    st.text("abc{}[]:,-&*!|>'\" \n#", max_size=12))


@st.composite
def yaml_documents(draw: Any) -> str:
    lines = ["model: openai/gpt-4o", "messages: [{role: user, content: '{{q}}'}]"]
    for _ in range(draw(st.integers(0, 5))):
        key = draw(st.sampled_from(["testData", "evaluators", "modelParameters", "jsonSchema",
                                    "responseFormat", "name", "x"]))
        depth = draw(st.integers(0, 3))
        value = draw(yaml_scalars)
        lines.append(f"{key}: " + "[" * depth + value + "]" * depth)
    if draw(st.booleans()):  # an alias ladder, sometimes a bomb
        rungs = draw(st.integers(1, 12))
        lines.insert(0, 'l0: &l0 ["x","x","x","x","x","x","x","x","x"]')
        for i in range(1, rungs):
            lines.insert(i, f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]")
        lines.append(f"testData: [{{q: hi, v: *l{rungs - 1}}}]")
    return "\n".join(lines) + "\n"


@PROPERTY
@given(text=yaml_documents())
def test_any_prompt_file_loads_or_is_refused_quickly_and_serialises(tmp_path_factory: Any,
                                                                     text: str) -> None:
    from shared.plugins.model_provider.github_models.prompts.file import load_prompt_file

    path = Path(tmp_path_factory.mktemp("pf")) / "x.prompt.yml"
    path.write_text(text, "utf-8")
    started = time.monotonic()
    try:
        pf = load_prompt_file(path)
    except InvalidRequestError as exc:
        assert str(path) in str(exc)
    else:
        json.dumps([pf.test_data, pf.model_parameters, pf.json_schema])  # eval writes these
    assert time.monotonic() - started < 3


# ---- the log's stored history -------------------------------------------------------------------

history_docs = st.one_of(
    st.text(max_size=50),
    st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8),
                 lambda inner: st.lists(inner, max_size=3)
                 | st.dictionaries(st.sampled_from(["role", "parts", "text", "version",
                                                    "format", "messages", "x"]), inner,
                                   max_size=3), max_leaves=10).map(json.dumps))


@pytest.fixture(scope="module")
def offline_provider() -> Iterator[Any]:
    provider = load_provider("github_models", ProviderConfig(api_key=TOKEN, extra={
        "endpoint": "http://127.0.0.1:9/inference", "pacing": False}))
    provider.connect("openai/gpt-4o")
    yield provider
    provider.shutdown()


@PROPERTY
@given(document=history_docs)
def test_any_stored_history_resumes_or_names_the_log(offline_provider: Any,
                                                    document: str) -> None:
    from shared.plugins.model_provider.github_models.cli.chat_session import LoggedChatRunner
    from shared.plugins.model_provider.github_models.cli.log import LogStoreError
    from shared.plugins.model_provider.github_models.cli.output import Console

    console = Console(io.StringIO(), io.StringIO(), {"NO_COLOR": "1"})
    try:
        LoggedChatRunner(offline_provider, console, conversation_id="c1", history_json=document)
    except LogStoreError as exc:
        assert "Resuming conversation c1" in str(exc) and "format" in str(exc)
