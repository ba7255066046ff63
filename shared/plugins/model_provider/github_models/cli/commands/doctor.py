"""``jaato-github-models doctor``: the troubleshooting checklist as one command (the checks are
``doctor_checks.Doctor``)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from ..arguments import add_command, add_connection_options, add_model_option

if TYPE_CHECKING:
    from ..output import Console

__all__ = ["register", "run"]


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``doctor`` to the CLI's sub-parsers."""
    doctor = add_command(sub, common, "doctor", "check the setup step by step", run)
    add_model_option(doctor)
    add_connection_options(doctor)
    doctor.add_argument("--json", action="store_true", help="machine-readable result")


def run(args: argparse.Namespace, console: Console) -> int:
    """Token, .env, endpoint, retirement, auth, organization, model and rate limits:
    PASS/FAIL/SKIP with the next step. Exit code 0 when no check failed.

    Returns 0 when no check failed, else 1; raises nothing of its own (every failure is a FAIL
    line).
    """
    from ..connect import connection_extra
    from ..doctor_checks import Doctor
    from ..output import render_checklist

    doctor = Doctor(connection_extra(args), args.model, console)
    doctor.run()
    if args.json:
        console.json(doctor.report())
        return 0 if doctor.ok else 1
    render_checklist(list(doctor.checks.values()), console)
    return 0 if doctor.ok else 1
