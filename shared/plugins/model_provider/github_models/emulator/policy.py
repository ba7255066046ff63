"""Who may call what: token checks, organization membership and Models policies.

Each check returns ``None`` when the request may proceed, or a ``Denial`` carrying the status and
body the real service answered. Messages follow the service where it is known (``Bad
credentials``, ``Your account type is not currently supported``, ``No access to model: X``) and
GitHub's usual wording elsewhere.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from .state import EmulatorState, OrgInfo
from .wire import github_error

__all__ = [
    "ENTRA_INVALID_MESSAGE",
    "Denial",
    "check_entra",
    "check_model_allowed",
    "check_org",
    "check_token",
    "extract_token",
]

# Classic credentials are unaffected by the models:read permission (GitHub changelog 2025-05-15).
_CLASSIC_PREFIXES = ("ghp_", "gho_")

PERMISSION_MESSAGE = (
    "The `models` permission is required to access this endpoint. Grant the token the "
    "'Models' account permission (read-only)."
)


@dataclass(frozen=True, slots=True)
class Denial:
    """A refused request: HTTP status and body text."""

    status: int
    body: str


_BAD_CREDENTIALS = Denial(401, github_error("unauthorized", "Bad credentials"))

# Azure AI model inference's answer to a missing, foreign or expired Entra token
ENTRA_INVALID_MESSAGE = (
    "Access token is missing, invalid, audience is incorrect "
    "(https://cognitiveservices.azure.com), or have expired."
)
_ENTRA_DENIED = Denial(401, '{"error":{"code":"401","message":"' + ENTRA_INVALID_MESSAGE + '"}}')


def extract_token(headers: Mapping[str, str]) -> str | None:
    """The bearer token, or the ``api-key`` header the Azure SDK also sends."""
    auth = headers.get("authorization")
    if auth is not None:
        scheme, _, token = auth.partition(" ")
        token = token.strip()
        return token if scheme.lower() == "bearer" and _plain(token) else None
    key = headers.get("api-key") or ""
    return key if _plain(key) else None


def _plain(token: str) -> bool:
    """A credential as the service reads one: printable ASCII (a header that is not UTF-8 on
    the wire arrives with surrogates; GitHub answers it with 401 Bad credentials)."""
    return bool(token) and token.isascii() and token.isprintable()


def check_entra(state: EmulatorState, token: str | None, prefix: str) -> Denial | None:
    """Entra mode: accept ``<prefix><id>.<expires_on epoch seconds>`` until it expires."""
    import time

    if token is None or not token.startswith(prefix):
        return _ENTRA_DENIED
    token_id, _, expires = token[len(prefix):].rpartition(".")
    try:
        expires_on = float(expires)
    except ValueError:
        return _ENTRA_DENIED
    if not token_id or expires_on <= time.time():
        return _ENTRA_DENIED
    with state.lock:
        state.entra_seen.append(token_id)
    return None


def check_token(state: EmulatorState, token: str | None) -> Denial | None:
    """Authenticate; without strict auth any non-empty token is accepted."""
    prefix = state.entra_prefix
    if prefix is not None:
        return check_entra(state, token, prefix)
    if token is None:
        return _BAD_CREDENTIALS
    with state.lock:
        if not state.strict_auth:
            return None
        info = state.tokens.get(token)
    if info is None or info.expired:
        return _BAD_CREDENTIALS
    if not info.account_supported:
        return Denial(
            401, github_error("unauthorized", "Your account type is not currently supported")
        )
    if not token.startswith(_CLASSIC_PREFIXES) and "models:read" not in info.scopes:
        # the real service answered exactly like a bad token ("indistinguishable from a
        # completely invalid token", observed 2026-04); the explicit text is opt-in
        if state.explicit_permission_errors:
            return Denial(401, github_error("unauthorized", PERMISSION_MESSAGE))
        return _BAD_CREDENTIALS
    return None


def check_org(
    state: EmulatorState, login: str, token: str | None
) -> tuple[Denial | None, OrgInfo | None]:
    """May this token bill this organization? Returns (denial, the org when registered)."""
    key = login.lower()
    with state.lock:
        info = state.tokens.get(token) if token is not None else None
        org = state.orgs.get(key)
        strict = state.strict_auth
        enterprise_on = (
            state.enterprise_enabled.get(org.enterprise.lower(), True)
            if org is not None and org.enterprise
            else True
        )
    if info is not None and key in info.sso_orgs:
        msg = (
            f"Resource protected by organization SAML enforcement. You must grant your "
            f"token access to the organization {login} (SSO authorization)."
        )
        return Denial(403, github_error("sso_required", msg)), org
    member = org is not None and (token in org.members or (info is not None and key in info.orgs))
    if not member and (strict or (org is not None and org.members)):
        msg = (
            f"You are not a member of the organization {login}: "
            "it cannot be billed for your GitHub Models usage."
        )
        return Denial(403, github_error("forbidden", msg)), org
    if org is None:
        return None, None
    if not enterprise_on:
        msg = (
            f"GitHub Models is disabled by a policy of the enterprise {org.enterprise}. "
            "An enterprise owner can enable it under Policies > Models."
        )
        return Denial(403, github_error("models_disabled", msg)), org
    if not org.models_enabled:
        msg = "GitHub Models is disabled for this organization."
        return Denial(403, github_error("models_disabled", msg)), org
    return None, org


def check_model_allowed(org: OrgInfo | None, model_id: str, requested: str) -> Denial | None:
    """The organization's allow-list of models, when it has one."""
    if org is None or org.allowed_models is None or model_id.lower() in org.allowed_models:
        return None
    return Denial(403, github_error("no_access", f"No access to model: {requested}"))
