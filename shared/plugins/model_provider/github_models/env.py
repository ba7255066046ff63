"""Every read of configuration, in one place.

Precedence, highest first: explicit ``ProviderConfig`` (``api_key``, ``extra[...]``) > real
environment variables > a ``.env`` file (python-dotenv; it never overrides the environment and is
never written into ``os.environ``) > defaults.

- token: ``api_key`` > ``GITHUB_TOKEN`` (no default: TokenNotFoundError lists each place);
- organization: ``extra["organization"]`` > ``JAATO_GITHUB_ORGANIZATION`` (usage billed to it);
- enterprise: ``extra["enterprise"]`` > ``JAATO_GITHUB_ENTERPRISE``;
- endpoint: ``extra["endpoint"]`` > ``JAATO_GITHUB_ENDPOINT`` > ``https://models.github.ai/inference``;
- timeout: ``extra["timeout"]`` > ``JAATO_GITHUB_TIMEOUT`` > 60 s read (10 s connect);
- max retries: ``extra["max_retries"]`` > ``JAATO_GITHUB_MAX_RETRIES`` > 3;
- pacing: ``extra["pacing"]`` > ``JAATO_GITHUB_PACING`` > on for GitHub-shaped endpoints;
- tier caps: ``extra["enforce_tier_limits"]`` > ``JAATO_GITHUB_ENFORCE_TIER_LIMITS`` > on for
  GitHub-shaped endpoints;
- .env file: ``extra["env_file"]`` > ``JAATO_GITHUB_ENV_FILE`` > ``.env`` from the cwd upwards;
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
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ._host import ProviderConfig
from .errors import ConfigurationError, token_not_found, token_type_of
from .masking import mask_secret
from .service_facts import LEGACY_HOST, RETIRED_HOSTS
from .setting_checks import (
    API_VERSION_RE,
    check_header_value,
    github_name,
    rate_limit_overrides,
    read_dotenv,
)
from .url_secrets import strip_url_secrets

__all__ = [
    "DEFAULT_ENDPOINT",
    "ENV_ENDPOINT",
    "ENV_ENTERPRISE",
    "ENV_ORGANIZATION",
    "ENV_TOKEN",
    "LEGACY_HOST",
    "Settings",
    "normalize_enterprise",
    "normalize_organization",
    "read_dotenv",
    "resolve_endpoint",
    "resolve_settings",
]

DEFAULT_ENDPOINT = "https://models.github.ai/inference"

ENV_TOKEN = "GITHUB_TOKEN"  # noqa: S105 - a variable name, not a secret
ENV_ORGANIZATION = "JAATO_GITHUB_ORGANIZATION"
ENV_ENTERPRISE = "JAATO_GITHUB_ENTERPRISE"
ENV_ENDPOINT = "JAATO_GITHUB_ENDPOINT"
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

ENV_KEYS = (ENV_TOKEN, ENV_ORGANIZATION, ENV_ENTERPRISE, ENV_ENDPOINT, ENV_TIMEOUT,
            ENV_MAX_RETRIES, ENV_PACING, ENV_CATALOG, ENV_TIER_LIMITS, ENV_AUTH, ENV_AUTH_SCOPE,
            ENV_TRACING, ENV_RATE_STORE, ENV_RATE_STORE_STRICT)

# Settings that ProviderConfig.extra may carry besides request defaults (see options.py).
SETTING_KEYS = frozenset({
    "organization", "enterprise", "endpoint", "timeout", "connect_timeout", "max_retries",
    "max_retry_wait", "pacing", "rate_limits", "env_file", "api_version", "pool_size",
    "enforce_tier_limits", "user_agent", "use_env_proxies", "trim_history", "catalog",
    "catalog_ttl", "auth", "auth_scope", "credential", "tracing", "rate_store",
    "rate_store_strict",
})

logger = logging.getLogger("shared.plugins.model_provider.github_models")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class Settings:
    """Resolved, validated settings for one provider instance. ``repr`` masks the token."""

    token: str = field(repr=False)
    token_source: str
    token_type: str
    base_endpoint: str
    endpoint: str
    endpoint_kind: str  # "github" (path ends in /inference), "legacy" or "custom"
    organization: str | None
    enterprise: str | None
    org_path_applied: bool
    read_timeout: float
    connect_timeout: float
    max_retries: int
    max_retry_wait: float
    pacing: bool
    rate_limit_overrides: Mapping[str, Mapping[str, Any]]
    enforce_tier_limits: bool
    trim_history: bool
    catalog_mode: str  # "static" (default) or "live"
    catalog_ttl: float
    api_version: str
    pool_size: int
    use_env_proxies: bool
    user_agent: str | None
    dotenv_path: str | None
    sources: Mapping[str, str]
    auth: str = "key"  # "key", "entra" (DefaultAzureCredential) or "credential" (extra's)
    token_cache: Any = field(default=None, repr=False, compare=False)  # auth.TokenCache
    tracing: str = "off"  # or "otel"
    # a redis:// URL may hold a password: never in repr (rate_store.StoreLocation masks it)
    rate_store: str | None = field(default=None, repr=False)
    rate_store_strict: bool = False

    def secrets(self) -> tuple[str, ...]:
        """The credentials whose echo must be masked: the key, and the Entra tokens issued."""
        cache = self.token_cache
        return (self.token, *(cache.issued if cache is not None else ()))

    def __repr__(self) -> str:
        import dataclasses

        shown = []
        for f in dataclasses.fields(self):
            if not f.repr:
                continue
            value = getattr(self, f.name)
            if f.name in ("endpoint", "base_endpoint"):
                value = strip_url_secrets(value)  # a key can hide in the path or query too
            shown.append(f"{f.name}={value!r}")
        return f"Settings(token={mask_secret(self.token)!r}, {', '.join(shown)})"

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled settings carry the token's shown form (``ghp_…``) and no Entra cache, never
        the credential (job queues, multiprocessing and caches pickle what they are handed)."""
        import dataclasses

        safe = dataclasses.replace(self, token=mask_secret(self.token), token_cache=None)
        return (_settings_from_fields, ({f.name: getattr(safe, f.name)
                                         for f in dataclasses.fields(safe)},))

    @property
    def token_hint(self) -> str:
        """The token's type prefix only (``ghp_…``)."""
        return mask_secret(self.token)

    @property
    def is_github_host(self) -> bool:
        """Whether the endpoint is GitHub-shaped (GitHub, GHES, the emulator)."""
        return self.endpoint_kind == "github"

    @property
    def catalog_url(self) -> str | None:
        """``GET`` URL of the model catalog for GitHub-shaped endpoints, else None.

        ``https://models.github.ai/inference`` (or ``.../orgs/X/inference``) ->
        ``https://models.github.ai/catalog/models``; the same rule for GHES and the emulator.
        """
        if self.endpoint_kind != "github":
            return None
        parts = urlsplit(self.endpoint)
        path = re.sub(r"(/orgs/[^/]+)?/inference$", "", parts.path.rstrip("/"))
        return urlunsplit((parts.scheme, parts.netloc, f"{path}/catalog/models", "", ""))

    @property
    def is_retired_host(self) -> bool:
        """Whether the endpoint is one of GitHub's retired hosts."""
        return (urlsplit(self.base_endpoint).hostname or "") in RETIRED_HOSTS


def normalize_organization(value: str) -> str:
    """Accept ``my-org`` or ``https://github.com/my-org`` (``.../orgs/my-org``); return the login.

    Raises:
        ConfigurationError: Anything else (a slash or ``..`` in a login, another host, extra path
            segments, a query): the value is refused, never rewritten to another name.
    """
    return github_name(value, "organization", ENV_ORGANIZATION, ("orgs", "organizations"),
                        "'my-org' or 'https://github.com/my-org'")


def normalize_enterprise(value: str) -> str:
    """Accept ``my-ent`` or ``https://github.com/enterprises/my-ent`` and return the slug.

    Raises:
        ConfigurationError: Anything else (slashes, ``..``, another host, extra segments).
    """
    return github_name(value, "enterprise", ENV_ENTERPRISE, ("enterprises",),
                        "'my-enterprise' or 'https://github.com/enterprises/my-enterprise'")


def resolve_endpoint(base: str, organization: str | None) -> tuple[str, str, bool]:
    """Return ``(endpoint, kind, org_path_applied)``; see :func:`_resolve_endpoint`.

    Raises:
        ConfigurationError: The endpoint is not a well-formed http(s) URL, or it already names an
            organization (``/orgs/X/inference``) other than the configured one.
    """
    try:
        return _resolve_endpoint(base, organization)
    except ValueError as exc:  # urllib's own complaints: bad port, bad IPv6 literal ...
        reason = str(exc).split(" as ")[0]
    # raised outside the except block: urllib quotes the offending text ("... as 'PASSWORD'"),
    # so its exception must not ride along as the context; a clean one is the cause
    cause = ValueError(reason)
    raise ConfigurationError(
        what="Checking the endpoint setting",
        why=f"{strip_url_secrets(base)!r} is not a valid URL ({cause})",
        fix=f"set {ENV_ENDPOINT} (or extra['endpoint']) to a URL such as "
            "'https://<resource>.services.ai.azure.com/models'") from cause


def _resolve_endpoint(base: str, organization: str | None) -> tuple[str, str, bool]:
    """Return ``(endpoint, kind, org_path_applied)`` for a configured base endpoint.

    A GitHub-shaped endpoint (path ending in ``/inference``) becomes
    ``{prefix}/orgs/{org}/inference`` when an organization is set; other endpoints have no org
    path. A pasted ``.../chat/completions`` suffix is dropped. An endpoint that already names an
    organization is kept when it names the configured one and refused when it names another
    (rewriting it silently would bill someone the user did not name; keeping it would bill
    ``X`` while reports say the configured org).

    Raises:
        ConfigurationError: The endpoint is not an http(s) URL, or names another organization.
    """
    if len(base) > 2048 or not base.strip().isprintable() or " " in base.strip():
        raise ConfigurationError(
            what="Checking the endpoint setting",
            why=f"{strip_url_secrets(base)[:80]!r} is longer than 2048 characters or holds a "
                "space, line break or other character a URL cannot carry",
            fix=f"set {ENV_ENDPOINT} (or extra['endpoint']) to a URL such as "
                "'https://<resource>.services.ai.azure.com/models'", setting="endpoint")
    url = base.strip().rstrip("/")
    pre = urlsplit(url)
    _ = pre.port  # urllib checks the port only when it is read: bad ports raise here
    if pre.username or pre.password or pre.query:
        # user info or a query can hold a key: never keep it (nor show it); keys go in api_key
        logger.warning("ignoring the user info / query string of the configured endpoint; "
                       "pass the key as ProviderConfig.api_key or GITHUB_TOKEN instead")
        url = _without_secrets(url).rstrip("/")
    if url.endswith("/chat/completions"):
        url = url[: -len("/chat/completions")].rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            what="Checking the endpoint setting",
            why=f"{strip_url_secrets(base)!r} is not an http(s) URL",
            fix=f"set {ENV_ENDPOINT} (or extra['endpoint']) to a URL such as "
                "'https://ghes.example.com/api/v3/models/inference' or "
                "'https://<resource>.services.ai.azure.com/models'",
        )
    if parts.fragment:
        url = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    path = parts.path.rstrip("/")
    if parts.hostname == LEGACY_HOST:
        return url, "legacy", False
    if not path.endswith("/inference"):
        return url, "custom", False
    if organization is None:
        return url, "github", False
    prefix = path[: -len("/inference")]
    present = re.search(r"/orgs/([^/]+)$", prefix)
    if present:  # already an org endpoint: it must name the configured org (logins ignore case)
        if present.group(1).lower() != organization.lower():
            raise ConfigurationError(
                what="Checking the endpoint against the organization setting",
                why=f"the endpoint {strip_url_secrets(url)!r} already bills organization "
                    f"{present.group(1)!r}, but the organization setting is {organization!r}; "
                    "requests would be billed to the first while reports name the second",
                fix=f"drop /orgs/{present.group(1)} from {ENV_ENDPOINT} (the organization "
                    "setting adds it), or set the organization to the one in the endpoint",
                setting="organization")
        return url, "github", True
    new_path = f"{prefix}/orgs/{organization}/inference"
    return urlunsplit((parts.scheme, parts.netloc, new_path, "", "")), "github", True


def _without_secrets(url: str) -> str:
    """``url`` without user info, query and fragment (each can carry a key)."""
    return strip_url_secrets(url)


def _find_dotenv(explicit: str | None, cwd: Path) -> Path | None:
    if explicit is not None:
        path = Path(explicit).expanduser()
        return path if path.is_file() else None
    for folder in (cwd, *cwd.parents):
        candidate = folder / ".env"
        if candidate.is_file():
            return candidate
    return None


def _read_dotenv(path: Path | None) -> dict[str, str]:
    return read_dotenv(path, ENV_FILE)


def _as_float(name: str, value: Any, low: float, high: float) -> float:
    if isinstance(value, bool):  # float(True) is 1.0: a flag is not a number of seconds
        value = "bool"
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(
            what=f"Checking the {name} setting", why=f"{value!r} is not a number",
            fix=f"give {name} in seconds between {low:g} and {high:g}") from exc
    if not low <= number <= high:
        raise ConfigurationError(
            what=f"Checking the {name} setting", why=f"{number:g} is outside [{low:g}, {high:g}]",
            fix=f"give {name} in seconds between {low:g} and {high:g}")
    return number


def _as_int(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool):
        value = "bool"
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(
            what=f"Checking the {name} setting", why=f"{value!r} is not a whole number",
            fix=f"give {name} as a whole number between {low} and {high}") from exc
    if not low <= number <= high:
        raise ConfigurationError(
            what=f"Checking the {name} setting", why=f"{number} is outside [{low}, {high}]",
            fix=f"give {name} as a whole number between {low} and {high}")
    return number


def _as_bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigurationError(
        what=f"Checking the {name} setting", why=f"{value!r} is not on/off",
        fix=f"give {name} as true/false (1/0, on/off)")


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
    env = os.environ if environ is None else environ
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
    env_file_setting = extra.get("env_file", env.get(ENV_FILE))
    dotenv_path: Path | None = None
    dotenv: dict[str, str] = {}
    where = "extra['env_file']" if "env_file" in extra else ENV_FILE
    dotenv_disabled = env_file_setting is False or str(env_file_setting).lower() in _FALSE
    explicit = None if dotenv_disabled or env_file_setting in (None, True) else str(
        env_file_setting)
    if not dotenv_disabled:
        dotenv_path = _find_dotenv(explicit, cwd or Path.cwd())
        if explicit is not None and dotenv_path is None:
            logger.warning("%s names %s, which does not exist: no .env file is read", where,
                           explicit)
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

    auth, token_cache = _resolve_auth(extra, pick)
    token: str | None = None
    if config is not None and config.api_key is not None and not isinstance(config.api_key,
                                                                              str):
        raise ConfigurationError(
            what="Checking ProviderConfig.api_key",
            why=f"it is {type(config.api_key).__name__}, not a string",
            fix="pass the token as text", setting="token")
    if auth != "key":
        token, token_source = "", f"Entra ID ({token_cache.credential_name})"
    elif config is not None and config.api_key:
        token, token_source = config.api_key.strip(), "config.api_key"
    elif env.get(ENV_TOKEN, "").strip():
        token, token_source = env[ENV_TOKEN].strip(), f"environment {ENV_TOKEN}"
    elif dotenv.get(ENV_TOKEN, "").strip():
        token, token_source = dotenv[ENV_TOKEN].strip(), f"{dotenv_path} ({ENV_TOKEN})"
    if token is None or (auth == "key" and not token):
        where_env = "set but empty" if ENV_TOKEN in env else "not set"
        if dotenv_disabled:
            dotenv_state = f"disabled by {where}"
        elif explicit is not None and dotenv_path is None:
            dotenv_state = f"{where}={explicit} not found"
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
    endpoint, kind, org_applied = resolve_endpoint(base, organization)
    base = _without_secrets(base)  # parses: resolve_endpoint already vetted the URL

    timeout_raw = pick("timeout", ENV_TIMEOUT)
    read_timeout = 60.0 if timeout_raw is None else _as_float("timeout", timeout_raw, 0.1, 3600)
    connect_raw = extra.get("connect_timeout")
    connect_timeout = (min(10.0, read_timeout) if connect_raw is None
                       else _as_float("connect_timeout", connect_raw, 0.1, 600))
    retries_raw = pick("max_retries", ENV_MAX_RETRIES)
    max_retries = 3 if retries_raw is None else _as_int("max_retries", retries_raw, 0, 20)
    wait_raw = extra.get("max_retry_wait")
    max_retry_wait = 60.0 if wait_raw is None else _as_float("max_retry_wait", wait_raw, 0, 86400)
    pacing_raw = pick("pacing", ENV_PACING)
    pacing = (kind == "github") if pacing_raw is None else _as_bool("pacing", pacing_raw)
    enforce_raw = pick("enforce_tier_limits", ENV_TIER_LIMITS)
    enforce = (kind == "github") if enforce_raw is None else _as_bool(
        "enforce_tier_limits", enforce_raw)
    overrides = rate_limit_overrides(extra.get("rate_limits") or {})
    pool_raw = extra.get("pool_size")
    pool_size = 16 if pool_raw is None else _as_int("pool_size", pool_raw, 1, 1024)
    proxies_raw = extra.get("use_env_proxies")
    use_env_proxies = True if proxies_raw is None else _as_bool("use_env_proxies", proxies_raw)
    user_agent = extra.get("user_agent")
    if user_agent is not None:
        check_header_value(user_agent, "user_agent", "extra['user_agent']")
    api_version = str(extra.get("api_version") or "2024-05-01-preview")
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
    if auth != "key" and kind == "github":
        logger.warning("Entra ID auth is on for the GitHub-shaped endpoint %s: GitHub endpoints "
                       "take GitHub tokens, not Entra tokens", endpoint)
    store_raw = pick("rate_store", ENV_RATE_STORE)
    strict_raw = pick("rate_store_strict", ENV_RATE_STORE_STRICT)

    return Settings(
        token=token,
        token_source=token_source,
        token_type="entra" if auth != "key" else token_type_of(token),
        base_endpoint=base.strip().rstrip("/"),
        endpoint=endpoint,
        endpoint_kind=kind,
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
        trim_history=_as_bool("trim_history", extra.get("trim_history", False)),
        catalog_mode=catalog_mode,
        catalog_ttl=(3600.0 if extra.get("catalog_ttl") is None
                     else _as_float("catalog_ttl", extra["catalog_ttl"], 0, 30 * 86400)),
        api_version=api_version,
        pool_size=pool_size,
        use_env_proxies=use_env_proxies,
        user_agent=None if user_agent is None else str(user_agent),
        dotenv_path=None if dotenv_path is None else str(dotenv_path),
        sources=sources,
        auth=auth,
        token_cache=token_cache,
        tracing=tracing,
        rate_store=(str(store_raw).strip() or None) if store_raw is not None else None,
        rate_store_strict=False if strict_raw is None else _as_bool("rate_store_strict",
                                                                    strict_raw),
    )


def _resolve_auth(extra: Mapping[str, Any], pick: Any) -> tuple[str, Any]:
    """``(auth, token_cache)``: ``key`` (no cache) unless a credential or ``entra`` is set.

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
    from .auth import DEFAULT_SCOPE, TokenCache, default_azure_credential

    scope = str(pick("auth_scope", ENV_AUTH_SCOPE) or DEFAULT_SCOPE).strip()
    if credential is None:
        return "entra", TokenCache(default_azure_credential(), scope)
    return "credential", TokenCache(credential, scope)


def _settings_from_fields(values: dict[str, Any]) -> Settings:
    """Unpickle :class:`Settings` (see ``Settings.__reduce__``)."""
    return Settings(**values)
