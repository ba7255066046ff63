"""Two requests outside a conversation turn, sent once without pacing or retries: the
credential probe behind ``verify_auth`` and the ``GET`` of the endpoint's model catalog.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..common.url_secrets import strip_url_secrets
from ..errors import (
    ConfigurationError,
    ModelNotFoundError,
    ServiceUnavailableError,
    error_from_connection,
    error_from_response,
)
from ..transport.azure_boundary import TransportFailure
from ..transport.transport import CHAT_PATH

if TYPE_CHECKING:
    from ..config.settings import Settings
    from ..errors import ErrorContext
    from ..transport.transport import SyncTransport

__all__ = ["fetch_catalog", "probe_credentials"]


def probe_credentials(transport: SyncTransport, model: str, context: ErrorContext) -> None:
    """Check the credentials with one request that cannot be billed: a chat completion with
    no messages, which the service refuses (400) only after it accepted the credentials.
    No pacing, no retries.

    Raises:
        GitHubModelsError: (a subclass) the credentials, the endpoint or the organization
            was refused (401/403/410 ...), or the endpoint could not be reached.
    """
    try:
        result = transport.post(CHAT_PATH, {"model": model, "messages": []})
    except TransportFailure as failure:
        raise error_from_connection(failure.kind, failure.detail, context) from failure
    if result.status in (200, 400, 413, 422):  # past authentication
        return
    error = error_from_response(result.status, result.headers, result.body, context)
    if isinstance(error, ModelNotFoundError):  # the service's own "unknown model": past auth
        return
    raise error  # a 404 of a wrong path is not an accepted credential

def fetch_catalog(transport: SyncTransport | None, settings: Settings, context: ErrorContext
                  ) -> list[dict[str, Any]]:
    """``GET`` the endpoint's model catalog (no retries, no pacing) and return its entries.

    Raises:
        ConfigurationError: No transport yet, or the endpoint's kind has no catalog.
        GitHubModelsError: (a subclass) the mapped failure (410 when retired ...).
    """
    url = settings.catalog_url
    if url is None or transport is None:
        raise ConfigurationError(
            what="Fetching the model catalog",
            why=f"the endpoint {strip_url_secrets(settings.endpoint)} is not GitHub-shaped (no "
                "/catalog/models)",
            fix="use the static catalog (the default) for this endpoint")
    try:
        result = transport.get(url)
    except TransportFailure as failure:
        raise error_from_connection(failure.kind, failure.detail, context) from failure
    if result.status != 200:
        raise error_from_response(result.status, result.headers, result.body, context)
    try:
        data = result.json()
    except ValueError as exc:
        raise ServiceUnavailableError(
            what="Reading the model catalog", why="the body is not JSON",
            fix="check that the endpoint serves GET /catalog/models", status=200,
            context=context) from exc
    entries = data.get("data") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise ServiceUnavailableError(
            what="Reading the model catalog", why="the body is not a list of models",
            fix="check that the endpoint serves GET /catalog/models", status=200,
            context=context)
    return [e for e in entries if isinstance(e, dict)]
