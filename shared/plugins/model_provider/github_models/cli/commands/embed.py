"""``jaato-github-models embed``: text to vectors, in the style of ``llm embed``.

``embed -m MODEL [-c TEXT ...] [-i FILE|-] [--lines] [--dimensions N] [--format F]``: the texts
come from ``-c`` (each one input, repeatable), a file (``-i``; ``-`` is stdin), or stdin when
neither is given; a file or stdin is one input, or one input per non-blank line with
``--lines``. Each vector goes to stdout on its own line, in input order: a JSON array
(``json``, the default), float32 little-endian bytes as ``base64`` or ``hex``, or those raw
bytes (``blob``, one vector only, as ``llm embed -f blob`` writes them). The usage goes to
stderr. Nothing is sent when the input is bad.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from array import array
from typing import TYPE_CHECKING, Any

from ..arguments import add_command, add_connection_options

if TYPE_CHECKING:
    from ..output import Console

__all__ = ["DEFAULT_EMBEDDING_MODEL", "FORMATS", "register", "run"]

DEFAULT_EMBEDDING_MODEL = "openai/text-embedding-3-small"
FORMATS = ("json", "base64", "hex", "blob")


def _read(path: str | None, console: Console) -> str | None:
    """The text of ``path`` (``-`` or None: stdin); None after printing why it cannot be read."""
    where = "standard input" if path in (None, "-") else path
    try:
        if path in (None, "-"):
            if sys.stdin is None or sys.stdin.isatty():
                console.error("nothing to embed: give a text with -c, a file with -i, or pipe "
                              "text in")
                return None
            data = sys.stdin.buffer.read()
        else:
            with open(str(path), "rb") as handle:
                data = handle.read()
    except OSError as exc:
        console.error(f"{where} cannot be read ({exc.strerror or exc}): check the path and its "
                      "permissions")
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        console.error(f"{where} is not UTF-8 text (byte {exc.start} is 0x{data[exc.start]:02x}): "
                      "convert it, e.g. with iconv -t UTF-8")
        return None


def _texts(args: argparse.Namespace, console: Console) -> list[str] | None:
    texts: list[str] = list(args.content or [])
    if args.input is not None or not texts:
        data = _read(args.input, console)
        if data is None:
            return None
        if args.lines:
            texts.extend(line for line in data.splitlines() if line.strip())
        else:
            texts.append(data.strip())
    elif args.lines:
        console.error("--lines splits a file or stdin: use it with -i FILE (or pipe text in "
                      "without -c)")
        return None
    return texts


def _packed(vector: list[float]) -> bytes:
    floats = array("f", vector)
    if sys.byteorder == "big":
        floats.byteswap()
    return floats.tobytes()


def _write(vectors: list[list[float]], fmt: str, console: Console) -> None:
    if fmt == "blob":
        out = sys.stdout.buffer
        out.write(_packed(vectors[0]))
        out.flush()
        return
    for vector in vectors:
        if fmt == "json":
            console.print(json.dumps(vector))
        elif fmt == "base64":
            console.print(base64.b64encode(_packed(vector)).decode())
        else:
            console.print(_packed(vector).hex())


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def run(args: argparse.Namespace, console: Console) -> int:
    """Print the embedding of each text, one vector per line (usage on stderr). Texts come from
    -c (repeatable), -i FILE (- for stdin), or stdin; a file or stdin is one text, or one per
    line with --lines.

    Returns 0 when every text was embedded, 2 on bad usage.

    Raises:
        GitHubModelsError: The provider cannot be configured, or refused the texts (before any
            request) or the request failed.
    """
    from ..connect import connected

    texts = _texts(args, console)
    if texts is None:
        return 2
    if args.format == "blob" and len(texts) != 1:
        console.error(f"--format blob writes the raw bytes of one vector, and there are "
                      f"{len(texts)} texts: use --format json, base64 or hex for several")
        return 2
    with connected(args, console) as provider:
        result = provider.embed(texts, model=(args.model or "").strip()
                                or DEFAULT_EMBEDDING_MODEL, dimensions=args.dimensions)
    _write(result.vectors, args.format, console)
    console.note(f"{_count(len(texts), 'text')}, {result.dimensions} dimensions, "
                 f"{_count(result.usage.prompt_tokens, 'token')}, "
                 f"{_count(result.requests, 'request')} ({result.model})")
    return 0


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add ``embed`` to the CLI's sub-parsers."""
    embed = add_command(sub, common, "embed", "turn text into embedding vectors", run)
    embed.add_argument("--model", "-m", metavar="ID",
                       help=f"embeddings model or deployment (default {DEFAULT_EMBEDDING_MODEL})")
    embed.add_argument("--content", "-c", action="append", metavar="TEXT",
                       help="a text to embed; repeatable")
    embed.add_argument("--input", "-i", metavar="FILE", help="read the text from FILE (- for "
                                                             "stdin)")
    embed.add_argument("--lines", action="store_true",
                       help="each non-blank line of the file or stdin is one text")
    embed.add_argument("--dimensions", type=int, metavar="N",
                       help="shorter vectors (text-embedding-3-small/-large only)")
    embed.add_argument("--format", "-f", choices=FORMATS, default="json",
                       help="json (default): a JSON array per line; base64 or hex: float32 "
                            "little-endian bytes per line; blob: those bytes raw (one text "
                            "only)")
    add_connection_options(embed)
