"""Finding and loading model providers by name.

Providers are found in two places, merged by name as jaato-server merges them (the folder
wins, so a provider folder dropped into the framework overrides an installed one):

1. the entry-point group ``jaato.model_providers`` (installed distributions), and
2. the sub-packages of this folder that expose ``create_provider`` (use from a checkout).

``load_provider(name)`` looks in the folder first and reads the entry points only when the
folder has no such provider: a folder hit would win anyway, and the entry-point scan
(``importlib.metadata``) is most of the cost of loading a provider in a fresh interpreter.

A provider that fails to import is not skipped: it is listed, with its error, by
:func:`discovery_errors`, logged once, and loading it raises :class:`ProviderLoadError`
chained to the original exception.
"""

from __future__ import annotations

import importlib
import logging
import os
import pkgutil
from collections.abc import Callable, Mapping
from typing import Any

from .base import ModelProviderPlugin, ProviderConfig

__all__ = [
    "ENTRY_POINT_GROUP",
    "PROVIDER_ENV_VAR",
    "ProviderLoadError",
    "ProviderNotFoundError",
    "discover_providers",
    "discovery_errors",
    "load_provider",
]

ENTRY_POINT_GROUP = "jaato.model_providers"
PROVIDER_ENV_VAR = "JAATO_MODEL_PROVIDER"

ProviderFactory = Callable[..., Any]

logger = logging.getLogger(__name__)
_errors: dict[str, BaseException] = {}
_reported: set[str] = set()


class ProviderNotFoundError(LookupError):
    """No provider is registered under the requested name."""


class ProviderLoadError(ImportError):
    """A provider is registered but could not be imported or created."""


def _record_failure(name: str, source: str, exc: BaseException) -> None:
    _errors[name] = exc
    if name not in _reported:
        _reported.add(name)
        logger.warning("model provider %r (%s) failed to load: %s: %s",
                       name, source, type(exc).__name__, exc)


def _failing_factory(name: str, source: str, exc: BaseException) -> ProviderFactory:
    def factory(*_args: Any, **_kwargs: Any) -> Any:
        raise ProviderLoadError(
            f"Model provider {name!r} is registered ({source}) but failed to import: "
            f"{type(exc).__name__}: {exc}. Fix or reinstall the package that provides it."
        ) from exc
    return factory


def _from_entry_points() -> dict[str, ProviderFactory]:
    from importlib.metadata import entry_points  # ~17 ms: only when providers are looked up

    found: dict[str, ProviderFactory] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in found:
            continue
        try:
            found[ep.name] = ep.load()
        except Exception as exc:  # any import-time failure is reported, not hidden
            _record_failure(ep.name, f"entry point {ep.value}", exc)
            found[ep.name] = _failing_factory(ep.name, f"entry point {ep.value}", exc)
    return found


def _folder_names() -> list[str]:
    folder = os.path.dirname(os.path.realpath(__file__))
    return [info.name for info in pkgutil.iter_modules([str(folder)])
            if info.ispkg and not info.name.startswith("_")]


def _from_folder_module(name: str) -> ProviderFactory | None:
    module_name = f"{__package__}.{name}"
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:
        _record_failure(name, f"module {module_name}", exc)
        return _failing_factory(name, f"module {module_name}", exc)
    factory = getattr(module, "create_provider", None)
    return factory if callable(factory) else None


def _from_folder() -> dict[str, ProviderFactory]:
    found: dict[str, ProviderFactory] = {}
    for name in _folder_names():
        factory = _from_folder_module(name)
        if factory is not None:
            found[name] = factory
    return found


def discover_providers() -> dict[str, ProviderFactory]:
    """Return every known provider factory by name.

    Returns:
        A new dict ``name -> factory``; the folder scan wins over entry points of the same name.
    """
    providers = _from_entry_points()
    providers.update(_from_folder())
    return dict(sorted(providers.items()))


def _find(name: str) -> tuple[ProviderFactory | None, dict[str, ProviderFactory] | None]:
    """The factory named ``name`` (folder first), and everything found when it took a scan."""
    if name in _folder_names():
        factory = _from_folder_module(name)
        if factory is not None:
            return factory, None
    providers = discover_providers()
    return providers.get(name), providers


def discovery_errors() -> dict[str, BaseException]:
    """Providers that failed to import during the last discovery, with their exceptions."""
    return dict(_errors)


def load_provider(
    name: str | None = None,
    config: ProviderConfig | None = None,
    *,
    environ: Mapping[str, str] | None = None,
) -> ModelProviderPlugin:
    """Create a provider by name, initialized when ``config`` is given.

    Args:
        name: Registry name (``"github_models"``). When None, ``JAATO_MODEL_PROVIDER`` is read
            from ``environ`` (default ``os.environ``) so agent code swaps providers by config.
        config: When given, ``provider.initialize(config)`` is called before returning.
        environ: Mapping read instead of ``os.environ`` (for tests).

    Raises:
        ProviderNotFoundError: No name was given or found; the message lists known names.
        ProviderLoadError: The provider is registered but failed to import or construct.
        Exception: Whatever the provider's ``initialize`` raises for a bad config.
    """
    env = os.environ if environ is None else environ
    chosen = name or env.get(PROVIDER_ENV_VAR, "").strip()
    if not chosen:
        available = ", ".join(discover_providers()) or "(none)"
        raise ProviderNotFoundError(
            f"No model provider named: load_provider() got no name and {PROVIDER_ENV_VAR} "
            f"is not set. Pass a name or set {PROVIDER_ENV_VAR}; available: {available}."
        )
    factory, providers = _find(chosen)
    if factory is None:
        available = ", ".join(providers or discover_providers()) or "(none)"
        raise ProviderNotFoundError(
            f"Unknown model provider {chosen!r}: checked entry points in group "
            f"{ENTRY_POINT_GROUP!r} and the folder {os.path.dirname(__file__)}. "
            f"Available: {available}. Install the provider's package or fix the name."
        )
    try:
        provider = factory()
    except ProviderLoadError:
        raise
    except Exception as exc:
        raise ProviderLoadError(
            f"Model provider {chosen!r} could not be created: {type(exc).__name__}: {exc}"
        ) from exc
    if config is not None:
        provider.initialize(config)
    return provider  # type: ignore[no-any-return]
