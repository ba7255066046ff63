"""Every read of configuration, in one place.

Precedence, highest first: explicit ``ProviderConfig`` (``api_key``, ``extra[...]``) > real
environment variables > a ``.env`` file (python-dotenv; it never overrides the environment and is
never written into ``os.environ``) > defaults.

- token: ``api_key`` > ``GITHUB_TOKEN`` (no default: TokenNotFoundError lists each place);
- organization: ``extra["organization"]`` > ``JAATO_GITHUB_ORGANIZATION`` (usage billed to it);
- enterprise: ``extra["enterprise"]`` > ``JAATO_GITHUB_ENTERPRISE``;
- endpoint: ``extra["endpoint"]`` > ``JAATO_GITHUB_ENDPOINT`` > ``https://models.github.ai/inference``;
- endpoint kind: ``extra["endpoint_kind"]`` > ``JAATO_GITHUB_ENDPOINT_KIND`` > ``auto`` (chosen
  from the URL; ``github``, ``legacy``, ``foundry`` or ``gateway``: see ``profiles.py``);
- timeout: ``extra["timeout"]`` > ``JAATO_GITHUB_TIMEOUT`` > 60 s read (10 s connect);
- max retries: ``extra["max_retries"]`` > ``JAATO_GITHUB_MAX_RETRIES`` > 3;
- pacing: ``extra["pacing"]`` > ``JAATO_GITHUB_PACING`` > on for models.github.ai only (the
  free tier's host), off elsewhere (the emulator, proxies, Foundry, gateways);
- tier caps: ``extra["enforce_tier_limits"]`` > ``JAATO_GITHUB_ENFORCE_TIER_LIMITS`` > as pacing;
- transport: ``extra["transport"]`` > ``JAATO_GITHUB_TRANSPORT`` > ``azure-core``
  (``azure-ai-inference``: the retired SDK's client, an extra); ``extra["client"]`` /
  ``extra["async_client"]``: a ``ChatCompletionsClient`` every request goes through;
- .env file: ``extra["env_file"]`` > ``JAATO_GITHUB_ENV_FILE`` (relative: to the workspace) >
  ``<workspace>/.env`` when jaato gives the session a ``workspace_path`` (never the daemon's
  cwd then) > ``.env`` from the cwd upwards; parsed files are cached per path until they change;
- shared rate limits: ``extra["rate_store"]`` > ``JAATO_GITHUB_RATE_STORE`` > off (a
  ``redis://``/``rediss://`` URL; ``rate_store_strict`` / ``JAATO_GITHUB_RATE_STORE_STRICT``:
  fail instead of falling back to in-process pacing when the store is unreachable);
- catalog: ``extra["catalog"]`` > ``JAATO_GITHUB_CATALOG`` > ``static`` (``live``: fetched,
  cached on disk for ``extra["catalog_ttl"]`` seconds, static fallback offline or retired);
- auth: ``extra["credential"]`` (a TokenCredential) > ``extra["auth"]`` > ``JAATO_GITHUB_AUTH``
  > ``key``; ``entra`` needs no key (scope: ``extra["auth_scope"]`` > ``JAATO_GITHUB_AUTH_SCOPE``);
- tracing: ``extra["tracing"]`` > ``JAATO_GITHUB_TRACING`` > ``off`` (``otel``: OpenTelemetry).

Functions take the environment as a mapping (``environ=os.environ`` by default) so tests pass a
dict instead of patching the process environment.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .._host import ProviderConfig
from ..common.env_reads import provider_environment
from ..common.service_facts import LEGACY_HOST
from ..common.url_secrets import strip_url_secrets
from ..errors import ConfigurationError, token_not_found, token_type_of
from .endpoints import (
    ENV_ENDPOINT,
    ENV_ENDPOINT_KIND,
    ENV_ENTERPRISE,
    ENV_ORGANIZATION,
    endpoint_kind_setting,
    normalize_enterprise,
    normalize_organization,
    resolve_endpoint,
    resolve_endpoint_profile,
)
from .setting_checks import (
    API_VERSION_RE,
    FALSE_WORDS,
    as_bool,
    as_float,
    as_int,
    check_header_value,
    path_problem,
    rate_limit_overrides,
    read_dotenv,
)
from .settings import Settings

__all__ = [
    "DEFAULT_ENDPOINT",
    "ENV_ENDPOINT",
    "ENV_ENDPOINT_KIND",
    "ENV_ENTERPRISE",
    "ENV_ORGANIZATION",
    "ENV_TOKEN",
    "LEGACY_HOST",
    "normalize_enterprise",
    "normalize_organization",
    "read_dotenv",
    "resolve_endpoint",
    "resolve_endpoint_profile",
    "resolve_settings",
]

DEFAULT_ENDPOINT = "https://models.github.ai/inference"

ENV_TOKEN = "GITHUB_TOKEN"  # noqa: S105 - a variable name, not a secret
ENV_TIMEOUT = "JAATO_GITHUB_TIMEOUT"
ENV_MAX_RETRIES = "JAATO_GITHUB_MAX_RETRIES"
ENV_PACING = "JAATO_GITHUB_PACING"
ENV_FILE = "JAATO_GITHUB_ENV_FILE"
ENV_CATALOG = "JAATO_GITHUB_CATALOG"
ENV_TIER_LIMITS = "JAATO_GITHUB_ENFORCE_TIER_LIMITS"
ENV_AUTH = "JAATO_GITHUB_AUTH"
ENV_AUTH_SCOPE = "JAATO_GITHUB_AUTH_SCOPE"
ENV_TRACING = "JAATO_GITHUB_TRACING"
ENV_RATE_STORE = "JAATO_GITHUB_RATE_STORE"
ENV_RATE_STORE_STRICT = "JAATO_GITHUB_RATE_STORE_STRICT"
ENV_TRANSPORT = "JAATO_GITHUB_TRANSPORT"

ENV_KEYS = (ENV_TOKEN, ENV_ORGANIZATION, ENV_ENTERPRISE, ENV_ENDPOINT, ENV_ENDPOINT_KIND,
            ENV_TIMEOUT, ENV_MAX_RETRIES, ENV_PACING, ENV_CATALOG, ENV_TIER_LIMITS, ENV_AUTH,
            ENV_AUTH_SCOPE, ENV_TRACING, ENV_RATE_STORE, ENV_RATE_STORE_STRICT, ENV_TRANSPORT)

# Settings that ProviderConfig.extra may carry besides request defaults (see options.py).
SETTING_KEYS = frozenset({
    "organization", "enterprise", "endpoint", "endpoint_kind", "timeout", "connect_timeout",
    "max_retries", "max_retry_wait", "pacing", "rate_limits", "env_file", "api_version",
    "pool_size", "enforce_tier_limits", "user_agent", "use_env_proxies", "trim_history", "catalog",
    "catalog_ttl", "auth", "auth_scope", "credential", "tracing", "rate_store",
    "rate_store_strict", "transport", "client", "async_client",
})

# Keys jaato-server itself stamps onto ProviderConfig.extra (jaato 1.2's
# JaatoRuntime._inject_session_extras and its subagent profiles), not user settings: accepted
# silently. ``workspace_path`` also decides which .env is read (see resolve_settings).
JAATO_EXTRA_KEYS = frozenset({"workspace_path", "config_root", "session_id", "app_identity",
                              "quirks"})

logger = logging.getLogger(__name__.rsplit(".", 2)[0])  # the package, installed or not


def _find_dotenv(explicit: str | None, cwd: Path, workspace: Path | None) -> Path | None:
    if explicit is not None:
        path = Path(explicit).expanduser()
        if workspace is not None and not path.is_absolute():
            path = workspace / path  # a session's relative env_file is its workspace's
        return path if path.is_file() else None
    if workspace is not None:  # jaato's daemon: the session's workspace, never the daemon's cwd
        candidate = workspace / ".env"
        return candidate if candidate.is_file() else None
    for folder in (cwd, *cwd.parents):
        candidate = folder / ".env"
        if candidate.is_file():
            return candidate
    return None


# Parsed .env files, per path (one daemon serves many workspaces): re-read when the file changes.
_DOTENV_CACHE: dict[Path, tuple[tuple[int, int], dict[str, str]]] = {}
_DOTENV_LOCK = threading.Lock()


def _read_dotenv(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    try:
        stat = path.stat()
        key, stamp = path.resolve(), (stat.st_mtime_ns, stat.st_size)
    except OSError:
        return read_dotenv(path, ENV_FILE)  # raises the clear error
    with _DOTENV_LOCK:
        cached = _DOTENV_CACHE.get(key)
    if cached is not None and cached[0] == stamp:
        return dict(cached[1])
    values = read_dotenv(path, ENV_FILE)
    with _DOTENV_LOCK:
        _DOTENV_CACHE[key] = (stamp, dict(values))
    return values


def _workspace(extra: Mapping[str, Any]) -> Path | None:
    """The session's workspace jaato's daemon stamps on ``extra`` (None when absent)."""
    raw = extra.get("workspace_path")
    if raw in (None, ""):
        return None
    if not isinstance(raw, (str, os.PathLike)):
        raise ConfigurationError(
            what="Checking extra['workspace_path']", why=f"it is {type(raw).__name__}, not a "
            "path", fix="pass the workspace folder as text (jaato's daemon does)",
            setting="workspace_path")
    return Path(raw).expanduser()


def resolve_settings(
    config: ProviderConfig | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    cwd: Path | None = None,
) -> Settings:
    """Resolve and validate every setting (config > environment > .env > defaults).

    Args:
        config: The provider config, if any.
        environ: The environment to read (default ``os.environ``).
        cwd: Where the ``.env`` search starts (default the current directory).

    Raises:
        TokenNotFoundError: No token in config, environment or ``.env`` (lists each place).
        ConfigurationError: A setting is malformed (bad URL, org login, number, flag).
    """
    env = provider_environment(os.environ if environ is None else environ)
    if config is not None and not (hasattr(config, "extra") and hasattr(config, "api_key")):
        raise ConfigurationError(
            what="Checking the provider configuration",
            why=f"it is {type(config).__name__}, not a ProviderConfig",
            fix="pass ProviderConfig(api_key=..., extra={...})", setting="config")
    raw_extra = config.extra if config is not None else None
    if raw_extra is not None and not isinstance(raw_extra, Mapping):
        raise ConfigurationError(
            what="Checking ProviderConfig.extra", why=f"it is {type(raw_extra).__name__}, not a "
            "mapping", fix="pass extra={'endpoint': ..., ...}", setting="extra")
    extra: Mapping[str, Any] = dict(raw_extra or {})
    workspace = _workspace(extra)
    env_file_setting = extra.get("env_file", env.get(ENV_FILE))
    dotenv_path: Path | None = None
    dotenv: dict[str, str] = {}
    where = "extra['env_file']" if "env_file" in extra else ENV_FILE
    dotenv_disabled = env_file_setting is False or str(env_file_setting).lower() in FALSE_WORDS
    explicit = None if dotenv_disabled or env_file_setting in (None, True) else str(
        env_file_setting)
    if not dotenv_disabled:
        dotenv_path = _find_dotenv(explicit, cwd or Path.cwd(), workspace)
        if explicit is not None and dotenv_path is None:
            logger.warning("%s names %s, which %s: no .env file is read", where, explicit,
                           path_problem(Path(explicit).expanduser()) or "cannot be used")
        dotenv = _read_dotenv(dotenv_path)
    sources: dict[str, str] = {}

    def pick(key: str | None, env_key: str) -> Any:
        if key is not None and extra.get(key) not in (None, ""):
            sources[env_key] = f"extra[{key!r}]"
            return extra[key]
        if env.get(env_key):
            sources[env_key] = f"environment {env_key}"
            return env[env_key]
        if dotenv.get(env_key):
            sources[env_key] = f"{dotenv_path} ({env_key})"
            return dotenv[env_key]
        return None

    auth, credential = _resolve_auth(extra, pick)
    token: str | None = None
    if config is not None and config.api_key is not None and not isinstance(config.api_key,
                                                                              str):
        raise ConfigurationError(
            what="Checking ProviderConfig.api_key",
            why=f"it is {type(config.api_key).__name__}, not a string",
            fix="pass the token as text", setting="token")
    handed = extra.get("client") if extra.get("client") is not None else extra.get(
        "async_client")
    if auth != "key":
        token, token_source = "", f"Entra ID ({type(credential).__name__})"
    elif config is not None and config.api_key:
        token, token_source = config.api_key.strip(), "config.api_key"
    elif env.get(ENV_TOKEN, "").strip():
        token, token_source = env[ENV_TOKEN].strip(), f"environment {ENV_TOKEN}"
    elif dotenv.get(ENV_TOKEN, "").strip():
        token, token_source = dotenv[ENV_TOKEN].strip(), f"{dotenv_path} ({ENV_TOKEN})"
    elif handed is not None:  # the handed-in client authenticates with its own credential
        token, token_source = "", f"the {type(handed).__name__} in extra (its own credential)"
    if token is None or (auth == "key" and not token and handed is None):
        where_env = "set but empty" if ENV_TOKEN in env else "not set"
        if dotenv_disabled:
            dotenv_state = f"disabled by {where}"
        elif explicit is not None and dotenv_path is None:
            dotenv_state = f"{where}={explicit} not found"
        elif dotenv_path is None and workspace is not None:
            dotenv_state = f"no .env file in the session's workspace {workspace}"
        elif dotenv_path is None:
            dotenv_state = "no .env file found from " + str(cwd or Path.cwd()) + " upwards"
        else:
            dotenv_state = f"{dotenv_path}: no {ENV_TOKEN} in it"
        raise token_not_found([
            ("ProviderConfig.api_key", "not set"),
            (f"environment variable {ENV_TOKEN}", where_env),
            (".env file", dotenv_state),
        ])
    sources["token"] = token_source
    check_header_value(token, "token", f"the token from {token_source}", ascii_only=True,
                        show=False)

    org_raw = pick("organization", ENV_ORGANIZATION)
    organization = normalize_organization(str(org_raw)) if org_raw else None
    ent_raw = pick("enterprise", ENV_ENTERPRISE)
    enterprise = normalize_enterprise(str(ent_raw)) if ent_raw else None
    base = str(pick("endpoint", ENV_ENDPOINT) or DEFAULT_ENDPOINT)
    chosen = endpoint_kind_setting(pick("endpoint_kind", ENV_ENDPOINT_KIND))
    endpoint, profile, org_applied = resolve_endpoint_profile(base, organization, chosen)
    base = strip_url_secrets(base)  # parses: the URL was vetted above
    token_cache = None
    if credential is not None:
        from .auth import TokenCache

        scope = str(pick("auth_scope", ENV_AUTH_SCOPE) or profile.entra_scope).strip()
        token_cache = TokenCache(credential, scope)

    timeout_raw = pick("timeout", ENV_TIMEOUT)
    read_timeout = 60.0 if timeout_raw is None else as_float("timeout", timeout_raw, 0.1, 3600)
    connect_raw = extra.get("connect_timeout")
    connect_timeout = (min(10.0, read_timeout) if connect_raw is None
                       else as_float("connect_timeout", connect_raw, 0.1, 600))
    retries_raw = pick("max_retries", ENV_MAX_RETRIES)
    max_retries = 3 if retries_raw is None else as_int("max_retries", retries_raw, 0, 20)
    wait_raw = extra.get("max_retry_wait")
    max_retry_wait = 60.0 if wait_raw is None else as_float("max_retry_wait", wait_raw, 0, 86400)
    pacing_raw = pick("pacing", ENV_PACING)
    free_default = profile.free_tier_default(urlsplit(endpoint).hostname or "")
    pacing = free_default if pacing_raw is None else as_bool("pacing", pacing_raw)
    enforce_raw = pick("enforce_tier_limits", ENV_TIER_LIMITS)
    enforce = free_default if enforce_raw is None else as_bool(
        "enforce_tier_limits", enforce_raw)
    overrides = rate_limit_overrides(extra.get("rate_limits") or {})
    pool_raw = extra.get("pool_size")
    pool_size = 16 if pool_raw is None else as_int("pool_size", pool_raw, 1, 1024)
    proxies_raw = extra.get("use_env_proxies")
    use_env_proxies = True if proxies_raw is None else as_bool("use_env_proxies", proxies_raw)
    user_agent = extra.get("user_agent")
    if user_agent is not None:
        check_header_value(user_agent, "user_agent", "extra['user_agent']")
    api_version_raw = extra.get("api_version")
    api_version = str(api_version_raw or "2024-05-01-preview")
    if not API_VERSION_RE.match(api_version):
        raise ConfigurationError(
            what="Checking extra['api_version']", why=f"{api_version[:60]!r} is not a version "
            "such as '2024-05-01-preview'", fix="give letters, digits, '.', '_' and '-' only",
            setting="api_version")
    catalog_mode = str(pick("catalog", ENV_CATALOG) or "static").strip().lower()
    if catalog_mode not in ("static", "live"):
        raise ConfigurationError(
            what="Checking the catalog setting", why=f"{catalog_mode!r} is not static or live",
            fix=f"set extra['catalog'] (or {ENV_CATALOG}) to 'static' (the bundled catalog, "
                "no network) or 'live' (GET /catalog/models, cached, static fallback)")

    tracing = str(pick("tracing", ENV_TRACING) or "off").strip().lower()
    if tracing in ("", "none", "false", "0", "no"):
        tracing = "off"
    if tracing not in ("off", "otel"):
        raise ConfigurationError(
            what="Checking the tracing setting", why=f"{tracing!r} is not off or otel",
            fix=f"set extra['tracing'] (or {ENV_TRACING}) to 'otel' (OpenTelemetry spans and "
                "metrics; pip install 'jaato-github-models[otel]') or 'off'")
    entra_warning = profile.entra_warning() if auth != "key" else None
    if entra_warning:
        logger.warning("%s (%s)", entra_warning, strip_url_secrets(endpoint))
    from .transport_setting import handed_clients, transport_setting

    transport = transport_setting(pick("transport", ENV_TRANSPORT), ENV_TRANSPORT)
    client, async_client = handed_clients(extra)
    store_raw = pick("rate_store", ENV_RATE_STORE)
    strict_raw = pick("rate_store_strict", ENV_RATE_STORE_STRICT)

    return Settings(
        token=token,
        token_source=token_source,
        token_type="entra" if auth != "key" else token_type_of(token),
        base_endpoint=base.strip().rstrip("/"),
        endpoint=endpoint,
        profile=profile,
        organization=organization,
        enterprise=enterprise,
        org_path_applied=org_applied,
        read_timeout=read_timeout,
        connect_timeout=connect_timeout,
        max_retries=max_retries,
        max_retry_wait=max_retry_wait,
        pacing=pacing,
        rate_limit_overrides=overrides,
        enforce_tier_limits=enforce,
        trim_history=as_bool("trim_history", extra.get("trim_history", False)),
        catalog_mode=catalog_mode,
        catalog_ttl=(3600.0 if extra.get("catalog_ttl") is None
                     else as_float("catalog_ttl", extra["catalog_ttl"], 0, 30 * 86400)),
        api_version=api_version,
        api_version_set=api_version_raw is not None,
        pool_size=pool_size,
        use_env_proxies=use_env_proxies,
        user_agent=None if user_agent is None else str(user_agent),
        dotenv_path=None if dotenv_path is None else str(dotenv_path),
        sources=sources,
        auth=auth,
        token_cache=token_cache,
        tracing=tracing,
        rate_store=(str(store_raw).strip() or None) if store_raw is not None else None,
        rate_store_strict=False if strict_raw is None else as_bool("rate_store_strict",
                                                                    strict_raw),
        transport=transport,
        client=client,
        async_client=async_client,
    )


def _resolve_auth(extra: Mapping[str, Any], pick: Any) -> tuple[str, Any]:
    """``(auth, credential)``: ``key`` (no credential) unless a credential or ``entra`` is set.

    Raises:
        ConfigurationError: An unknown auth value, a credential without get_token(), or
            ``entra`` without azure-identity installed.
    """
    credential = extra.get("credential")
    mode = str(pick("auth", ENV_AUTH) or "key").strip().lower()
    if credential is None and mode in ("key", "api_key", "token"):
        return "key", None
    if credential is None and mode != "entra":
        raise ConfigurationError(
            what="Checking the auth setting", why=f"{mode!r} is not key or entra",
            fix=f"set extra['auth'] (or {ENV_AUTH}) to 'key' (the default: api_key / "
                f"{ENV_TOKEN}) or 'entra' (Microsoft Entra ID through DefaultAzureCredential), "
                "or pass a TokenCredential as extra['credential']")
    if credential is None:
        from .auth import default_azure_credential

        return "entra", default_azure_credential()
    return "credential", credential
