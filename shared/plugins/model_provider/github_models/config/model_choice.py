"""Choosing the model ``connect()`` selects: the id checked, looked up in the catalog (the
live one when on), refused or warned about when unknown, and the id to send on the wire.

Loaded at ``connect``, not with the provider (cold start).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError, model_not_found

if TYPE_CHECKING:
    from ..errors import ErrorContext
    from ..models.catalog import Catalog, ModelInfo
    from .settings import Settings

__all__ = ["choose_model"]

logger = logging.getLogger(__name__.rsplit(".", 2)[0])  # the package, installed or not
_warned_models: set[str] = set()


def _shown(settings: Settings, model: str) -> str:
    """``model`` as a log line or an error may quote it: a key pasted as the model (or a
    deployment name holding it) masked."""
    secrets = tuple(s for s in settings.secrets() if s)
    if not secrets:
        return model
    from ..common.masking import SecretMasker

    return SecretMasker(secrets).scrub(model)


def choose_model(settings: Settings, catalog: Callable[[], Catalog], live_catalog: Any, model: str,
                 error_context: Callable[[str], ErrorContext]
                 ) -> tuple[ModelInfo | None, str, str]:
    """The catalog entry of ``model`` (None when unknown), the id as given (stripped), and
    the id to send. ``catalog`` returns the provider's catalog in use.

    Raises:
        ConfigurationError: ``model`` is not a string, empty, or not printable.
        ModelNotFoundError: Unknown id on a GitHub-shaped endpoint (with close matches).
    """
    if model is not None and not isinstance(model, str):
        raise ConfigurationError(what="Selecting a model",
                                 why=f"the model id is {type(model).__name__}, not a string",
                                 fix="pass an id such as 'openai/gpt-4o'", setting="model")
    model = (model or "").strip()
    if not model:
        raise ConfigurationError(what="Selecting a model", why="the model id is empty",
                                 fix="pass an id such as 'openai/gpt-4o'")
    if len(model) > 256 or not model.isprintable():
        raise ConfigurationError(
            what="Selecting a model", why=f"the model id {_shown(settings, model)[:60]!r} is "
            "longer than 256 "
            "characters or holds a line break or control character",
            fix="pass an id such as 'openai/gpt-4o' (or your deployment's name)",
            setting="model")
    info = catalog().get(model)
    if info is None and live_catalog is not None:
        # the background fetch may not have landed yet: ask the live catalog now (it may
        # replace the provider's catalog, so ``catalog`` is asked again)
        live_catalog.current()
        info = catalog().get(model)
    if info is None and settings.profile.matches_deployment_base:
        info = catalog().base_of(model)  # deployment ``my-gpt-4o``: gpt-4o's limits
    if info is None and settings.profile.knows_model_ids:
        raise model_not_found(model, replace(error_context(model),
                                             known_models=tuple(catalog().ids())))
    if info is None and model.lower() not in _warned_models:
        _warned_models.add(model.lower())
        logger.warning("model %r is not in the catalog; sending it as given (its context "
                       "window is unknown: reported as 0, and no reply cap is sent)",
                       _shown(settings, model))
    chosen = info.id if info is not None else model
    return info, model, settings.profile.wire_model_id(chosen, model)
