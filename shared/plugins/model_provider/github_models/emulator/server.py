"""The ``Emulator``: an aiohttp server on its own event loop in a daemon thread.

Tests build one per test (or share one), configure it from their own thread and read its request
log. ``stop()`` is quick even with hung or streaming requests in flight: hung handlers are
released, then the server's shutdown cancels whatever is left after a short grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import threading
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, Generic, TypeVar, overload

from aiohttp import web

from ..common.clock import Clock, MonotonicClock
from ..common.limits import TierLimits
from .handler import HandlerConfig, RequestHandler
from .models import ModelIndex, load_catalog
from .replies import Reply
from .state import MODES, EmulatorState, RecordedRequest
from .v1 import V1Routes

__all__ = ["Emulator"]


class _QuietBadRequests:
    """aiohttp answers a request it cannot parse (a path or header that is not UTF-8, a line
    over 8 KiB) with its own 400, and logs the parse error with a traceback at ERROR: noise
    from a test server that answered correctly. Other records pass."""

    def filter(self, record: Any) -> bool:
        from aiohttp.http_exceptions import HttpProcessingError

        exc = record.exc_info[1] if record.exc_info else None
        return not (record.getMessage().startswith("Error handling request")
                    and isinstance(exc, HttpProcessingError))


def _quiet_bad_requests() -> None:
    import logging

    server_log = logging.getLogger("aiohttp.server")
    if not any(isinstance(f, _QuietBadRequests) for f in server_log.filters):
        server_log.addFilter(_QuietBadRequests())

_STREAM_STYLES = ("openai", "azure")
_T = TypeVar("_T")


class _ConfigField(Generic[_T]):
    """An emulator attribute that reads and writes the field of the same name of its handler
    config (settable between requests); with ``choices``, a value outside them is refused."""

    def __init__(self, doc: str, choices: tuple[str, ...] = ()) -> None:
        self.__doc__, self.choices, self.name = doc, choices, ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> _ConfigField[_T]: ...
    @overload
    def __get__(self, obj: Emulator, owner: type | None = None) -> _T: ...
    def __get__(self, obj: Emulator | None, owner: type | None = None) -> _T | _ConfigField[_T]:
        if obj is None:  # on the class: the field itself (help(), docs)
            return self
        value: _T = getattr(obj._config, self.name)
        return value

    def __set__(self, obj: Emulator, value: _T) -> None:
        """Raises: ValueError: ``value`` is not one of ``choices`` (when there are some)."""
        if self.choices:
            _check_choice(self.name, str(value), self.choices)
        setattr(obj._config, self.name, value)
_instances = itertools.count(1)
_SHUTDOWN_GRACE = 0.2  # seconds the server waits for in-flight handlers before cancelling them


class Emulator:
    """A local GitHub Models server for tests, demos and benchmarks.

    Args:
        catalog: Catalog entries to serve; default: the project's ``data/catalog.json``.
        clock: Time source of the rate-limit windows (inject a ``ManualClock``/``ScaledClock``).
        mode: ``normal``, ``retired`` (410 everywhere) or ``deprecated`` (empty 403s).
        strict_auth: Accept only tokens registered with ``add_token``.
        rate_limits: Enforce the free-tier request limits of each model's tier.
        token_limits: Enforce the tier's per-request input-token cap (413).
        stream_style: ``openai`` chunks, or ``azure`` (content-filter annotations).
        error_content_type: Content type of error bodies (the service used text/plain).
        unknown_model_status: 404 (2025+ service) or 400 (legacy style).
        host: Interface to bind (loopback by default).
        port: Port to bind; 0 picks a free one.
        request_log_limit: How many requests the log keeps (oldest dropped first).
    """

    def __init__(
        self,
        catalog: list[dict[str, Any]] | None = None,
        clock: Clock | None = None,
        mode: str = "normal",
        strict_auth: bool = False,
        rate_limits: bool = False,
        token_limits: bool = False,
        stream_style: str = "openai",
        error_content_type: str = "text/plain; charset=utf-8",
        unknown_model_status: int = 404,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        request_log_limit: int = 100_000,
        explicit_permission_errors: bool = False,
    ) -> None:
        _check_choice("mode", mode, MODES)
        _check_choice("stream_style", stream_style, _STREAM_STYLES)
        self._catalog = catalog
        self._index: ModelIndex | None = None
        self._index_lock = threading.Lock()
        self.clock: Clock = clock if clock is not None else MonotonicClock()
        self._state = EmulatorState(
            self.clock,
            mode=mode,
            strict_auth=strict_auth,
            rate_limits=rate_limits,
            token_limits=token_limits,
            request_log_limit=request_log_limit,
        )
        # a token without models:read: "Bad credentials" like the real service, or (opt-in) a
        # message naming the missing permission, as some proxies phrase it
        self._state.explicit_permission_errors = explicit_permission_errors
        self._config = HandlerConfig(
            stream_style, error_content_type, unknown_model_status, next(_instances)
        )
        self._host = host
        self._requested_port = port
        self._port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.ServerRunner | None = None
        self._stopping: asyncio.Event | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Bind and serve in a background thread; returns once the server accepts connections.

        Raises:
            RuntimeError: if already running, or when the server could not start.
        """
        if self._thread is not None:
            raise RuntimeError("emulator already running")
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._serve())
            except BaseException as exc:  # reported to start()'s caller
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                _cancel_all(loop)
                loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="github-models-emulator", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = self._loop = None
            raise RuntimeError(f"emulator failed to start: {failure[0]}") from failure[0]

    async def _serve(self) -> None:
        self._stopping = asyncio.Event()
        handler = RequestHandler(self._state, self.index, self._config, self._stopping, V1Routes)
        _quiet_bad_requests()
        server = web.Server(handler, access_log=None, handler_cancellation=True)
        self._runner = web.ServerRunner(server, shutdown_timeout=_SHUTDOWN_GRACE)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._requested_port)
        await site.start()
        sockets = self._runner.addresses
        self._port = int(sockets[0][1])

    async def _shutdown(self) -> None:
        if self._stopping is not None:
            self._stopping.set()  # hung and delayed handlers abort their connections
        await asyncio.sleep(0)
        if self._runner is not None:
            await self._runner.cleanup()

    def stop(self) -> None:
        """Stop serving and join the thread. Idempotent; never waits more than a few seconds."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        # Best effort: whatever happens during shutdown, the loop is stopped below.
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        self._loop = self._thread = None
        self._runner = None
        self._port = None

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- addresses ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound port. Raises RuntimeError when not running."""
        if self._port is None:
            raise RuntimeError("emulator is not running: call start() first")
        return self._port

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` of the running server."""
        return f"http://{self._host}:{self.port}"

    @property
    def inference_url(self) -> str:
        """The inference endpoint (``url + "/inference"``), as a provider's ``endpoint``."""
        return self.url + "/inference"

    # -- catalog -----------------------------------------------------------------------------

    def index(self) -> ModelIndex:
        """The model index, built on first use from the catalog."""
        index = self._index
        if index is None:
            with self._index_lock:
                if self._index is None:
                    catalog = self._catalog if self._catalog is not None else load_catalog()
                    self._index = ModelIndex(catalog)
                index = self._index
        return index

    # -- request log -------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of the requests received so far, oldest first."""
        with self._state.lock:
            return list(self._state.log)

    def log_requests_to(self, listener: Callable[[RecordedRequest], None] | None) -> None:
        """Hand each request, as the log records it, to ``listener`` too (None: stop)."""
        self._state.on_record = listener

    def clear_requests(self) -> None:
        """Empty the request log."""
        with self._state.lock:
            self._state.log.clear()

    # -- configuration -----------------------------------------------------------------------

    stream_style: _ConfigField[str] = _ConfigField(
        "``openai`` or ``azure`` (content-filter annotations); settable between requests.",
        _STREAM_STYLES)
    error_content_type: _ConfigField[str] = _ConfigField(
        "Content type of error bodies; settable between requests.")
    unknown_model_status: _ConfigField[int] = _ConfigField(
        "Status of ``unknown_model`` errors on the GitHub endpoints (404 or 400); settable.")

    @property
    def mode(self) -> str:
        """The current service mode."""
        return self._state.mode

    def set_mode(self, mode: str) -> None:
        """Switch between ``normal``, ``retired`` and ``deprecated``."""
        _check_choice("mode", mode, MODES)
        self._state.mode = mode

    def add_token(
        self,
        token: str,
        *,
        scopes: Iterable[str] = ("models:read",),
        expired: bool = False,
        orgs: Iterable[str] = (),
        sso_orgs: Iterable[str] = (),
        account_supported: bool = True,
    ) -> None:
        """Register a token; from now on only registered tokens authenticate.

        Args:
            token: The secret.
            scopes: Granted permissions; fine-grained tokens need ``models:read`` (classic
                ``ghp_``/``gho_`` tokens are unaffected, as on the real service).
            expired: Answer 401 Bad credentials.
            orgs: Organizations the token's user belongs to.
            sso_orgs: Organizations enforcing SAML SSO that this token is NOT authorized for
                (their org endpoint answers 403).
            account_supported: False answers 401 "Your account type is not currently supported".
        """
        self._state.add_token(token, scopes, expired, orgs, sso_orgs, account_supported)

    def add_org(
        self,
        login: str,
        *,
        members: Iterable[str] = (),
        models_enabled: bool = True,
        allowed_models: Iterable[str] | None = None,
        enterprise: str | None = None,
    ) -> None:
        """Register an organization for the ``/orgs/{org}/inference`` endpoint.

        Args:
            login: The organization login (matched ignoring case).
            members: Tokens whose users are members (alternatively ``add_token(orgs=...)``).
                Without strict auth and without members, anyone may use the org.
            models_enabled: False answers 403 "GitHub Models is disabled for this organization."
            allowed_models: Model ids the org allows; others answer 403 "No access to model: X".
            enterprise: The owning enterprise (see ``set_enterprise_policy``).
        """
        self._state.add_org(login, members, models_enabled, allowed_models, enterprise)

    def set_enterprise_policy(self, enterprise: str, *, models_enabled: bool) -> None:
        """Turn GitHub Models on or off for every organization of an enterprise."""
        with self._state.lock:
            self._state.enterprise_enabled[enterprise.lower()] = models_enabled

    def set_rate_limits(
        self, enabled: bool = True, overrides: Mapping[str, TierLimits] | None = None
    ) -> None:
        """Enforce (or stop enforcing) per-tier request limits; resets every window.

        Args:
            enabled: Whether 429s are served.
            overrides: Limits per tier name (``"high"``...) replacing the free-tier ones.
        """
        self._state.set_overrides(overrides)
        with self._state.lock:
            self._state.rate_limits = enabled
            self._state.limiter.reset()

    def require_entra_tokens(self, prefix: str | None = "entra-test.") -> None:
        """Accept only Entra-style bearer tokens issued by a test credential (None: stop).

        A token is ``<prefix><id>.<expires_on>`` (epoch seconds); one that has expired, has
        another prefix, or comes as an ``api-key`` header is answered 401 with Azure's
        message. The ids of accepted tokens are listed in :attr:`entra_tokens_seen`.
        """
        with self._state.lock:
            self._state.entra_prefix = prefix
            self._state.entra_seen.clear()

    @property
    def entra_tokens_seen(self) -> list[str]:
        """Ids of the Entra tokens accepted so far, in request order."""
        with self._state.lock:
            return list(self._state.entra_seen)

    @property
    def foundry_url(self) -> str:
        """A Foundry-shaped endpoint (``url + "/models"``: not GitHub-shaped, no catalog)."""
        return self.url + "/models"

    @property
    def v1_url(self) -> str:
        """Foundry's OpenAI v1 route (``url + "/openai/v1"``): deployment names, no api-version."""
        return self.url + "/openai/v1"

    def add_deployment(self, name: str, model_id: str) -> None:
        """Serve deployment ``name`` on the v1 route with catalog model ``model_id``."""
        with self._state.lock:
            self._state.deployments[name.lower()] = model_id

    def set_token_limits(self, enabled: bool = True) -> None:
        """Enforce (or not) the tier's per-request input-token cap with 413s."""
        self._state.token_limits = enabled

    def script(self, *replies: Reply, model: str | None = None) -> None:
        """Queue replies, each consumed by one later request (for ``model`` only, if given)."""
        for reply in replies:
            if not isinstance(reply, Reply):
                raise TypeError(f"script() takes Reply objects, got {type(reply).__name__}")
        self._state.script(replies, model)

    def clear_script(self) -> None:
        """Drop every queued reply."""
        with self._state.lock:
            self._state.scripts.clear()

    @property
    def pending_replies(self) -> int:
        """How many scripted replies are still queued."""
        with self._state.lock:
            return len(self._state.scripts)

    def __repr__(self) -> str:
        where = self.url if self._port is not None else "stopped"
        return f"Emulator({where}, mode={self._state.mode!r})"


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}")


def _cancel_all(loop: asyncio.AbstractEventLoop) -> None:
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())
