"""A local emulator of the GitHub Models API (inference, org inference, legacy host, catalog).

Used by the test suite, the benchmarks and ``jaato-github-models emulator``. It speaks the real
wire protocol over HTTP on 127.0.0.1, with scripted replies, faults, modes (retired, deprecated),
auth and org policies, and the free-tier limits driven by an injectable clock::

    with Emulator() as emu:
        emu.script(Reply.text("hi"))
        ...  # point a client at emu.inference_url
"""

from __future__ import annotations

from .replies import FAULT_KINDS, Reply
from .server import Emulator
from .state import RecordedRequest

__all__ = ["FAULT_KINDS", "Emulator", "RecordedRequest", "Reply"]
