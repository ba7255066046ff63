"""The emulator's ``POST .../embeddings``: checks, deterministic vectors, usage.

Served on ``/inference/embeddings``, ``/orgs/{org}/inference/embeddings`` (GitHub-shaped),
``/models/embeddings`` (Azure AI model inference) and ``/openai/v1/embeddings`` (Foundry's v1
route, where ``model`` is a deployment name and errors are OpenAI-shaped). Its facts are its own
copy (not the provider's ``embed_inputs``), so a wrong client table shows up as a failing test.

- A vector is seeded from a hash of the model and the text, Gaussian, unit-normalised; its
  length is the model's (1536, 3072, 1024) or ``dimensions``. A shortened vector is the full
  vector's first components, renormalised, as text-embedding-3's are.
- Usage counts word and punctuation pieces (``\\w+`` and ``[^\\w\\s]+`` runs): deterministic, and
  never above the provider's estimate, so a batch the provider sized to a cap fits it here too.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import random
import re
import sys
from array import array
from typing import Any

from .models import ModelEntry, ModelIndex
from .policy import Denial

__all__ = ["EMBEDDINGS_TAIL", "count_tokens", "embeddings_body", "request_tokens",
           "resolve_deployment", "validate_embeddings", "vector"]

EMBEDDINGS_TAIL = "/embeddings"
_PIECES = re.compile(r"\w+|[^\w\s]+")
_MAX_INPUTS = 2048
_COHERE_MAX_INPUTS = 96
# bare name -> (length, accepts dimensions, input window in tokens)
_MODELS: dict[str, tuple[int, bool, int]] = {
    "text-embedding-3-small": (1536, True, 8191),
    "text-embedding-3-large": (3072, True, 8191),
    "text-embedding-ada-002": (1536, False, 8191),
    "cohere-embed-v3-english": (1024, False, 512),
    "cohere-embed-v3-multilingual": (1024, False, 512),
}
_DEFAULT = (1024, False, 8191)  # an embeddings model of a custom catalog
_COMPACT = (",", ":")
_DEPLOYMENT_NOT_FOUND = (
    "The API deployment for this resource does not exist. If you created the deployment within "
    "the last 5 minutes, please wait a moment and try again."
)

Problem = tuple[str | None, str, str]  # (param, code, message)


def count_tokens(text: str) -> int:
    """The usage the emulator reports for one input (at least 1)."""
    return max(1, len(_PIECES.findall(text)))


def request_tokens(body: dict[str, Any]) -> int:
    """The usage of a (valid) request: every input counted."""
    inputs = body.get("input")
    items = [inputs] if isinstance(inputs, str) else inputs if isinstance(inputs, list) else []
    return sum(count_tokens(t) for t in items if isinstance(t, str))


def resolve_deployment(index: ModelIndex, model: str) -> tuple[ModelEntry | None, Denial | None]:
    """The v1 route: ``model`` names a deployment (the catalog id or its bare name)."""
    entry = index.by_id(model) or index.by_bare(model)
    if entry is None:
        body = json.dumps({"error": {"code": "DeploymentNotFound", "message":
                                     _DEPLOYMENT_NOT_FOUND}}, separators=_COMPACT)
        return None, Denial(404, body)
    return entry, None


def _facts(entry: ModelEntry) -> tuple[int, bool, int]:
    return _MODELS.get(entry.bare, _DEFAULT)


def validate_embeddings(body: dict[str, Any], entry: ModelEntry) -> Problem | None:
    """None for a valid embeddings body, else ``(param, code, message)`` (a 400)."""
    if entry.tier != "embeddings":
        return "model", "OperationNotSupported", (
            f"The embeddings operation does not work with the specified model, {entry.bare}. "
            "Please choose different model and try again.")
    inputs = body.get("input")
    items = [inputs] if isinstance(inputs, str) else inputs
    if not isinstance(items, list) or not items or not all(
            isinstance(t, str) and t for t in items):
        return "input", "invalid_request_error", (
            "'$.input' is invalid: expected a non-empty string or a non-empty array of "
            "non-empty strings.")
    cap = _COHERE_MAX_INPUTS if entry.bare.startswith("cohere-embed") else _MAX_INPUTS
    if len(items) > cap:
        return "input", "invalid_request_error", (
            f"Too many inputs. The max number of inputs is {cap}. Please split the request.")
    length, sets_dimensions, window = _facts(entry)
    for text in items:
        tokens = count_tokens(text)
        if tokens > window:
            return "input", "context_length_exceeded", (
                f"This model's maximum context length is {window} tokens, however you "
                f"requested {tokens} tokens. Please reduce your prompt.")
    fmt = body.get("encoding_format", "float")
    if fmt not in ("float", "base64"):
        return "encoding_format", "invalid_value", (
            f"Invalid value for 'encoding_format': {fmt!r}. Supported values are: 'float' "
            "and 'base64'.")
    dimensions = body.get("dimensions")
    if dimensions is None:
        return None
    if not sets_dimensions:
        return "dimensions", "invalid_request_error", (
            "This model does not support specifying dimensions.")
    if isinstance(dimensions, bool) or not isinstance(dimensions, int) or not (
            1 <= dimensions <= length):
        return "dimensions", "invalid_value", (
            f"Invalid value for 'dimensions': expected an integer from 1 to {length}, but got "
            f"{dimensions!r}.")
    return None


def vector(model: str, text: str, length: int) -> list[float]:
    """The deterministic unit vector of ``text`` (its first ``length`` components)."""
    seed = int.from_bytes(hashlib.sha256(f"{model}\0{text}".encode()).digest()[:8], "big")
    rng = random.Random(seed)
    values = [rng.gauss(0.0, 1.0) for _ in range(length)]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [v / norm for v in values]


def embeddings_body(body: dict[str, Any], entry: ModelEntry) -> bytes:
    """The 200 answer to a valid embeddings request."""
    inputs = body["input"]
    items: list[str] = [inputs] if isinstance(inputs, str) else inputs
    length = body.get("dimensions") or _facts(entry)[0]
    b64 = body.get("encoding_format") == "base64"
    data = []
    for i, text in enumerate(items):
        values = vector(entry.id.lower(), text, length)
        if b64:
            packed = array("f", values)
            if sys.byteorder == "big":
                packed.byteswap()
            embedding: Any = base64.b64encode(packed.tobytes()).decode()
        else:
            embedding = [round(v, 8) for v in values]
        data.append({"object": "embedding", "index": i, "embedding": embedding})
    tokens = sum(count_tokens(t) for t in items)
    answer = {"object": "list", "data": data, "model": entry.bare,
              "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}
    return json.dumps(answer, separators=_COMPACT).encode()
