"""Deprecated since 0.3.0: ``env`` moved to ``config.env``; this path warns on
each use and goes in 0.4.0 (the names' stable home is the package root, docs/public-api.md)."""

from ._public import deprecated_module

__getattr__ = deprecated_module(__name__, "config.env", ["resolve_settings"])
