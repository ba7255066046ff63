"""The module paths earlier docs showed (0.2.0: ``catalog.static_catalog``,
``live_catalog.enable_live_catalog``, ``pricing.UsageCost``, ``env.resolve_settings``,
``clock.ManualClock``) keep working for one minor version after the layering step moved the
modules, each use warning with the new place (docs/public-api.md, deprecation policy)."""

from __future__ import annotations

import importlib
import warnings

import pytest

PKG = "shared.plugins.model_provider.github_models"
OLD = [("catalog", "static_catalog", "models.catalog"),
       ("catalog", "Catalog", "models.catalog"),
       ("live_catalog", "enable_live_catalog", "models.live_catalog"),
       ("pricing", "UsageCost", "models.pricing"),
       ("env", "resolve_settings", "config.env"),
       ("clock", "ManualClock", "common.clock")]


@pytest.mark.parametrize(("old", "name", "new"), OLD, ids=[f"{o}.{n}" for o, n, _ in OLD])
def test_an_old_documented_path_warns_and_gives_the_same_object(old: str, name: str,
                                                                new: str) -> None:
    module = importlib.import_module(f"{PKG}.{old}")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = getattr(module, name)  # what `from ...{old} import {name}` does
    assert value is getattr(importlib.import_module(f"{PKG}.{new}"), name)
    (warning,) = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert f"{PKG}.{new}.{name}" in str(warning.message)
    assert "0.4.0" in str(warning.message)


def test_an_old_module_knows_only_what_it_documented() -> None:
    module = importlib.import_module(f"{PKG}.catalog")
    with pytest.raises(AttributeError):
        module.not_a_name  # noqa: B018


def test_from_import_of_an_old_path_warns() -> None:
    with pytest.warns(DeprecationWarning, match=r"models\.pricing\.UsageCost"):
        from shared.plugins.model_provider.github_models.pricing import (  # noqa: F401
            UsageCost,
        )
