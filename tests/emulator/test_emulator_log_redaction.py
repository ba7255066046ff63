"""The request log masks credentials wherever they appear, not only in credential headers."""

from __future__ import annotations

from emulator_http import TOKEN, Http, chat_body

from shared.plugins.model_provider.github_models.emulator import Emulator

OTHER = "ghp_Zq7wXk2mPv9LrT4sNb6YcH8dJf3GuA5eQo1i"  # token-shaped, never presented
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2lnbmF0dXJlX2J5dGVz"
FOUNDRY_KEY = "8f3a9c27d41b4e6f9a0c5d2e7b18f4a3"  # no prefix, no shape: known as presented


def pieces(secret: str) -> list[str]:
    body = secret.split("_", 1)[-1] if secret.startswith(("ghp_", "github_pat_")) else secret
    return [body[i:i + 12] for i in range(len(body) - 11)]


def test_the_request_log_masks_tokens_in_other_headers_the_query_and_the_body(
        emu: Emulator, http_: Http) -> None:
    http_.chat(
        chat_body(f"my key is {TOKEN}, also {OTHER} and {FOUNDRY_KEY}",
                  metadata={"note": f"jwt {JWT}", TOKEN: "as a key"}),
        path=f"/inference/chat/completions?api-version=2024-05-01-preview&state={TOKEN}"
             f"&next=https://x.invalid/?t={OTHER}",
        headers={"X-Debug": f"echo {TOKEN}", "Referer": f"https://x.invalid/?t={OTHER}",
                 "api-key": FOUNDRY_KEY},
    )
    (req,) = emu.requests
    logged = repr(emu.requests)
    assert [p for s in (TOKEN, OTHER, JWT, FOUNDRY_KEY) for p in pieces(s) if p in logged] == []
    assert req.query["api-version"] == "2024-05-01-preview"
    assert req.query["state"] == "github_pat_…"
    assert req.headers["x-debug"] == "echo github_pat_…"
    assert req.headers["x-github-api-version"] == "2022-11-28"
    assert req.body["model"] == "openai/gpt-4o"
    assert req.body["messages"][0]["content"] == "my key is github_pat_…, also ghp_… and …"
    assert req.body["metadata"] == {"note": "jwt eyJ…", "github_pat_…": "as a key"}


def test_a_body_without_credentials_is_logged_as_it_came(emu: Emulator, http_: Http) -> None:
    body = chat_body("the token provided is invalid; password: [redacted]", temperature=0.5)
    http_.chat(body)
    assert emu.requests[-1].body == body


def test_a_token_after_a_line_break_in_the_body_is_masked(emu: Emulator, http_: Http) -> None:
    # JSON writes the line break as "\n": the token then follows a letter in the encoded body,
    # and a check over the encoded text alone finds no token-shaped word there
    http_.chat(chat_body(f"first line\n{OTHER}\tand\t{JWT}"))
    logged = repr(emu.requests)
    assert [p for s in (OTHER, JWT) for p in pieces(s) if p in logged] == []
    assert emu.requests[-1].body["messages"][0]["content"] == "first line\nghp_…\tand\teyJ…"


def test_a_credential_named_by_its_body_key_is_masked(emu: Emulator, http_: Http) -> None:
    http_.chat(chat_body("hi", metadata={"api_key": "s3cr3tV4lue-0123456789"}))
    assert "s3cr3tV4lue" not in repr(emu.requests)
