"""A hostile endpoint's catalog: what the live catalog keeps in memory and on disk is bounded,
of the expected shape, and holds no credential (over real HTTP against the emulator)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from shared import ProviderConfig
from shared.plugins.model_provider.github_models import GitHubModelsProvider
from shared.plugins.model_provider.github_models.emulator import Emulator
from shared.plugins.model_provider.github_models.models.catalog_entries import (
    MAX_CATALOG_BYTES,
    MAX_ENTRIES,
)
from shared.plugins.model_provider.github_models.models.live_catalog import (
    LiveCatalog,
    enable_live_catalog,
)

from .conftest import TEST_TOKEN

BODY = TEST_TOKEN[len("github_pat_"):]
OTHER_TOKEN = "ghp_" + "Zq7wXk2mPv9LrT4sNb6YcH8dJf3GuA5eQo1i"  # token-shaped, not ours


def leaks(text: str) -> list[str]:
    """Any 12 characters in a row of either token's secret part."""
    return [s[i:i + 12] for s in (BODY, OTHER_TOKEN[4:]) for i in range(len(s) - 11)
            if s[i:i + 12] in text]


def hostile_catalog() -> list[Any]:
    return [
        {"id": "openai/gpt-4o", "name": f"GPT-4o {TEST_TOKEN}", "publisher": "openai",
         "summary": "x" * 100_000, "rate_limit_tier": "high", "tags": [TEST_TOKEN[:30]],
         "supported_input_modalities": ["text", "image"],
         "supported_output_modalities": ["text"], "capabilities": ["streaming", "tool-calling"],
         "limits": {"max_input_tokens": 131072, "max_output_tokens": 16384,
                    "echo": TEST_TOKEN},
         "html_url": f"https://example.invalid/m?token={OTHER_TOKEN}",
         "debug": {"authorization": f"Bearer {TEST_TOKEN}"}},
        {"id": f"evil/{TEST_TOKEN}", "name": "an id holding the token"},
        {"id": f"evil/{OTHER_TOKEN}", "name": "an id holding a token"},
        {"id": "evil/bad id with spaces"},
        "not an entry", 42, None, {"id": 7}, {"name": "no id"},
        *({"id": f"junk/model-{i}", "name": "y" * 500, "tags": ["z" * 60] * 30}
          for i in range(4000)),
    ]


def test_a_hostile_catalog_is_kept_bounded_shaped_and_without_the_token(tmp_path: Path) -> None:
    cache = tmp_path / "catalog.json"
    with Emulator(catalog=hostile_catalog()) as emu:
        provider = GitHubModelsProvider()
        provider.initialize(ProviderConfig(api_key=TEST_TOKEN, extra={
            "endpoint": emu.inference_url, "pacing": False, "timeout": 20}))
        try:
            live = enable_live_catalog(provider, cache_path=cache)
            assert live.source == "live"
            catalog = provider.catalog
            shown = "\n".join([repr(catalog.to_api_entries(include_private=True)),
                               repr(list(catalog)), repr(provider.list_models())])
        finally:
            provider.shutdown()

    text = cache.read_text("utf-8")
    assert leaks(text) == [] and leaks(shown) == []
    assert len(text) <= MAX_CATALOG_BYTES + 1024  # entries under the cap, plus the envelope
    entries = json.loads(text)["entries"]
    assert 0 < len(entries) <= MAX_ENTRIES
    ids = [e["id"] for e in entries]
    assert ids[0] == "openai/gpt-4o" and not [i for i in ids if i.startswith("evil/")]
    first = entries[0]
    assert "debug" not in first and "summary" not in first  # unknown key, oversized text
    assert first["limits"] == {"max_input_tokens": 131072, "max_output_tokens": 16384}
    assert first["name"] == "GPT-4o github_pat_…"
    gpt = catalog.require("openai/gpt-4o")
    assert gpt.max_input_tokens == 131072 and gpt.supports_images and gpt.supports_tools

    # another process reading the cache gets the same cleaned catalog, without a fetch
    again = LiveCatalog(lambda: [], url=live.url, cache_path=cache)
    assert again.current().require("openai/gpt-4o").name == "GPT-4o github_pat_…"
    assert again.fetches == 0


def test_a_cache_file_from_before_the_cleaning_is_not_trusted(tmp_path: Path) -> None:
    cache = tmp_path / "catalog.json"
    # written by an earlier version, which kept the answer verbatim, a minute ago (fresh)
    entries = [{"id": "openai/gpt-4o", "name": TEST_TOKEN}]
    cache.write_text(json.dumps({"version": 1, "url": "u", "fetched_at": time.time() - 60,
                                 "entries": entries}))
    live = LiveCatalog(lambda: [{"id": "openai/gpt-4o", "name": "fresh"}], url="u",
                       cache_path=cache)
    assert live.current().require("openai/gpt-4o").name == "fresh"
    assert leaks(cache.read_text("utf-8")) == []


# ---- a tampered cache file never breaks current() or `models --live` -------------------------

DEEP = ('{"version": 2, "url": "u", "fetched_at": 1, "entries": ' + "[" * 100_000
        + "]" * 100_000 + "}")
TAMPERED: list[str | bytes] = [DEEP, b"\xff\xfe not UTF-8",
            '{"version": 2, "url": "u", "fetched_at": ' + "9" * 5000 + ', "entries": []}',
            '{"version": 2, "url": "u", "fetched_at": "inf", "entries": [{"id": {}}]}',
            '{"version": 2, "url": "u", "fetched_at": 1, "entries": [[["x"]], 5, null]}',
            '[1, 2, 3]', '{"version": 2, "url": "u", "fetched_at": null, "entries": {}}']


def test_a_tampered_cache_file_never_breaks_current(tmp_path: Path) -> None:
    def offline() -> Any:
        raise OSError("offline")

    for i, text in enumerate(TAMPERED):
        cache = tmp_path / f"catalog-{i}.json"
        cache.write_bytes(text if isinstance(text, bytes) else text.encode())
        for fetch in (offline, lambda: [{"id": "openai/gpt-4o", "name": "fresh"}]):
            live = LiveCatalog(fetch, url="u", cache_path=cache)
            assert len(live.current()) > 0, text[:60]  # type: ignore[index]


def test_a_fifo_or_folder_as_the_cache_never_blocks(tmp_path: Path) -> None:
    import os
    import threading

    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    folder = tmp_path / "folder.json"
    folder.mkdir()
    for cache in (fifo, folder):
        live = LiveCatalog(lambda: (_ for _ in ()).throw(OSError("offline")), url="u",
                           cache_path=cache)
        done = threading.Event()
        result: list[Any] = []

        def ask(live: LiveCatalog = live, result: list[Any] = result,
                done: threading.Event = done) -> None:
            result.append(live.current())
            done.set()

        threading.Thread(target=ask, daemon=True).start()
        if not done.wait(5):
            with open(fifo, "wb"):  # release the blocked reader, then fail
                pass
            raise AssertionError(f"current() blocked on {cache}")
        assert result and live.source == "fallback"


def test_models_live_survives_a_tampered_cache(tmp_path: Path, emulator: Any) -> None:
    from .test_cli import cli_env, run_cli

    env = cli_env(tmp_path, emulator.inference_url)
    first = run_cli(tmp_path, "models", "--live", "--json", env=env)
    assert first.returncode == 0, first.stderr
    (cache,) = (tmp_path / "cache").rglob("catalog-*.json")
    cache.write_text(DEEP.replace('"url": "u"', json.dumps({"url": json.loads(
        cache.read_text("utf-8"))["url"]})[1:-1]), "utf-8")
    again = run_cli(tmp_path, "models", "--live", env=env)
    assert again.returncode == 0, again.stderr
    assert "Traceback" not in again.stderr and "openai/gpt-4o" in again.stdout
