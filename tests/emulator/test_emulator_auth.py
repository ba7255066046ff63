"""Credentials, organization membership and Models policies (401/403 bodies)."""

from __future__ import annotations

from emulator_http import TOKEN, Http, chat_body

from shared.plugins.model_provider.github_models.emulator import Emulator

BAD_CREDENTIALS = {
    "error": {"code": "unauthorized", "message": "Bad credentials", "details": "Bad credentials"}
}
ORG_PATH = "/orgs/{}/inference/chat/completions"


def test_missing_token_is_401_even_without_strict_auth(http_: Http) -> None:
    res = http_.chat(chat_body(), token=None)
    assert res.status == 401
    assert res.json() == BAD_CREDENTIALS
    assert http_.chat(chat_body(), token="anything-goes").status == 200


def test_strict_auth_without_tokens_refuses_everyone() -> None:
    with Emulator(catalog=[], strict_auth=True) as emu:
        res = Http(emu).chat(chat_body())
        assert res.status == 401 and res.json() == BAD_CREDENTIALS


def test_registered_tokens_expired_and_unsupported_accounts(emu: Emulator, http_: Http) -> None:
    emu.add_token(TOKEN)
    emu.add_token("ghp_expired", expired=True)
    emu.add_token("ghp_enterprise", account_supported=False)
    assert http_.chat(chat_body()).status == 200
    assert http_.chat(chat_body(), token="ghp_unknown").json() == BAD_CREDENTIALS
    assert http_.chat(chat_body(), token="ghp_expired").json() == BAD_CREDENTIALS
    res = http_.chat(chat_body(), token="ghp_enterprise")
    assert res.status == 401
    assert res.json()["error"]["message"] == "Your account type is not currently supported"


def test_fine_grained_token_without_models_permission(emu: Emulator, http_: Http) -> None:
    emu.add_token("github_pat_noscope", scopes=("repo",))
    emu.add_token("ghp_classic_noscope", scopes=())
    res = http_.chat(chat_body(), token="github_pat_noscope")
    assert res.status == 401
    err = res.json()["error"]
    assert err["code"] == "unauthorized"
    assert err["message"] == "Bad credentials"  # as the real service: indistinguishable
    # Classic tokens are unaffected by the models:read requirement.
    assert http_.chat(chat_body(), token="ghp_classic_noscope").status == 200


def test_org_endpoint_membership(emu: Emulator, http_: Http) -> None:
    emu.add_token(TOKEN, orgs=("acme",))
    emu.add_token("ghp_outsider")
    emu.add_token("ghp_listed")
    emu.add_org("acme", members=("ghp_listed",))
    assert http_.chat(chat_body(), path=ORG_PATH.format("acme")).status == 200
    assert http_.chat(chat_body(), path=ORG_PATH.format("ACME"), token="ghp_listed").status == 200
    res = http_.chat(chat_body(), path=ORG_PATH.format("acme"), token="ghp_outsider")
    assert res.status == 403
    assert "not a member of the organization acme" in res.json()["error"]["message"]
    # Strict auth: an organization nobody registered has no members.
    assert http_.chat(chat_body(), path=ORG_PATH.format("other")).status == 403
    assert emu.requests[0].path == "/orgs/acme/inference/chat/completions"


def test_org_without_strict_auth_is_open_and_v1_org_path_works(http_: Http) -> None:
    assert http_.chat(chat_body(), path=ORG_PATH.format("anyorg")).status == 200
    assert http_.chat(chat_body(), path="/orgs/anyorg/inference/v1/chat/completions").status == 200


def test_sso_protected_org(emu: Emulator, http_: Http) -> None:
    emu.add_token(TOKEN, orgs=("acme",), sso_orgs=("acme",))
    emu.add_org("acme")
    res = http_.chat(chat_body(), path=ORG_PATH.format("acme"))
    assert res.status == 403
    assert "SAML" in res.json()["error"]["message"]
    assert http_.chat(chat_body()).status == 200  # SSO only guards the org's endpoint


def test_org_and_enterprise_policies(emu: Emulator, http_: Http) -> None:
    emu.add_org("off", models_enabled=False)
    emu.add_org("corp", enterprise="bigcorp")
    emu.add_org("picky", allowed_models=("openai/gpt-4o-mini",))
    res = http_.chat(chat_body(), path=ORG_PATH.format("off"))
    assert res.status == 403
    assert res.json()["error"]["message"] == "GitHub Models is disabled for this organization."
    assert http_.chat(chat_body(), path=ORG_PATH.format("corp")).status == 200
    emu.set_enterprise_policy("bigcorp", models_enabled=False)
    res = http_.chat(chat_body(), path=ORG_PATH.format("corp"))
    assert res.status == 403 and "enterprise bigcorp" in res.json()["error"]["message"]
    res = http_.chat(chat_body(model="openai/gpt-4o"), path=ORG_PATH.format("picky"))
    assert res.status == 403
    assert res.json()["error"]["message"] == "No access to model: openai/gpt-4o"
    ok = http_.chat(chat_body(model="openai/GPT-4o-mini"), path=ORG_PATH.format("picky"))
    assert ok.status == 200


def test_explicit_permission_errors_name_the_missing_permission() -> None:
    with Emulator(explicit_permission_errors=True) as emu:
        emu.add_token("github_pat_noscope", scopes=("repo",))
        res = Http(emu).chat(chat_body(), token="github_pat_noscope")
    assert res.status == 401 and "`models` permission" in res.json()["error"]["message"]
