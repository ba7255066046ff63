"""Deprecated since 0.3.0: ``env`` moved to ``config.env`` (the layering step); this module
goes in 0.4.0. The names earlier docs showed here still resolve, with a ``DeprecationWarning``
naming the new place; the stable home of each is the package root (docs/public-api.md)."""

from __future__ import annotations

from typing import Any

from ._public import REMOVED_IN, LazyNames, Moved

_PKG = __package__

_NAMES = LazyNames(__name__, moved={
    "resolve_settings": Moved(f"{_PKG}.config.env:resolve_settings", REMOVED_IN),
})


def __getattr__(name: str) -> Any:
    """A documented name of the old ``env`` module, with a warning naming its new place.

    Raises:
        AttributeError: not a name this module ever documented.
    """
    return _NAMES.resolve(name)
