"""Deprecated since 0.3.0: ``live_catalog`` moved to ``models.live_catalog`` (the layering
step); this module goes in 0.4.0. The names earlier docs showed here still resolve, with a
``DeprecationWarning`` naming the new place; the stable home of each is the package root
(docs/public-api.md)."""

from __future__ import annotations

from typing import Any

from ._public import REMOVED_IN, LazyNames, Moved

_PKG = __package__

_NAMES = LazyNames(__name__, moved={
    "enable_live_catalog": Moved(f"{_PKG}.models.live_catalog:enable_live_catalog", REMOVED_IN),
    "LiveCatalog": Moved(f"{_PKG}.models.live_catalog:LiveCatalog", REMOVED_IN),
})


def __getattr__(name: str) -> Any:
    """A documented name of the old ``live_catalog`` module, with a warning naming its new place.

    Raises:
        AttributeError: not a name this module ever documented.
    """
    return _NAMES.resolve(name)
