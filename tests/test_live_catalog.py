"""The live catalog against the emulator: TTL, disk cache across instances, fallbacks."""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any

import pytest

from shared.plugins.model_provider.github_models.common.clock import ManualClock
from shared.plugins.model_provider.github_models.errors import (
    ConfigurationError,
    ServiceRetiredError,
)
from shared.plugins.model_provider.github_models.models.catalog import (
    MAX_COMPLETION_TOKENS,
    static_catalog,
)
from shared.plugins.model_provider.github_models.models.live_catalog import (
    LiveCatalog,
    default_cache_path,
    enable_live_catalog,
)

from .conftest import TEST_TOKEN


def catalog_gets(emulator: Any) -> int:
    return sum(r.path == "/catalog/models" for r in emulator.requests)


@pytest.fixture
def provider(make_provider: Any) -> Any:
    return make_provider("openai/gpt-4o")


def make_live(provider: Any, tmp_path: Path, clock: ManualClock, **kw: Any) -> LiveCatalog:
    return LiveCatalog(provider.fetch_catalog_entries, ttl=60, url=provider.settings.catalog_url,
                       cache_path=tmp_path / "catalog.json", clock=clock, **kw)


def test_fetches_once_within_ttl_then_again_after_expiry(provider: Any, emulator: Any,
                                                         tmp_path: Path) -> None:
    clock = ManualClock(1000)
    live = make_live(provider, tmp_path, clock)
    catalog = live.current()
    assert live.source == "live" and catalog_gets(emulator) == 1
    assert catalog.source == f"live model catalog ({emulator.url}/catalog/models)"
    # The emulator strips our x_ keys; the static catalog's traits and prices fill them.
    o1 = catalog.require("openai/o1")
    assert o1.token_param == MAX_COMPLETION_TOKENS and not o1.supports_temperature
    assert catalog.require("openai/gpt-4o").pricing == static_catalog().require(
        "openai/gpt-4o").pricing
    clock.advance(59)
    assert live.current() is catalog and live.source == "memory"
    assert catalog_gets(emulator) == 1
    clock.advance(2)  # 61 s: expired
    assert live.current() is not catalog and live.source == "live"
    assert catalog_gets(emulator) == 2


def test_disk_cache_is_reused_across_instances(provider: Any, emulator: Any,
                                              tmp_path: Path) -> None:
    clock = ManualClock(5000)
    make_live(provider, tmp_path, clock).current()
    calls: list[int] = []

    def must_not_fetch() -> list[dict[str, Any]]:
        calls.append(1)
        raise AssertionError("fetched although the disk cache is fresh")

    second = LiveCatalog(must_not_fetch, ttl=60, url=provider.settings.catalog_url,
                         cache_path=tmp_path / "catalog.json", clock=clock)
    assert len(second.current()) == len(static_catalog())
    assert second.source == "disk cache" and calls == [] and catalog_gets(emulator) == 1
    data = json.loads((tmp_path / "catalog.json").read_text())
    assert set(data) == {"version", "url", "fetched_at", "entries"}
    assert TEST_TOKEN not in (tmp_path / "catalog.json").read_text()
    clock.advance(60)
    third = make_live(provider, tmp_path, clock)
    third.current()
    assert third.source == "live" and catalog_gets(emulator) == 2  # stale file: refetched
    other_url = LiveCatalog(must_not_fetch, url="http://elsewhere/catalog/models",
                            cache_path=tmp_path / "catalog.json", clock=clock)
    assert other_url.current() is other_url.fallback  # a file for another URL is not used


def test_retired_service_falls_back_to_static_with_one_warning(
        provider: Any, emulator: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    emulator.set_mode("retired")
    clock = ManualClock()
    live = make_live(provider, tmp_path, clock, retry_after=30)
    with caplog.at_level(logging.WARNING):
        assert live.current() is static_catalog()
        assert live.current() is static_catalog()
        clock.advance(31)  # retried after retry_after, still failing: no second warning
        assert live.current() is static_catalog()
    assert live.source == "fallback" and isinstance(live.last_error, ServiceRetiredError)
    assert catalog_gets(emulator) == 2
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].startswith("could not fetch the live model catalog; using the static "
                                  "model catalog. Catalog request to ")
    assert "retired on 2026-07-30" in warnings[0]


def test_stale_disk_cache_beats_static_when_the_fetch_fails(provider: Any, emulator: Any,
                                                            tmp_path: Path) -> None:
    clock = ManualClock()
    make_live(provider, tmp_path, clock).current()
    emulator.set_mode("retired")
    clock.advance(3600)
    later = make_live(provider, tmp_path, clock)
    catalog = later.current()
    assert later.source == "stale cache" and catalog is not static_catalog()
    assert catalog.source.startswith("cached model catalog")
    assert isinstance(later.last_error, ServiceRetiredError)


def test_force_refresh_background_and_thread_safety(provider: Any, emulator: Any,
                                                    tmp_path: Path) -> None:
    updates: list[Any] = []
    live = make_live(provider, tmp_path, ManualClock(), on_update=updates.append)
    live.current()
    live.refresh()  # fresh: no fetch
    assert catalog_gets(emulator) == 1
    live.refresh(force=True)
    assert catalog_gets(emulator) == 2
    live.refresh_in_background().join(10)
    assert catalog_gets(emulator) == 3 and len(updates) == 3
    fresh = make_live(provider, tmp_path / "other", ManualClock())
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(len(fresh.current())))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert results == [len(static_catalog())] * 8
    assert catalog_gets(emulator) == 4  # eight callers, one fetch


def test_unusable_answers_and_files_fall_back(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text("{not json")
    live = LiveCatalog(lambda: [], cache_path=path, clock=ManualClock())
    assert live.current() is live.fallback and isinstance(live.last_error, ValueError)
    junk = LiveCatalog(lambda: [{"no": "id"}], disk_cache=False, clock=ManualClock())
    assert junk.current() is junk.fallback and junk.cache_path is None
    with pytest.raises(ValueError, match="ttl"):
        LiveCatalog(lambda: [], ttl=-1)


def test_default_cache_path_is_per_url_under_xdg_cache_home(tmp_path: Path) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path)}
    a = default_cache_path("https://ghes.example/api/catalog/models", env)
    b = default_cache_path("http://127.0.0.1:1/catalog/models", env)
    assert a.parent == tmp_path / "jaato-github-models" and a != b
    assert a.name.startswith("catalog-") and a.suffix == ".json"
    assert default_cache_path(None, {}).parts[-3:-1] == (".cache", "jaato-github-models")


def test_enable_live_catalog_wires_the_provider(provider: Any, emulator: Any, tmp_path: Path,
                                                make_provider: Any) -> None:
    live = enable_live_catalog(provider, cache_path=tmp_path / "c.json")
    assert provider.catalog is live.current() and live.source in ("live", "memory")
    assert provider.catalog.source.startswith("live model catalog")
    provider.connect("openai/gpt-4.1")
    assert provider.send_message("hi").text == "Echo: hi"
    background = make_provider("openai/gpt-4o")
    live_bg = enable_live_catalog(background, cache_path=tmp_path / "bg.json", background=True)
    live_bg.refresh_in_background().join(10)
    assert background.catalog.source.startswith("live model catalog")
    # An endpoint without a catalog (Foundry, gateways): the static catalog, one warning.
    foundry = make_provider("openai/gpt-4o", endpoint=emulator.url + "/models")
    live_f = enable_live_catalog(foundry, disk_cache=False)
    assert foundry.catalog is static_catalog()
    assert isinstance(live_f.last_error, ConfigurationError)
