"""``jaato-github-models run`` and ``eval``: a GitHub ``.prompt.yml`` file run once, or its
``testData`` scored by its evaluators (the work is ``prompt_runs``; the file format ``prompts``).
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..arguments import (
    add_command,
    add_connection_options,
    add_model_option,
    add_request_options,
)

if TYPE_CHECKING:
    from ..output import Console

__all__ = ["register", "run_eval", "run_prompt"]


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``run`` and ``eval`` to the CLI's sub-parsers."""
    run = add_command(sub, common, "run", "run a .prompt.yml file", run_prompt)
    run.add_argument("file", metavar="FILE.prompt.yml")
    run.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                     help="a template variable; repeatable ({{input}} may also come from "
                          "stdin)")
    add_model_option(run)
    add_request_options(run)
    add_connection_options(run)
    run.add_argument("--json", action="store_true", help="print a JSON object")

    ev = add_command(sub, common, "eval", "evaluate a .prompt.yml file's testData", run_eval)
    ev.add_argument("file", metavar="FILE.prompt.yml")
    add_model_option(ev)
    ev.add_argument("--judge-model", metavar="ID",
                    help="model for LLM-as-judge evaluators (default: the evaluator's own "
                         "modelId, else the prompt's model)")
    ev.add_argument("--json", action="store_true", help="print the JSON report on stdout")
    ev.add_argument("--report", metavar="PATH", help="also write the JSON report to PATH")
    add_connection_options(ev)


def run_prompt(args: argparse.Namespace, console: Console) -> int:
    """Fill the {{variables}} of a GitHub .prompt.yml file (name, model, modelParameters,
    messages) and print the reply.

    Returns the exit code; see ``prompt_runs.run_prompt`` for what it raises.
    """
    from ..prompt_runs import run_prompt as run_file

    return run_file(args, console)


def run_eval(args: argparse.Namespace, console: Console) -> int:
    """Run every testData row through the prompt and score the reply with the file's
    evaluators (string checks, LLM-as-judge, GitHub's built-in github/... evaluators). Exit code
    1 when any evaluation fails.

    See ``prompt_runs.run_eval`` for what it raises.
    """
    from ..prompt_runs import run_eval as evaluate

    return evaluate(args, console)
