"""The facts every error message is written from: what was attempted (``ErrorContext``) and
the day GitHub Models was retired. Standard library only (plus the stdlib-only ``profiles``
and ``url_secrets``), so ``errors`` and ``_error_messages`` both import it without a cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from ..common.service_facts import RETIREMENT_DATE
from ..common.url_secrets import strip_url_secrets
from ..kinds.profiles import EndpointProfile, profile_for_url

__all__ = ["RETIREMENT_DATE", "ErrorContext"]

_ENDPOINT_HINT = 'JAATO_GITHUB_ENDPOINT or extra["endpoint"]'


@dataclass(frozen=True, slots=True)
class ErrorContext:
    """What the provider was doing when a failure happened; used only to write better messages.

    Attributes:
        endpoint: The base endpoint URL (query and user info are never shown).
        model: The model id requested, if any.
        organization: Organization login that usage is attributed to, if any.
        enterprise: Enterprise slug, if configured.
        token_type: ``fine_grained_pat``, ``classic_pat``, ``github_app``, ``oauth``,
            ``unknown`` or None (see :func:`token_type_of`).
        token_source: Where the token came from (``GITHUB_TOKEN``, ``config.api_key``, ``.env``).
        profile: The endpoint's profile (``profiles.py``): it decides the kind-specific advice.
            Default: chosen from ``endpoint``'s URL, as ``Settings`` does.
        endpoint_config_hint: How a user changes the endpoint.
        operation: What was attempted ("Chat completion", "Catalog request", ...).
        known_models: Model ids to suggest from when a model is not found.
        secrets: Credentials in use (never shown): any echo of them in a body or message is
            masked, whatever their format (an Azure key has no recognisable prefix).
    """

    endpoint: str = "https://models.github.ai/inference"
    model: str | None = None
    organization: str | None = None
    enterprise: str | None = None
    token_type: str | None = None
    token_source: str | None = None
    profile: EndpointProfile | None = None
    endpoint_config_hint: str = _ENDPOINT_HINT
    operation: str = "Request"
    known_models: tuple[str, ...] = ()
    secrets: tuple[str, ...] = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.profile is None:
            object.__setattr__(self, "profile", profile_for_url(self.endpoint))

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickled without ``secrets`` (job queues, multiprocessing and caches pickle what they
        are handed; ``Settings`` pickles without its token for the same reason)."""
        return ErrorContext, tuple(getattr(self, f.name) for f in fields(self)
                                   if f.name != "secrets")

    def __copy__(self) -> ErrorContext:
        return self  # frozen: a copy in this process keeps the secrets it masks

    def __deepcopy__(self, memo: dict[int, Any]) -> ErrorContext:
        return self

    @property
    def advice(self) -> EndpointProfile:
        """The profile whose advice the messages give (never None after construction)."""
        assert self.profile is not None
        return self.profile

    @classmethod
    def for_endpoint(cls, endpoint: str, **fields: Any) -> ErrorContext:
        """A context whose profile is chosen from ``endpoint``'s URL."""
        return cls(endpoint=endpoint, **fields)

    @property
    def shown_endpoint(self) -> str:
        """The endpoint without query, fragment or user info (they can hold keys)."""
        return strip_url_secrets(self.endpoint) or "<no endpoint>"
