"""The Azure kinds of endpoint: Foundry's OpenAI v1 route and Azure AI model inference /
other ``*.azure.com`` hosts (``profiles.py`` lists them with the other kinds).

Standard library only.
"""

from __future__ import annotations

from .profile_base import (
    _ROUTE_RETIRED,
    ENTRA_SCOPE,
    LIST_DEPLOYMENTS,
    V1_ROLE,
    EndpointProfile,
    v1_url_for,
)

__all__ = ["FoundryProfile", "OpenAIV1Profile"]


class FoundryProfile(EndpointProfile):
    """Microsoft Foundry / Azure AI model inference and Azure OpenAI (``*.azure.com``): the key
    in ``api-key``, deployment names as ids, no org path, no catalog, the service's own quotas."""

    kind = "foundry"
    label = "a Microsoft Foundry / Azure endpoint"
    shape = "Microsoft Foundry / Azure AI: no catalog, no org path"
    otel_provider = "azure.ai.inference"

    @classmethod
    def matches(cls, host: str, path: str) -> bool:
        del path
        return host.endswith(".azure.com")

    def provider_name(self, host: str) -> str:
        return "azure.ai.openai" if host.endswith(".openai.azure.com") else self.otel_provider

    def retired_why(self, status: int | None, shown_endpoint: str, said: str) -> str | None:
        """A 410, or a refusal saying the API / route is retired or deprecated: Azure AI model
        inference (``/models``) went with its SDK; a 410 naming a model is the model's."""
        if not _ROUTE_RETIRED.search(said) and not (status == 410 and not said.strip()):
            return None
        return (f"{shown_endpoint} answered that the Azure AI model inference API (the /models "
                f"route of the retired azure-ai-inference SDK) is retired{said}")

    def retired_fix(self, shown_endpoint: str, said: str) -> str | None:
        if self.retired_why(410, shown_endpoint, said) is None:
            return None
        return (f"use Foundry's OpenAI v1 route instead: set the endpoint to "
                f"{v1_url_for(shown_endpoint)} (the form https://<resource>.openai.azure.com/"
                "openai/v1/ or https://<resource>.services.ai.azure.com/openai/v1/), with the "
                "same key, and your deployment names as model ids")


class OpenAIV1Profile(EndpointProfile):
    """Microsoft Foundry's OpenAI/v1 API (``.../openai/v1`` on any host): no dated
    ``api-version``, ``model`` = the deployment name, the key once in ``api-key`` (or an Entra ID
    bearer), the service's own quotas (no free-tier pacing or caps), OpenAI-shaped errors."""

    kind = "openai_v1"
    label = "a Microsoft Foundry OpenAI v1 endpoint"
    shape = "Foundry OpenAI v1 (.../openai/v1): deployment names, no api-version, no catalog"
    key_headers = (("api-key", None),)
    otel_provider = "azure.ai.openai"
    sends_api_version = False
    matches_deployment_base = True

    @classmethod
    def matches(cls, host: str, path: str) -> bool:
        del host
        return path.rstrip("/").lower().endswith("/openai/v1")

    def rate_limit_fixes(self, organization: str | None) -> list[str]:
        del organization
        return ["or raise the deployment's tokens-per-minute quota (Foundry portal: the "
                "deployment's Edit page; or `az cognitiveservices account deployment create "
                "... --sku-capacity`), or spread the load over another deployment"]

    def access_refused(self, status: int | None, said: str) -> tuple[str, str] | None:
        return (f"the Foundry resource refused access (HTTP {status}){said}",
                f"with Microsoft Entra ID, assign your identity the role '{V1_ROLE}' on the "
                "resource (`az role assignment create --role \"Cognitive Services OpenAI User\" "
                "--assignee <you> --scope <resource id>`; it takes a few minutes to apply) and "
                f"use the token scope {ENTRA_SCOPE}; with a key, check the resource's network "
                "rules admit this client")

    def bad_key_fix(self, token_type: str | None, hint: str) -> str:
        del token_type, hint
        return ("use the resource's key (Foundry portal: the resource's Keys and Endpoint page, "
                "or `az cognitiveservices account keys list -g <resource-group> -n <resource>`) "
                "as config.api_key or GITHUB_TOKEN (it is sent once, in the api-key header), or "
                f"use Microsoft Entra ID (auth='entra', role '{V1_ROLE}')")

    def model_id_hint(self, model: str) -> str | None:
        return (f"on Foundry v1 the model is the name of a deployment on this resource "
                f"('{model}' is not one): list them with {LIST_DEPLOYMENTS}")
