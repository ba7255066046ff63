"""The endpoint's live model catalog, cached in memory and on disk, with a safe fallback.

The static catalog (shipped with the package) stays the default. A :class:`LiveCatalog` is opt-in:
it fetches ``GET {prefix}/catalog/models`` through a callable (normally
``provider.fetch_catalog_entries``), merges each entry with the static catalog so that entries
without our private ``x_`` keys still get their traits and pricing (``Catalog.from_api(...,
fallback=...)``), and keeps the result:

1. in memory, for ``ttl`` seconds;
2. on disk, in ``$XDG_CACHE_HOME/jaato-github-models/catalog-<hash of the catalog URL>.json``
   (``~/.cache/...`` without ``XDG_CACHE_HOME``), so other processes reuse it within the TTL.
   The file holds the URL, the fetch time and the entries as ``catalog_entries.clean_entries``
   keeps them (the expected fields and types, bounded in size, credentials masked): never a
   token, never the endpoint's answer verbatim;
3. when a fetch fails (offline, the retired service's 410, bad credentials, a non-GitHub endpoint
   without a catalog), the stale memory or disk copy is served, else the fallback (static)
   catalog, with one warning per failure streak; fetches are not retried for ``retry_after``
   seconds so a dead endpoint does not cost a timeout on every lookup.

``enable_live_catalog(provider)`` wires one to a provider (``provider.set_catalog``)::

    live = enable_live_catalog(provider, ttl=3600)
    provider.connect("openai/gpt-4.1")
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..common.clock import Clock, MonotonicClock
from .catalog import Catalog, static_catalog
from .catalog_entries import MAX_CATALOG_BYTES, clean_entries

__all__ = [
    "CACHE_DIR_NAME",
    "LiveCatalog",
    "WallClock",
    "default_cache_path",
    "enable_live_catalog",
]

logger = logging.getLogger(__name__.rsplit(".", 2)[0])  # the package, installed or not

CACHE_DIR_NAME = "jaato-github-models"
_FILE_VERSION = 2  # 1 held the answer verbatim: such a file is ignored, then replaced


class WallClock(MonotonicClock):
    """Wall-clock seconds (``time.time``): cache ages must survive the process, unlike
    monotonic time. Sleeps are real, as in :class:`MonotonicClock`."""

    def now(self) -> float:
        """Seconds since the epoch."""
        return time.time()


def default_cache_path(url: str | None, environ: Mapping[str, str] | None = None) -> Path:
    """Where the catalog of ``url`` is cached: ``<cache dir>/catalog-<sha256(url)[:16]>.json``.

    Args:
        url: The catalog URL (only its hash is used in the name).
        environ: Read for ``XDG_CACHE_HOME`` (default ``os.environ``).
    """
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    digest = hashlib.sha256((url or "default").encode("utf-8")).hexdigest()[:16]
    return Path(base).expanduser() / CACHE_DIR_NAME / f"catalog-{digest}.json"


@dataclass(frozen=True, slots=True)
class _Snapshot:
    catalog: Catalog
    fetched_at: float
    origin: str  # "live", "disk"


class _Provider(Protocol):
    """What ``enable_live_catalog`` needs from a provider."""

    @property
    def catalog(self) -> Catalog: ...

    def fetch_catalog_entries(self) -> list[dict[str, Any]]: ...

    def set_catalog(self, catalog: Catalog) -> None: ...


class LiveCatalog:
    """A catalog fetched from the endpoint, cached with a TTL, never failing (thread-safe).

    Args:
        fetch: Returns the API-format entries (raises on failure).
        ttl: Seconds a fetched catalog stays fresh (memory and disk).
        cache_path: The disk cache file; default :func:`default_cache_path` of ``url``.
        disk_cache: False keeps the catalog in memory only.
        url: The catalog URL, naming the default cache file and checked when reading it.
        clock: Time source for ages (default wall-clock time; tests pass a ``ManualClock``).
        fallback: Served when nothing was ever fetched (default: the static catalog); it also
            fills what live entries lack.
        retry_after: Seconds between fetch attempts after a failure (default ``min(ttl, 300)``).
        on_update: Called with each newly fetched catalog (e.g. ``provider.set_catalog``).
        secrets: Returns the credentials whose echoes are masked in what is kept (the key,
            Entra tokens); anything shaped like a token is masked in any case.
    """

    def __init__(
        self,
        fetch: Callable[[], list[dict[str, Any]]],
        *,
        ttl: float = 3600,
        cache_path: Path | None = None,
        disk_cache: bool = True,
        url: str | None = None,
        clock: Clock | None = None,
        fallback: Catalog | None = None,
        retry_after: float | None = None,
        on_update: Callable[[Catalog], None] | None = None,
        secrets: Callable[[], Iterable[str | None]] | None = None,
    ) -> None:
        if ttl < 0:
            raise ValueError(f"ttl must be >= 0 seconds, got {ttl!r}")
        self._fetch = fetch
        self.ttl = float(ttl)
        self.url = url
        self.cache_path: Path | None = (
            (cache_path or default_cache_path(url)) if disk_cache else None)
        self._clock: Clock = clock or WallClock()
        self.fallback = fallback if fallback is not None else static_catalog()
        self.retry_after = min(self.ttl, 300.0) if retry_after is None else float(retry_after)
        self._on_update = on_update
        self._secrets = secrets
        self._lock = threading.Lock()  # guards the fields below
        self._fetch_lock = threading.Lock()  # one fetch at a time
        self._snapshot: _Snapshot | None = None
        self._failed_at: float | None = None
        self._warned = False
        self._thread: threading.Thread | None = None
        self.last_error: BaseException | None = None
        self.source = "fallback"  # where the last answer came from
        self.fetches = 0

    def __repr__(self) -> str:
        return f"LiveCatalog(url={self.url!r}, ttl={self.ttl:g}, source={self.source!r})"

    # -- public API ----------------------------------------------------------------------

    def current(self) -> Catalog:
        """The freshest catalog available without failing: memory, disk, fetch, stale, fallback.

        Never raises: a failed fetch is logged once and answered from the stale copy or the
        fallback (see ``last_error`` and ``source``).
        """
        fresh = self._fresh_snapshot()
        if fresh is not None:
            return fresh
        return self._refresh(force=False)

    def refresh(self, force: bool = False) -> Catalog:
        """Fetch now when stale (always with ``force``); same fallbacks as ``current``."""
        if not force:
            return self.current()
        return self._refresh(force=True)

    def refresh_in_background(self) -> threading.Thread:
        """Start (or join) a daemon thread that fetches now; ``on_update`` gets the result."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return self._thread
            thread = threading.Thread(target=self._background, name="live-catalog-refresh",
                                      daemon=True)
            self._thread = thread
        thread.start()
        return thread

    def stale(self) -> Catalog:
        """What is at hand without any fetch: memory, then disk (any age), then the fallback."""
        with self._lock:
            snap = self._snapshot
        snap = snap or self._read_disk()
        return snap.catalog if snap is not None else self.fallback

    # -- internals -----------------------------------------------------------------------

    def _is_fresh(self, snap: _Snapshot, now: float) -> bool:
        return 0 <= now - snap.fetched_at < self.ttl

    def _fresh_snapshot(self) -> Catalog | None:
        now = self._clock.now()
        with self._lock:
            snap = self._snapshot
        if snap is not None and self._is_fresh(snap, now):
            self.source = "memory" if snap.origin == "live" else "disk cache"
            return snap.catalog
        disk = self._read_disk()
        if disk is not None and self._is_fresh(disk, now):
            with self._lock:
                self._snapshot = disk
            self.source = "disk cache"
            return disk.catalog
        return None

    def _background(self) -> None:
        try:
            self._refresh(force=True)
        except Exception:  # never let a daemon thread die loudly; current() still works
            logger.debug("live catalog background refresh failed", exc_info=True)

    def _refresh(self, *, force: bool) -> Catalog:
        with self._fetch_lock:
            if not force:
                fresh = self._fresh_snapshot()  # another thread may have just fetched
                if fresh is not None:
                    return fresh
                with self._lock:
                    failed_at = self._failed_at
                now = self._clock.now()
                if failed_at is not None and 0 <= now - failed_at < self.retry_after:
                    return self._fallback_answer()
            try:
                catalog = self._fetch_catalog()
            except Exception as exc:
                return self._failed(exc)
        if self._on_update is not None:
            self._on_update(catalog)
        return catalog

    def _fetch_catalog(self) -> Catalog:
        self.fetches += 1
        answer = self._fetch()
        if not isinstance(answer, list) or not answer:
            raise ValueError("the endpoint's catalog lists no models")
        entries = self._clean(answer)
        source = f"live model catalog ({self.url})" if self.url else "live model catalog"
        catalog = Catalog.from_api(entries, fallback=self.fallback, source=source)
        if len(catalog) == 0:
            raise ValueError("the endpoint's catalog has no usable model entries")
        now = self._clock.now()
        with self._lock:
            self._snapshot = _Snapshot(catalog, now, "live")
            self._failed_at = None
            self._warned = False
            self.last_error = None
        self.source = "live"
        self._write_disk(entries, now)
        return catalog

    def _failed(self, exc: BaseException) -> Catalog:
        with self._lock:
            self._failed_at = self._clock.now()
            self.last_error = exc
            warn = not self._warned
            self._warned = True
        answer = self._fallback_answer()
        if warn:
            using = (self.fallback.source if self.source == "fallback"
                     else "last fetched catalog (stale)")
            logger.warning("could not fetch the live model catalog; using the %s. %s",
                           using, exc)
        return answer

    def _clean(self, entries: Any) -> list[dict[str, Any]]:
        return clean_entries(entries, self._secrets() if self._secrets is not None else ())

    def _fallback_answer(self) -> Catalog:
        with self._lock:
            snap = self._snapshot
        if snap is None:
            snap = self._read_disk()
            if snap is not None:
                with self._lock:
                    self._snapshot = snap
        if snap is not None:
            self.source = "stale cache"
            return snap.catalog
        self.source = "fallback"
        return self.fallback

    def _read_disk(self) -> _Snapshot | None:
        path = self.cache_path
        if path is None:
            return None
        import stat

        from ..common.wire_check import loads_json

        try:
            info = path.stat()
            if not stat.S_ISREG(info.st_mode):  # a FIFO would block the read forever
                raise ValueError("not a regular file")
            if info.st_size > 2 * MAX_CATALOG_BYTES:
                raise ValueError(f"larger than {2 * MAX_CATALOG_BYTES} bytes")
            data = loads_json(path.read_text("utf-8"))  # deep nesting: ValueError
            if (not isinstance(data, dict) or data.get("version") != _FILE_VERSION
                    or (self.url is not None and data.get("url") != self.url)):
                return None
            entries = self._clean(data["entries"]) if isinstance(data["entries"], list) else []
            fetched_at = float(data["fetched_at"])
            if not entries:
                return None
            source = f"cached model catalog ({self.url or path})"
            catalog = Catalog.from_api(entries, fallback=self.fallback, source=source)
        except FileNotFoundError:
            return None
        except Exception as exc:  # a tampered file must never break current()
            logger.debug("ignoring unreadable catalog cache %s: %s: %s", path,
                         type(exc).__name__, exc)
            return None
        return _Snapshot(catalog, fetched_at, "disk") if len(catalog) else None

    def _write_disk(self, entries: list[dict[str, Any]], fetched_at: float) -> None:
        path = self.cache_path
        if path is None:
            return
        data = {"version": _FILE_VERSION, "url": self.url, "fetched_at": fetched_at,
                "entries": entries}
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, tmp = tempfile.mkstemp(prefix=".catalog-", suffix=".tmp", dir=path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    json.dump(data, handle)
                os.replace(tmp, path)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:  # a read-only home must not break the catalog
            logger.debug("could not write the catalog cache %s: %s", path, exc)


def enable_live_catalog(
    provider: _Provider,
    *,
    ttl: float = 3600,
    cache_path: Path | None = None,
    disk_cache: bool = True,
    background: bool = False,
    clock: Clock | None = None,
    load_now: bool = True,
) -> LiveCatalog:
    """Make ``provider`` use the endpoint's live catalog (opt-in; the static one is the default).

    Args:
        provider: An initialized ``GitHubModelsProvider``.
        ttl: Seconds a fetched catalog stays fresh.
        cache_path: The disk cache file (default from the endpoint's catalog URL).
        disk_cache: False keeps the catalog in memory only.
        background: Install what is at hand now (cache or static) and fetch in a daemon thread;
            the provider switches to the live catalog when the fetch completes.
        clock: Time source for cache ages.
        load_now: Without ``background``, install the current catalog now (False: the caller
            refreshes itself, e.g. a forced refresh, and one fetch is enough).

    Returns:
        The :class:`LiveCatalog`; call ``refresh()`` on it later to update the provider.

    Raises:
        ConfigurationError: The provider is not initialized.
    """
    url = getattr(getattr(provider, "settings", None), "catalog_url", None)
    live = LiveCatalog(provider.fetch_catalog_entries, ttl=ttl, cache_path=cache_path,
                       disk_cache=disk_cache, url=url, clock=clock, fallback=static_catalog(),
                       on_update=provider.set_catalog,
                       secrets=getattr(getattr(provider, "settings", None), "secrets", None))
    if background:
        provider.set_catalog(live.stale())
        live.refresh_in_background()
    elif load_now:
        provider.set_catalog(live.current())
    return live
