"""``embed`` / ``aembed`` over real HTTP against the emulator's embeddings routes.

Every endpoint kind that serves embeddings is in ``ENDPOINTS``: the Foundry v1 kind (a URL whose
path ends in ``/openai/v1``) is added there as one more row once that kind exists.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import Any

import pytest

from shared.plugins.model_provider.github_models.emulator import Reply
from shared.plugins.model_provider.github_models.emulator.embeddings import count_tokens, vector
from shared.plugins.model_provider.github_models.errors import (
    ConfigurationError,
    ContextLimitError,
    InvalidRequestError,
    ModelNotFoundError,
    RateLimitError,
    ServiceUnavailableError,
    TokenInvalidError,
)

from .conftest import TEST_TOKEN

SMALL = "openai/text-embedding-3-small"
COHERE = "cohere/Cohere-embed-v3-english"

# (name, URL under the emulator's root, extra settings, the model as the user names it,
#  the path the request must arrive on)
ENDPOINTS: list[tuple[str, str, dict[str, Any], str, str]] = [
    ("github", "/inference", {}, SMALL, "/inference/embeddings"),
    ("github-org", "/orgs/acme/inference", {}, SMALL, "/orgs/acme/inference/embeddings"),
    ("foundry-models", "/models", {}, SMALL, "/models/embeddings"),
    ("gateway", "/openai/v1", {"endpoint_kind": "gateway"}, "text-embedding-3-small",
     "/openai/v1/embeddings"),
    ("foundry-v1", "/openai/v1", {}, "text-embedding-3-small", "/openai/v1/embeddings"),
]
IDS = [e[0] for e in ENDPOINTS]


def embedding_requests(emulator: Any) -> list[Any]:
    return [r for r in emulator.requests if r.path.endswith("/embeddings")]


def expected(text: str, length: int, model: str = SMALL) -> list[float]:
    return vector(model.lower(), text, length)


def close(a: list[float], b: list[float]) -> bool:
    return len(a) == len(b) and all(abs(x - y) < 1e-6 for x, y in zip(a, b, strict=True))


@pytest.fixture
def on_endpoint(emulator: Any, make_provider: Callable[..., Any]
                ) -> Callable[[tuple[str, str, dict[str, Any], str, str]], Any]:
    def make(row: tuple[str, str, dict[str, Any], str, str]) -> Any:
        _, path, extra, _, _ = row
        return make_provider(None, endpoint=emulator.url + path, **extra)
    return make


# ---------------------------------------------------------------- the happy path, every kind


@pytest.mark.parametrize("row", ENDPOINTS, ids=IDS)
def test_embed_returns_vectors_in_order_with_usage(row: Any, emulator: Any,
                                                   on_endpoint: Any) -> None:
    provider = on_endpoint(row)
    texts = ["The quick brown fox.", "jumps over", "the lazy dog!"]
    result = provider.embed(texts, model=row[3])
    assert [close(v, expected(t, 1536)) for v, t in zip(result.vectors, texts, strict=True)] \
        == [True, True, True]
    assert result.dimensions == 1536
    assert all(abs(math.fsum(x * x for x in v) - 1) < 1e-5 for v in result.vectors)
    assert result.model == "text-embedding-3-small"
    total = sum(count_tokens(t) for t in texts)
    assert (result.usage.prompt_tokens, result.usage.total_tokens) == (total, total)
    assert result.requests == 1
    sent = embedding_requests(emulator)
    assert [r.path for r in sent] == [row[4]]
    assert sent[0].body["input"] == texts
    assert "dimensions" not in sent[0].body
    assert sent[0].body["encoding_format"] == "float"


@pytest.mark.parametrize("row", ENDPOINTS, ids=IDS)
def test_aembed_with_dimensions_and_base64(row: Any, emulator: Any, on_endpoint: Any) -> None:
    provider = on_endpoint(row)

    async def run() -> Any:
        try:
            return await provider.aembed("one text", model=row[3], dimensions=64,
                                         encoding_format="base64")
        finally:
            await provider.ashutdown()

    result = asyncio.run(run())
    assert result.dimensions == 64
    assert close(result.vectors[0], expected("one text", 64))  # float32: 1e-6 holds
    body = embedding_requests(emulator)[0].body
    assert (body["dimensions"], body["encoding_format"], body["input"]) == (
        64, "base64", ["one text"])


def test_shortened_vectors_are_the_full_vectors_first_components(make_provider: Any) -> None:
    provider = make_provider(SMALL)  # the selected model is the default
    full = provider.embed("same text").vectors[0]
    short = provider.embed("same text", dimensions=256).vectors[0]
    scale = math.sqrt(math.fsum(x * x for x in full[:256]))
    assert close(short, [x / scale for x in full[:256]])


# ---------------------------------------------------------------- batching


def test_more_than_2048_inputs_are_split_and_reassembled_in_order(
        emulator: Any, make_provider: Any) -> None:
    provider = make_provider(None)
    texts = [f"item {i}" for i in range(2100)]
    result = provider.embed(texts, model=SMALL, dimensions=4)
    sizes = [len(r.body["input"]) for r in embedding_requests(emulator)]
    assert sizes == [2048, 52]
    assert result.requests == 2
    assert all(close(result.vectors[i], expected(texts[i], 4)) for i in (0, 2047, 2048, 2099))
    assert result.usage.total_tokens == sum(count_tokens(t) for t in texts)


def test_cohere_takes_96_inputs_a_request(emulator: Any, make_provider: Any) -> None:
    provider = make_provider(None)
    texts = [f"text number {i}" for i in range(200)]
    result = provider.embed(texts, model=COHERE)
    assert [len(r.body["input"]) for r in embedding_requests(emulator)] == [96, 96, 8]
    assert result.dimensions == 1024
    assert close(result.vectors[150], expected(texts[150], 1024, COHERE))


def test_free_tier_token_cap_splits_requests(emulator: Any, make_provider: Any) -> None:
    emulator.set_token_limits(True)  # the emulator answers 413 above 64000 tokens a request
    texts = [f"{i} " + "word " * 5000 for i in range(20)]  # ~5000 tokens each
    provider = make_provider(None, enforce_tier_limits=True)
    result = provider.embed(texts, model=SMALL, dimensions=2)
    sizes = [len(r.body["input"]) for r in embedding_requests(emulator)]
    assert sum(sizes) == 20 and len(sizes) == 2
    assert all(sum(count_tokens(t) for t in r.body["input"]) <= 64000
               for r in embedding_requests(emulator))
    assert result.requests == 2 and len(result.vectors) == 20


def test_without_the_cap_one_request_gets_the_services_413(emulator: Any,
                                                           make_provider: Any) -> None:
    emulator.set_token_limits(True)
    texts = [f"{i} " + "word " * 5000 for i in range(20)]
    provider = make_provider(None, enforce_tier_limits=False)
    with pytest.raises(ContextLimitError) as info:
        provider.embed(texts, model=SMALL, dimensions=2)
    assert info.value.status == 413
    assert len(embedding_requests(emulator)) == 1


def test_large_vectors_are_split_to_fit_the_response_cap(emulator: Any,
                                                         make_provider: Any) -> None:
    provider = make_provider(None)
    texts = [f"t{i}" for i in range(240)]  # 240 x 3072 floats as JSON: over 16 MiB
    result = provider.embed(texts, model="openai/text-embedding-3-large")
    sizes = [len(r.body["input"]) for r in embedding_requests(emulator)]
    assert len(sizes) == 2 and sum(sizes) == 240
    assert result.dimensions == 3072 and len(result.vectors) == 240


# ---------------------------------------------------------------- bad input: nothing sent


@pytest.mark.parametrize(("texts", "kwargs", "error", "param"), [
    ([], {}, InvalidRequestError, "input"),
    ("", {}, InvalidRequestError, "input"),
    (["ok", "  "], {}, InvalidRequestError, "input"),
    (["ok", 3], {}, InvalidRequestError, "input"),
    (None, {}, InvalidRequestError, "input"),
    (b"bytes", {}, InvalidRequestError, "input"),
    (["bad \ud800"], {}, InvalidRequestError, "input"),
    ("x", {"dimensions": 0}, InvalidRequestError, "dimensions"),
    ("x", {"dimensions": True}, InvalidRequestError, "dimensions"),
    ("x", {"dimensions": "8"}, InvalidRequestError, "dimensions"),
    ("x", {"dimensions": 1537}, InvalidRequestError, "dimensions"),
    ("x", {"dimensions": 8, "model": COHERE}, InvalidRequestError, "dimensions"),
    ("x", {"encoding_format": "hex"}, InvalidRequestError, "encoding_format"),
    ("x", {"model": "openai/gpt-4o"}, InvalidRequestError, "model"),
])
def test_bad_input_is_refused_before_any_request(texts: Any, kwargs: dict[str, Any],
                                                 error: type[Exception], param: str,
                                                 emulator: Any, make_provider: Any) -> None:
    provider = make_provider(None)
    kwargs.setdefault("model", SMALL)
    with pytest.raises(error) as info:
        provider.embed(texts, **kwargs)
    assert getattr(info.value, "param", None) == param
    assert info.value.status is None
    assert "Fix:" in str(info.value)
    assert embedding_requests(emulator) == []


def test_model_errors_before_any_request(emulator: Any, make_provider: Any) -> None:
    provider = make_provider(None)
    with pytest.raises(ConfigurationError, match="no model was given"):
        provider.embed("x")
    with pytest.raises(ModelNotFoundError):
        provider.embed("x", model="openai/text-embedding-4-tiny")
    with pytest.raises(ContextLimitError) as info:
        provider.embed(["short", "word " * 600], model=COHERE)  # Cohere v3 reads 512 tokens
    assert (info.value.limit, info.value.limit_source) == (512, "model")
    assert "texts[1]" in str(info.value)
    assert embedding_requests(emulator) == []


def test_chat_provider_connected_to_a_chat_model_names_the_fix(make_provider: Any) -> None:
    provider = make_provider("openai/gpt-4o")
    with pytest.raises(InvalidRequestError, match="text-embedding-3-small"):
        provider.embed("x")


# ---------------------------------------------------------------- what the service answers


def test_bad_key_is_a_typed_error_without_the_key(emulator: Any, make_provider: Any) -> None:
    emulator.add_token("github_pat_someone_else")  # strict from now on: ours is unknown
    provider = make_provider(None)
    with pytest.raises(TokenInvalidError) as info:
        provider.embed("x", model=SMALL)
    assert info.value.status == 401
    assert TEST_TOKEN not in str(info.value) and TEST_TOKEN not in repr(info.value.__cause__)


def test_unknown_deployment_on_a_gateway_is_model_not_found(emulator: Any,
                                                            make_provider: Any) -> None:
    provider = make_provider(None, endpoint=emulator.url + "/openai/v1", endpoint_kind="gateway")
    with pytest.raises(ModelNotFoundError) as info:
        provider.embed("x", model="my-embedder")
    assert info.value.status == 404
    assert "my-embedder" in str(info.value)


def test_chat_deployment_unknown_to_the_catalog_is_refused_by_the_service(
        make_provider: Any) -> None:
    from shared.plugins.model_provider.github_models.emulator import Emulator
    from shared.plugins.model_provider.github_models.emulator.models import load_catalog

    chat = {"id": "acme/our-chat-deployment", "name": "ours", "rate_limit_tier": "low",
            "supported_output_modalities": ["text"]}
    with Emulator(catalog=[*load_catalog(), chat]) as emu:
        provider = make_provider(None, endpoint=emu.url + "/openai/v1", endpoint_kind="gateway")
        with pytest.raises(InvalidRequestError, match="embeddings operation does not work") as info:
            provider.embed("x", model="our-chat-deployment")
        assert info.value.status == 400


def test_429_is_retried_then_succeeds(emulator: Any, make_provider: Any) -> None:
    emulator.script(Reply.error(429, {"error": {"code": "RateLimitReached", "message":
                                                "Rate limit of 15 per 60s exceeded for "
                                                "UserByModelByMinute. Please wait 0 seconds "
                                                "before retrying."}},
                                headers={"retry-after": "0"}))
    provider = make_provider(None)
    result = provider.embed(["a", "b"], model=SMALL, dimensions=3)
    assert len(embedding_requests(emulator)) == 2
    assert len(result.vectors) == 2


def test_per_day_429_fails_fast_as_a_rate_limit(emulator: Any, make_provider: Any) -> None:
    emulator.script(Reply.error(429, {"error": {"code": "RateLimitReached", "message":
                                                "Rate limit of 150 per 86400s exceeded for "
                                                "UserByModelByDay. Please wait 40000 seconds "
                                                "before retrying."}},
                                headers={"retry-after": "40000",
                                         "x-ratelimit-type": "UserByModelByDay"}))
    provider = make_provider(None)
    with pytest.raises(RateLimitError) as info:
        provider.embed("a", model=SMALL)
    assert info.value.status == 429
    assert len(embedding_requests(emulator)) == 1


def test_a_reset_connection_is_retried(emulator: Any, make_provider: Any) -> None:
    emulator.script(Reply.fault("reset"))
    provider = make_provider(None)
    assert provider.embed("a", model=SMALL, dimensions=2).dimensions == 2
    assert len(embedding_requests(emulator)) == 2


def test_a_failed_batch_fails_the_call(emulator: Any, make_provider: Any) -> None:
    provider = make_provider(None, max_retries=0)
    emulator.script(Reply.error(500, "boom"), Reply.error(500, "boom"), Reply.error(500, "boom"),
                    Reply.error(500, "boom"))
    with pytest.raises(ServiceUnavailableError):
        provider.embed([f"x{i}" for i in range(100)], model=COHERE)


def test_emulator_refuses_what_the_client_would(emulator: Any, make_provider: Any) -> None:
    """The emulator's own checks (the referee), reached by a raw POST through the client."""
    provider = make_provider(None)
    transport = provider._require_runner().transport
    cases = [
        ({"model": SMALL, "input": [f"{i}" for i in range(2049)]}, "max number of inputs is 2048"),
        ({"model": COHERE, "input": "x", "dimensions": 8}, "does not support specifying"),
        ({"model": SMALL, "input": "x", "dimensions": 4000}, "from 1 to 1536"),
        ({"model": SMALL, "input": []}, "'$.input' is invalid"),
        ({"model": "openai/gpt-4o", "input": "x"}, "does not work with the specified model"),
    ]
    for body, message in cases:
        result = transport.post("/embeddings", body)
        assert result.status == 400, body
        assert message in result.body.decode()


def test_embeddings_are_paced_on_the_embeddings_tier(emulator: Any, make_provider: Any) -> None:
    from shared.plugins.model_provider.github_models.common.clock import ManualClock

    provider = make_provider(None, clock=ManualClock(), pacing=True, max_retry_wait=1)
    for i in range(15):  # the embeddings tier: 15 requests a minute
        provider.embed(f"text {i}", model=SMALL, dimensions=2)
    with pytest.raises(RateLimitError) as info:
        provider.embed("one too many", model=SMALL, dimensions=2)
    assert info.value.client_side and info.value.status is None
    assert len(embedding_requests(emulator)) == 15
    assert provider.get_rate_limit_status()["pacer"]["granted"] == 15


def test_an_embeddings_model_is_refused_for_chat_before_any_request(
        emulator: Any, make_provider: Any) -> None:
    provider = make_provider(SMALL)  # connect works: embed() then needs no model argument
    with pytest.raises(InvalidRequestError, match="embeddings model") as info:
        provider.send_message("hi")
    assert info.value.param == "model" and info.value.status is None
    assert provider.get_history() == []
    assert emulator.requests == []
    # the emulator refuses it too, as the service did
    result = provider._require_runner().transport.post(
        "/chat/completions", {"model": SMALL, "messages": [{"role": "user", "content": "hi"}]})
    assert result.status == 400 and b"chatCompletion operation does not work" in result.body


def test_a_retired_endpoint_is_a_retirement_error(emulator: Any, make_provider: Any) -> None:
    from shared.plugins.model_provider.github_models.errors import ServiceRetiredError

    provider = make_provider(None)
    emulator.set_mode("retired")
    with pytest.raises(ServiceRetiredError) as info:
        provider.embed("x", model=SMALL)
    assert info.value.status == 410
    assert len(embedding_requests(emulator)) == 1  # a retirement is not retried
