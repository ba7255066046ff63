"""How each model wants to be called, when its catalog entry does not say.

The service never said how a model wants to be called (``max_tokens`` or
``max_completion_tokens``, temperature, system messages, JSON schema, streaming, tools). Our static
catalog (``data/catalog.json``, built by ``tools/gen_catalog.py``) carries those facts under
private ``x_`` keys; when an entry lacks them (a live catalog), ``traits_for`` infers them from the
model id with ``TRAIT_RULES``, one table of id patterns, and ``default_limits`` gives the token
limits an early-format entry lacks. No I/O, no work at import time beyond compiling the table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

__all__ = [
    "DEFAULT_MAX_INPUT_TOKENS",
    "DEFAULT_MAX_OUTPUT_TOKENS",
    "MAX_COMPLETION_TOKENS",
    "MAX_TOKENS",
    "STREAMING",
    "TOOL_CALLING",
    "TRAIT_RULES",
    "Traits",
    "bare_name",
    "default_limits",
    "traits_for",
]

MAX_TOKENS = "max_tokens"
MAX_COMPLETION_TOKENS = "max_completion_tokens"
# A limit no source gives is unknown: 0 (jaato's budget check then does not guess either).
DEFAULT_MAX_INPUT_TOKENS = 0
DEFAULT_MAX_OUTPUT_TOKENS = 0
_EMBEDDING_MAX_INPUT_TOKENS = 512

STREAMING = "streaming"
TOOL_CALLING = "tool-calling"


@dataclass(frozen=True, slots=True)
class Traits:
    """How a model wants to be called; the defaults fit a plain chat model."""

    reasoning: bool = False
    token_param: str = MAX_TOKENS
    temperature: bool = True
    system: bool = True
    structured: bool = False
    streaming: bool = True
    tools: bool = False
    effort: bool = False  # takes reasoning_effort (low/medium/high)


# OpenAI's reasoning API, every one of its models: max_completion_tokens, no temperature
_REASONING_API = Traits(reasoning=True, token_param=MAX_COMPLETION_TOKENS, temperature=False)
# ... and the current ones add json_schema, tools and reasoning_effort (OpenAI's reasoning guide:
# o1, o3-mini, o3, o4-mini and the gpt-5 family; not o1-mini / o1-preview).
_OPENAI_REASONING = replace(_REASONING_API, structured=True, tools=True, effort=True)
_EMBEDDING = Traits(streaming=False)

# Patterns match the whole lower-cased bare name (after "publisher/"); the first match wins.
# Sources: the service docs (reasoning models want max_completion_tokens, some reject
# temperature/system); gh-models notes (o1-mini / o1-preview: no streaming, no tools, no system
# message); tool support as the Azure model gallery published it (llm-github-models
# tools/models.fragment.md); json_schema for the OpenAI models that document structured outputs.
TRAIT_RULES: tuple[tuple[re.Pattern[str], Traits], ...] = tuple(
    (re.compile(pattern), traits)
    for pattern, traits in (
        (r"o1-(mini|preview)", replace(_REASONING_API, system=False, streaming=False)),
        (r"o[134](-mini)?(-\d{4}-\d\d-\d\d)?", _OPENAI_REASONING),
        # gpt-5-chat is the non-reasoning chat model of the family: temperature works.
        (r"gpt-5-chat.*", Traits(token_param=MAX_COMPLETION_TOKENS, structured=True, tools=True)),
        (r"gpt-5(-mini|-nano)?(-\d{4}-\d\d-\d\d)?", _OPENAI_REASONING),
        (
            r"gpt-4o(-mini)?(-.*)?|gpt-4\.1(-mini|-nano)?(-.*)?",
            Traits(structured=True, tools=True),
        ),
        # R1 family: reasoning in <think> content; the gallery lists no tool calling.
        (r"(deepseek-r1|mai-ds-r1)(-.*)?", Traits(reasoning=True)),
        (r"phi-4(-mini)?-reasoning", Traits(reasoning=True)),
        (r"grok-3-mini", Traits(reasoning=True, tools=True)),
        (r"grok-3", Traits(tools=True)),
        (r"codestral-.*|ministral-.*|mistral-.*|cohere-command-.*", Traits(tools=True)),
        (r".*embed.*", _EMBEDDING),
    )
)
_DEFAULT_TRAITS = Traits()

_CONTEXT_HINT = re.compile(r"(?<![\w.])\(?(\d{1,4})k\)?(?![\w])", re.IGNORECASE)



def bare_name(model_id: str) -> str:
    """The id without its publisher (``openai/gpt-4o`` -> ``gpt-4o``)."""
    return model_id.rsplit("/", 1)[-1]


def traits_for(model_id: str, embedding: bool) -> Traits:
    """The traits of ``model_id`` (the first ``TRAIT_RULES`` pattern matching its bare name)."""
    if embedding:
        return _EMBEDDING
    bare = bare_name(model_id).casefold()
    for pattern, traits in TRAIT_RULES:
        if pattern.fullmatch(bare):
            return traits
    return _DEFAULT_TRAITS


def default_limits(model_id: str, name: str, embedding: bool) -> tuple[int, int]:
    """``(max input, max output)`` tokens for an entry without ``limits``: a context size
    written in the id or name ("4k", "(128k)") x 1024, else 0 (unknown); the output limit is
    0 (unknown): nothing is invented."""
    if embedding:
        return _EMBEDDING_MAX_INPUT_TOKENS, 0
    for text in (bare_name(model_id).replace("-", " "), name):
        hint = _CONTEXT_HINT.search(text)
        if hint:
            return int(hint.group(1)) * 1024, DEFAULT_MAX_OUTPUT_TOKENS
    return DEFAULT_MAX_INPUT_TOKENS, DEFAULT_MAX_OUTPUT_TOKENS
