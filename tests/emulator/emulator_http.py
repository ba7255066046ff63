"""Helpers of the emulator tests: a small explicit catalog and a raw http.client client."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from typing import Any

from shared.plugins.model_provider.github_models.emulator import Emulator

TOKEN = "github_pat_11EMULATORTEST_secretsecretsecret0123456789"


def entry(model_id: str, tier: str, max_in: int, max_out: int, **extra: Any) -> dict[str, Any]:
    """A later-format catalog entry."""
    publisher, _, name = model_id.partition("/")
    return {
        "id": model_id,
        "name": name,
        "publisher": publisher,
        "summary": "",
        "rate_limit_tier": tier,
        "supported_input_modalities": ["text"],
        "supported_output_modalities": ["text"],
        "tags": [],
        "registry": "azure-openai" if publisher == "openai" else "azureml",
        "version": "1",
        "capabilities": ["streaming", "tool-calling"],
        "limits": {"max_input_tokens": max_in, "max_output_tokens": max_out},
        "html_url": f"https://github.com/marketplace/models/x/{name}",
        **extra,
    }


CATALOG = [
    entry("openai/gpt-4.1", "high", 1048576, 32768),
    entry("openai/gpt-4o", "high", 131072, 16384, x_multiplier_input=0.5),
    entry("openai/gpt-4o-mini", "low", 131072, 4096),
    entry("openai/o3-mini", "custom", 200000, 100000),
    entry("openai/text-embedding-3-small", "embeddings", 8191, 1),
    entry("meta/Llama-3.3-70B-Instruct", "high", 128000, 4096),
]


@dataclass
class Result:
    """One HTTP exchange as seen by the client."""

    status: int
    header_list: list[tuple[str, str]]
    raw: bytes

    @property
    def headers(self) -> dict[str, str]:
        return {k.lower(): v for k, v in self.header_list}

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.header_list if k.lower() == name]

    @property
    def text(self) -> str:
        return self.raw.decode()

    def json(self) -> Any:
        return json.loads(self.raw)

    def events(self) -> list[str]:
        """The ``data:`` payloads of an SSE body (LF framing)."""
        return [
            block[len("data: ") :]
            for block in self.text.split("\n\n")
            if block.startswith("data: ")
        ]

    def chunks(self) -> list[dict[str, Any]]:
        return [json.loads(e) for e in self.events() if e != "[DONE]"]


class Http:
    """A keep-alive http.client connection to the emulator."""

    def __init__(self, emu: Emulator) -> None:
        self.emu = emu
        self.conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = TOKEN,
        headers: dict[str, str] | None = None,
    ) -> Result:
        hdrs = {"Content-Type": "application/json", "X-GitHub-Api-Version": "2022-11-28"}
        if token is not None:
            hdrs["Authorization"] = f"Bearer {token}"
        hdrs.update(headers or {})
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        self.conn.request(method, path, data, hdrs)
        resp = self.conn.getresponse()
        return Result(resp.status, resp.getheaders(), resp.read())

    def chat(
        self, body: dict[str, Any], path: str = "/inference/chat/completions", **kw: Any
    ) -> Result:
        return self.request("POST", path, body, **kw)

    def close(self) -> None:
        self.conn.close()


def chat_body(
    text: str = "hello there", model: str = "openai/gpt-4o", **params: Any
) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": text}], **params}
