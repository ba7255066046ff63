"""What ``ProviderCore.initialize`` wires together: the settings, the request defaults from
``ProviderConfig.extra``, and the call runner (pacer, retry policy, transport).

Loaded at ``initialize``, not with the provider (cold start).
"""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..common.masking import SecretMasker, scrub_causes
from ..common.service_facts import RETIREMENT_DATE
from ..config.env import JAATO_EXTRA_KEYS, SETTING_KEYS, resolve_settings
from ..config.options import OPTION_NAMES, validate_options
from ..config.settings import Settings

if TYPE_CHECKING:
    from .._host import ProviderConfig
    from ..calls.calls import CallRunner
    from ..common.clock import Clock
    from ..errors import ErrorContext

__all__ = ["build_runner", "key_from_extra", "request_defaults", "resolve",
           "warn_about_endpoint"]

logger = logging.getLogger(__name__.rsplit(".", 2)[0])  # the package, installed or not


def key_from_extra(config: ProviderConfig | None) -> ProviderConfig | None:
    """``config`` with ``extra["api_key"]`` as its ``api_key`` when that is unset: jaato hands
    a profile's ``plugin_configs`` over as ``extra`` and promotes the key only on some paths
    (not for ``verify_auth``)."""
    extra = getattr(config, "extra", None)
    key = extra.get("api_key") if isinstance(extra, Mapping) else None
    if config is None or getattr(config, "api_key", None) or not isinstance(key, str):
        return config  # resolve_settings vets the rest
    promoted = copy.copy(config)
    promoted.api_key = key
    promoted.extra = {k: v for k, v in config.extra.items() if k != "api_key"}
    return promoted


def resolve(config: ProviderConfig | None, environ: Mapping[str, str] | None) -> Settings:
    """``env.resolve_settings``, with any credential scrubbed from a failure's chained causes.

    Raises:
        TokenNotFoundError: No token anywhere (lists each place checked).
        ConfigurationError: A malformed setting.
    """
    try:
        return resolve_settings(config, environ)
    except Exception as exc:  # a token read into the wrong setting stays out of the causes
        env = os.environ if environ is None else environ
        key = getattr(config, "api_key", None)
        secrets = tuple(s for s in (key if isinstance(key, str) else None,
                                    env.get("GITHUB_TOKEN")) if s)
        scrub_causes(exc, SecretMasker(secrets))
        from ..errors import GitHubModelsError

        if isinstance(exc, GitHubModelsError) and secrets:  # ... and out of the message
            exc._redact(tuple(s.strip() for s in secrets))  # a setting's text may quote it
            exc.args = (exc._build_message(),)
        raise


def request_defaults(config: ProviderConfig | None, settings: Settings) -> dict[str, Any]:
    """The request options set in ``extra`` (or its nested ``api_params``), checked; unknown
    keys are logged and ignored.

    Raises:
        InvalidRequestError: A default option out of its documented range.
    """
    extra = dict(config.extra or {}) if config is not None else {}  # resolve_settings vetted it
    nested = extra.pop("api_params", None)  # jaato profiles nest request defaults here
    if isinstance(nested, Mapping):
        both = sorted(k for k in nested if k in extra and extra[k] != nested[k])
        if both:
            logger.warning("api_params and a top-level key both set %s: api_params wins, as "
                           "in jaato profiles (the top-level form is the older one)",
                           ", ".join(both))
        extra = {**extra, **nested}
    unknown = sorted(k for k in extra if k not in SETTING_KEYS and k not in OPTION_NAMES
                     and k not in JAATO_EXTRA_KEYS and k != "max_completion_tokens")
    if unknown:
        logger.warning("ignoring unknown ProviderConfig.extra keys: %s", ", ".join(unknown))
    return validate_options({k: v for k, v in extra.items()
                             if k in OPTION_NAMES or k == "max_completion_tokens"},
                            settings.profile)


def warn_about_endpoint(settings: Settings) -> None:
    """Log an organization the endpoint cannot bill, and a retired GitHub Models host."""
    from ..common.url_secrets import strip_url_secrets  # ;params can hold a key, as a query

    shown = strip_url_secrets(settings.endpoint)
    if settings.organization and not settings.org_path_applied:
        logger.warning(
            "organization %r is set but the endpoint %s has no /orgs/{org}/inference form; "
            "usage cannot be attributed to the organization on this endpoint",
            settings.organization, shown)
    if settings.is_retired_host:
        logger.warning(
            "%s belongs to GitHub Models, which GitHub retired on " + RETIREMENT_DATE
            + " (it answers 410 Gone). Set JAATO_GITHUB_ENDPOINT or extra['endpoint'] to a "
            "working endpoint; see docs/migration.md.", shown)
    if settings.profile.free_tier_defaults and not settings.enforce_tier_limits:
        logger.info(
            "GitHub's free-tier caps (tokens per request) and pacing are off for %s: they are "
            "on by default only for models.github.ai; set JAATO_GITHUB_ENFORCE_TIER_LIMITS=true "
            "and JAATO_GITHUB_PACING=true to apply them", shown)


def build_runner(settings: Settings, clock: Clock,
                 error_context: Callable[[], ErrorContext]) -> CallRunner:
    """The sync call runner: the pacer (shared through a rate store when one is set), the
    retry policy and the transport, all from ``settings``."""
    from ..calls.calls import CallRunner
    from ..failures.retry import RetryPolicy
    from ..pacing.pacing import Pacer, limits_with_overrides
    from ..transport.transport import SyncTransport

    # the pacer never waits longer than a retry may (max_retry_wait): a longer server
    # pause or window fails fast with the time it ends, as documented
    limits = limits_with_overrides(settings.rate_limit_overrides)
    pacer: Pacer
    if settings.rate_store and settings.pacing:  # one quota shared by many processes
        from ..pacing.shared_pacing import shared_pacer_for

        pacer = shared_pacer_for(settings, limits, clock)
    else:
        if settings.rate_store:
            logger.warning("the rate store is not used: pacing is off")
        pacer = Pacer(limits, clock=clock, enabled=settings.pacing,
                      max_wait=settings.max_retry_wait)
    policy = RetryPolicy(max_attempts=settings.max_retries + 1,
                         max_retry_after=settings.max_retry_wait)
    return CallRunner(SyncTransport(settings), pacer, policy, clock, error_context)
