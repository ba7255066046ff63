"""Terminal output for ``jaato-github-models``: colour policy, secret scrubbing, tables, money.

Colour is used only when stdout is a terminal and ``NO_COLOR`` is absent (any value, even empty,
turns it off). Every line the CLI writes goes through :class:`Console`, which replaces known
secrets with their masked form (``github_pat_…``), so a token can never reach the terminal even
if some message were to carry it.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from ..common.masking import SecretMasker

__all__ = [
    "FAIL",
    "PASS",
    "SKIP",
    "Check",
    "Console",
    "ConsoleLogHandler",
    "checklist_counts",
    "colour_enabled",
    "format_table",
    "format_usd",
    "render_checklist",
    "token_type_label",
]

PASS, FAIL, SKIP = "PASS", "FAIL", "SKIP"

_STYLES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "cyan": "36",
}

_TOKEN_TYPE_LABELS = {
    "fine_grained_pat": "fine-grained personal access token",
    "classic_pat": "classic personal access token",
    "github_app": "GitHub App installation token",
    "oauth": "OAuth token",
    "entra": "Microsoft Entra ID token",
    "unknown": "not a GitHub token prefix (fine for a Foundry or gateway key)",
}


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def colour_enabled(stream: TextIO, environ: Mapping[str, str] | None = None) -> bool:
    """Whether to colour ``stream``: only a TTY, and never when ``NO_COLOR`` is set."""
    env = os.environ if environ is None else environ
    if "NO_COLOR" in env:
        return False
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (OSError, ValueError):
        return False


def token_type_label(token_type: str | None) -> str:
    """A readable name for ``errors.token_type_of``'s answer."""
    return _TOKEN_TYPE_LABELS.get(token_type or "unknown", str(token_type))


def format_usd(amount: float) -> str:
    """Dollars with enough decimals for tiny per-request costs (``$0.00007``, ``$12.50``)."""
    if amount >= 0.01 or amount == 0:
        return f"${amount:,.2f}"
    text = f"{amount:.8f}".rstrip("0")
    return "$" + (text + "0" if text.endswith(".") else text)


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Plain left-aligned columns separated by two spaces (no truncation)."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


class Console:
    """Where the CLI writes: stdout for results, stderr for notes and errors.

    Args:
        out: Result stream (default ``sys.stdout``).
        err: Diagnostics stream (default ``sys.stderr``).
        environ: Read for ``NO_COLOR`` (default ``os.environ``).
    """

    def __init__(self, out: TextIO | None = None, err: TextIO | None = None,
                 environ: Mapping[str, str] | None = None) -> None:
        # a closed stream (``2>&-``) is None in sys: write nowhere rather than fail
        self.out = out or sys.stdout or open(os.devnull, "w")  # noqa: SIM115 - process-long
        self.err = err or sys.stderr or open(os.devnull, "w")  # noqa: SIM115 - process-long
        self.colour = colour_enabled(self.out, environ)
        self.err_colour = colour_enabled(self.err, environ)  # decided per stream
        self._masker = SecretMasker()  # also holds back streamed text that may start a secret
        self.custom_endpoint = False  # Foundry/gateway: advice names deployments, not catalog ids

    def add_secret(self, secret: str | None) -> None:
        """Never print ``secret``: it is replaced by its masked prefix wherever it appears.

        The part after a known type prefix (``ghp_``, ``github_pat_`` ...) is masked on its own
        too: it leaks just as much.
        """
        self._masker.add(secret)

    def scrub(self, text: str) -> str:
        """``text`` with every registered secret masked."""
        from ..common.secret_text import scrub  # and anything shaped like a token, known or not

        return scrub(self._masker.scrub(text))

    def stream(self, text: str) -> None:
        """Write one chunk of streamed text to stdout; a secret split across chunks is masked.

        The end of the text that could be the start of a secret is held back until the next
        chunk shows whether it is one; :meth:`end_stream` (or any other stdout write) releases it.
        """
        shown = self._masker.feed(text)
        if shown:
            self.out.write(shown)
            self.out.flush()

    def end_stream(self) -> None:
        """Write what :meth:`stream` held back (it was not the start of a secret after all)."""
        rest = self._masker.flush()
        if rest:
            self.out.write(rest)
            self.out.flush()

    def style(self, text: str, *names: str) -> str:
        """``text`` in the given styles when colour is on; unchanged otherwise."""
        if not self.colour or not names:
            return text
        codes = ";".join(_STYLES[n] for n in names)
        return f"\033[{codes}m{text}\033[0m"

    def write(self, text: str) -> None:
        """Write to stdout without a newline and flush (text held back by :meth:`stream` first)."""
        self.end_stream()
        self.out.write(self.scrub(text))
        self.out.flush()

    def print(self, text: str = "") -> None:
        """A line on stdout."""
        self.write(text + "\n")

    def note(self, text: str) -> None:
        """A line on stderr (usage, hints, warnings); styles dropped unless stderr is a TTY."""
        if not self.err_colour:
            text = _ANSI.sub("", text)
        self.err.write(self.scrub(text) + "\n")
        self.err.flush()

    def error(self, text: str) -> None:
        """One error paragraph on stderr, its advice in command-line terms (flags, commands)."""
        from .advice import cli_terms

        text = cli_terms(text, custom_endpoint=self.custom_endpoint)
        self.note("error: " + " ".join(text.split()))

    def json(self, data: Any) -> None:
        """Pretty JSON on stdout."""
        self.print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


class ConsoleLogHandler(logging.Handler):
    """Sends the provider's log records to the console as ``warning: ...`` lines."""

    def __init__(self, console: Console, level: int = logging.WARNING) -> None:
        super().__init__(level)
        self.console = console
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        """Write one record (scrubbed) to stderr and keep it for later inspection."""
        try:
            from .advice import cli_terms

            self.records.append(record)
            message = cli_terms(record.getMessage(), custom_endpoint=self.console.custom_endpoint)
            self.console.note(f"{record.levelname.lower()}: {message}")
        except Exception:  # logging must never break the CLI
            self.handleError(record)


@dataclass
class Check:
    """One line of a checklist: PASS, FAIL (with the next step) or SKIP (with the reason)."""

    id: str
    status: str = SKIP
    detail: str = ""
    next: str = ""
    title: str = ""


def checklist_counts(checks: Sequence[Check]) -> dict[str, int]:
    """``{"pass": n, "fail": n, "skip": n}``."""
    return {s.lower(): sum(c.status == s for c in checks) for s in (PASS, FAIL, SKIP)}


def render_checklist(checks: Sequence[Check], console: Console) -> None:
    """Print one aligned line per check, the next step under each failure, then a summary."""
    colours = {PASS: "green", FAIL: "red", SKIP: "yellow"}
    width = max((len(c.title) for c in checks), default=0)
    for check in checks:
        status = console.style(f"{check.status:<4}", "bold", colours.get(check.status, "bold"))
        console.print(f"{status}  {check.title:<{width}}  {check.detail}")
        if check.status == FAIL and check.next:
            console.print(f"{'':<4}  {'':<{width}}  " + console.style("next: ", "bold")
                          + check.next)
    counts = checklist_counts(checks)
    tail = "" if counts["fail"] == 0 else " — fix the first FAIL and run doctor again"
    console.print(f"\n{counts['pass']} passed, {counts['fail']} failed, {counts['skip']} "
                  f"skipped{tail}")
