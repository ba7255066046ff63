"""Embeddings without I/O: the input checks, what is known of each embeddings model, how the
inputs are split into requests, and how an answer is read.

Limits (all checked before any request):

- **inputs per request**: 2048 (OpenAI's embeddings reference: "any array must be 2048
  dimensions or less"), 96 for Cohere Embed v3 (Cohere's ``texts`` limit);
- **tokens per request**: 300,000 summed over the inputs (OpenAI: "all embedding models enforce a
  maximum of 300,000 tokens summed across all inputs in a single request"); where the free tier's
  caps are enforced, the ``embeddings`` tier's 64,000 tokens per request (GitHub Docs' rate-limit
  table);
- **tokens per input**: the model's window (8191 for text-embedding-3-*, 512 for Cohere v3);
- **response size**: the transport reads at most ``MAX_BODY_BYTES`` (16 MiB) of a body, so a
  request asks for no more vectors than fit (float JSON ~24 bytes a number, base64 ~6).

Token counts are ``tokens.estimate_tokens`` estimates, which lean high: a batch is never fuller
than the service allows, at the cost of a few more requests than strictly needed.
"""

from __future__ import annotations

import base64
import math
import sys
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ContextLimitError, InvalidRequestError, ServiceUnavailableError

if TYPE_CHECKING:
    from ..errors import ErrorContext

__all__ = [
    "ENCODING_FORMATS",
    "MAX_INPUTS_PER_REQUEST",
    "MAX_TOKENS_PER_REQUEST",
    "EmbedSpec",
    "check_dimensions",
    "check_texts",
    "plan_batches",
    "read_batch",
    "spec_for",
]

MAX_INPUTS_PER_REQUEST = 2048
MAX_TOKENS_PER_REQUEST = 300_000
ENCODING_FORMATS = ("float", "base64")
_COHERE_MAX_INPUTS = 96
_BYTES_PER_NUMBER = {"float": 24, "base64": 6}  # response bytes per vector component, generous
_UNKNOWN_DIMENSIONS = 3072  # the largest common embedding, assumed for unknown models
_MAX_TEXT_CHARS = 1_000_000  # far past any window: refused before estimating its tokens

# bare model name -> (native dimensions, accepts ``dimensions``)
_MODELS: Mapping[str, tuple[int, bool]] = {
    "text-embedding-3-small": (1536, True),
    "text-embedding-3-large": (3072, True),
    "text-embedding-ada-002": (1536, False),
    "cohere-embed-v3-english": (1024, False),
    "cohere-embed-v3-multilingual": (1024, False),
}


@dataclass(frozen=True, slots=True)
class EmbedSpec:
    """What is known of an embeddings model: dimensions, per-request and per-input caps.

    ``native_dimensions`` is None for a model this package does not know (a deployment name on
    a gateway): then ``dimensions`` is passed through unchecked and the service decides.
    """

    model: str
    native_dimensions: int | None
    sets_dimensions: bool | None
    max_inputs: int
    max_request_tokens: int
    max_input_tokens: int | None


def spec_for(model_id: str, max_input_tokens: int | None, tier_cap: int | None) -> EmbedSpec:
    """The limits of ``model_id`` (a catalog id, a bare name or a deployment name).

    ``max_input_tokens`` is the catalog's window (None when unknown), ``tier_cap`` the free
    tier's tokens per request where enforced.
    """
    bare = model_id.rpartition("/")[2].lower()
    native, sets = _MODELS.get(bare, (None, None))
    max_inputs = _COHERE_MAX_INPUTS if bare.startswith("cohere-embed") else MAX_INPUTS_PER_REQUEST
    budget = MAX_TOKENS_PER_REQUEST if tier_cap is None else min(tier_cap, MAX_TOKENS_PER_REQUEST)
    return EmbedSpec(model_id, native, sets, max_inputs, budget, max_input_tokens)


def check_texts(texts: object) -> list[str]:
    """The inputs as a list of strings (one string is one input).

    Raises:
        InvalidRequestError: Not a string or a sequence of strings, empty, an empty or blank
            string, or a string that cannot be encoded (lone surrogates).
    """
    if isinstance(texts, str):
        items: list[object] = [texts]
    elif isinstance(texts, Sequence) and not isinstance(texts, bytes | bytearray):
        items = list(texts)
    else:
        raise _bad_input(f"texts is {type(texts).__name__}, not a string or a list of strings")
    if not items:
        raise _bad_input("the list of texts is empty")
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise _bad_input(f"texts[{i}] is {type(item).__name__}, not a string")
        if not item.strip():
            raise _bad_input(f"texts[{i}] is empty or only whitespace (the service refuses "
                             "an empty input)")
        if len(item) > _MAX_TEXT_CHARS:
            raise _bad_input(f"texts[{i}] has {len(item)} characters, more than any embeddings "
                             "model reads")
        try:
            item.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise _bad_input(f"texts[{i}] holds a character that cannot be sent "
                             f"(position {exc.start}: a lone surrogate)") from exc
    return [str(item) for item in items]


def _bad_input(why: str) -> InvalidRequestError:
    return InvalidRequestError(
        what="Checking the texts to embed", why=why,
        fix="pass one non-empty string or a list of non-empty strings", param="input")


def check_dimensions(dimensions: object, spec: EmbedSpec) -> int | None:
    """``dimensions`` checked against the model (None: the model's own length).

    Raises:
        InvalidRequestError: Not a positive integer, above the model's length, or given for a
            model that has a fixed length.
    """
    if dimensions is None:
        return None
    if isinstance(dimensions, bool) or not isinstance(dimensions, int) or dimensions < 1:
        raise InvalidRequestError(
            what="Checking dimensions", why=f"{dimensions!r} is not a positive integer",
            fix="pass an integer such as 256, or leave dimensions out for the model's own "
                "length", param="dimensions")
    if spec.sets_dimensions is False:
        raise InvalidRequestError(
            what="Checking dimensions",
            why=f"{spec.model} returns vectors of a fixed length ({spec.native_dimensions}); "
                "only text-embedding-3-small and text-embedding-3-large accept dimensions",
            fix="leave dimensions out, or use openai/text-embedding-3-small or -large",
            param="dimensions")
    if spec.native_dimensions is not None and dimensions > spec.native_dimensions:
        raise InvalidRequestError(
            what="Checking dimensions",
            why=f"{spec.model} returns at most {spec.native_dimensions} dimensions, not "
                f"{dimensions}",
            fix=f"pass a value from 1 to {spec.native_dimensions}", param="dimensions")
    return dimensions


def plan_batches(counts: Sequence[int], spec: EmbedSpec, dimensions: int | None,
                 encoding_format: str, context: ErrorContext) -> list[range]:
    """Split the inputs (their token estimates ``counts``) into requests, in order.

    Raises:
        ContextLimitError: One input is over the model's window or alone over the per-request
            token budget (nothing was sent).
    """
    for i, count in enumerate(counts):
        window = spec.max_input_tokens
        if window and count > window:
            raise _too_long(i, count, window, "model", spec, context)
        if count > spec.max_request_tokens:
            raise _too_long(i, count, spec.max_request_tokens, "tier", spec, context)
    length = dimensions or spec.native_dimensions or _UNKNOWN_DIMENSIONS
    from ..transport.body import MAX_BODY_BYTES

    fit = MAX_BODY_BYTES // (length * _BYTES_PER_NUMBER[encoding_format] + 64)
    per_request = max(1, min(spec.max_inputs, fit))
    batches: list[range] = []
    start, tokens = 0, 0
    for i, count in enumerate(counts):
        if i > start and (i - start >= per_request or tokens + count > spec.max_request_tokens):
            batches.append(range(start, i))
            start, tokens = i, 0
        tokens += count
    batches.append(range(start, len(counts)))
    return batches


def _too_long(index: int, count: int, limit: int, source: str, spec: EmbedSpec,
              context: ErrorContext) -> ContextLimitError:
    cap = "the model's input window" if source == "model" else "the per-request token budget"
    return ContextLimitError(
        what=f"Embedding texts[{index}] with {spec.model}",
        why=f"it is about {count} tokens (estimated), over {cap} of {limit} tokens",
        fix="split the text into smaller pieces (e.g. by paragraph) and embed those",
        limit=limit, requested=count, limit_source=source,
        model_window=spec.max_input_tokens, context=context)


@dataclass(frozen=True, slots=True)
class BatchAnswer:
    """One request's vectors (in input order), model and usage."""

    vectors: list[list[float]]
    model: str | None
    prompt_tokens: int
    total_tokens: int


def read_batch(data: Any, expected: int, context: ErrorContext) -> BatchAnswer:
    """Read an OpenAI-shaped embeddings answer (``data[i].embedding``/``index``, ``usage``).

    Raises:
        ServiceUnavailableError: The body is not such an answer (wrong count, missing or
            repeated indices, vectors of different lengths, not numbers).
    """
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list) or len(items) != expected:
        got = len(items) if isinstance(items, list) else "no"
        raise _bad_body(f"it holds {got} vectors for {expected} inputs", context)
    vectors: list[list[float] | None] = [None] * expected
    for item in items:
        index = item.get("index") if isinstance(item, dict) else None
        if (not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < expected
                or vectors[index] is not None):
            raise _bad_body(f"a vector has a missing, repeated or out-of-range index {index!r}",
                            context)
        vectors[index] = _vector(item.get("embedding"), context)
    lengths = {len(v) for v in vectors if v is not None}
    if len(lengths) != 1 or 0 in lengths:
        raise _bad_body(f"the vectors are empty or of different lengths ({sorted(lengths)})",
                        context)
    usage = data.get("usage")
    usage = usage if isinstance(usage, dict) else {}
    prompt = _count(usage.get("prompt_tokens"))
    total = _count(usage.get("total_tokens")) or prompt
    model = data.get("model")
    return BatchAnswer([v for v in vectors if v is not None],
                       model if isinstance(model, str) and model else None, prompt, total)


def _vector(raw: Any, context: ErrorContext) -> list[float]:
    if isinstance(raw, str):  # encoding_format=base64: little-endian float32
        try:
            packed = base64.b64decode(raw, validate=True)
        except ValueError as exc:
            raise _bad_body("a base64 vector does not decode", context) from exc
        if len(packed) % 4:
            raise _bad_body("a base64 vector is not a whole number of float32s", context)
        floats = array("f")
        floats.frombytes(packed)
        if sys.byteorder == "big":
            floats.byteswap()
        values = floats.tolist()
    elif isinstance(raw, list) and all(
            isinstance(x, int | float) and not isinstance(x, bool) for x in raw):
        values = [float(x) for x in raw]
    else:
        raise _bad_body("a vector is neither a list of numbers nor base64", context)
    if not all(math.isfinite(x) for x in values):
        raise _bad_body("a vector holds NaN or infinity", context)
    return values


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0


def _bad_body(why: str, context: ErrorContext) -> ServiceUnavailableError:
    return ServiceUnavailableError(
        what="Reading the embeddings response", why=f"the endpoint answered 200, but {why}",
        fix="check that the endpoint serves OpenAI-shaped POST /embeddings", status=200,
        context=context)
