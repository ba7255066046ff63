"""The provider folder copied into an older framework that lacks what newer hosts define.

The host here keeps its types beside its providers (``..types``) but has no ``CancelToken``, no
``TurnResult`` and no ``FinishReason.CANCELLED``, and its ``base`` has no contract classes: the
folder must detect that and use the fallbacks it keeps inside itself, in a fresh interpreter
talking to the emulator over HTTP.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from tests.conftest import REPO_ROOT, TEST_TOKEN

FOLDER = Path(REPO_ROOT) / "shared" / "plugins" / "model_provider" / "github_models"

OLD_TYPES = '''
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

class Role(str, Enum):
    USER = "user"; MODEL = "model"; TOOL = "tool"

class FinishReason(str, Enum):  # no CANCELLED in this host
    STOP = "stop"; MAX_TOKENS = "max_tokens"; TOOL_USE = "tool_use"; SAFETY = "safety"
    ERROR = "error"; UNKNOWN = "unknown"

@dataclass
class ToolSchema:
    name: str; description: str; parameters: dict = field(default_factory=dict)

@dataclass
class FunctionCall:
    id: str; name: str; args: dict = field(default_factory=dict)

@dataclass
class Attachment:
    mime_type: str; data: bytes; display_name: Any = None

@dataclass
class ToolResult:
    call_id: str; name: str; result: Any; is_error: bool = False; attachments: Any = None

@dataclass
class Part:
    text: Any = None; function_call: Any = None; function_response: Any = None
    inline_data: Any = None

@dataclass
class Message:
    role: Role; parts: list = field(default_factory=list)

@dataclass
class TokenUsage:
    prompt_tokens: int = 0; output_tokens: int = 0; total_tokens: int = 0

@dataclass
class ProviderResponse:
    text: Any = None; function_calls: list = field(default_factory=list)
    usage: TokenUsage = field(default_factory=TokenUsage)
    finish_reason: FinishReason = FinishReason.UNKNOWN; raw: Any = None
    structured_output: Any = None

class CancelledException(Exception):
    pass
'''

OLD_BASE = '''
from dataclasses import dataclass, field
from typing import Any

@dataclass
class ProviderConfig:
    api_key: Any = None; extra: dict = field(default_factory=dict)
'''

SCRIPT = '''
import json, sys, threading
from oldhost.plugins.model_provider.base import ProviderConfig
from oldhost.plugins.model_provider.types import Message, Part, Role
from oldhost.plugins.model_provider.github_models import create_provider, PROVIDER_CAPABILITIES
from oldhost.plugins.model_provider.github_models import _host

p = create_provider(ProviderConfig(api_key=sys.argv[2], extra={"endpoint": sys.argv[1],
                                                                 "pacing": False}))
p.connect("openai/gpt-4o")
out = {"host": _host.HOST, "streaming": PROVIDER_CAPABILITIES.streaming}
out["text"] = p.send_message("hello").text
token = _host.CancelToken()
chunks = []
def on_chunk(text):
    chunks.append(text)
    token.cancel()
r = p.send_message_streaming("tell me " + "a long story " * 50, on_chunk, token)
out["cancelled_reason"] = r.finish_reason.value
out["partial"] = r.text == "".join(chunks) and len(chunks) >= 1
t = p.complete([Message(role=Role.USER, parts=[Part(text="hi")])])
out["complete"] = [type(t).__module__.rsplit(".", 1)[-1], t.outcome.value, t.text]
print(json.dumps(out))
'''


def test_the_folder_runs_in_an_older_host_on_its_own_fallbacks(emulator: Any,
                                                               tmp_path: Path) -> None:
    mp = tmp_path / "oldhost" / "plugins" / "model_provider"
    mp.mkdir(parents=True)
    for pkg in (tmp_path / "oldhost", tmp_path / "oldhost" / "plugins", mp):
        (pkg / "__init__.py").write_text("")
    (mp / "types.py").write_text(textwrap.dedent(OLD_TYPES))
    (mp / "base.py").write_text(textwrap.dedent(OLD_BASE))
    shutil.copytree(FOLDER, mp / "github_models", ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run([sys.executable, "-c", SCRIPT, emulator.inference_url, TEST_TOKEN],
                          capture_output=True, text=True, cwd=tmp_path, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(tmp_path),
                               "NO_PROXY": "127.0.0.1"}, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    out = __import__("json").loads(done.stdout)
    assert out["host"] == "oldhost.plugins.model_provider"
    assert out["text"] == "Echo: hello"
    assert out["cancelled_reason"] == "unknown"  # the host has no CANCELLED: its nearest
    assert out["partial"] is True
    assert out["complete"] == ["_fallback", "response", "Echo: hi"]
    assert out["streaming"] is True
