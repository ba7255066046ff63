"""``embed`` / ``aembed``: text to vectors through the provider's client, pacing and retries.

The model is chosen as ``connect`` chooses one (``model_choice``: unknown ids refused on
GitHub-shaped endpoints, passed through elsewhere), then refused when the catalog knows it as a
chat model. The inputs are checked and split into requests (``embed_inputs``) before anything is
sent; each request goes through the runner's pacing slot (the model's tier, ``embeddings`` on
GitHub-shaped endpoints), the same error mapping and the same retry decisions as a chat
completion. The vectors come back in input order and the usage is summed over the requests.

Loaded at the first ``embed`` call (cold start).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import (
    ConfigurationError,
    GitHubModelsError,
    InvalidRequestError,
    ServiceUnavailableError,
    error_from_response,
)
from .embed_inputs import (
    ENCODING_FORMATS,
    BatchAnswer,
    check_dimensions,
    check_texts,
    plan_batches,
    read_batch,
    spec_for,
)

if TYPE_CHECKING:
    from ..config.settings import Settings
    from ..errors import ErrorContext
    from ..models.catalog import Catalog
    from ..transport.transport import HttpResult
    from .calls import CallRunner
    from .calls_async import AsyncCallRunner

__all__ = [
    "EMBEDDINGS_PATH",
    "EmbedPlan",
    "EmbeddingResult",
    "EmbeddingUsage",
    "plan_embed",
    "run_aembed",
    "run_embed",
]

EMBEDDINGS_PATH = "/embeddings"


@dataclass(frozen=True, slots=True)
class EmbeddingUsage:
    """Tokens the service counted, summed over the requests."""

    prompt_tokens: int = 0
    total_tokens: int = 0


@dataclass(frozen=True, slots=True)
class EmbeddingResult:
    """The vectors of one ``embed`` call.

    Attributes:
        vectors: One vector per input, in input order.
        model: The model as the service named it (else the id sent).
        usage: Tokens counted by the service, summed over ``requests``.
        requests: How many requests the inputs were split into.
    """

    vectors: list[list[float]] = field(repr=False)
    model: str
    usage: EmbeddingUsage
    requests: int = 1

    @property
    def dimensions(self) -> int:
        """The length of each vector."""
        return len(self.vectors[0]) if self.vectors else 0

    def __repr__(self) -> str:
        return (f"EmbeddingResult(model={self.model!r}, vectors={len(self.vectors)}x"
                f"{self.dimensions}, usage={self.usage!r}, requests={self.requests})")


@dataclass(frozen=True, slots=True)
class EmbedPlan:
    """Everything checked: the bodies to send, in order, and where their answers go."""

    bodies: list[dict[str, Any]]
    sizes: list[int]
    wire_id: str
    key: str
    tier: str | None
    context: ErrorContext


class EmbedSource(Protocol):
    """What planning an embeddings call reads of the provider (``GitHubModelsProvider`` is
    one; naming it here keeps ``calls`` below the provider in the import graph)."""

    live_catalog: Any

    @property
    def settings(self) -> Settings: ...

    @property
    def catalog(self) -> Catalog: ...

    @property
    def model_name(self) -> str | None: ...

    def error_context(self, model: str | None = None) -> ErrorContext: ...


def plan_embed(provider: EmbedSource, runner: CallRunner, texts: object,
               model: str | None, dimensions: object, encoding_format: object) -> EmbedPlan:
    """Check the call and build its requests; nothing is sent.

    Raises:
        ConfigurationError: No model given and none selected; a malformed model id.
        ModelNotFoundError: An id the catalog does not know, on a GitHub-shaped endpoint.
        InvalidRequestError: A chat model; bad texts, ``dimensions`` or ``encoding_format``.
        ContextLimitError: An input over the model's window or the per-request budget.
    """
    from ..common.limits import limits_key
    from ..config.model_choice import choose_model
    from ..wire.tokens import estimate_tokens

    settings = provider.settings
    chosen = model if model is not None else provider.model_name
    if chosen is None:
        raise ConfigurationError(
            what="Embedding texts", why="no model was given and none is selected",
            fix="pass model='openai/text-embedding-3-small' (or your embeddings deployment's "
                "name)", setting="model")
    info, requested, wire_id = choose_model(settings, lambda: provider.catalog,
                                            provider.live_catalog, chosen,
                                            provider.error_context)
    context = replace(provider.error_context(wire_id), operation="Embeddings request")
    if info is not None and not info.is_embedding:
        raise InvalidRequestError(
            what=f"Embedding texts with {info.id}",
            why="it is a chat model: it answers messages and does not return vectors",
            fix="choose an embeddings model such as openai/text-embedding-3-small; "
                "`jaato-github-models models` lists each model's output modalities",
            param="model", context=context)
    if encoding_format not in ENCODING_FORMATS:
        raise InvalidRequestError(
            what="Checking encoding_format", why=f"{encoding_format!r} is not one of "
            f"{', '.join(ENCODING_FORMATS)}",
            fix="pass 'float' (the default) or 'base64' (a smaller answer, same vectors)",
            param="encoding_format")
    inputs = check_texts(texts)
    tier = info.tier if info is not None else None
    key = limits_key(info.id if info is not None else requested, tier) or ""
    tier_cap = (runner.pacer.limits_for(key).max_input_tokens
                if info is not None and settings.enforce_tier_limits else None)
    spec = spec_for(info.id if info is not None else requested,
                    info.max_input_tokens if info is not None else None, tier_cap)
    size = check_dimensions(dimensions, spec)
    batches = plan_batches([estimate_tokens(t) for t in inputs], spec, size,
                           str(encoding_format), context)
    bodies = []
    for batch in batches:
        body: dict[str, Any] = {"model": wire_id, "input": inputs[batch.start:batch.stop],
                                "encoding_format": encoding_format}
        if size is not None:
            body["dimensions"] = size
        bodies.append(body)
    return EmbedPlan(bodies, [len(b) for b in batches], wire_id, key, tier or None, context)


def _answer(result: HttpResult, expected: int, context: ErrorContext
            ) -> BatchAnswer | GitHubModelsError:
    if result.status != 200:
        return error_from_response(result.status, result.headers, result.body, context)
    try:
        data = result.json()
    except (ValueError, RecursionError) as exc:
        error = ServiceUnavailableError(
            what="Reading the embeddings response",
            why=f"the endpoint answered 200 with a body that is not JSON ({result.body[:80]!r})",
            fix="check that the endpoint serves OpenAI-shaped POST /embeddings", status=200,
            context=context)
        error.__cause__ = exc
        return error
    return read_batch(data, expected, context)


def _result(plan: EmbedPlan, answers: list[BatchAnswer]) -> EmbeddingResult:
    """The answers as one result.

    Raises:
        ServiceUnavailableError: The requests' vectors are of different lengths (each answer
            was checked on its own; one call's vectors must agree too).
    """
    lengths = sorted({len(a.vectors[0]) for a in answers if a.vectors})
    if len(lengths) > 1:
        raise ServiceUnavailableError(
            what="Reading the embeddings responses",
            why=f"the endpoint answered the call's {len(answers)} requests with vectors of "
                f"different lengths ({', '.join(map(str, lengths))} floats)",
            fix="check that every request reaches the same embeddings deployment (a gateway "
                "or load balancer may mix models), or embed fewer texts per call",
            status=200, context=plan.context)
    vectors = [v for a in answers for v in a.vectors]
    usage = EmbeddingUsage(sum(a.prompt_tokens for a in answers),
                           sum(a.total_tokens for a in answers))
    model = answers[0].model or plan.wire_id
    if plan.context.secrets:  # the service's own text: an echo of the key must not come out
        from ..common.masking import SecretMasker

        model = SecretMasker(s for s in plan.context.secrets if s).scrub(model)
    return EmbeddingResult(vectors, model, usage, len(answers))


def _reader(plan: EmbedPlan, size: int) -> Callable[[HttpResult], BatchAnswer | GitHubModelsError]:
    """How one request's response is read (the runner's ``post`` maps and retries)."""
    return lambda result: _answer(result, size, plan.context)


def run_embed(runner: CallRunner, plan: EmbedPlan) -> EmbeddingResult:
    """Send the plan's requests one after another and assemble the result.

    Raises:
        GitHubModelsError: (a subclass) a request failed after the runner's retries.
    """
    answers = [runner.post(EMBEDDINGS_PATH, body, _reader(plan, size), key=plan.key,
                           tier=plan.tier, context=plan.context)
               for body, size in zip(plan.bodies, plan.sizes, strict=True)]
    return _result(plan, answers)


async def run_aembed(runner: AsyncCallRunner, plan: EmbedPlan) -> EmbeddingResult:
    """Async :func:`run_embed` (requests in order, on the running loop's client).

    Raises:
        GitHubModelsError: (a subclass) a request failed after the runner's retries.
    """
    answers = [await runner.apost(EMBEDDINGS_PATH, body, _reader(plan, size), key=plan.key,
                                  tier=plan.tier, context=plan.context)
               for body, size in zip(plan.bodies, plan.sizes, strict=True)]
    return _result(plan, answers)
