"""The endpoint setting: checking the URL, choosing its profile (kind), the organization path.

``env.resolve_settings`` calls :func:`resolve_endpoint_profile` once; the profile it returns
(``profiles.py``) owns everything that differs between kinds of endpoint afterwards.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import SplitResult, unquote, urlsplit, urlunsplit

from ..common.url_secrets import strip_url_secrets
from ..errors import ConfigurationError
from ..kinds.profile_base import SettingConflict
from ..kinds.profiles import ENDPOINT_KINDS, EndpointProfile, profile_for_url, profile_named
from .setting_checks import github_name

__all__ = [
    "ENV_ENDPOINT",
    "ENV_ENDPOINT_KIND",
    "ENV_ENTERPRISE",
    "ENV_ORGANIZATION",
    "normalize_enterprise",
    "normalize_organization",
    "resolve_endpoint",
    "resolve_endpoint_profile",
]

ENV_ORGANIZATION = "JAATO_GITHUB_ORGANIZATION"
ENV_ENTERPRISE = "JAATO_GITHUB_ENTERPRISE"
ENV_ENDPOINT = "JAATO_GITHUB_ENDPOINT"
ENV_ENDPOINT_KIND = "JAATO_GITHUB_ENDPOINT_KIND"

logger = logging.getLogger(__name__.rsplit(".", 2)[0])  # the package, installed or not
_EXAMPLE = "'https://<resource>.services.ai.azure.com/models'"


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


def endpoint_kind_setting(value: Any) -> EndpointProfile | None:
    """The profile an ``endpoint_kind`` setting names (None, '' and ``auto``: from the URL).

    Raises:
        ConfigurationError: Not one of the kinds (the error lists them).
    """
    if value is None:
        return None
    text = str(value).strip().lower()
    if text in ("", "auto"):
        return None
    try:
        return profile_named(text)
    except KeyError:
        # a word such as 'azure' is shown; anything longer may be a key set here by mistake
        shown = (repr(text) if len(text) <= 16 and text.replace("-", "").replace("_", "").isalpha()
                 else f"a value of {len(text)} characters")
        raise ConfigurationError(
            what="Checking the endpoint_kind setting",
            why=f"{shown} is not a kind of endpoint",
            fix=f"set extra['endpoint_kind'] (or {ENV_ENDPOINT_KIND}) to one of "
                f"{', '.join(ENDPOINT_KINDS)}, or 'auto' (the default: chosen from the URL)",
            setting="endpoint_kind") from None


def resolve_endpoint(base: str, organization: str | None) -> tuple[str, str, bool]:
    """Return ``(endpoint, kind, org_path_applied)``, the kind chosen from the URL.

    Raises:
        ConfigurationError: The endpoint is not a well-formed http(s) URL, or it already names an
            organization (``/orgs/X/inference``) other than the configured one.
    """
    endpoint, profile, applied = resolve_endpoint_profile(base, organization)
    return endpoint, profile.kind, applied


def resolve_endpoint_profile(base: str, organization: str | None,
                             profile: EndpointProfile | None = None
                             ) -> tuple[str, EndpointProfile, bool]:
    """Return ``(endpoint, profile, org_path_applied)`` for a configured base endpoint.

    The URL is checked (user info, query and fragment dropped: they can hold keys, and a v1 URL's
    pasted ``?api-version=`` is dropped with a warning; a pasted ``.../chat/completions`` suffix
    dropped; an Azure OpenAI deployment URL refused with the v1 URL to use), its profile chosen
    (``profile`` when the ``endpoint_kind`` setting names one, else from the URL), and the
    profile places the
    organization (GitHub-shaped: ``{prefix}/orgs/{org}/inference``; other kinds: none).

    Raises:
        ConfigurationError: The endpoint is not an http(s) URL, names another organization, or
            is an Azure OpenAI deployment URL.
    """
    try:
        url = _checked_url(base)
    except ValueError as exc:  # urllib's own complaints: bad port, bad IPv6 literal ...
        reason = str(exc).split(" as ")[0]
    else:
        chosen = profile or profile_for_url(url)
        try:
            endpoint, applied = chosen.endpoint_for(url, organization)
        except SettingConflict as exc:
            raise ConfigurationError(what=exc.what, why=exc.why, fix=exc.fix,
                                     setting=exc.setting) from exc
        return endpoint, chosen, applied
    # raised outside the except block: urllib quotes the offending text ("... as 'PASSWORD'"),
    # so its exception must not ride along as the context; a clean one is the cause
    cause = ValueError(reason)
    raise ConfigurationError(
        what="Checking the endpoint setting",
        why=f"{strip_url_secrets(base)!r} is not a valid URL ({cause})",
        fix=f"set {ENV_ENDPOINT} (or extra['endpoint']) to a URL such as {_EXAMPLE}") from cause


_PATH_PARAMS = re.compile(r";[^/]*")
_DEPLOYMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_DEPLOYMENT_PATH = re.compile(r"^(?P<prefix>.*?)/openai/deployments/(?P<name>[^/]+)(?:/.*)?$",
                              re.IGNORECASE)


def _refuse_deployment_url(base: str, scheme: str, host: str, port: int | None,
                           path: str) -> None:
    """Refuse an Azure OpenAI deployment URL (``.../openai/deployments/<name>/...``).

    Raises:
        ConfigurationError: Always for such a URL, naming the v1 URL and the model to use.
    """
    # ';params' of any segment can carry a key: the v1 URL and the model are built without them
    found = _DEPLOYMENT_PATH.match(_PATH_PARAMS.sub("", path))
    if found is None:
        return
    name = unquote(found.group("name"))
    netloc = host if port is None else f"{host}:{port}"
    v1 = f"{scheme}://{netloc}{found.group('prefix')}/openai/v1/"
    # a name Azure allows (letters, digits, '-', '_', '.') is quoted; anything else (an
    # encoded ';' or '?' with what follows) may carry a key, and is not a deployment's name
    valid = _DEPLOYMENT_NAME.fullmatch(name) is not None
    use = (f"the model {name!r} (connect({name!r}) or JAATO_GITHUB_MODEL={name})" if valid else
           "your deployment's name as the model (connect('<deployment>') or "
           "JAATO_GITHUB_MODEL=<deployment>)")
    shown = (strip_url_secrets(base) if valid else
             f"{scheme}://{netloc}{found.group('prefix')}/openai/deployments/…")
    raise ConfigurationError(
        what="Checking the endpoint setting",
        why=f"{shown!r} is an Azure OpenAI deployment URL (dated api-version, "
            "one deployment per URL); the provider speaks Foundry's OpenAI v1 route, where the "
            "deployment is the model id",
        fix=f"set {ENV_ENDPOINT} (or extra['endpoint']) to {v1} and use {use}",
        setting="endpoint")


def _clean(parts: SplitResult) -> str:
    """The URL without user info, query, fragment and ';params' of any path segment (the shared
    sanitiser cuts the path at its first ';', which would lose the segments after it)."""
    return strip_url_secrets(urlunsplit(parts._replace(path=_PATH_PARAMS.sub("", parts.path))
                                        )).rstrip("/")


def _checked_url(base: str) -> str:
    """``base`` as a clean http(s) URL: no user info, query, fragment or /chat/completions.

    Raises:
        ConfigurationError: Not an http(s) URL, too long, or holding unprintable characters.
        ValueError: urllib cannot parse it (bad port, bad IPv6 literal).
    """
    if len(base) > 2048 or not base.strip().isprintable() or " " in base.strip():
        raise ConfigurationError(
            what="Checking the endpoint setting",
            why=f"{strip_url_secrets(base)[:80]!r} is longer than 2048 characters or holds a "
                "space, line break or other character a URL cannot carry",
            fix=f"set {ENV_ENDPOINT} (or extra['endpoint']) to a URL such as {_EXAMPLE}",
            setting="endpoint")
    url = base.strip().rstrip("/")
    pre = urlsplit(url)
    _ = pre.port  # urllib checks the port only when it is read: bad ports raise here
    _refuse_deployment_url(base, pre.scheme, pre.hostname or "", pre.port, pre.path)
    if pre.query and _PATH_PARAMS.sub("", pre.path).rstrip("/").lower().endswith("/openai/v1"):
        # v1 takes no api-version: a pasted one is dropped (never sent, never sent twice)
        logger.warning("ignoring the query string of the configured endpoint (%s): Foundry's "
                       "OpenAI v1 route takes no api-version; set the endpoint to the URL "
                       "without it", strip_url_secrets(url))
        url = _clean(pre)
    elif pre.username or pre.password or pre.query or ";" in pre.path:
        # user info, a query or ';params' can hold a key: never keep it (nor show it, nor send
        # it in every request's URL); keys go in api_key
        logger.warning("ignoring the user info / query string / ';' path parameters of the "
                       "configured endpoint; pass the key as ProviderConfig.api_key or "
                       "GITHUB_TOKEN instead")
        url = _clean(pre)
    if url.endswith("/chat/completions"):
        url = url[: -len("/chat/completions")].rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(
            what="Checking the endpoint setting",
            why=f"{strip_url_secrets(base)!r} is not an http(s) URL",
            fix=f"set {ENV_ENDPOINT} (or extra['endpoint']) to a URL such as "
                f"'https://ghes.example.com/api/v3/models/inference' or {_EXAMPLE}",
        )
    if parts.fragment:
        url = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
    return url
