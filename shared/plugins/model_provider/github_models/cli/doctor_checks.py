"""The checks of ``jaato-github-models doctor`` (``commands/doctor.py``): the troubleshooting
checklist.

Checks, in order: token, ``.env`` file, endpoint (and GitHub's retired hosts), endpoint
reachable, service status (410 / Deprecation answers), token accepted, organization attribution,
model available (catalog and one tiny real request), rate-limit headroom, and the shared rate
store when one is configured (JAATO_GITHUB_RATE_STORE). Each ends PASS, FAIL
(with the next step) or SKIP (not applicable, or blocked by an earlier failure). The exit code is
0 when no check failed. The token is shown as its type prefix at most (``github_pat_…``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..common.masking import mask_secret
from ..config.setting_checks import path_problem
from ..errors import (
    GitHubModelsError,
    ModelNotFoundError,
    ProviderConnectionError,
    ServiceRetiredError,
    TokenNotFoundError,
)
from ..pacing.rate_store import RateStoreError
from .connect import open_provider, resolve_model, shown_endpoint
from .doctor_answers import RETIRED_FIX, ping_failed, rate_limits, store_check
from .output import (
    FAIL,
    PASS,
    SKIP,
    Check,
    Console,
    checklist_counts,
    token_type_label,
)

if TYPE_CHECKING:
    from ..config.settings import Settings
    from ..provider import GitHubModelsProvider

__all__ = ["Doctor"]

_TITLES = {
    "token": "Token",
    "dotenv": ".env file",
    "endpoint": "Endpoint",
    "reachable": "Endpoint reachable",
    "service": "Service status",
    "auth": "Token accepted",
    "organization": "Organization attribution",
    "model": "Model available",
    "rate_limits": "Rate-limit headroom",
}
_STAND_INS = ("openai/gpt-4o-mini", "openai/gpt-4.1-mini", "openai/gpt-4o")


class _Capture(logging.Handler):
    """Keeps the provider's warnings (e.g. a Deprecation header on a successful answer)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _find_dotenv(environ: Mapping[str, str]) -> tuple[Path | None, str]:
    explicit = environ.get("JAATO_GITHUB_ENV_FILE")
    if explicit is not None:
        if explicit.strip().lower() in ("0", "false", "no", "off"):
            return None, "disabled by JAATO_GITHUB_ENV_FILE"
        path = Path(explicit).expanduser()
        problem = path_problem(path)
        return (None, f"JAATO_GITHUB_ENV_FILE={path} {problem}") if problem else (path, "")
    cwd = Path.cwd()
    for folder in (cwd, *cwd.parents):
        if (folder / ".env").is_file():
            return folder / ".env", ""
    return None, f"none found from {cwd} upwards"


class Doctor:
    """Runs the checks. ``checks`` holds the results, in display order.

    Args:
        extra: ``ProviderConfig.extra`` from the command line (endpoint, organization).
        model: ``--model`` (None: ``JAATO_GITHUB_MODEL`` or the default).
        console: Registers the token so that nothing prints it.
        environ: The environment (default ``os.environ``).
    """

    def __init__(self, extra: Mapping[str, Any], model: str | None, console: Console,
                 environ: Mapping[str, str] | None = None) -> None:
        self.extra = dict(extra)
        self.requested_model = model
        self.console = console
        self.environ = os.environ if environ is None else environ
        self.checks = {name: Check(name, title=title) for name, title in _TITLES.items()}
        self.model: str | None = None
        self.endpoint: str | None = None

    def set(self, name: str, status: str, detail: str, next_step: str = "") -> None:
        """Record one check's result."""
        from .advice import cli_terms

        check = self.checks[name]
        custom = self.console.custom_endpoint
        check.status, check.detail = status, cli_terms(detail, custom_endpoint=custom)
        check.next = cli_terms(next_step, custom_endpoint=custom)

    def _store_line(self, status: str, detail: str, next_step: str) -> None:
        self.checks["rate_store"] = Check("rate_store", title="Shared rate store")
        self.set("rate_store", status, detail, next_step)

    def skip_rest(self, reason: str) -> None:
        """Mark every check without a result as skipped for ``reason``."""
        for check in self.checks.values():
            if check.status == SKIP and not check.detail:
                check.detail = reason

    @property
    def ok(self) -> bool:
        """No check failed."""
        return all(c.status != FAIL for c in self.checks.values())

    def run(self) -> bool:
        """Run every check; returns ``ok``."""
        # The doctor must answer quickly: no retries (a 429 would wait), short timeouts. The
        # settings it overrides are first checked as configured: a bad JAATO_GITHUB_TIMEOUT
        # must fail here as it would fail chat, not hide behind the doctor's own value.
        if not self._own_settings_valid():
            return self.ok
        extra = {**self.extra, "max_retries": 0, "timeout": 20, "connect_timeout": 5}
        try:
            provider = open_provider(extra, self.console)
        except TokenNotFoundError as exc:
            places = "; ".join(f"{p}: {s}" for p, s in exc.checked) or exc.why
            self.set("token", FAIL, f"no token found ({places})", exc.fix)
            self._without_token(extra)
            self.skip_rest("needs a token")
            return self.ok
        except RateStoreError as exc:  # the rate store refused: the rest runs without it
            self._store_line(FAIL, exc.why, exc.fix)
            provider = open_provider({**extra, "pacing": False}, self.console)
        except GitHubModelsError as exc:  # a malformed setting
            self.set("endpoint", FAIL, exc.why, exc.fix)
            self._dotenv(None)
            self.skip_rest("needs a valid configuration")
            return self.ok
        try:
            self._with_provider(provider)
        finally:
            provider.shutdown()
        return self.ok

    def _own_settings_valid(self) -> bool:
        """Resolve the settings as configured; on an error, FAIL and skip the rest."""
        from .._host import ProviderConfig
        from ..config.env import resolve_settings

        try:
            resolve_settings(ProviderConfig(api_key="placeholder", extra=dict(self.extra)),
                             self.environ)
        except GitHubModelsError as exc:
            self.set("endpoint", FAIL, exc.why, exc.fix)
            self._dotenv(None)
            self.skip_rest("needs a valid configuration")
            return False
        return True

    def _without_token(self, extra: Mapping[str, Any]) -> None:
        """The checks that need no token (.env, endpoint, organization), with a placeholder."""
        from .._host import ProviderConfig
        from ..config.env import resolve_settings

        try:
            settings = resolve_settings(ProviderConfig(api_key="placeholder", extra=dict(extra)),
                                        self.environ)
        except GitHubModelsError as exc:
            self.set("endpoint", FAIL, exc.why, exc.fix)
            self._dotenv(None)
            return
        self._settings_checks(settings)

    def _dotenv(self, found: str | None) -> None:
        if found:
            self.set("dotenv", PASS, f"read {found}")
            return
        path, why = _find_dotenv(self.environ)
        if path is not None:
            self.set("dotenv", PASS, f"read {path}")
        else:
            self.set("dotenv", SKIP, f"{why} (optional: the environment is used)")

    def _settings_checks(self, s: Settings) -> bool:
        """.env, endpoint and organization settings; False when the endpoint is unusable."""
        self._dotenv(s.dotenv_path)
        self.endpoint = shown_endpoint(s.endpoint)
        source = s.sources.get("JAATO_GITHUB_ENDPOINT", "the default")
        if s.is_retired_host:
            self.set("endpoint", FAIL, f"{self.endpoint} (from {source}) is GitHub Models' "
                                       "retired host", RETIRED_FIX)
            self.skip_rest("the endpoint is retired: fix the endpoint first")
            return False
        shape = s.profile.shape
        self.set("endpoint", PASS, f"{self.endpoint} from {source}; {shape}")
        if not s.organization:
            self.set("organization", SKIP, "no organization configured: usage is billed to the "
                                           "token's user (set JAATO_GITHUB_ORGANIZATION or --org)")
        elif not s.org_path_applied:
            self.set("organization", FAIL,
                     f"organization {s.organization} is set but {self.endpoint} has no "
                     "/orgs/{org}/inference form, so usage cannot be attributed to it",
                     "use a GitHub-shaped endpoint (path ending in /inference) or unset "
                     "JAATO_GITHUB_ORGANIZATION for this endpoint")
        return True

    def _with_provider(self, provider: GitHubModelsProvider) -> None:
        s = provider.settings
        cache = s.token_cache
        if cache is not None:  # Entra ID: name the credential, never the token
            self.set("token", PASS, f"no key: Microsoft Entra ID tokens from "
                                    f"{cache.credential_name} (scope {cache.scope})")
        else:
            self.set("token", PASS, f"{mask_secret(s.token)} ({token_type_label(s.token_type)}) "
                                    f"from {s.token_source}")
        if s.rate_store and "rate_store" not in self.checks:  # a line only when configured
            self._store_line(*store_check(s))
        if not self._settings_checks(s):
            return
        live = self._catalog(provider)
        if live is False:
            return
        model = resolve_model(self.requested_model, s.dotenv_path, self.environ)
        self.model = model
        ping_model, is_chosen = self._select_model(provider, model, live)
        if ping_model is None:
            self.skip_rest("no model to send the test request with")
            return
        self._ping(provider, ping_model, is_chosen)

    def _catalog(self, provider: GitHubModelsProvider) -> Any:
        """GET the catalog on GitHub-shaped endpoints: reachability and retirement.

        Returns the live ``Catalog``, None when there is none, or False to stop.
        """
        if provider.settings.catalog_url is None:
            return None
        from ..models.catalog import Catalog

        try:
            entries = provider.fetch_catalog_entries()
        except ProviderConnectionError as exc:
            self.set("reachable", FAIL, exc.why, exc.fix)
            self.skip_rest("the endpoint is not reachable")
            return False
        except ServiceRetiredError as exc:
            self.set("reachable", PASS, f"{self.endpoint} answered (HTTP {exc.status})")
            self.set("service", FAIL, exc.why, RETIRED_FIX)
            self.skip_rest("the service is retired")
            return False
        except GitHubModelsError as exc:
            self.set("reachable", PASS, f"{self.endpoint} answered, but GET /catalog/models "
                                        f"failed: {exc.why} (HTTP {exc.status})")
            return None
        catalog = Catalog.from_api(entries, fallback=provider.catalog, source="live catalog")
        self.set("reachable", PASS, f"GET /catalog/models listed {len(catalog)} models")
        return catalog

    def _select_model(self, provider: GitHubModelsProvider, model: str,
                      live: Any) -> tuple[str | None, bool]:
        """Connect to ``model`` -> (id, True); on an unknown id, record the failure and pick a
        stand-in for the auth checks -> (stand-in, False)."""
        try:
            provider.connect(model)
        except ModelNotFoundError as exc:
            self.set("model", FAIL, exc.why, exc.fix)
            for stand_in in _STAND_INS:
                if stand_in in provider.catalog:
                    provider.connect(stand_in)
                    return stand_in, False
            return None, False
        if live is not None and provider.model_name not in live:
            self.set("model", FAIL, f"{provider.model_name} is in the static catalog but the "
                                    "endpoint's catalog does not list it",
                     "choose one of `jaato-github-models models --live`")
        return provider.model_name, True

    def _ping(self, provider: GitHubModelsProvider, model: str, is_chosen: bool) -> None:
        capture = _Capture()
        logger = logging.getLogger(__name__.rpartition(".")[0])
        logger.addHandler(capture)
        try:
            provider.generate("ping", max_tokens=1)
        except GitHubModelsError as exc:
            ping_failed(self, provider, exc, is_chosen)
            return
        finally:
            logger.removeHandler(capture)
        self._ping_passed(provider, model, is_chosen, capture.messages)

    def _ping_passed(self, provider: GitHubModelsProvider, model: str, is_chosen: bool,
                     warnings: list[str]) -> None:
        s = provider.settings
        if self.checks["reachable"].status == SKIP:
            self.set("reachable", PASS, f"{self.endpoint} answered the test request")
        retiring = [w for w in warnings if "retire" in w.lower()]
        if retiring:
            self.set("service", FAIL, "the endpoint answered but announces its retirement "
                                      "(Deprecation/Sunset headers)", RETIRED_FIX)
        else:
            self.set("service", PASS, "no retirement answer (410, Deprecation or Sunset)")
        accepted = f"the endpoint accepted the {token_type_label(s.token_type)}"
        if s.token_cache is not None:
            accepted += f" from {s.token_cache.describe()}"
        self.set("auth", PASS, accepted)
        if s.organization and s.org_path_applied:
            self.set("organization", PASS, f"requests to /orgs/{s.organization}/inference "
                                           f"succeed: usage is billed to {s.organization}")
        if is_chosen and self.checks["model"].status != FAIL:
            known = "in the catalog" if provider.model_info else "not in the catalog (sent as " \
                                                                 "given; limits assumed)"
            self.set("model", PASS, f"{model} is {known} and answered a 1-token request")
        rate_limits(self, provider, None)

    def report(self) -> dict[str, Any]:
        """The JSON form of the result."""
        checks = [asdict(c) for c in self.checks.values()]
        return {"ok": self.ok, "endpoint": self.endpoint, "model": self.model,
                "summary": checklist_counts(list(self.checks.values())), "checks": checks}
