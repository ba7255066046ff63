"""jaato-server's contract classes, for hosts that have none (this project's framework, the
package on its own). Named tuples with jaato's field names: cheap to create, since the package
``__init__`` builds its ``PROVIDER_*`` constants from them on every import."""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["AuthSource", "KnobLayer", "KnobSpec", "ProviderCapabilities", "ProviderKnobs"]


class ProviderCapabilities(NamedTuple):
    """What reaches the wire."""

    user_message_images: bool = False
    tool_result_images: bool = False
    pdf_input: bool = False
    audio_input: bool = False
    tool_choice_forwarding: bool = False
    thinking: bool = False
    prompt_caching: bool = False
    streaming: bool = True
    cancellation: bool = True
    output_media: bool = False
    reasoning_replay: bool = False


class KnobSpec(NamedTuple):
    """One setting the provider reads from ``ProviderConfig.extra``."""

    name: str
    type: str = "str"
    default: Any = None
    description: str = ""


class KnobLayer(NamedTuple):
    """A group of settings (``top_level``, or a nested dict such as ``api_params``)."""

    layer: str
    knobs: tuple[KnobSpec, ...] = ()
    opaque: bool = False
    description: str = ""


class ProviderKnobs(NamedTuple):
    """Every setting the provider reads, by layer."""

    layers: tuple[KnobLayer, ...] = ()


class AuthSource(NamedTuple):
    """One step of the credential lookup, in order."""

    kind: str
    name: str = ""
    note: str = ""
