"""``jaato-github-models run`` and ``eval``: GitHub ``.prompt.yml`` files on any endpoint.

``run`` fills the file's ``{{variables}}`` from ``--var`` (``{{input}}`` also from piped
stdin) and streams the reply. ``eval`` sends every ``testData`` row, scores each reply with the
file's evaluators (see ``prompts.evaluators``), prints a table and a summary, optionally the JSON
report (``--json`` on stdout, ``--report PATH``), and exits 1 when any evaluation failed, so it
can gate CI. The model is ``--model``, else the file's ``model``, else ``JAATO_GITHUB_MODEL``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._host import FinishReason, Message, Role, response_text
from ..errors import GitHubModelsError, InvalidRequestError
from ..prompts.evaluators import EvaluationResult, judge_request, match_choice, string_result
from ..prompts.file import Evaluator, PromptFile, fill, load_prompt_file
from .connect import (
    connected,
    connection_extra,
    open_provider,
    resolve_model,
    shown_endpoint,
)
from .output import Console, format_table, format_usd

if TYPE_CHECKING:
    from ..provider import GitHubModelsProvider

__all__ = ["run_eval", "run_prompt"]

_ROLE = {"user": Role.USER, "assistant": Role.MODEL}


def _turn(pf: PromptFile, variables: Mapping[str, Any]
          ) -> tuple[str | None, list[Message], str]:
    """(system instruction, history, last user message) with the variables filled in."""
    system = "\n\n".join(fill(c, variables) for r, c in pf.messages if r == "system") or None
    rest = [(r, fill(c, variables)) for r, c in pf.messages if r != "system"]
    history = [Message.from_text(_ROLE[r], c) for r, c in rest[:-1]]
    return system, history, rest[-1][1]


def _options(pf: PromptFile, pairs: Any = None) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Validated request options (file, then ``-o``) and the response schema.

    Raises:
        InvalidRequestError: A value the provider refuses.
    """
    from .options import request_options

    try:
        options = request_options(None, **pf.model_parameters)
    except InvalidRequestError as exc:
        raise InvalidRequestError(f"{exc.what} in modelParameters of {pf.path}", exc.why,
                                  f"fix modelParameters in the file ({exc.why})",
                                  param=exc.param) from exc
    options.update(request_options(pairs))
    if pf.response_format == "json_object":
        options["response_format"] = "json_object"
    return options, pf.json_schema


def _variables(specs: list[str], pf: PromptFile, console: Console) -> dict[str, str] | None:
    variables: dict[str, str] = {}
    for spec in specs:
        name, sep, value = spec.partition("=")
        if not sep or not name.strip():
            console.error(f"--var {spec!r} is not NAME=VALUE, e.g. --var topic=tides")
            return None
        variables[name.strip()] = value
    if "input" in pf.variables() and "input" not in variables and not sys.stdin.isatty():
        piped = sys.stdin.read().strip()
        if piped:
            variables["input"] = piped
    missing = [v for v in pf.variables() if v not in variables]
    if missing:
        console.error(f"{pf.path} uses {', '.join('{{' + m + '}}' for m in missing)} but no "
                      "value was given: pass " + " ".join(f"--var {m}=..." for m in missing)
                      + (" (or pipe {{input}} on stdin)" if "input" in missing else ""))
        return None
    return variables


def run_prompt(args: argparse.Namespace, console: Console) -> int:
    """The ``run`` command. Returns the exit code.

    Raises:
        GitHubModelsError: A bad file or option (before any request), or the request failed.
    """
    from .chat_session import LoggedChatRunner

    pf = load_prompt_file(args.file)
    options, schema = _options(pf, args.option)
    variables = _variables(args.var, pf, console)
    if variables is None:
        return 2
    system, history, prompt = _turn(pf, variables)
    with connected(args, console) as provider:
        provider.connect(resolve_model(args.model or pf.model, provider.settings.dotenv_path))
        runner = LoggedChatRunner(provider, console, as_json=args.json, system=system,
                                  options=options)
        provider.create_session(system_instruction=system, history=history)
        if schema is not None:
            runner.reply_with(prompt, [], schema)
            return 0
        response = runner.reply(prompt, pretty=True)
        return 130 if response.finish_reason is FinishReason.CANCELLED else 0


class _Evaluation:
    """One ``eval`` run: the model under test, its judges, and the results."""

    def __init__(self, pf: PromptFile, provider: GitHubModelsProvider, args: argparse.Namespace,
                 console: Console) -> None:
        self.pf = pf
        self.provider = provider
        self.args = args
        self.console = console
        self.judges: dict[str, GitHubModelsProvider] = {}
        self.options, self.schema = _options(pf)

    def judge(self, model: str) -> GitHubModelsProvider:
        if model == self.provider.model_name:
            return self.provider
        if model not in self.judges:
            judge = open_provider(connection_extra(self.args), self.console)
            try:
                judge.connect(model)
            except GitHubModelsError:
                judge.shutdown()
                raise
            self.judges[model] = judge
        return self.judges[model]

    def close(self) -> None:
        for judge in self.judges.values():
            judge.shutdown()

    def score(self, ev: Evaluator, row: Mapping[str, Any], reply: str) -> EvaluationResult:
        if ev.kind == "string":
            return string_result(ev, row, reply)
        rubric, system, prompt = judge_request(ev, row, reply)
        model = self.args.judge_model or rubric.model or self.provider.model_name or ""
        try:
            answer = self.judge(model).new_session(system or None).send_message(prompt)
        except GitHubModelsError as exc:
            return EvaluationResult(ev.name, 0.0, False, f"the judge {model} failed: "
                                                         f"{' '.join(str(exc).split())}")
        text = (response_text(answer) or "").strip()
        found = match_choice(text, rubric.choices)
        if found is None:
            return EvaluationResult(ev.name, 0.0, False, f"the judge {model} answered "
                                                         f"{text[:200]!r}, which is none of "
                                                         "the choices")
        return EvaluationResult(ev.name, found[1], found[1] > 0,
                                f"the judge {model} chose '{found[0]}'")

    def test(self, row: dict[str, Any]) -> dict[str, Any]:
        system, history, prompt = _turn(self.pf, row)
        conversation = self.provider.new_session(system, history=history)
        try:
            response = conversation.send_message(prompt, self.schema, **self.options)
        except GitHubModelsError as exc:
            reason = " ".join(str(exc).split())
            return {"testCase": row, "modelResponse": "", "passed": False, "error": reason,
                    "evaluationResults": [EvaluationResult(
                        "model request", 0.0, False, reason).to_dict()]}
        reply = (response_text(response) or "").strip()
        results = [self.score(ev, row, reply) for ev in self.pf.evaluators]
        return {"testCase": row, "modelResponse": reply,
                "passed": all(r.passed for r in results),
                "evaluationResults": [r.to_dict() for r in results]}

    def usage(self) -> dict[str, Any]:
        providers = {self.provider.model_name or "": self.provider, **self.judges}
        summaries = {m: p.get_usage_summary() for m, p in providers.items()}
        return {"requests": sum(s["requests"] for s in summaries.values()),
                "total_tokens": sum(s["total_tokens"] for s in summaries.values()),
                "cost_usd": round(sum(s["cost_usd"] for s in summaries.values()), 8)}


def _preview(row: Mapping[str, Any]) -> str:
    text = " ".join(str(next(iter(row.values()), "")).split()) if row else "-"
    return text if len(text) <= 32 else text[:31] + "…"


def _print_table(console: Console, results: list[dict[str, Any]]) -> None:
    rows = []
    for i, test in enumerate(results, 1):
        for ev in test["evaluationResults"] or [{"evaluatorName": "-", "score": 1.0,
                                                 "passed": True}]:
            rows.append([str(i), _preview(test["testCase"]), ev["evaluatorName"],
                         f"{ev['score']:.2f}", "PASS" if ev["passed"] else "FAIL"])
    table = format_table(("#", "TEST", "EVALUATOR", "SCORE", "RESULT"), rows)
    header, _, body = table.partition("\n")
    console.print(console.style(header, "bold"))
    for line in body.splitlines():
        colour = "red" if line.endswith("FAIL") else "green"
        console.print(line[:-4] + console.style(line[-4:], colour))
    for i, test in enumerate(results, 1):
        for ev in test["evaluationResults"]:
            if not ev["passed"]:
                reply = " ".join(test["modelResponse"].split())
                reply = reply if len(reply) <= 100 else reply[:100] + "…"
                console.print(f"test {i} · {ev['evaluatorName']}: {ev['details']}; "
                              f"reply: {reply or '(none)'}")


def run_eval(args: argparse.Namespace, console: Console) -> int:
    """The ``eval`` command: 0 when every evaluation passed, else 1.

    Raises:
        GitHubModelsError: A bad file or option (before any request), no usable model.
    """
    pf = load_prompt_file(args.file)
    if not pf.test_data:
        raise InvalidRequestError(f"Evaluating {pf.path}", "the file has no testData rows",
                                  "add testData: [{input: ..., expected: ...}] or use "
                                  "`jaato-github-models run` for a single prompt")
    unused = [v for v in pf.variables() if not any(v in row for row in pf.test_data)]
    if unused:
        console.note(f"warning: no testData row sets {', '.join(unused)}; the placeholders "
                     "are sent as written")
    if args.report:
        check_report_path(args.report)  # before any paid-for request
    provider = open_provider(connection_extra(args), console)
    evaluation: _Evaluation | None = None
    try:
        provider.connect(resolve_model(args.model or pf.model, provider.settings.dotenv_path))
        evaluation = _Evaluation(pf, provider, args, console)
        console.note(f"evaluating {pf.name}: {len(pf.test_data)} tests x "
                     f"{len(pf.evaluators)} evaluators with {provider.model_name} at "
                     f"{shown_endpoint(provider.settings.endpoint)}")
        results = [evaluation.test(row) for row in pf.test_data]
        passed = sum(r["passed"] for r in results)
        usage = evaluation.usage()
        report = {"name": pf.name, "description": pf.description, "file": str(pf.path),
                  "model": provider.model_name, "judgeModel": args.judge_model,
                  "endpoint": shown_endpoint(provider.settings.endpoint),
                  "summary": {"tests": len(results), "passed": passed,
                              "failed": len(results) - passed,
                              "passRate": round(passed / len(results) * 100, 1)},
                  "usage": usage, "testResults": results}
    finally:
        if evaluation is not None:
            evaluation.close()
        provider.shutdown()
    written = _write_report(args.report, report, console) if args.report else True
    if args.json:
        console.json(report)
    else:
        _print_table(console, results)
        console.print(f"\nPassed: {passed}/{len(results)} ({report['summary']['passRate']}%) · "
                      f"{usage['requests']} requests, {usage['total_tokens']} tokens, "
                      f"est. {format_usd(usage['cost_usd'])}")
    if args.report and written:
        console.note(f"report written to {args.report}")
    return 0 if passed == len(results) and written else 1


def check_report_path(report: str) -> None:
    """Refuse a ``--report`` path that cannot be written, before anything is paid for.

    Raises:
        InvalidRequestError: The folder is missing or not writable, or the path is a folder,
            device or pipe.
    """
    import os

    path = Path(report).expanduser()
    folder = path.parent
    why = ("it is a folder, device or pipe, not a file" if path.exists() and not path.is_file()
           else f"the folder {folder} does not exist" if not folder.is_dir()
           else f"the folder {folder} is not writable" if not os.access(folder, os.W_OK | os.X_OK)
           else "the file is not writable" if path.exists() and not os.access(path, os.W_OK)
           else "")
    if why:
        raise InvalidRequestError(f"Checking --report {path}", why,
                                  "pass --report a file path in a writable folder")


def _write_report(report_path: str, report: dict[str, Any], console: Console) -> bool:
    """Write the report; on failure say so (the results are still printed): False."""
    path = Path(report_path).expanduser()
    try:
        path.write_text(json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n",
                        encoding="utf-8")
    except OSError as exc:
        console.error(f"Writing the report to {path} failed: {exc.strerror or exc}. The results "
                      "are printed below; pass --report a writable path to keep them.")
        return False
    return True

