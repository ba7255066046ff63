"""The provider's errors, and the one mapping from a failed HTTP exchange to them.

Every error says what was attempted, why it failed and how to fix it, and carries the data behind
that message (status, service code, request id, lower-cased headers, a scrubbed body excerpt)::

    GitHubModelsError                    base: status, code, request_id, headers, body, what/why/fix
    ├── TokenNotFoundError               no token in config, environment or .env (lists each place)
    ├── TokenInvalidError                401: bad, expired or unsupported credentials (hint by type)
    ├── TokenPermissionError             401/403 naming the `models` permission or SSO
    ├── ModelsDisabledError              Models disabled, or model not allowed (settings URL)
    ├── ModelNotFoundError               unknown/unavailable model id (suggestions)
    ├── RateLimitError                   429 or client pacing (retry_after, limit_type, resets_at)
    ├── ContextLimitError                413 tokens_limit_reached, context window (limit, requested)
    ├── ServiceRetiredError              410, brownout code, or Deprecation/Sunset on a refusal
    ├── ContentFilterError               content_filter / ResponsibleAIPolicyViolation
    ├── InvalidRequestError              other 400/422, and client-side validation (param)
    ├── ServiceUnavailableError          5xx (retry_after when the server gave one)
    ├── ProviderConnectionError          no usable response: refused, DNS, timeout (kind, retryable)
    │   └── StreamInterruptedError       stream broke or sent an error mid-way (partial_text)
    ├── ConfigurationError               a bad setting (setting)
    └── StructuredOutputError            reply is not valid JSON for the schema (raw_text)

The classes live in ``error_classes``, the mapping in ``error_factories``; this module is the
place to import both from. Standard library only (plus the stdlib-only ``common.secret_text``,
``error_context``, ``profiles`` and ``wire_check``): the framework imports ``RateLimitError``
from here for its own retries. No message ever shows a token, and no error keeps one
(``pickle.dumps(exc)`` is safe to ship); every text an error carries is valid UTF-8 (lone
surrogates become U+FFFD).
"""

from __future__ import annotations

from .common.secret_text import token_type_of
from .failures import error_classes as _classes
from .failures import error_factories as _factories
from .failures.error_classes import *  # noqa: F403 - this module is the classes' public home
from .failures.error_context import RETIREMENT_DATE, ErrorContext
from .failures.error_factories import *  # noqa: F403 - and the one place to import both from

# each name is listed once, where it is defined (error_classes / error_factories ``__all__``)
__all__ = ["RETIREMENT_DATE", "ErrorContext", "token_type_of"]
__all__ += _classes.__all__
__all__ += _factories.__all__
