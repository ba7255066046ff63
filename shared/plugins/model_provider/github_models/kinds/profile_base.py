"""The base of every endpoint profile (``profiles.py`` lists the kinds): what an endpoint nothing
is known about means for the provider, and the facts the Azure kinds share.

Standard library only (``errors`` imports the profiles at start-up).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import ClassVar, Self, cast
from urllib.parse import urlsplit, urlunsplit

__all__ = ["ENTRA_SCOPE", "LIST_DEPLOYMENTS", "OPENAI_RANGES", "V1_ROLE", "EndpointProfile",
           "SettingConflict", "v1_url_for"]

ENTRA_SCOPE = "https://cognitiveservices.azure.com/.default"
"""The audience of Azure AI model inference / Foundry and Azure OpenAI (Entra ID tokens). For
the v1 route it is the scope Microsoft's own v1 example hands ``get_bearer_token_provider``
(https://learn.microsoft.com/azure/ai-foundry/openai/api-version-lifecycle, "Microsoft Entra
ID"), with the role "Cognitive Services OpenAI User" assigned to the identity."""
V1_ROLE = "Cognitive Services OpenAI User"
LIST_DEPLOYMENTS = ("GET <endpoint>/models with the same key, or `az cognitiveservices account "
                    "deployment list -g <resource-group> -n <resource>`")

OPENAI_RANGES: Mapping[str, tuple[float, float]] = {
    "temperature": (0.0, 2.0),
    "top_p": (0.0, 1.0),
    "frequency_penalty": (-2.0, 2.0),
    "presence_penalty": (-2.0, 2.0),
}

class SettingConflict(ValueError):
    """A profile refuses a setting (``what``/``why``/``fix`` and the ``setting``, as a
    ``ConfigurationError`` takes them): ``config.endpoints`` raises that error from this one, so
    the profiles stay below the error classes."""

    def __init__(self, *, what: str, why: str, fix: str, setting: str) -> None:
        super().__init__(f"{what}: {why}")
        self.what, self.why, self.fix, self.setting = what, why, fix, setting


_ROUTE_RETIRED = re.compile(
    r"\b(?:api|endpoint|route|inference|sdk)\b[^.]{0,80}\b(?:retired|deprecated|removed)\b"
    r"|\b(?:retired|deprecated|removed)\b[^.]{0,80}\b(?:api|endpoint|route|inference|sdk)\b",
    re.IGNORECASE)


def v1_url_for(endpoint: str) -> str:
    """Foundry's v1 URL on the host of ``endpoint`` (``https://<host>/openai/v1/``)."""
    parts = urlsplit(endpoint)
    return urlunsplit((parts.scheme or "https", parts.netloc, "/openai/v1/", "", ""))

_ONE_EACH: dict[type, object] = {}  # EndpointProfile.__new__: the one instance of each kind


class EndpointProfile:
    """What an endpoint kind means for the provider. The base class is the behaviour of an
    endpoint nothing is known about (an OpenAI-compatible gateway); kinds override what differs.

    Profiles hold no state: one instance per kind, compared by kind, pickled by name.
    """

    kind: ClassVar[str] = ""
    label: ClassVar[str] = ""  # for messages: "a GitHub Models endpoint"
    shape: ClassVar[str] = ""  # for `doctor`: what the provider does with this kind
    knows_model_ids: ClassVar[bool] = False
    """The bundled catalog is the endpoint's list: unknown ids are refused before any request,
    the catalog's traits (structured output) are enforced; else ids are deployment names."""
    free_tier_defaults: ClassVar[bool] = False
    """GitHub's free tier exists on this kind (its pacing and per-request token caps can apply;
    :meth:`free_tier_default` says where they are on by default)."""
    key_headers: ClassVar[tuple[tuple[str, str | None], ...]] = (
        ("Authorization", "Bearer"), ("api-key", None))
    """(header, prefix) pairs that carry the key (Azure and gateways read ``api-key``)."""
    entra_scope: ClassVar[str] = ENTRA_SCOPE
    otel_provider: ClassVar[str] = "openai"  # gen_ai.provider.name
    option_ranges: ClassVar[Mapping[str, tuple[float, float]]] = OPENAI_RANGES
    bare_refusal_is_retirement: ClassVar[bool] = False
    """An empty 403/404 means the endpoint is gone (the removed legacy host answers so)."""
    sends_api_version: ClassVar[bool] = True
    """Requests carry ``?api-version=`` and ``X-GitHub-Api-Version`` (Foundry v1 takes none)."""
    api_version_opt_in: ClassVar[bool] = False
    """Without ``sends_api_version``, an ``api_version`` the user set is still sent (gateways)."""
    matches_deployment_base: ClassVar[bool] = False
    """An id the catalog does not know takes the limits of the catalog model whose name ends it
    (deployment ``my-gpt-4o`` -> ``gpt-4o``; see ``Catalog.base_of``)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EndpointProfile) and other.kind == self.kind

    def __hash__(self) -> int:
        return hash(self.kind)

    def __new__(cls) -> Self:
        """One instance per kind: ``profiles._PROFILES`` holds them, an unpickled one is it."""
        found = _ONE_EACH.get(cls)
        if found is None:
            found = _ONE_EACH[cls] = super().__new__(cls)
        return cast(Self, found)

    def __reduce__(self) -> tuple[type[EndpointProfile], tuple[()]]:
        return type(self), ()

    # ------------------------------------------------------------------ selection

    @classmethod
    def matches(cls, host: str, path: str) -> bool:
        """Whether an endpoint with this lower-cased host and path is of this kind."""
        del host, path
        return False

    def free_tier_default(self, host: str) -> bool:
        """Whether free-tier pacing and caps are on by default for an endpoint on ``host``
        (only where the service has them: GitHub Models' own host)."""
        del host
        return False

    # ------------------------------------------------------------------ the wire

    def endpoint_for(self, url: str, organization: str | None) -> tuple[str, bool]:
        """``(endpoint, org_path_applied)``: where requests go for ``organization``.

        Raises:
            SettingConflict: The URL already names another organization (GitHub only).
        """
        del organization
        return url, False

    def catalog_url(self, endpoint: str) -> str | None:
        """The ``GET`` URL of the endpoint's model catalog, or None when it has none."""
        del endpoint
        return None

    def wire_model_id(self, catalog_id: str, as_written: str) -> str:
        """The ``model`` sent: ``as_written`` (a deployment name) unless the kind says otherwise."""
        del catalog_id
        return as_written

    def provider_name(self, host: str) -> str:
        """``gen_ai.provider.name`` (OpenTelemetry) for this endpoint's ``host``."""
        del host
        return self.otel_provider

    def entra_warning(self) -> str | None:
        """A warning when Entra ID auth is used with this kind, or None."""
        return None

    # ------------------------------------------------------------------ error advice

    def retired_why(self, status: int | None, shown_endpoint: str, said: str) -> str | None:
        """Why a refusal means retirement, when this kind knows (else the generic text)."""
        del status, shown_endpoint, said
        return None

    def retired_fix(self, shown_endpoint: str, said: str) -> str | None:
        """What to move to after a retirement this kind knows (else the generic advice)."""
        del shown_endpoint, said
        return None

    @property
    def retirement_note(self) -> str:
        """Appended to a refusal that announced a retirement."""
        return ""

    def rate_limit_fixes(self, organization: str | None) -> list[str]:
        """Fixes after 'wait': what else lifts this kind's rate limits."""
        del organization
        return ["or raise this endpoint's quota"]

    def access_refused(self, status: int | None, said: str) -> tuple[str, str] | None:
        """``(why, fix)`` for a 403 on this kind, or None to use GitHub's policy advice."""
        return (f"the endpoint refused access (HTTP {status}){said}",
                "check that the key may use this model or deployment and that the resource's "
                "network rules admit this client")

    def bad_key_fix(self, token_type: str | None, hint: str) -> str:
        """How to fix a key or token the endpoint rejected (not Entra ID)."""
        del token_type
        return ("use this endpoint's own key (for Microsoft Foundry the resource's key, for a "
                f"gateway its API key) as config.api_key or GITHUB_TOKEN, or set {hint} back to "
                "a GitHub endpoint")

    def model_id_hint(self, model: str) -> str | None:
        """A hint about how ids are spelled on this kind when ``model`` was not found."""
        del model
        return None

    @property
    def tier_cap_note(self) -> str:
        """Appended when a request exceeded a per-request token cap."""
        return ""
