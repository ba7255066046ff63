"""How the emulator's default answers show what real models add to a reply.

* Reasoning models of the o-series / gpt-5 family reason in hidden tokens: the reply reports
  ``completion_tokens_details.reasoning_tokens`` (counted inside ``completion_tokens``).
* DeepSeek-R1 and MAI-DS-R1 write their reasoning into the content, inside ``<think>...</think>``.
* Phi-4-reasoning and Phi-4-mini-reasoning return it as ``reasoning_content`` (message or delta).
* OpenAI models cache prompts: a request whose leading messages repeat an earlier request's,
  1024 tokens or more, reports ``prompt_tokens_details.cached_tokens`` (in steps of 128, inside
  ``prompt_tokens``), as the service documents its prompt caching.

Scripted replies are served as scripted (``Reply.text(reasoning=..., cached_tokens=...,
reasoning_tokens=...)``); these habits shape only the default answers.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from .models import ModelEntry
from .replies import Plan, estimate_prompt_tokens, estimate_tokens

__all__ = ["HIDDEN_REASONING_TOKENS", "PromptCache", "with_model_habits"]

HIDDEN_REASONING_TOKENS = 64
_THINK_IN_CONTENT = re.compile(r"(deepseek-r1|mai-ds-r1)(-.*)?")
_REASONING_CONTENT = re.compile(r"phi-4(-mini)?-reasoning")
_CACHE_MIN, _CACHE_STEP = 1024, 128


class PromptCache:
    """The leading-message prefixes seen so far, per model (bounded; not thread-safe: the
    emulator's handlers run on one event loop)."""

    def __init__(self, size: int = 4096) -> None:
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._size = size

    def cached_tokens(self, model: str, body: Mapping[str, Any]) -> int:
        """Tokens of the longest seen prefix (0 under 1024), and remember this request's."""
        messages = [m for m in body.get("messages") or () if isinstance(m, dict)]
        keys = [model + json.dumps(messages[:n], sort_keys=True)
                for n in range(1, len(messages) + 1)]
        hit = max((n for n, key in enumerate(keys, 1) if key in self._seen), default=0)
        for key in keys:
            self._seen[key] = None
            self._seen.move_to_end(key)
        while len(self._seen) > self._size:
            self._seen.popitem(last=False)
        if not hit:
            return 0
        tokens = estimate_prompt_tokens({"messages": messages[:hit]})
        return 0 if tokens < _CACHE_MIN else tokens // _CACHE_STEP * _CACHE_STEP


def _prompt(body: Mapping[str, Any]) -> str:
    for message in reversed(list(body.get("messages") or ())):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, str) else "the attached parts"
    return ""


def with_model_habits(plan: Plan, entry: ModelEntry, body: Mapping[str, Any],
                      cache: PromptCache) -> Plan:
    """``plan`` (a default answer) as ``entry``'s model would serve it. Raises nothing."""
    bare = entry.bare
    if entry.id.lower().startswith("openai/"):
        cached = cache.cached_tokens(entry.id.lower(), body)
        if cached:
            plan = replace(plan, cached_tokens=min(cached, plan.prompt_tokens))
    if plan.text is None:
        return plan
    thought = f"The user wrote: {_prompt(body)[:200]}. I will echo it."
    if entry.reasoning:
        return replace(plan, completion_tokens=plan.completion_tokens + HIDDEN_REASONING_TOKENS,
                       reasoning_tokens=HIDDEN_REASONING_TOKENS)
    if _THINK_IN_CONTENT.fullmatch(bare):
        text = f"<think>\n{thought}\n</think>\n\n{plan.text}"
        return replace(plan, text=text, completion_tokens=estimate_tokens(text))
    if _REASONING_CONTENT.fullmatch(bare):
        return replace(plan, reasoning=thought,
                       completion_tokens=plan.completion_tokens + estimate_tokens(thought))
    return plan
