"""Every request option from the command line: ``-o``, ``--schema``, ``-a``, ``-s``, checked
exactly as the Python API checks them, before any request."""

from __future__ import annotations

import base64
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.plugins.model_provider.github_models.cli.options import (
    parse_option_value,
    request_options,
)
from shared.plugins.model_provider.github_models.config.options import validate_options
from shared.plugins.model_provider.github_models.errors import InvalidRequestError
from shared.plugins.model_provider.github_models.prompts.file import option_key

from .test_cli import chat_requests, run_cli

# the smallest valid PNG (1x1, transparent)
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")
SCHEMA = {"type": "object", "properties": {"name": {"type": "string"},
                                           "age": {"type": "integer"}},
          "required": ["name", "age"]}


def test_option_values_are_json_when_they_parse_and_keys_accept_prompt_file_spelling() -> None:
    assert parse_option_value("0.5") == 0.5 and parse_option_value("7") == 7
    assert parse_option_value('["END"]') == ["END"] and parse_option_value("END") == "END"
    assert option_key("maxTokens") == "max_tokens" and option_key("top-p") == "top_p"
    assert request_options([("maxTokens", "20"), ("stop", "END")], temperature=0.1) == {
        "max_tokens": 20, "stop": ["END"], "temperature": 0.1}


@pytest.mark.parametrize(("name", "value"), [("temperature", "5"), ("top_p", "-1"),
                                             ("seed", "1.5"), ("bogus", "1"), ("stop", "[]")])
def test_cli_option_errors_are_the_python_api_errors(name: str, value: str) -> None:
    with pytest.raises(InvalidRequestError) as api:
        validate_options({name: parse_option_value(value)}, any_endpoint=True)
    with pytest.raises(InvalidRequestError) as cli:
        request_options([(name, value)])
    assert (cli.value.what, cli.value.why) == (api.value.what, api.value.why)
    assert cli.value.fix.startswith(api.value.fix) and "-o NAME VALUE" in cli.value.fix


def test_o_options_reach_the_request_and_bad_ones_stop_before_it(tmp_path: Path,
                                                                 emulator: Any) -> None:
    ok = run_cli(tmp_path, "chat", "-o", "top_p", "0.5", "-o", "stop", '["ZZZ"]', "-o",
                 "maxTokens", "20", "-o", "seed", "3", "-o", "presence_penalty", "0.5", "hi",
                 endpoint=emulator.inference_url)
    assert ok.returncode == 0, ok.stderr
    body = chat_requests(emulator)[0].body
    assert (body["top_p"], body["stop"], body["max_tokens"], body["seed"]) == (
        0.5, ["ZZZ"], 20, 3)
    assert body["presence_penalty"] == 0.5
    bad = run_cli(tmp_path, "chat", "-o", "temperature", "5", "hi",
                  endpoint=emulator.inference_url)
    assert bad.returncode == 1
    assert "error: Checking the request option temperature=5 failed" in bad.stderr
    assert "-o NAME VALUE" in bad.stderr
    refused = run_cli(tmp_path, "chat", "-m", "openai/o3-mini", "-o", "temperature", "0.3",
                      "hi", endpoint=emulator.inference_url)
    assert refused.returncode == 1 and "does not accept temperature" in refused.stderr
    assert len(chat_requests(emulator)) == 1


def test_schema_inline_or_file_prints_the_parsed_object(tmp_path: Path, emulator: Any) -> None:
    inline = run_cli(tmp_path, "chat", "--schema", json.dumps(SCHEMA), "a person",
                     endpoint=emulator.inference_url)
    assert inline.returncode == 0, inline.stderr
    assert json.loads(inline.stdout) == {"name": "example", "age": 1}
    fmt = chat_requests(emulator)[0].body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["schema"] == SCHEMA
    (tmp_path / "person.json").write_text(json.dumps(SCHEMA))
    from_file = run_cli(tmp_path, "chat", "--json", "--schema", "person.json", "a person",
                        endpoint=emulator.inference_url)
    assert from_file.returncode == 0, from_file.stderr
    assert json.loads(from_file.stdout)["object"] == {"name": "example", "age": 1}
    for bad in ("{not json", "[1, 2]", "missing.json"):
        result = run_cli(tmp_path, "chat", "--schema", bad, "x", endpoint=emulator.inference_url)
        assert result.returncode == 1 and "--schema" in result.stderr, result.stderr
    assert len(chat_requests(emulator)) == 2


@pytest.fixture
def image_server(tmp_path: Path) -> Iterator[str]:
    """A plain HTTP server on 127.0.0.1 serving ``tmp_path``."""
    (tmp_path / "served").mkdir()
    (tmp_path / "served" / "pic.png").write_bytes(PNG)

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kw: Any) -> None:
            super().__init__(*args, directory=str(tmp_path / "served"), **kw)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _images(request: Any) -> list[str]:
    content = request.body["messages"][-1]["content"]
    return [p["image_url"]["url"] for p in content if p.get("type") == "image_url"]


def test_attachments_from_a_path_a_url_and_stdin(tmp_path: Path, emulator: Any,
                                                 image_server: str) -> None:
    (tmp_path / "pic.png").write_bytes(PNG)
    data_url = "data:image/png;base64," + base64.b64encode(PNG).decode()
    from_path = run_cli(tmp_path, "chat", "-a", "pic.png", "-a", f"{image_server}/pic.png",
                        "describe", endpoint=emulator.inference_url)
    assert from_path.returncode == 0, from_path.stderr
    assert from_path.stdout.startswith("Echo: describe")
    (request,) = chat_requests(emulator)
    assert _images(request) == [data_url, data_url]
    # stdin as an attachment (bytes through a text pipe are fine for a PNG-free check below)
    import subprocess
    import sys

    from .test_cli import MODULE, cli_env

    piped = subprocess.run([sys.executable, "-m", MODULE, "chat", "-a", "-", "what is it"],
                           input=PNG, capture_output=True, check=False,
                           env=cli_env(tmp_path, emulator.inference_url))
    assert piped.returncode == 0, piped.stderr
    assert _images(chat_requests(emulator)[-1]) == [data_url]


def test_bad_attachments_fail_before_any_request(tmp_path: Path, emulator: Any) -> None:
    (tmp_path / "notes.txt").write_text("plain text")
    (tmp_path / "pic.png").write_bytes(PNG)
    cases = [
        (("-a", "notes.txt", "x"), "it is not an image"),
        (("-a", "nothing.png", "x"), "Reading the attachment nothing.png failed"),
        (("-m", "openai/o3-mini", "-a", "pic.png", "x"), "accepts no image input"),
    ]
    for args, message in cases:
        result = run_cli(tmp_path, "chat", *args, endpoint=emulator.inference_url)
        assert result.returncode == 1, result.stderr
        assert message in result.stderr
    both = run_cli(tmp_path, "chat", "-a", "-", "-", stdin="", endpoint=emulator.inference_url)
    assert both.returncode == 2 and "not both" in both.stderr
    assert chat_requests(emulator) == []
