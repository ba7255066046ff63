"""The one sanitiser for URLs shown to people: no user info, query or fragment (each can hold a
key), IPv6 brackets kept. It works on URLs that do not parse, so an error about an *invalid*
endpoint can quote it safely. Standard library only (errors.py imports it).
"""

from __future__ import annotations

import re

__all__ = ["strip_url_secrets", "url_shown_with_password_mark"]

# scheme? //? authority path ; the query and fragment are never matched (hence never kept)
_URL_RE = re.compile(
    r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*:)?(?P<slashes>//)?(?P<authority>[^/?#]*)"
    r"(?P<path>[^?#]*)", re.DOTALL)


def strip_url_secrets(url: object) -> str:
    """``url`` without user info, query and fragment; never raises.

    ``http://user:pw@[::1]:8080/x?key=k#f`` -> ``http://[::1]:8080/x``. Scheme and host are
    lower-cased; anything after the last ``@`` of the authority is the host. Text that is not a
    URL at all is returned without its query-like and credential-like parts the same way.

    Args:
        url: The URL as configured (any object: it is shown with ``str``).

    Returns:
        The URL safe to show in a message, a log line or the CLI.
    """
    text = str(url).strip()
    match = _URL_RE.match(text)
    if match is None:  # pragma: no cover - the pattern matches every string
        return ""
    scheme = (match["scheme"] or "").lower()
    slashes = match["slashes"] or ""
    if not slashes and "@" in match["authority"]:  # 'user:pw@host': 'user:' is no scheme
        scheme = ""
    authority, path = match["authority"], match["path"]
    if slashes and "@" in text[match.end("slashes"):]:
        # a password may hold an unencoded '/', '?' or '#' ('user:p/w@host'): everything up to
        # the last '@' is user info, whatever it contains (an '@' in a path costs the host)
        rest = text[match.end("slashes"):].rpartition("@")[2]
        tail = _URL_RE.match("//" + rest)
        authority, path = (tail["authority"], tail["path"]) if tail else ("", "")
    authority = authority.rpartition("@")[2].lower()
    path = path.split(";", 1)[0]  # ';key=...' path parameters can carry a key too
    return f"{scheme}{slashes}{authority}{path}"


def url_shown_with_password_mark(text: str) -> str:
    """``strip_url_secrets(text)`` with ``:***@`` after the scheme where the URL held a secret
    (user info, a query or a fragment: a password can hide in any): a store URL as shown."""
    shown = strip_url_secrets(text)
    scheme, sep, rest = shown.partition("://")
    had_secret = "@" in text or "?" in text or "#" in text
    return f"{scheme}://:***@{rest}" if sep and had_secret else shown
