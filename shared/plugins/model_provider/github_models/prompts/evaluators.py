"""Evaluators of ``.prompt.yml`` files: string checks, LLM-as-judge, GitHub's built-in judges.

String checks follow ``gh models eval``: ``equals`` is exact, ``contains``/``startsWith``/
``endsWith`` ignore case; the expected text is filled from the test row first (``{{expected}}``).
An LLM judge is sent its ``systemPrompt`` and its ``prompt`` filled from the test row plus
``{{completion}}`` (the model's reply), with one closing line listing the allowed answers
(lowest score first); its reply is matched to a choice (the last line first, else the last
choice named anywhere) and the evaluation passes when that choice's score is above 0, as in
``gh models eval``.

The built-in judges (``uses: github/similarity``, ``coherence``, ``fluency``, ``relevance``,
``groundedness``) are GitHub's documented set; the rubrics below are this project's own wording
of those metrics, each on a 1-5 scale scored 0, 0.25, 0.5, 0.75, 1. ``groundedness`` reads the
source material from ``{{context}}`` when the row has it, else from ``{{expected}}``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .file import Evaluator, fill

__all__ = [
    "ANSWER_LINE",
    "BUILTIN_EVALUATORS",
    "EvaluationResult",
    "judge_request",
    "match_choice",
    "string_result",
]

ANSWER_LINE = "Answer with exactly one of: {choices}."
_FIVE = (("1", 0.0), ("2", 0.25), ("3", 0.5), ("4", 0.75), ("5", 1.0))
_JUDGE = ("You grade the output of an AI system against one quality metric. Read the metric and "
          "the rating scale, then answer with the rating only: a single integer from 1 to 5, "
          "with no other text.")


def _rubric(metric: str, meaning: str, scale: tuple[str, str, str, str, str], data: str) -> str:
    levels = "\n".join(f"{i}: {text}" for i, text in enumerate(scale, 1))
    return f"Metric: {metric}. {meaning}\n\nRating scale:\n{levels}\n\n{data}"


BUILTIN_EVALUATORS: dict[str, Evaluator] = {
    "similarity": Evaluator("similarity", "llm", system=_JUDGE, choices=_FIVE, prompt=_rubric(
        "similarity", "How close the predicted answer is in meaning and content to the correct "
        "answer for the question.",
        ("nothing in common with the correct answer", "mostly different",
         "partly the same", "mostly the same", "the same meaning and content"),
        "question: {{input}}\ncorrect answer: {{expected}}\npredicted answer: {{completion}}")),
    "coherence": Evaluator("coherence", "llm", system=_JUDGE, choices=_FIVE, prompt=_rubric(
        "coherence", "Whether the response presents its ideas in a logical order that answers "
        "the query and is easy to follow.",
        ("disjointed words, no meaning", "fragments with little logical link",
         "partly organised, some abrupt or unclear links", "logical and clearly connected",
         "thoroughly organised, smooth and precise"),
        "query: {{input}}\nresponse: {{completion}}")),
    "fluency": Evaluator("fluency", "llm", system=_JUDGE, choices=_FIVE, prompt=_rubric(
        "fluency", "The quality of the language itself: grammar, vocabulary, sentence "
        "structure and readability.",
        ("barely comprehensible", "frequent errors, very simple sentences",
         "clear with occasional errors", "well written with varied sentences",
         "flawless, precise and elegant"),
        "response: {{completion}}")),
    "relevance": Evaluator("relevance", "llm", system=_JUDGE, choices=_FIVE, prompt=_rubric(
        "relevance", "Whether the response addresses the query with the information it "
        "asks for.",
        ("unrelated to the query", "touches the topic but does not answer",
         "answers part of the query", "answers the query",
         "answers the query completely, with useful insight"),
        "query: {{input}}\nresponse: {{completion}}")),
    "groundedness": Evaluator("groundedness", "llm", system=_JUDGE, choices=_FIVE,
                              prompt=_rubric(
        "groundedness", "Whether every claim of the response is supported by the given "
        "context (claims the context does not support lower the rating).",
        ("contradicts the context or is unrelated to it", "mostly unsupported claims",
         "a mix of supported and unsupported claims", "supported, with minor additions",
         "fully supported by the context"),
        "context: {{context}}\nquery: {{input}}\nresponse: {{completion}}")),
}


@dataclass(frozen=True)
class EvaluationResult:
    """One evaluator's verdict on one reply (``to_dict`` uses ``gh models eval`` keys)."""

    name: str
    score: float
    passed: bool
    details: str

    def to_dict(self) -> dict[str, Any]:
        """``{"evaluatorName", "score", "passed", "details"}``."""
        return {"evaluatorName": self.name, "score": self.score, "passed": self.passed,
                "details": self.details}


def string_result(ev: Evaluator, variables: Mapping[str, Any], reply: str) -> EvaluationResult:
    """A string check of ``reply`` (``equals`` exact; the others ignore case)."""
    expected = fill(ev.value, variables)
    got, want = reply.lower(), expected.lower()
    passed = {"equals": reply == expected, "contains": want in got,
              "startsWith": got.startswith(want), "endsWith": got.endswith(want)}[ev.check]
    label = {"equals": "equal", "contains": "contain", "startsWith": "start with",
             "endsWith": "end with"}[ev.check]
    return EvaluationResult(ev.name, 1.0 if passed else 0.0, passed,
                            f"expected to {label} '{expected}'")


def judge_request(ev: Evaluator, variables: Mapping[str, Any], reply: str
                  ) -> tuple[Evaluator, str, str]:
    """The judge to ask and what to send it: ``(evaluator, system prompt, user prompt)``.

    Built-ins resolve to their rubric; the prompt is filled from the test row plus
    ``{{completion}}`` and ends with the line listing the allowed answers.
    """
    judge = BUILTIN_EVALUATORS[ev.uses.removeprefix("github/")] if ev.kind == "uses" else ev
    values = {**variables, "completion": reply}
    values.setdefault("context", values.get("expected", ""))
    ordered = sorted(judge.choices, key=lambda c: c[1])
    prompt = fill(judge.prompt, values).rstrip()
    prompt += "\n\n" + ANSWER_LINE.format(choices=", ".join(c for c, _ in ordered))
    return judge, judge.system, prompt


def match_choice(text: str, choices: tuple[tuple[str, float], ...]) -> tuple[str, float] | None:
    """The choice a judge's reply names: its last line when that is a choice, else the choice
    mentioned last (as a whole word), else None.

    A mention the reply negates ("not relevant", "isn't good", "no, not 5") names nothing: a
    judge that rejects a choice must not be scored as choosing it. A choice inside a longer
    choice ("relevant" in "not relevant") counts as the longer one.
    """
    lines = [ln.strip().strip("*.`'\"").strip() for ln in text.strip().splitlines() if ln.strip()]
    by_name = {c.lower(): (c, s) for c, s in choices}
    if lines:
        last = re.sub(r"^(score|rating|answer|stars)\s*[:=-]?\s*", "", lines[-1], flags=re.I)
        if last.lower() in by_name:
            return by_name[last.lower()]
    lowered = text.lower()
    found: list[tuple[int, int, tuple[str, float]]] = []
    for name, choice in by_name.items():
        for match in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", lowered):
            found.append((match.start(), match.end(), choice))
    kept = [(start, end, choice) for start, end, choice in found
            if not any(s <= start and end <= e and e - s > end - start for s, e, _ in found)
            and not (_NEGATED.search(lowered[max(0, start - 60):start])
                     and not _NEGATION.match(choice[0].lower()))]
    return max(kept, key=lambda f: f[0])[2] if kept else None


# a negation ending right before a mention, at most two words away ("not very relevant")
_NEGATION = re.compile(r"(not|no|never|hardly|barely|isn't|is not|wasn't|cannot|can't)\b")
_NEGATED = re.compile(r"(?<!\w)(not|no|never|hardly|barely|neither|nor|without|\w+n't)"
                      r"(\s+\w+){0,2}\s*[:,-]?\s*$")
