"""Keyless Microsoft Entra ID auth over real HTTP: the emulator's Entra mode accepts only
unexpired tokens from the test credential (a real azure-core TokenCredential), so a passing
request proves which token was sent."""

from __future__ import annotations

import asyncio
import io
import json
import pickle
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shared import ProviderConfig
from shared.plugins.model_provider.github_models import GitHubModelsProvider
from shared.plugins.model_provider.github_models import errors as E
from shared.plugins.model_provider.github_models.config.auth import DEFAULT_SCOPE, TokenCache
from shared.plugins.model_provider.github_models.config.env import resolve_settings
from shared.plugins.model_provider.github_models.emulator import Emulator

from .entra_credentials import PREFIX, AsyncExpiringTestCredential, ExpiringTestCredential

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def entra_emulator() -> Iterator[Emulator]:
    emu = Emulator()
    emu.start()
    emu.require_entra_tokens(PREFIX)
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def make_entra(entra_emulator: Emulator) -> Iterator[Any]:
    made: list[GitHubModelsProvider] = []

    def make(credential: Any, **extra: Any) -> GitHubModelsProvider:
        provider = GitHubModelsProvider()
        provider.initialize(ProviderConfig(extra={
            "endpoint": entra_emulator.foundry_url, "credential": credential, "timeout": 10,
            **extra}))
        provider.connect("openai/gpt-4o")
        made.append(provider)
        return provider

    yield make
    for provider in made:
        provider.shutdown()


def chat_requests(emu: Emulator) -> list[Any]:
    return [r for r in emu.requests if r.path.endswith("/chat/completions")]


# ---- the token is used, cached and refreshed ------------------------------------------------


def test_requests_carry_the_credentials_token_and_no_key(entra_emulator: Emulator,
                                                         make_entra: Any) -> None:
    cred = ExpiringTestCredential()
    provider = make_entra(cred)
    assert provider.send_message("hi").text == "Echo: hi"
    provider.send_message_streaming("again", lambda _t: None)
    assert cred.issued == ["t1"]  # fetched once, then cached
    assert entra_emulator.entra_tokens_seen == ["t1", "t1"]
    assert cred.scopes == [(DEFAULT_SCOPE,)]
    for request in chat_requests(entra_emulator):
        assert "api-key" not in request.headers  # no key goes out with Entra auth
        assert request.headers["authorization"].startswith("Bearer ")
    settings = provider.settings
    assert (settings.auth, settings.token_type) == ("credential", "entra")
    assert settings.token_source == "Entra ID (ExpiringTestCredential)"


def test_the_emulator_refuses_a_key_in_entra_mode(entra_emulator: Emulator) -> None:
    provider = GitHubModelsProvider()
    provider.initialize(ProviderConfig(api_key="sk-" + "k" * 40,
                                       extra={"endpoint": entra_emulator.foundry_url}))
    provider.connect("openai/gpt-4o")
    try:
        with pytest.raises(E.TokenInvalidError):
            provider.send_message("hi")
    finally:
        provider.shutdown()


def test_scope_is_configurable(make_entra: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    cred = ExpiringTestCredential()
    make_entra(cred, auth_scope="https://ai.azure.com/.default").send_message("hi")
    assert cred.scopes == [("https://ai.azure.com/.default",)]
    monkeypatch.setenv("JAATO_GITHUB_AUTH_SCOPE", "api://gateway/.default")
    cred2 = ExpiringTestCredential()
    make_entra(cred2).send_message("hi")
    assert cred2.scopes == [("api://gateway/.default",)]


def test_a_token_close_to_expiry_is_replaced_before_it_expires(entra_emulator: Emulator,
                                                               make_entra: Any) -> None:
    # t1 lives 200 s: valid, but inside the 300 s refresh margin, so the next request gets t2
    cred = ExpiringTestCredential(lifetimes=(200,))
    provider = make_entra(cred)
    provider.send_message("one")
    t1_expiry = time.time() + 190
    provider.send_message("two")
    provider.send_message("three")
    assert entra_emulator.entra_tokens_seen == ["t1", "t2", "t2"]
    assert time.time() < t1_expiry  # t1 had not expired when it was replaced


def test_a_401_drops_the_token_and_retries_once_with_a_fresh_one(entra_emulator: Emulator,
                                                                 make_entra: Any) -> None:
    cred = ExpiringTestCredential(lifetimes=(-60,))  # the first token is already expired
    provider = make_entra(cred)
    assert provider.send_message("hi").text == "Echo: hi"
    assert cred.issued == ["t1", "t2"]
    assert entra_emulator.entra_tokens_seen == ["t2"]
    assert len(chat_requests(entra_emulator)) == 2


@pytest.mark.parametrize("streaming", [False, True], ids=["complete", "stream"])
def test_a_401_after_the_refresh_is_token_invalid_with_entra_advice(
        entra_emulator: Emulator, make_entra: Any, streaming: bool) -> None:
    entra_emulator.require_entra_tokens("other-audience.")  # every test token is refused
    cred = ExpiringTestCredential()
    provider = make_entra(cred)
    with pytest.raises(E.TokenInvalidError) as info:
        if streaming:
            provider.send_message_streaming("hi", lambda _t: None)
        else:
            provider.send_message("hi")
    error = info.value
    assert error.status == 401
    assert "Cognitive Services User" in error.fix and "az login" in error.fix
    assert "tenant" in error.fix
    assert "Microsoft Entra ID access token" in error.why
    assert cred.issued == ["t1", "t2"]  # refreshed once, then gave up
    assert len(chat_requests(entra_emulator)) == 2
    assert provider.get_history() == []
    assert PREFIX not in str(error) and PREFIX not in repr(error.__dict__)


@pytest.mark.parametrize("streaming", [False, True], ids=["complete", "stream"])
def test_a_failed_refresh_is_a_typed_error_and_sends_nothing(
        entra_emulator: Emulator, make_entra: Any, streaming: bool) -> None:
    cred = ExpiringTestCredential(lifetimes=(200,), fail_after=1)
    provider = make_entra(cred)
    provider.send_message("one")
    history = provider.get_history()
    with pytest.raises(E.TokenInvalidError) as info:
        if streaming:
            provider.send_message_streaming("two", lambda _t: None)
        else:
            provider.send_message("two")
    error = info.value
    assert "ClientAuthenticationError" in error.why and "AADSTS700082" in error.why
    assert "Getting an Entra ID token" in error.what
    assert "Cognitive Services User" in error.fix
    assert type(error.__cause__).__name__ == "ClientAuthenticationError"
    assert len(chat_requests(entra_emulator)) == 1  # nothing sent without a token
    assert provider.get_history() == history


def test_sync_and_async_clients_share_one_cache(entra_emulator: Emulator,
                                                make_entra: Any) -> None:
    cred = ExpiringTestCredential()
    provider = make_entra(cred)
    provider.send_message("sync")

    async def main() -> None:
        await provider.asend_message("async")
        await provider.asend_message_streaming("async stream", lambda _t: None)

    asyncio.run(main())
    asyncio.run(provider.asend_message("another loop"))
    assert cred.issued == ["t1"]
    assert entra_emulator.entra_tokens_seen == ["t1"] * 4


def test_concurrent_first_requests_fetch_one_token(entra_emulator: Emulator,
                                                   make_entra: Any) -> None:
    import threading

    cred = ExpiringTestCredential(delay=0.2)
    provider = make_entra(cred)
    threads = [threading.Thread(target=provider.generate, args=(f"q{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cred.issued == ["t1"]
    assert entra_emulator.entra_tokens_seen == ["t1"] * 4


def test_an_async_credential_serves_the_async_api_only(entra_emulator: Emulator,
                                                       make_entra: Any) -> None:
    cred = AsyncExpiringTestCredential()
    provider = make_entra(cred)

    async def main() -> str:
        reply = await provider.asend_message("hi")
        return reply.text or ""

    assert asyncio.run(main()) == "Echo: hi"
    assert cred.issued == ["t1"]
    with pytest.raises(E.ConfigurationError, match="AsyncTokenCredential"):
        provider.send_message("sync")


# ---- selection and configuration ------------------------------------------------------------


def test_keys_stay_the_default() -> None:
    settings = resolve_settings(ProviderConfig(api_key="sk-" + "k" * 40,
                                               extra={"endpoint": "https://x.example/models"}),
                                environ={})
    assert (settings.auth, settings.token_cache) == ("key", None)


@pytest.mark.parametrize("how", ["env", "extra"])
def test_entra_setting_selects_default_azure_credential_without_a_key(how: str) -> None:
    env = {"JAATO_GITHUB_AUTH": "entra"} if how == "env" else {}
    extra = {"endpoint": "https://res.services.ai.azure.com/models"}
    if how == "extra":
        extra["auth"] = "entra"
    settings = resolve_settings(ProviderConfig(extra=extra), environ=env)  # no key anywhere
    assert settings.auth == "entra"
    cache = settings.token_cache
    assert isinstance(cache, TokenCache)
    assert cache.credential_name == "DefaultAzureCredential"  # constructed, nothing sent
    assert cache.scope == DEFAULT_SCOPE and cache.fetches == 0
    assert "DefaultAzureCredential" in settings.token_source
    assert "DefaultAzureCredential" in repr(cache)


def test_describe_names_the_member_of_a_chain_that_answered() -> None:
    from azure.identity import ChainedTokenCredential, CredentialUnavailableError

    class NotHere:
        def get_token(self, *scopes: str, **kwargs: Any) -> Any:
            raise CredentialUnavailableError("no managed identity endpoint here")

    second = ExpiringTestCredential()
    cache = TokenCache(ChainedTokenCredential(NotHere(), second), DEFAULT_SCOPE)
    assert cache.describe() == "ChainedTokenCredential"
    assert cache.token().startswith(PREFIX)
    assert cache.describe() == "ChainedTokenCredential (via ExpiringTestCredential)"
    assert second.issued == ["t1"]


def test_bad_auth_settings_fail_before_any_request() -> None:
    with pytest.raises(E.ConfigurationError, match="not key or entra"):
        resolve_settings(ProviderConfig(api_key="k" * 20, extra={"auth": "oauth"}), environ={})
    with pytest.raises(E.ConfigurationError, match="no get_token"):
        resolve_settings(ProviderConfig(extra={"credential": object()}), environ={})


def test_missing_azure_identity_is_a_clear_error() -> None:
    code = (
        "import sys; sys.modules['azure.identity'] = None\n"
        "from shared import ProviderConfig\n"
        "from shared.plugins.model_provider.github_models.config.env import resolve_settings\n"
        "from shared.plugins.model_provider.github_models.errors import ConfigurationError\n"
        "try:\n"
        "    resolve_settings(ProviderConfig(extra={'auth': 'entra'}), environ={})\n"
        "except ConfigurationError as exc:\n"
        "    print(exc.why); print(exc.fix)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=60, check=True)
    assert "azure-identity package is not installed" in result.stdout
    assert "pip install 'jaato-github-models[entra]'" in result.stdout


def test_the_token_never_shows(entra_emulator: Emulator, make_entra: Any) -> None:
    cred = ExpiringTestCredential()
    provider = make_entra(cred)
    provider.send_message("hi")
    settings = provider.settings
    for text in (repr(settings), repr(settings.token_cache), repr(provider),
                 json.dumps(provider.serialize_history(provider.get_history()))):
        assert PREFIX not in text
    with pytest.raises(TypeError, match="not picklable"):
        pickle.dumps(settings.token_cache)
    logged = [r.headers.get("authorization", "") for r in chat_requests(entra_emulator)]
    assert all(PREFIX not in value for value in logged)  # the request log redacts it


def test_doctor_names_the_credential_never_the_token(entra_emulator: Emulator) -> None:
    from shared.plugins.model_provider.github_models.cli.doctor_checks import Doctor
    from shared.plugins.model_provider.github_models.cli.output import Console

    out, err = io.StringIO(), io.StringIO()
    cred = ExpiringTestCredential()
    doctor = Doctor({"endpoint": entra_emulator.foundry_url, "credential": cred},
                    "openai/gpt-4o", Console(out, err, environ={}), environ={})
    assert doctor.run()
    token_check = doctor.checks["token"]
    assert token_check.status == "PASS"
    assert "ExpiringTestCredential" in token_check.detail
    assert DEFAULT_SCOPE in token_check.detail
    assert doctor.checks["auth"].status == "PASS"
    assert doctor.checks["auth"].detail == (
        "the endpoint accepted the Microsoft Entra ID token from ExpiringTestCredential")
    everything = out.getvalue() + err.getvalue() + repr(doctor.checks)
    assert PREFIX not in everything


def test_an_echoed_entra_token_is_masked_in_the_error(make_entra: Any,
                                                      entra_emulator: Emulator) -> None:
    from shared.plugins.model_provider.github_models.emulator import Reply

    jwt = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2NvZ25pdGl2ZSJ9.c2lnbmF0dXJl"
    body = {"error": {"code": "401", "message": f"Invalid token: {jwt}"}}
    entra_emulator.script(Reply.error(401, body), Reply.error(401, body))
    provider = make_entra(ExpiringTestCredential())
    with pytest.raises(E.TokenInvalidError) as info:
        provider.send_message("hi")
    error = info.value
    assert jwt[:20] not in str(error) and jwt[:20] not in error.body
    assert "eyJ…" in error.body


def test_jaatos_verify_auth_and_auth_info_speak_entra(entra_emulator: Emulator,
                                                      make_entra: Any) -> None:
    cred = ExpiringTestCredential()
    provider = make_entra(cred)
    assert provider.verify_auth() is True  # the unbilled probe carries the Entra token
    assert entra_emulator.entra_tokens_seen == ["t1"]
    assert provider.get_auth_info() == "Entra ID token from ExpiringTestCredential"
