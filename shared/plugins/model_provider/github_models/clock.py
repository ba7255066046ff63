"""Deprecated since 0.3.0: ``clock`` moved to ``common.clock``; this path warns on
each use and goes in 0.4.0 (the names' stable home is the package root, docs/public-api.md)."""

from ._public import deprecated_module

__getattr__ = deprecated_module(__name__, "common.clock", ["ManualClock"])
