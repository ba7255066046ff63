"""Leaks an independent security review reproduced on the merged code, each now closed.

Every test echoes or plants a credential where the review found it, over real HTTP against the
emulator, and searches everything the caller can reach: text, history, pickles, the chain of
causes, logs.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from typing import Any

import pytest

from shared import ProviderConfig
from shared.plugins.model_provider.github_models import GitHubModelsProvider
from shared.plugins.model_provider.github_models import errors as E
from shared.plugins.model_provider.github_models.config.env import resolve_settings
from shared.plugins.model_provider.github_models.emulator import Emulator, Reply
from tests.conftest import TEST_TOKEN

from .entra_credentials import PREFIX, ExpiringTestCredential

FOUNDRY_KEY = "8f3a9c27d41b4e6f9a0c5d2e7b18f4a3"  # 32 hex characters, no prefix


def chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        todo += [c for c in (current.__cause__, current.__context__,
                             getattr(current, "inner_exception", None)) if c is not None]


def reachable_text(exc: BaseException) -> str:
    parts = []
    for e in chain(exc):
        parts += [type(e).__name__, repr(e), str(e), repr(getattr(e, "doc", ""))]
        parts += [repr(a) for a in e.args]
    return "\n".join(parts) + pickle.dumps(exc).decode("latin-1")


def test_an_entra_token_echoed_by_a_gateway_is_masked_everywhere() -> None:
    with Emulator() as emu:
        emu.require_entra_tokens(PREFIX)
        provider = GitHubModelsProvider()
        provider.initialize(ProviderConfig(extra={"endpoint": emu.foundry_url,
                                                  "credential": ExpiringTestCredential()}))
        provider.connect("openai/gpt-4o")
        try:
            provider.send_message("hi")
            (token,) = provider.settings.token_cache.issued
            emu.script(Reply.text(f"your token is {token}"),
                       Reply.tool_calls([(f"x{token}", {"t": token})]))
            text = provider.send_message("again").text
            chunks: list[str] = []
            streamed = provider.send_message_streaming("once more", chunks.append)
            history = provider.serialize_history(provider.get_history())
            for blob in (text, "".join(chunks), repr(streamed), history,
                         pickle.dumps(provider.get_history()).decode("latin-1")):
                assert token not in blob
        finally:
            provider.shutdown()


def test_tool_call_ids_and_names_echoing_the_token_are_masked(make_provider: Any,
                                                              emulator: Emulator) -> None:
    provider = make_provider()
    emulator.script(Reply.tool_calls([(f"do_{TEST_TOKEN}", {"a": 1})]))
    response = provider.send_message("go")
    (call,) = response.function_calls
    assert TEST_TOKEN not in call.name and TEST_TOKEN not in call.id
    assert TEST_TOKEN not in provider.serialize_history(provider.get_history())


def test_the_causes_of_a_stream_error_carry_no_token(make_provider: Any,
                                                     emulator: Emulator) -> None:
    provider = make_provider()
    emulator.script(Reply.fault("in_stream_error", after=1, text="some text",
                                error={"code": "x", "message": f"bad {TEST_TOKEN}"}))
    with pytest.raises(E.GitHubModelsError) as caught:
        provider.send_message_streaming("hi", lambda _t: None)
    assert TEST_TOKEN not in reachable_text(caught.value)
    emulator.script(Reply.fault("malformed_sse", after=1, line=f"data: {{{TEST_TOKEN}"))
    with pytest.raises(E.GitHubModelsError) as again:
        provider.send_message_streaming("hi", lambda _t: None)
    assert TEST_TOKEN not in reachable_text(again.value)


def test_a_prefixless_key_in_unreadable_tool_arguments_stays_out_of_the_error(
        emulator: Emulator) -> None:
    provider = GitHubModelsProvider()
    provider.initialize(ProviderConfig(api_key=FOUNDRY_KEY, extra={
        "endpoint": emulator.foundry_url, "pacing": False}))
    provider.connect("openai/gpt-4o")
    try:
        emulator.script(Reply.tool_calls([("f", f'["{FOUNDRY_KEY}"]')]))
        with pytest.raises(E.StructuredOutputError) as caught:
            provider.send_message("go")
        assert FOUNDRY_KEY not in reachable_text(caught.value)
        assert FOUNDRY_KEY not in (caught.value.raw_text or "")
    finally:
        provider.shutdown()


@pytest.mark.parametrize("endpoint", [
    "http://user:PWsecret/x@127.0.0.1:8/inference",   # '/' in the password
    "http://user:PWsecret?x@127.0.0.1:8/inference",   # '?'
    "http://user:PWsecret#x@127.0.0.1:8/inference",   # '#'
    "http://127.0.0.1:8/inference;key=PWsecret",      # a path parameter
    "http://127.0.0.1:PWsecret/inference",            # the port urllib quotes back
])
def test_an_endpoint_password_is_never_quoted(endpoint: str) -> None:
    try:
        settings = resolve_settings(ProviderConfig(api_key=TEST_TOKEN,
                                                   extra={"endpoint": endpoint}), {})
    except E.ConfigurationError as exc:
        assert "PWsecret" not in reachable_text(exc)
    else:  # a valid URL whose path carries the key: sent as configured, never shown
        assert "PWsecret" not in repr(settings)


def test_rate_store_passwords_in_the_query_or_fragment_are_masked() -> None:
    from shared.plugins.model_provider.github_models.common.url_secrets import (
        url_shown_with_password_mark,
    )

    for url in ("redis://127.0.0.1:6390/0?password=PWsecret", "redis://:PWsecret@h:1/0",
                "redis://h:1/0#PWsecret", "rediss://u:PW/secret@h:1/0"):
        shown = url_shown_with_password_mark(url)
        assert "PWsecret" not in shown and "secret" not in shown.split("@")[-1]


def test_settings_pickle_without_the_token() -> None:
    settings = resolve_settings(ProviderConfig(api_key=TEST_TOKEN), {})
    blob = pickle.dumps(settings)
    assert TEST_TOKEN.encode() not in blob
    assert pickle.loads(blob).token == "github_pat_…"


def test_the_providers_error_context_pickles_without_the_key(make_provider: Any) -> None:
    import copy

    provider = make_provider()
    context = provider.error_context()
    assert context.secrets  # the key, for masking echoes in this process
    blob = pickle.dumps(context)
    assert TEST_TOKEN.encode() not in blob and TEST_TOKEN[-12:].encode() not in blob
    back = pickle.loads(blob)
    assert back == context and back.secrets == ()
    assert copy.copy(context).secrets == context.secrets  # a copy in-process still masks


def test_a_refused_connection_does_not_hand_out_the_request(make_provider: Any) -> None:
    provider = make_provider(endpoint="http://127.0.0.1:9/inference", max_retries=0)
    with pytest.raises(E.ProviderConnectionError) as caught:
        provider.send_message("hi")
    for exc in chain(caught.value):
        assert not hasattr(exc, "request") or exc.request is None  # no Authorization header
        assert type(exc).__module__.split(".")[0] != "azure"
    assert TEST_TOKEN not in reachable_text(caught.value)


@pytest.mark.parametrize("setting", ["catalog", "tracing", "endpoint_kind"])
def test_a_key_set_in_another_setting_is_not_shown_by_initialize(setting: str) -> None:
    # a Foundry key has no token shape: e.g. JAATO_GITHUB_CATALOG set to it by mistake
    from shared.plugins.model_provider.github_models import GitHubModelsProvider

    key = "8f3a9c27d41b4e6f9a0c5d2e7b18f4a3"
    for api_key, environ in ((key, {}), (None, {"GITHUB_TOKEN": key})):
        provider = GitHubModelsProvider(environ=environ)
        with pytest.raises(E.ConfigurationError) as info:
            provider.initialize(ProviderConfig(api_key=api_key, extra={
                "endpoint": "http://127.0.0.1:9/models", "env_file": False, setting: key}))
        assert key[:8] not in reachable_text(info.value), setting


def test_the_organization_warning_shows_the_endpoint_without_path_params(
        caplog: pytest.LogCaptureFixture) -> None:
    from shared.plugins.model_provider.github_models import GitHubModelsProvider

    provider = GitHubModelsProvider(environ={})
    with caplog.at_level("WARNING", logger="shared.plugins.model_provider.github_models"):
        provider.initialize(ProviderConfig(api_key=TEST_TOKEN, extra={
            "endpoint": "http://127.0.0.1:9/v1;sig=S3CRETSIGNATURE123", "organization": "acme",
            "env_file": False}))
    provider.shutdown()
    assert "organization 'acme' is set" in caplog.text
    assert "S3CRET" not in caplog.text


def test_copied_settings_keep_a_working_token_while_pickles_do_not(make_provider: Any,
                                                                   emulator: Any) -> None:
    import copy
    import pickle

    provider = make_provider()
    s = provider.settings
    assert copy.copy(s).token == s.token and copy.deepcopy(s).token == s.token
    assert s.token not in pickle.dumps(s).decode("latin-1")
