"""Checks of single setting values, for ``env.resolve_settings``.

Organization and enterprise forms, values sent in HTTP headers, ``rate_limits`` overrides and
``.env`` files in other encodings: each is refused at ``initialize`` with a
:class:`ConfigurationError` that names the setting, never accepted to fail (or hang) later.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..common.limits import TierLimits
from ..common.url_secrets import strip_url_secrets
from ..errors import ConfigurationError

__all__ = [
    "API_VERSION_RE",
    "FALSE_WORDS",
    "as_bool",
    "as_float",
    "as_int",
    "check_header_value",
    "github_name",
    "path_problem",
    "rate_limit_overrides",
    "read_dotenv",
]

logger = logging.getLogger(__name__.rsplit(".", 2)[0])  # the package, installed or not
_LOGIN_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
_GITHUB_WEB_HOSTS = frozenset({"github.com", "www.github.com"})


def github_name(value: str, setting: str, env_key: str, kinds: tuple[str, ...],
                examples: str) -> str:
    """The login or slug in ``value`` (a name, or a github.com URL of one), or refuse it.

    Args:
        value: As configured.
        setting: ``organization`` or ``enterprise`` (named in the error).
        env_key: The environment variable of the setting.
        kinds: The URL segments that may precede the name (``orgs``, ``enterprises`` ...).
        examples: Accepted forms, for the error's fix.

    Raises:
        ConfigurationError: A slash, ``..``, another host, extra segments, a query, a port.
    """
    raw = str(value).strip()
    name: str | None = raw if _LOGIN_RE.match(raw) else None
    if name is None and "/" in raw and "\\" not in raw and ".." not in raw:
        try:
            parts = urlsplit(raw if "://" in raw else "https://" + raw)
            plain = (parts.scheme in ("http", "https") and parts.port is None
                     and not (parts.username or parts.password or parts.query or parts.fragment)
                     and (parts.hostname or "") in _GITHUB_WEB_HOSTS)
        except ValueError:
            plain = False
        segments = parts.path.strip("/").split("/") if plain else []
        if len(segments) == 2 and segments[0] in kinds:
            segments = segments[1:]
        elif setting == "enterprise":  # an enterprise URL always names /enterprises/
            segments = []
        if len(segments) == 1 and _LOGIN_RE.match(segments[0]):
            name = segments[0]
    if name is None:
        shown = strip_url_secrets(raw) if "/" in raw or "@" in raw else raw
        raise ConfigurationError(
            what=f"Checking the {setting} setting ({env_key} or extra[{setting!r}])",
            why=f"{shown[:120]!r} is not a GitHub {setting} name or a github.com URL of one "
                "(a slash, '..', another host or extra path segments would bill another name)",
            fix=f"set {env_key} (or extra[{setting!r}]) to {examples}",
            setting=setting,
        )
    return name


_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"),
         (b"\x00\x00\xfe\xff", "utf-32"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def read_dotenv(path: Path | str | None, env_key: str = "JAATO_GITHUB_ENV_FILE"
                ) -> dict[str, str]:
    """The variables of a ``.env`` file: UTF-8, or UTF-8/16/32 with a byte-order mark.

    Raises:
        ConfigurationError: The file cannot be read, or is in another encoding.
    """
    if path is None:
        return {}
    from io import StringIO

    from dotenv import dotenv_values  # light import, only when a file exists

    fix = ("save the file as UTF-8 (or UTF-16 with a byte-order mark), or point "
           f"{env_key} at another file (false turns .env reading off)")
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigurationError(what=f"Reading the .env file {path}",
                                 why=f"it cannot be read ({exc.strerror or exc})", fix=fix,
                                 setting="env_file") from exc
    encoding = next((enc for bom, enc in _BOMS if raw.startswith(bom)), "utf-8")
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        raise ConfigurationError(
            what=f"Reading the .env file {path}",
            why=f"it is not {encoding.upper()} text (byte {exc.start} is 0x{raw[exc.start]:02x})",
            fix=fix, setting="env_file") from exc
    with _dotenv_warnings(path):
        values = dotenv_values(stream=StringIO(text))
    return {k: v for k, v in values.items() if v is not None}


@contextmanager
def _dotenv_warnings(path: Path | str) -> Iterator[None]:
    """python-dotenv's own warnings (unparsable lines) re-logged by our logger, naming the
    file, so they reach the CLI's console instead of printing raw on stderr."""

    class Relay(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            logger.warning("%s: %s (the line is ignored)", path, record.getMessage())

    source = logging.getLogger("dotenv.main")
    relay, propagate = Relay(logging.WARNING), source.propagate
    source.addHandler(relay)
    source.propagate = False
    try:
        yield
    finally:
        source.removeHandler(relay)
        source.propagate = propagate


API_VERSION_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# every limit a TierLimits row has (one source: limits.py), its tier name aside
_LIMIT_FIELDS = tuple(f.name for f in fields(TierLimits) if f.name != "tier")
_TIER_RE = re.compile(r"^[A-Za-z0-9._-]+(?::[A-Za-z0-9._-]+)?$")


def check_header_value(value: Any, setting: str, where: str, *, ascii_only: bool = False,
                        show: bool = True) -> None:
    """Refuse a value an HTTP client cannot send in a header (line breaks, controls ...).

    Raises:
        ConfigurationError: Naming ``setting``; the value is quoted only when ``show``.
    """
    text = value if isinstance(value, str) else None
    bad = None if text is not None else -1
    if text is not None and len(text) > 1024 and show:  # a header no server accepts
        raise ConfigurationError(
            what=f"Checking the {setting} setting", why=f"{where} is {len(text)} characters long",
            fix=f"give {setting} in at most 1024 characters", setting=setting)
    if text is not None:
        for i, char in enumerate(text):
            code = ord(char)
            if code < 0x20 or code == 0x7F or code > (0x7E if ascii_only else 0xFF) or (
                    ascii_only and char == " "):
                bad = i
                break
    if bad is None:
        return
    shown = f" ({text[:60]!r})" if show and text is not None else ""
    why = (f"{where} is {type(value).__name__}, not text" if bad == -1 else
           f"{where}{shown} holds a character an HTTP header cannot carry at position {bad} "
           "(a line break, control, space or non-ASCII character)" if ascii_only else
           f"{where}{shown} holds a character an HTTP header cannot carry at position {bad} "
           "(a line break, control or non-Latin-1 character)")
    raise ConfigurationError(
        what=f"Checking the {setting} setting", why=why,
        fix="copy the token again without spaces or line breaks (a .env value needs no quotes)"
            if setting == "token" else f"give {setting} as printable text on one line",
        setting=setting)


def rate_limit_overrides(raw: Any) -> dict[str, dict[str, int | None]]:
    """``extra['rate_limits']`` checked: tier -> {field: whole number >= 1, or None}.

    Raises:
        ConfigurationError: Not a mapping, a bad tier name or field, a value below 1 or not a
            whole number (0, a negative or NaN limit would block every request).
    """
    example = "e.g. {'high': {'requests_per_minute': 60, 'concurrent_requests': 10}}"
    if not isinstance(raw, Mapping):
        raise ConfigurationError(
            what="Checking extra['rate_limits']", why="it is not a mapping of tier -> limits",
            fix=f"give {example}", setting="rate_limits")
    out: dict[str, dict[str, int | None]] = {}
    for tier, changes in raw.items():
        where = f"extra['rate_limits'][{tier!r}]"
        if not isinstance(tier, str) or not _TIER_RE.match(tier):
            raise ConfigurationError(
                what="Checking extra['rate_limits']", why=f"{tier!r} is not a tier name",
                fix="use a tier such as 'low', 'high', 'embeddings', 'custom' or "
                    "'custom:<model>'", setting="rate_limits")
        if not isinstance(changes, Mapping):
            raise ConfigurationError(
                what=f"Checking {where}", why=f"it is {type(changes).__name__}, not a mapping",
                fix=f"give {example}", setting="rate_limits")
        row: dict[str, int | None] = {}
        for name, value in changes.items():
            if name not in _LIMIT_FIELDS:
                raise ConfigurationError(
                    what=f"Checking {where}", why=f"{name!r} is not a limit",
                    fix=f"use the fields {', '.join(_LIMIT_FIELDS)}", setting="rate_limits")
            if value is None:  # lifts the limit
                row[name] = None
                continue
            ok = (isinstance(value, int) and not isinstance(value, bool)) or (
                isinstance(value, float) and value.is_integer())
            if not ok or not 1 <= value <= 10**9:
                raise ConfigurationError(
                    what=f"Checking {where}[{name!r}]",
                    why=f"{value!r} is not a whole number between 1 and 1000000000 (0 or a "
                        "negative limit would block every request)",
                    fix="give a positive whole number, or None to lift the limit",
                    setting="rate_limits")
            row[name] = int(value)
        out[tier.lower()] = row
    return out


TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


def _number_in(name: str, value: Any, low: float, high: float, read: Callable[[Any], float],
               kind: str, fix: str) -> Any:
    if isinstance(value, bool):  # float(True) is 1.0: a flag is not a number
        value = "bool"
    try:
        number = read(value)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(what=f"Checking the {name} setting",
                                 why=f"{value!r} is not {kind}", fix=fix) from exc
    if not low <= number <= high:
        shown = [format(n, "g") if isinstance(n, float) else str(n) for n in (number, low, high)]
        raise ConfigurationError(what=f"Checking the {name} setting",
                                 why=f"{shown[0]} is outside [{shown[1]}, {shown[2]}]", fix=fix)
    return number


def as_float(name: str, value: Any, low: float, high: float) -> float:
    """``value`` as a number in [low, high] (seconds, as the fix says).

    Raises:
        ConfigurationError: Not a number (a bool is not one), or out of range.
    """
    fix = f"give {name} in seconds between {low:g} and {high:g}"
    return float(_number_in(name, value, float(low), float(high), float, "a number", fix))


def as_int(name: str, value: Any, low: int, high: int) -> int:
    """``value`` as a whole number in [low, high].

    Raises:
        ConfigurationError: Not a whole number (a bool is not one), or out of range.
    """
    fix = f"give {name} as a whole number between {low} and {high}"
    return int(_number_in(name, value, low, high, int, "a whole number", fix))


def as_bool(name: str, value: Any) -> bool:
    """``value`` as on/off (true/false, 1/0, yes/no).

    Raises:
        ConfigurationError: Anything else.
    """
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise ConfigurationError(
        what=f"Checking the {name} setting", why=f"{value!r} is not on/off",
        fix=f"give {name} as true/false (1/0, on/off)")


def path_problem(path: Path, *, pipes: bool = False) -> str:
    """Why ``path`` is not a readable regular file ("" when it is): "does not exist", "is a
    folder", "is not a regular file (a device such as /dev/null, a pipe or a socket)" or
    "cannot be read (...)". ``pipes`` accepts a FIFO too (``<(command)`` in a shell). Never
    raises."""
    import os
    import stat

    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        return "does not exist"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc})"
    except ValueError:  # a NUL byte in the name
        return "is not a valid file name"
    if stat.S_ISDIR(mode):
        return "is a folder, not a file"
    if not stat.S_ISREG(mode) and not (pipes and stat.S_ISFIFO(mode)):
        return "is not a regular file (a device such as /dev/null, a pipe or a socket)"
    if not os.access(path, os.R_OK):
        return "cannot be read (permission denied)"
    return ""
