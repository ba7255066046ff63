"""Lazy public names and the deprecation path, for a package ``__init__``'s ``__getattr__``.

A package's documented names can live in modules that cost time to import (the provider, the
catalog). ``LazyNames`` resolves them on first access, so importing the package stays cheap
(``load_provider``'s cold start), and it carries the project's deprecation policy: a documented
name that moved keeps working from its old place for one minor version, with a
``DeprecationWarning`` that names the new place and the version that removes the old one.

Use it from a package ``__init__`` (docs/public-api.md)::

    _names = LazyNames(__name__, lazy={"static_catalog": ".catalog:static_catalog"},
                       moved={"old_name": Moved("jaato_github_models.models.catalog:static_catalog",
                                                removed_in="0.4.0")})

    def __getattr__(name: str) -> Any:
        return _names.resolve(name)

Targets are ``module:attribute``; a module starting with ``.`` is relative to the package.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["REMOVED_IN", "LazyNames", "Moved", "deprecated_module"]

REMOVED_IN = "0.4.0"
"""The release that drops the module paths the 0.3.0 layering step moved (catalog, env ...)."""


@dataclass(frozen=True)
class Moved:
    """A documented name's new place (``module:attribute``) and the release that drops the old."""

    target: str
    removed_in: str


def _split(target: str) -> tuple[str, str]:
    module, sep, attribute = target.partition(":")
    if not sep or not module or not attribute:
        raise ValueError(f"a lazy target is 'module:attribute', got {target!r}: write it so")
    return module, attribute


class LazyNames:
    """Resolves a package's lazy and moved names; ``resolve`` is its ``__getattr__``'s body."""

    def __init__(self, package: str, lazy: Mapping[str, str] | None = None,
                 moved: Mapping[str, Moved] | None = None) -> None:
        """Check every target's form now (a typo fails at import, not at a user's first use).

        Raises:
            ValueError: a target is not ``module:attribute``, or a name is both lazy and moved.
        """
        self.package = package
        self.lazy = {name: _split(target) for name, target in (lazy or {}).items()}
        self.moved = dict(moved or {})
        for name, where in self.moved.items():
            _split(where.target)
            if name in self.lazy:
                raise ValueError(f"{name!r} is listed as both lazy and moved in {package}: "
                                 "a moved name keeps only its deprecation entry")

    def _load(self, module: str, attribute: str) -> Any:
        absolute = importlib.import_module(module, self.package if module.startswith(".")
                                           else None)
        return getattr(absolute, attribute)

    def resolve(self, name: str) -> Any:
        """The value of ``name``: imported on first use; a moved name warns, naming its new place.

        Raises:
            AttributeError: the package has no such name (as a plain attribute lookup would).
        """
        if name in self.lazy:
            value = self._load(*self.lazy[name])
            setattr(sys.modules[self.package], name, value)  # later lookups skip __getattr__
            return value
        if name in self.moved:
            where = self.moved[name]
            module, attribute = _split(where.target)
            new_place = f"{module}.{attribute}" if not module.startswith(".") else (
                f"{self.package}{module}.{attribute}")
            warnings.warn(
                f"{self.package}.{name} has moved to {new_place}: import it from there; "
                f"the old place stops working in {where.removed_in} (docs/public-api.md, "
                "deprecation policy)", DeprecationWarning, stacklevel=3)
            return self._load(module, attribute)  # not cached: every use from here warns
        raise AttributeError(f"module {self.package!r} has no attribute {name!r}")

    def names(self) -> list[str]:
        """Every lazy name (for ``__dir__``); moved names are left out, as deprecated."""
        return sorted(self.lazy)


def deprecated_module(module: str, new_home: str, names: Iterable[str],
                      removed_in: str = REMOVED_IN) -> Callable[[str], Any]:
    """The ``__getattr__`` of an old module path whose documented ``names`` moved to
    ``new_home`` (relative to the package, e.g. ``"models.catalog"``): each use warns.

    Raises:
        ValueError: ``new_home`` or a name is empty (checked when the old module loads).
    """
    package = module.rpartition(".")[0]
    names = tuple(names)
    if not new_home or not names or not all(names):
        raise ValueError(f"{module}: a moved module needs its new home and the names it "
                         f"documented, got {new_home!r}, {list(names)!r}: name both")
    resolver = LazyNames(module, moved={
        name: Moved(f"{package}.{new_home}:{name}", removed_in) for name in names})

    def __getattr__(name: str) -> Any:
        """A documented name of the old module, with a warning naming its new place.

        Raises:
            AttributeError: not a name this module ever documented.
        """
        return resolver.resolve(name)

    return __getattr__
