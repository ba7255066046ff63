"""Failure texts about access: disabled Models, missing permissions, rejected tokens.

The kind-specific parts (a 403 on Foundry or a gateway, the fix for a rejected key) come from
the endpoint's profile (``ErrorContext.profile``); the rest is GitHub's account model.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..kinds.profiles import PAT_URL
from ._error_facts import Diagnosis, Facts

if TYPE_CHECKING:
    from .error_context import ErrorContext

__all__ = ["ENTRA_ADVICE", "disabled", "org_login", "permission", "token_invalid"]


_TOKEN_DESC = {
    "fine_grained_pat": "fine-grained personal access token (github_pat_…)",
    "classic_pat": "classic personal access token (ghp_…)",
    "github_app": "GitHub App token (ghs_…/ghu_…)",
    "oauth": "OAuth token (gho_…)",
    "unknown": "token (not a recognised GitHub token type)",
    "entra": "Microsoft Entra ID access token",
}

# Advice for a refused Entra ID token (auth.py); here so the 401 mapping can use it too.
ENTRA_ADVICE = (
    "check that the identity has the 'Cognitive Services User' role on the Foundry / Azure AI "
    "resource (role assignments take up to 5 minutes to apply), that it signs in to the "
    "resource's tenant (AZURE_TENANT_ID, or `az login --tenant <tenant>`), that the scope "
    "(JAATO_GITHUB_AUTH_SCOPE, default https://cognitiveservices.azure.com/.default) is the "
    "endpoint's audience, and that `az login` is current when DefaultAzureCredential uses the "
    "Azure CLI"
)


def _token(ctx: ErrorContext) -> str:
    desc = _TOKEN_DESC.get(ctx.token_type or "", "token")
    return f"{desc} from {ctx.token_source}" if ctx.token_source else desc


def org_login(org: str) -> str:
    """The login in ``org`` (a name or a URL ending in one)."""
    return org.strip().rstrip("/").rsplit("/", 1)[-1]


def _settings(ctx: ErrorContext, text: str = "") -> tuple[str | None, str]:
    """``(settings_url, where)`` naming the place an owner enables Models.

    A refusal that names the enterprise (its policy) points at the enterprise, even when an
    organization is configured.
    """
    if ctx.enterprise and "enterprise" in text:
        url = f"https://github.com/enterprises/{org_login(ctx.enterprise)}/settings/policies/models"
        return url, f"Enterprise settings → Policies → Models ({url})"
    if ctx.organization:
        url = f"https://github.com/organizations/{org_login(ctx.organization)}/settings/models"
        return url, f"the organization's Models settings ({url})"
    if ctx.enterprise:
        url = f"https://github.com/enterprises/{org_login(ctx.enterprise)}/settings/policies/models"
        return url, f"Enterprise settings → Policies → Models ({url})"
    return None, (
        "the organization's Models settings (https://github.com/organizations/<org>/settings/models)"
        " or Enterprise settings → Policies → Models "
        "(https://github.com/enterprises/<enterprise>/settings/policies/models); set "
        "JAATO_GITHUB_ORGANIZATION when usage should go through an organization"
    )


def disabled(f: Facts) -> Diagnosis:
    text = f.wire.search_text
    url, where = _settings(f.context, text)
    refused = f.context.advice.access_refused(f.status, f.said)
    if refused is not None:  # not GitHub's policies: the endpoint's own access rules
        return Diagnosis("disabled", *refused, {"settings_url": None})
    if "account type is not" in text:
        why = (f"the service does not accept this account type{f.said}; typically a GitHub "
               "Enterprise managed account whose enterprise has not enabled Models")
        ent = org_login(f.context.enterprise or "<enterprise>")
        ent_url = f"https://github.com/enterprises/{ent}/settings/policies/models"
        fix = ("an enterprise owner must enable Models in Enterprise settings → Policies → Models "
               f"({ent_url})")
        return Diagnosis("disabled", why, fix,
                         {"settings_url": ent_url if f.context.enterprise else None})
    if "not a member" in text or "membership" in text:
        org = f.context.organization or "the organization"
        why = (f"the token's user is not a member of {org}, so usage cannot be billed to it"
               f"{f.said}")
        fix = ("join the organization or use a member's token, or unset "
               "JAATO_GITHUB_ORGANIZATION (extra['organization']) to bill usage to yourself")
        return Diagnosis("disabled", why, fix, {"settings_url": None})
    if "no access to model" in text or "not allowed" in text or "policy" in text:
        why = (f"this account may not use the model{f.said}: the organization or enterprise policy "
               "does not enable it, or the plan does not include it")
        fix = f"ask an owner to enable the model in {where}, or choose another model"
    else:
        why = f"GitHub Models is disabled for this account, organization or enterprise{f.said}"
        fix = f"an owner must enable GitHub Models in {where}"
    return Diagnosis("disabled", why, fix, {"settings_url": url})


_PERMISSION_FIX = {
    "fine_grained_pat": "edit the token (https://github.com/settings/personal-access-tokens) and "
    "set the account permission 'Models' to read-only (models: read), or create one at "
    + PAT_URL,
    "classic_pat": "authorize the token for the organization's SAML SSO "
    "(https://github.com/settings/tokens → Configure SSO), or use a fine-grained PAT with "
    "models: read",
    "github_app": "grant the GitHub App the 'Models' permission (read) and have the installation "
    "accept the new permission",
    "oauth": "re-authenticate (`gh auth refresh` or `gh auth login`), or use a fine-grained PAT "
    "with models: read",
}


def permission(f: Facts) -> Diagnosis:
    text = f.wire.search_text
    if re.search(r"\bsso\b|\bsaml\b|single sign-on", text):
        why = f"the {_token(f.context)} is not authorized for the organization's SAML SSO{f.said}"
        fix = ("authorize the token for SSO (https://github.com/settings/tokens → Configure SSO → "
               "Authorize; fine-grained tokens must be approved by the organization)")
    else:
        why = f"the {_token(f.context)} lacks permission to use GitHub Models{f.said}"
        fix = _PERMISSION_FIX.get(f.context.token_type or "", _PERMISSION_FIX["fine_grained_pat"])
    return Diagnosis("permission", why, fix, {"token_type": f.context.token_type})


def token_invalid(f: Facts) -> Diagnosis:
    why = f"the endpoint rejected the {_token(f.context)} as bad, expired or unsupported{f.said}"
    if f.context.token_type == "entra":  # noqa: S105 - a kind, not a secret
        fix = ENTRA_ADVICE
    else:
        fix = f.context.advice.bad_key_fix(f.context.token_type, f.hint)
    return Diagnosis("token_invalid", why, fix, {"token_type": f.context.token_type})
