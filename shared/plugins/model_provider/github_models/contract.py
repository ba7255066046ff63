"""jaato-server's module-level provider contracts, told truthfully for this provider.

``PROVIDER_CAPABILITIES`` (what reaches the wire), ``PROVIDER_KNOBS`` (the settings read from
``ProviderConfig.extra``, which jaato fills from ``plugin_configs.<provider>``),
``PROVIDER_AUTH_RESOLUTION`` (where the token is looked for, in order) and ``PROVIDER_QUIRKS``.
They are built from the host's own classes (``_host.host_base``); a host without them (the seed
framework, the CLI on its own) gets plain dicts with the same content.
"""

from __future__ import annotations

from typing import Any

from ._host import host_base
from .env import ENV_TOKEN, SETTING_KEYS
from .options import OPTION_NAMES

__all__ = ["CAPABILITIES", "KNOBS", "PROVIDER_AUTH_RESOLUTION", "PROVIDER_CAPABILITIES",
           "PROVIDER_KNOBS", "PROVIDER_QUIRKS"]

CAPABILITIES: dict[str, bool] = {
    "user_message_images": True,     # Part.inline_data images -> image_url content parts
    "tool_result_images": True,      # ToolResult.attachments images -> a follow-up user message
    "pdf_input": False,              # the protocol has no document part
    "audio_input": False,            # not sent (no input_audio mapping)
    "tool_choice_forwarding": True,  # complete(tool_choice=...) reaches the body as given
    "thinking": False,               # no reasoning request or reasoning text in this protocol
    "prompt_caching": False,
    "streaming": True,
    "cancellation": True,            # a cancelled token closes the stream within ~20 ms
    "output_media": False,
    "reasoning_replay": False,       # Part.thought is not sent back (documented in docs/jaato.md)
}

_KNOB_TYPES = {"timeout": "float", "connect_timeout": "float", "max_retries": "int",
               "max_retry_wait": "float", "pacing": "bool", "enforce_tier_limits": "bool",
               "use_env_proxies": "bool", "trim_history": "bool", "catalog_ttl": "float",
               "temperature": "float", "top_p": "float", "max_tokens": "int", "seed": "int",
               "frequency_penalty": "float", "presence_penalty": "float", "stop": "list",
               "response_format": "dict", "tool_choice": "str", "modalities": "list",
               "rate_limits": "dict", "headers": "dict"}

KNOBS: dict[str, tuple[tuple[str, str], ...]] = {
    "top_level": tuple((k, _KNOB_TYPES.get(k, "str")) for k in sorted(SETTING_KEYS)),
    "api_params": tuple((k, _KNOB_TYPES.get(k, "str")) for k in sorted(OPTION_NAMES)),
}

_AUTH_STEPS = (("api_key_param", "api_key", "ProviderConfig.api_key / plugin_configs"),
               ("env", ENV_TOKEN, "environment, then the .env file"))

PROVIDER_QUIRKS: frozenset[str] = frozenset()


def _build() -> tuple[Any, Any, Any]:
    base = host_base()
    if base is None or not hasattr(base, "ProviderCapabilities"):
        return (dict(CAPABILITIES), {k: dict(v) for k, v in KNOBS.items()},
                tuple({"kind": k, "name": n, "note": t} for k, n, t in _AUTH_STEPS))
    caps = base.ProviderCapabilities(**{k: v for k, v in CAPABILITIES.items()
                                        if k in getattr(base, "CAPABILITY_FIELDS", CAPABILITIES)})
    knobs = base.ProviderKnobs(layers=tuple(
        base.KnobLayer(layer, tuple(base.KnobSpec(name, kind) for name, kind in specs))
        for layer, specs in KNOBS.items()))
    auth = tuple(base.AuthSource(kind, name, note) for kind, name, note in _AUTH_STEPS)
    return caps, knobs, auth


PROVIDER_CAPABILITIES, PROVIDER_KNOBS, PROVIDER_AUTH_RESOLUTION = _build()
