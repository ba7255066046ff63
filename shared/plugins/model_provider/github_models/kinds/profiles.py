"""Endpoint profiles: every difference between kinds of endpoint, one class per kind.

The kind is chosen once, from the endpoint URL (:func:`profile_for_url`) or the
``endpoint_kind`` setting (:func:`profile_named`), when the settings are resolved; everything
that depends on it asks the profile (``Settings.profile``, ``ErrorContext.profile``) instead of
testing the kind. Adding a kind is one subclass of :class:`EndpointProfile` listed in
``_PROFILES``, plus its tests.

Kinds:

- ``github``: GitHub-shaped endpoints (a path ending in ``/inference``: models.github.ai, now
  retired, GitHub Enterprise Server, proxies, the emulator). Organization path, catalog,
  ``publisher/name`` ids, free-tier pacing and caps, GitHub token advice.
- ``legacy``: the older host models.inference.ai.azure.com (bare model names; removed).
- ``openai_v1``: Microsoft Foundry's OpenAI/v1 API (a path ending in ``/openai/v1``, any host:
  ``<resource>.openai.azure.com``, ``<resource>.services.ai.azure.com``, proxies, local servers).
  No ``api-version``, deployment names as ids, the key once in ``api-key``, paid defaults.
- ``foundry``: Microsoft Foundry / Azure AI model inference (``/models``, retired with its SDK)
  and other Azure hosts (``*.azure.com``).
- ``gateway``: any other OpenAI-compatible gateway.

Standard library only: ``errors`` imports this module at start-up (through ``error_context``).
"""


import re
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit

from ..common.service_facts import GITHUB_MODELS_HOST, LEGACY_HOST, RETIREMENT_DATE
from .profile_base import (
    ENTRA_SCOPE,
    OPENAI_RANGES,
    EndpointProfile,
    SettingConflict,
    v1_url_for,
)
from .profiles_foundry import FoundryProfile, OpenAIV1Profile

__all__ = [
    "ENDPOINT_KINDS",
    "ENTRA_SCOPE",
    "EndpointProfile",
    "FoundryProfile",
    "GatewayProfile",
    "GitHubProfile",
    "LegacyProfile",
    "OpenAIV1Profile",
    "is_github_shaped",
    "profile_for_url",
    "profile_named",
    "v1_url_for",
]

PAT_URL = "https://github.com/settings/personal-access-tokens/new"

# Numeric option ranges [low, high] checked before any request (options.py). OpenAI's chat
# completions reference: temperature [0, 2], top_p [0, 1], penalties [-2, 2]. GitHub Models'
# REST description narrows temperature to [0, 1]. See docs/configuration.md for the sources.
_GITHUB_RANGES: Mapping[str, tuple[float, float]] = {**OPENAI_RANGES, "temperature": (0.0, 1.0)}

_INVALID_TOKEN_FIX = {
    "fine_grained_pat": "check that the token has not expired or been revoked and that it has the "
    "account permission 'Models' set to read (models: read): without it GitHub answers the same "
    f"401 'Bad credentials'; create one at {PAT_URL}",
    "classic_pat": "check that the token has not expired or been revoked, and authorize it for the "
    "organization's SAML SSO if it uses SSO (https://github.com/settings/tokens → Configure SSO); "
    "a fine-grained PAT with models: read is recommended",
    "github_app": "installation tokens (ghs_) expire after an hour: mint a fresh one, and check "
    "that the installation grants the 'Models' permission (read)",
    "oauth": "re-authenticate (`gh auth refresh` or `gh auth login`) for a fresh token, or use a "
    "fine-grained PAT with models: read",
    "unknown": "GitHub endpoints expect a GitHub token (github_pat_…, ghp_…, ghs_…, gho_…): "
    f"create a fine-grained PAT with models: read at {PAT_URL}",
}


class GitHubProfile(EndpointProfile):
    """GitHub-shaped: a path ending in ``/inference`` (models.github.ai, GHES, proxies, the
    emulator), or GitHub Models' own host."""

    kind = "github"
    label = "a GitHub Models endpoint"
    shape = "GitHub-shaped (.../inference)"
    knows_model_ids = True
    free_tier_defaults = True
    key_headers = (("Authorization", "Bearer"),)
    otel_provider = "github"  # the GitHub Models protocol; not in the conventions' enum
    option_ranges = _GITHUB_RANGES

    @classmethod
    def matches(cls, host: str, path: str) -> bool:
        return host == GITHUB_MODELS_HOST or path.rstrip("/").endswith("/inference")

    def free_tier_default(self, host: str) -> bool:
        """On for models.github.ai (the retired host) only: the emulator, GHES and proxies
        enforce no free tier of their own unless asked to."""
        return host == GITHUB_MODELS_HOST

    def endpoint_for(self, url: str, organization: str | None) -> tuple[str, bool]:
        """``{prefix}/orgs/{org}/inference`` when an organization is set; an endpoint that
        already names an organization is kept when it names the configured one and refused when
        it names another (rewriting it would bill someone the user did not name; keeping it
        would bill ``X`` while reports say the configured org).

        Raises:
            SettingConflict: The URL already names another organization (``config.endpoints``
                raises it as a ``ConfigurationError``).
        """
        parts = urlsplit(url)
        path = parts.path.rstrip("/")
        if organization is None or not path.endswith("/inference"):
            return url, False
        prefix = path[: -len("/inference")]
        present = re.search(r"/orgs/([^/]+)$", prefix)
        if present:  # logins ignore case
            if present.group(1).lower() != organization.lower():
                from ..common.url_secrets import strip_url_secrets

                raise SettingConflict(
                    what="Checking the endpoint against the organization setting",
                    why=f"the endpoint {strip_url_secrets(url)!r} already bills organization "
                        f"{present.group(1)!r}, but the organization setting is "
                        f"{organization!r}; requests would be billed to the first while "
                        "reports name the second",
                    fix=f"drop /orgs/{present.group(1)} from JAATO_GITHUB_ENDPOINT (the "
                        "organization setting adds it), or set the organization to the one in "
                        "the endpoint", setting="organization")
            return url, True
        new_path = f"{prefix}/orgs/{organization}/inference"
        return urlunsplit((parts.scheme, parts.netloc, new_path, "", "")), True

    def catalog_url(self, endpoint: str) -> str | None:
        """``https://models.github.ai/inference`` (or ``.../orgs/X/inference``) ->
        ``https://models.github.ai/catalog/models``; the same rule for GHES and the emulator."""
        parts = urlsplit(endpoint)
        path = re.sub(r"(/orgs/[^/]+)?/inference$", "", parts.path.rstrip("/"))
        return urlunsplit((parts.scheme, parts.netloc, f"{path}/catalog/models", "", ""))

    def wire_model_id(self, catalog_id: str, as_written: str) -> str:
        """The catalog's spelling (``publisher/name``)."""
        del as_written
        return catalog_id

    def entra_warning(self) -> str | None:
        return ("Entra ID auth is on for a GitHub-shaped endpoint: GitHub endpoints take GitHub "
                "tokens, not Entra tokens")

    def retired_why(self, status: int | None, shown_endpoint: str, said: str) -> str | None:
        if status != 410:
            return None
        return (f"GitHub Models was retired on {RETIREMENT_DATE} and {shown_endpoint} refuses "
                f"every request{said}")

    @property
    def retirement_note(self) -> str:
        return f"; GitHub Models was retired on {RETIREMENT_DATE}"

    def rate_limit_fixes(self, organization: str | None) -> list[str]:
        org = f" {organization.strip().rstrip('/').rsplit('/', 1)[-1]}" if organization else ""
        return ["or use a model of a tier with higher limits (on the free plan low-tier models "
                "allow more requests than high- and custom-tier ones)",
                f"or enable paid usage for the organization{org} so production limits apply "
                "(JAATO_GITHUB_ORGANIZATION bills usage to it)"]

    def access_refused(self, status: int | None, said: str) -> tuple[str, str] | None:
        del status, said
        return None

    def bad_key_fix(self, token_type: str | None, hint: str) -> str:
        del hint
        return _INVALID_TOKEN_FIX.get(token_type or "", _INVALID_TOKEN_FIX["fine_grained_pat"])

    def model_id_hint(self, model: str) -> str | None:
        if "/" in model.strip("/"):
            return None
        return "use the full id {publisher}/{model_name}, e.g. openai/gpt-4.1"

    @property
    def tier_cap_note(self) -> str:
        return "; the free plan caps tokens per request far below the model's context window"


class LegacyProfile(EndpointProfile):
    """models.inference.ai.azure.com: GitHub Models' older host (bare model names; removed)."""

    kind = "legacy"
    label = "the legacy GitHub Models host"
    shape = "legacy Azure host"
    knows_model_ids = True
    key_headers = (("Authorization", "Bearer"),)
    otel_provider = "github"
    option_ranges = _GITHUB_RANGES
    bare_refusal_is_retirement = True

    @classmethod
    def matches(cls, host: str, path: str) -> bool:
        del path
        return host == LEGACY_HOST

    def wire_model_id(self, catalog_id: str, as_written: str) -> str:
        """The bare name (``gpt-4o`` for ``openai/gpt-4o``)."""
        del as_written
        return catalog_id.split("/", 1)[-1]

    def retired_why(self, status: int | None, shown_endpoint: str, said: str) -> str | None:
        del status, shown_endpoint, said
        return ("the legacy endpoint models.inference.ai.azure.com was deprecated on 2025-07-17 "
                f"and removed on 2025-10-17, and GitHub Models itself was retired on "
                f"{RETIREMENT_DATE}")


class GatewayProfile(EndpointProfile):
    """Any other OpenAI-compatible gateway: ids as written, no org path, no catalog, no caps."""

    kind = "gateway"
    label = "an OpenAI-compatible gateway"
    shape = "OpenAI-compatible gateway: no catalog, no org path"
    # OpenAI's protocol has no api-version: sent only when the user sets one (an Azure resource
    # behind a custom domain wants it, or endpoint_kind="foundry")
    sends_api_version = False
    api_version_opt_in = True

    @classmethod
    def matches(cls, host: str, path: str) -> bool:
        del host, path
        return True


# Tried in order; the last one matches everything.
_PROFILES: tuple[EndpointProfile, ...] = (LegacyProfile(), OpenAIV1Profile(), GitHubProfile(),
                                          FoundryProfile(), GatewayProfile())
_BY_KIND = {p.kind: p for p in _PROFILES}
ENDPOINT_KINDS = tuple(_BY_KIND)


def profile_for_url(url: str) -> EndpointProfile:
    """The profile of an endpoint URL (a malformed URL is a gateway: nothing is known of it)."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
    except ValueError:
        return _BY_KIND["gateway"]
    path = parts.path
    return next(p for p in _PROFILES if p.matches(host, path))


def profile_named(kind: str) -> EndpointProfile:
    """The profile of ``kind`` (one of :data:`ENDPOINT_KINDS`).

    Raises:
        KeyError: Not a kind; ``env`` turns it into a ConfigurationError listing the kinds.
    """
    return _BY_KIND[kind]


def is_github_shaped(endpoint: str) -> bool:
    """Whether ``endpoint`` is GitHub-shaped (GitHub Models' host or a ``/inference`` path)."""
    return profile_for_url(endpoint).kind == "github"
