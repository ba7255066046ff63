"""``Settings``: the resolved, validated settings of one provider instance (see ``env``)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from ..common.masking import mask_secret, redacted
from ..common.service_facts import RETIRED_HOSTS
from ..common.url_secrets import strip_url_secrets, url_shown_with_password_mark
from ..kinds.profiles import EndpointProfile

__all__ = ["Settings"]


@dataclass(frozen=True)
class Settings:
    """Resolved, validated settings for one provider instance. ``repr`` masks the token."""

    token: str = field(repr=False)
    token_source: str
    token_type: str
    base_endpoint: str
    endpoint: str
    profile: EndpointProfile  # the kind of endpoint: everything that differs by kind
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
    api_version_set: bool = False  # extra["api_version"] given: a gateway then sends it too
    transport: str = "azure-core"  # or "azure-ai-inference" (clients.py)
    # a ChatCompletionsClient (sync / aio) the application handed in: requests go through it
    client: Any = field(default=None, repr=False, compare=False)
    async_client: Any = field(default=None, repr=False, compare=False)

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
        return f"Settings(token={redacted(self.token)!r}, {', '.join(shown)})"

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled settings carry the token's shown form (``ghp_…``), the store URL with its
        password masked, the endpoints without user info, query or ``;key=`` and no Entra cache,
        no handed-in client, never a credential (job queues, multiprocessing and caches pickle
        what they are handed)."""
        import dataclasses

        store = self.rate_store
        if store:  # a password in the store URL stays behind too: the shown form travels
            store = url_shown_with_password_mark(store)
        safe = dataclasses.replace(self, token=mask_secret(self.token), token_cache=None,
                                   rate_store=store,
                                   endpoint=strip_url_secrets(self.endpoint),
                                   base_endpoint=strip_url_secrets(self.base_endpoint),
                                   client=None, async_client=None)
        return (_settings_from_fields, ({f.name: getattr(safe, f.name)
                                         for f in dataclasses.fields(safe)},))

    def __copy__(self) -> Settings:
        return self  # frozen: a copy in this process keeps its working token (pickles do not)

    def __deepcopy__(self, memo: dict[int, Any]) -> Settings:
        return self

    @property
    def token_hint(self) -> str:
        """The token's type prefix only (``ghp_…``)."""
        return mask_secret(self.token)

    @property
    def catalog_url(self) -> str | None:
        """``GET`` URL of the endpoint's model catalog (GitHub-shaped endpoints), else None."""
        return self.profile.catalog_url(self.endpoint)

    @property
    def is_retired_host(self) -> bool:
        """Whether the endpoint is one of GitHub's retired hosts."""
        return (urlsplit(self.base_endpoint).hostname or "") in RETIRED_HOSTS


def _settings_from_fields(values: dict[str, Any]) -> Settings:
    """Unpickle :class:`Settings` (see ``Settings.__reduce__``)."""
    return Settings(**values)
