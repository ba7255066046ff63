"""Echoes of the token that are not the token verbatim: cut off mid-token, base64, percent-encoded.

A model or a hostile gateway echoes the credential in its reply; these tests script such replies
on the emulator and search everything the caller can reach over the public API (text, streamed
chunks, the partial text of an error, history, the CLI's output) for any long part of it.
"""

from __future__ import annotations

import base64
import io
import urllib.parse
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared import CancelToken, FinishReason
from shared.plugins.model_provider.github_models import errors as E
from shared.plugins.model_provider.github_models.cli.output import Console
from shared.plugins.model_provider.github_models.common.masking import SecretMasker
from shared.plugins.model_provider.github_models.emulator import Emulator, Reply

from .test_secrets import BODY, PREFIX, TOKEN, describe, leaks, run_cli

# the token cut off 20 characters into its secret part (well past the 8 that identify it)
CUT = TOKEN[:len(PREFIX) + 20]
STREAMING = pytest.mark.parametrize("streaming", [False, True], ids=["complete", "stream"])


def reachable(provider: Any, response: Any, chunks: list[str]) -> str:
    """Everything a caller holds after a turn: the reply, its chunks and the history."""
    return "\n".join([response.text or "", repr(response), *chunks,
                      provider.serialize_history(provider.get_history())])


def ask(provider: Any, streaming: bool, chunks: list[str]) -> Any:
    if streaming:
        return provider.send_message_streaming("go", chunks.append)
    return provider.send_message("go")


# ---- cut off mid-token -------------------------------------------------------------------------


@STREAMING
def test_a_reply_cut_off_by_the_length_limit_masks_the_start_of_the_token(
        make_provider: Callable[..., Any], emulator: Emulator, streaming: bool) -> None:
    provider = make_provider(token=TOKEN)
    emulator.script(Reply.text(f"Your key is {CUT}", finish_reason="length"))
    chunks: list[str] = []
    response = ask(provider, streaming, chunks)
    assert response.finish_reason is FinishReason.MAX_TOKENS
    everything = reachable(provider, response, chunks)
    assert leaks(everything) == []
    assert response.text == "Your key is github_pat_…"
    if streaming:
        assert "".join(chunks) == response.text  # held back, then released masked


@STREAMING
def test_a_cut_off_token_followed_by_more_text_is_masked(
        make_provider: Callable[..., Any], emulator: Emulator, streaming: bool) -> None:
    provider = make_provider(token=TOKEN)
    emulator.script(Reply.text(f"key {CUT}... and {BODY[:10]}, then more"))
    chunks: list[str] = []
    response = ask(provider, streaming, chunks)
    assert leaks(reachable(provider, response, chunks)) == []
    assert response.text == "key github_pat_…... and …, then more"


def test_a_cancel_after_a_cut_off_token_masks_its_start(
        make_provider: Callable[..., Any], emulator: Emulator) -> None:
    provider = make_provider(token=TOKEN)
    emulator.script(Reply.text(f"one {CUT} two three four five six seven"))
    token = CancelToken()
    chunks: list[str] = []

    def on_chunk(text: str) -> None:
        chunks.append(text)
        if "two" in text:
            token.cancel()

    response = provider.send_message_streaming("go", on_chunk, cancel_token=token)
    assert response.finish_reason is FinishReason.CANCELLED
    assert "github_pat_…" in response.text
    assert leaks(reachable(provider, response, chunks)) == []


def test_an_interrupted_stream_masks_a_cut_off_token_in_its_partial_text(
        make_provider: Callable[..., Any], emulator: Emulator) -> None:
    provider = make_provider(token=TOKEN, max_retries=0)
    emulator.script(Reply.fault("drop_mid_stream", after=3, text=f"one {CUT} two three four"))
    chunks: list[str] = []
    with pytest.raises(E.StreamInterruptedError) as info:
        provider.send_message_streaming("go", chunks.append)
    assert "github_pat_…" in info.value.partial_text
    assert leaks("\n".join([*chunks, *describe(info.value), info.value.partial_text])) == []


# ---- encoded echoes ----------------------------------------------------------------------------


def base64_echoes() -> list[tuple[str, str]]:
    """The token base64-encoded (standard and urlsafe) at each of the 3 byte alignments."""
    out = []
    for lead in ("", "k", "ke"):  # text before the token shifts its alignment in the encoding
        plain = f"{lead}{TOKEN} and more".encode()
        out += [(f"b64-{len(lead)}", base64.b64encode(plain).decode()),
                (f"b64url-{len(lead)}", base64.urlsafe_b64encode(plain).decode())]
    return out


@STREAMING
@pytest.mark.parametrize(("name", "encoded"), base64_echoes(), ids=[n for n, _ in base64_echoes()])
def test_a_base64_echo_of_the_token_is_masked(make_provider: Callable[..., Any],
                                              emulator: Emulator, streaming: bool, name: str,
                                              encoded: str) -> None:
    provider = make_provider(token=TOKEN)
    emulator.script(Reply.text(f"here it is: {encoded} (base64)"))
    chunks: list[str] = []
    response = ask(provider, streaming, chunks)
    everything = reachable(provider, response, chunks)
    # no 16 characters in a row of the encoded token survive
    assert [encoded[i:i + 16] for i in range(len(encoded) - 15)
            if encoded[i:i + 16] in everything] == []
    assert "github_pat_…" in response.text


def percent_echoes() -> list[str]:
    raw = TOKEN.encode()
    return ["".join(f"%{b:02X}" for b in raw), "".join(f"%{b:02x}" for b in raw),
            "".join(ch if i % 3 else f"%{ord(ch):02X}" for i, ch in enumerate(TOKEN))]


@STREAMING
@pytest.mark.parametrize("encoded", percent_echoes(), ids=["upper", "lower", "mixed"])
def test_a_percent_encoded_echo_of_the_token_is_masked(make_provider: Callable[..., Any],
                                                       emulator: Emulator, streaming: bool,
                                                       encoded: str) -> None:
    provider = make_provider(token=TOKEN)
    emulator.script(Reply.text(f"open https://example.invalid/cb?t={encoded}&x=1"))
    chunks: list[str] = []
    response = ask(provider, streaming, chunks)
    everything = reachable(provider, response, chunks)
    assert leaks(urllib.parse.unquote(everything)) == []
    assert response.text == "open https://example.invalid/cb?t=github_pat_…&x=1"


# ---- however the stream is cut -------------------------------------------------------------------

ECHOES = [CUT, BODY[:14], *(encoded for _, encoded in base64_echoes()), *percent_echoes()]


@settings(max_examples=150, deadline=None)
@given(before=st.text(max_size=12), sep=st.sampled_from([" ", "\"", ":", ",", "\n"]),
       after=st.sampled_from(["", " ", "...", "\"", "!x"]),
       echo=st.sampled_from(ECHOES), cuts=st.lists(st.integers(0, 400), max_size=12))
def test_streamed_pieces_of_an_echo_are_masked_as_the_whole_text_is(
        before: str, sep: str, after: str, echo: str, cuts: list[int]) -> None:
    # an encoded blob starts after a character that is not base64 (where the masker counts
    # its 4-character groups from); the token itself may follow anything
    text = before + sep + echo + after
    out = io.StringIO()
    console = Console(out=out, err=io.StringIO(), environ={"NO_COLOR": ""})
    console.add_secret(TOKEN)
    points = sorted({c % (len(text) + 1) for c in cuts})
    for start, end in zip([0, *points], [*points, len(text)], strict=True):
        console.stream(text[start:end])
    console.end_stream()
    shown = out.getvalue()
    assert shown == SecretMasker([TOKEN]).scrub(text)  # the same as the whole text
    assert leaks(urllib.parse.unquote(shown)) == []
    assert [echo[i:i + 16] for i in range(len(echo) - 15) if echo[i:i + 16] in shown] == []


# ---- the CLI (same masker) ----------------------------------------------------------------------


def test_the_cli_masks_a_cut_off_and_an_encoded_token(emulator: Emulator) -> None:
    encoded = base64.b64encode(f"k{TOKEN}".encode()).decode()
    emulator.script(Reply.text(f"key {CUT}... b64 {encoded}", finish_reason="length"))
    run = run_cli(["chat", "--model", "openai/gpt-4o", "Say hello"], emulator)
    assert run.returncode == 0, run.stderr
    assert "github_pat_…" in run.stdout
    assert leaks(run.stdout + run.stderr) == []
    assert encoded[4:20] not in run.stdout


# ---- echoes in an error response ----------------------------------------------------------------


@pytest.mark.parametrize("echo", [
    BODY[:24],  # cut off, without the type prefix (no token shape: only the key can mask it)
    base64.b64encode(f"user:{TOKEN}".encode()).decode(),
    urllib.parse.quote(TOKEN, safe="").replace("_", "%5F"),
], ids=["cut-off", "base64", "percent"])
def test_an_error_response_masks_an_encoded_or_cut_off_echo(
        make_provider: Callable[..., Any], emulator: Emulator, echo: str) -> None:
    provider = make_provider(max_retries=0, token=TOKEN)
    emulator.script(Reply.error(400, {"error": {"code": "bad_request",
                                                "message": f"you sent {echo} as the key"}},
                                headers={"x-echo": echo}))
    with pytest.raises(E.GitHubModelsError) as info:
        provider.send_message("go")
    exc = info.value
    shown = "\n".join([*describe(exc), exc.body, repr(exc.headers)])
    middle = echo[len(echo) // 2 - 8:len(echo) // 2 + 8]  # made of the token's secret part
    assert middle not in shown and not leaks(shown), shown[:400]
