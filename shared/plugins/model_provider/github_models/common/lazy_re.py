"""Regular expressions compiled at their first use, not at import (cold start: the error
tables hold about forty, and most processes never read a failure response)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

__all__ = ["LazyPattern"]


class LazyPattern:
    """``re.compile(pattern, flags)``, done on the first match, then kept.

    Args:
        pattern: The regular expression.
        flags: ``re`` flags.
    """

    __slots__ = ("_compiled", "_flags", "_pattern")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._pattern = pattern
        self._flags = flags
        self._compiled: re.Pattern[str] | None = None

    @property
    def compiled(self) -> re.Pattern[str]:
        """The compiled pattern (compiled now if it was not yet)."""
        if self._compiled is None:
            self._compiled = re.compile(self._pattern, self._flags)
        return self._compiled

    def search(self, text: str) -> re.Match[str] | None:
        """``re.Pattern.search``."""
        return self.compiled.search(text)

    def match(self, text: str) -> re.Match[str] | None:
        """``re.Pattern.match``."""
        return self.compiled.match(text)

    def findall(self, text: str) -> list[str]:
        """``re.Pattern.findall`` (patterns with one group: the group's texts)."""
        found: list[str] = self.compiled.findall(text)
        return found

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        """``re.Pattern.finditer``."""
        return self.compiled.finditer(text)

    def sub(self, replacement: str | Callable[[re.Match[str]], str], text: str) -> str:
        """``re.Pattern.sub``."""
        return self.compiled.sub(replacement, text)

    def __repr__(self) -> str:
        return f"LazyPattern({self._pattern!r}, {self._flags!r})"
