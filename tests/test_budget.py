"""jaato 1.2's token budget: the window and reply cap reported are the ones the request carries.

jaato refuses to send when its prompt estimate + ``get_max_output_tokens()`` exceeds
``get_context_limit()``; these tests read the cap off the request the emulator received.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from shared import Message, Part, Role
from shared.plugins.model_provider.github_models import errors as E
from shared.plugins.model_provider.github_models.emulator import Emulator

JAATO_PROMPT = 19_000  # jaato 1.2's own prompt (system + tool schemas), about 19k tokens


def chat_requests(emu: Emulator) -> list[Any]:
    return [r for r in emu.requests if r.path.endswith("/chat/completions")]


def sent_cap(body: dict[str, Any]) -> tuple[str, int] | None:
    found = [(k, body[k]) for k in ("max_tokens", "max_completion_tokens") if k in body]
    assert len(found) <= 1, body
    return found[0] if found else None


# model, window, reported cap, the wire's name for it (Foundry: no free-tier caps)
FOUNDRY = [
    ("microsoft/Phi-4", 16384, 4096, "max_tokens"),  # 16384 // 4
    ("openai/o3-mini", 200000, 25000, "max_completion_tokens"),  # reasoning default
    ("openai/gpt-4o", 131072, 4096, "max_tokens"),
]


@pytest.mark.parametrize(("model", "window", "cap", "param"), FOUNDRY)
def test_foundry_window_and_cap_are_what_the_request_carries(
        make_provider: Any, emulator: Emulator, model: str, window: int, cap: int,
        param: str) -> None:
    provider = make_provider(model, endpoint=emulator.foundry_url, endpoint_kind="foundry")
    assert not provider.settings.enforce_tier_limits
    assert (provider.get_context_limit(), provider.get_max_output_tokens()) == (window, cap)
    assert cap < window  # jaato's gate (prompt + cap > window) no longer refuses every send
    provider.send_message("hi")
    provider.send_message_streaming("again", lambda _t: None)
    assert [sent_cap(r.body) for r in chat_requests(emulator)] == [(param, cap)] * 2


def test_room_left_for_jaatos_prompt(make_provider: Any, emulator: Emulator) -> None:
    room = {}
    for model, _window, _cap, _param in FOUNDRY:
        p = make_provider(model, endpoint=emulator.foundry_url, endpoint_kind="foundry")
        room[model] = p.get_context_limit() - (p.get_max_output_tokens() or 0)
    assert room["openai/gpt-4o"] == 126976 > JAATO_PROMPT
    assert room["openai/o3-mini"] == 175000 > JAATO_PROMPT
    # Phi-4's whole window is 16384: no cap lets a 19k prompt in; 12288 remain for the prompt
    assert room["microsoft/Phi-4"] == 12288


def test_a_cap_the_user_set_is_reported_and_sent(make_provider: Any,
                                                 emulator: Emulator) -> None:
    provider = make_provider("openai/o3-mini", endpoint=emulator.foundry_url,
                             endpoint_kind="foundry", max_tokens=30000)
    assert provider.get_max_output_tokens() == 30000
    provider.send_message("hi")
    provider.set_options(max_completion_tokens=5000)
    assert provider.get_max_output_tokens() == 5000
    provider.complete([Message(role=Role.USER, parts=[Part(text="stateless")])])
    provider.send_message("per call", max_tokens=77)  # this call only
    assert provider.get_max_output_tokens() == 5000
    assert [sent_cap(r.body) for r in chat_requests(emulator)] == [
        ("max_completion_tokens", 30000), ("max_completion_tokens", 5000),
        ("max_completion_tokens", 77)]


def test_async_and_stateless_paths_carry_the_reported_cap(make_provider: Any,
                                                          emulator: Emulator) -> None:
    provider = make_provider("openai/gpt-4o", endpoint=emulator.foundry_url,
                             endpoint_kind="foundry")
    cap = provider.get_max_output_tokens()
    provider.complete([Message(role=Role.USER, parts=[Part(text="stateless")])])

    async def run() -> None:
        await provider.asend_message("async")
        await provider.asend_message_streaming("async stream", lambda _t: None)
        await provider.ashutdown()

    asyncio.run(run())
    assert [sent_cap(r.body) for r in chat_requests(emulator)] == [("max_tokens", cap)] * 3


def test_with_free_tier_caps_the_window_is_the_tiers(make_provider: Any,
                                                     emulator: Emulator) -> None:
    # GitHub-shaped endpoint, caps enforced: window = tier input cap + the reply cap sent
    provider = make_provider("openai/o3-mini", enforce_tier_limits=True)
    assert (provider.get_context_limit(), provider.get_max_output_tokens()) == (8000, 4000)
    provider.send_message("hi")
    assert sent_cap(chat_requests(emulator)[0].body) == ("max_completion_tokens", 4000)
    gpt = make_provider("openai/gpt-4o", enforce_tier_limits=True)
    assert (gpt.get_context_limit(), gpt.get_max_output_tokens()) == (12000, 4000)
    # caps off on the same endpoint: the model's window and the default cap
    off = make_provider("openai/gpt-4o", enforce_tier_limits=False)
    assert (off.get_context_limit(), off.get_max_output_tokens()) == (131072, 4096)


def test_a_small_window_keeps_three_quarters_for_the_prompt(make_provider: Any,
                                                           emulator: Emulator) -> None:
    provider = make_provider("core42/jais-30b-chat", enforce_tier_limits=False)
    assert (provider.get_context_limit(), provider.get_max_output_tokens()) == (8192, 2048)
    provider.send_message("hi")
    assert sent_cap(chat_requests(emulator)[0].body) == ("max_tokens", 2048)


def test_an_unknown_output_limit_sends_no_cap_and_reports_none(make_provider: Any,
                                                              emulator: Emulator) -> None:
    # the card gives Phi-3's window, not an output limit: nothing is invented, none is sent
    provider = make_provider("microsoft/Phi-3-medium-128k-instruct", endpoint=emulator.foundry_url,
                             endpoint_kind="foundry")
    assert (provider.get_context_limit(), provider.get_max_output_tokens()) == (131072, None)
    provider.send_message("hi")
    assert sent_cap(chat_requests(emulator)[0].body) is None


def test_a_live_catalog_entry_without_limits_is_unknown_not_invented(tmp_path: Any) -> None:
    from shared import ProviderConfig
    from shared.plugins.model_provider.github_models import GitHubModelsProvider

    from .conftest import TEST_TOKEN

    entry = {"id": "acme/brand-new", "name": "Brand New", "publisher": "acme",
             "rate_limit_tier": "low", "supported_input_modalities": ["text"],
             "supported_output_modalities": ["text"], "tags": []}
    with Emulator(catalog=[entry]) as emu:
        provider = GitHubModelsProvider()
        provider.initialize(ProviderConfig(api_key=TEST_TOKEN, extra={
            "endpoint": emu.inference_url, "catalog": "live", "pacing": False,
            "enforce_tier_limits": False}))
        try:
            provider.connect("acme/brand-new")
            assert provider.model_info.max_input_tokens == 0  # no source gives it
            assert (provider.get_context_limit(), provider.get_max_output_tokens()) == (0, None)
            assert provider.send_message("x" * 50_000).text  # no guessed window refuses it
            assert sent_cap(chat_requests(emu)[-1].body) is None
        finally:
            provider.shutdown()


def test_both_spellings_of_the_cap_with_different_values_are_refused(
        make_provider: Any, emulator: Emulator) -> None:
    provider = make_provider("openai/o3-mini")
    provider.send_message("first")
    before, sent = provider.get_history(), len(emulator.requests)
    with pytest.raises(E.InvalidRequestError) as caught:
        provider.send_message("x", max_tokens=500, max_completion_tokens=600)
    assert "only one of max_tokens and max_completion_tokens" in caught.value.fix
    with pytest.raises(E.InvalidRequestError):
        provider.set_options(max_tokens=500, max_completion_tokens=600)
    assert provider.get_history() == before and len(emulator.requests) == sent
    provider.send_message("same", max_tokens=700, max_completion_tokens=700)  # one cap: fine
    assert emulator.requests[-1].body["max_completion_tokens"] == 700
    assert provider.get_max_output_tokens() == 25000  # per call: the default stays
