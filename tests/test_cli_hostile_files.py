"""Hostile paths and files on the command line: long inline ``--schema``, non-regular files named by
a setting, an unwritable ``--report``, the conversation log's permissions and a stored history in
another format. Real CLI subprocesses, a real emulator, real SQLite files."""

from __future__ import annotations

import json
import sqlite3
import stat
import sys
from pathlib import Path
from typing import Any

from .test_cli import chat_requests, cli_env, run_cli

HEAD = "model: openai/gpt-4o\nmessages: [{role: user, content: '{{q}}'}]\n"


def test_an_inline_schema_longer_than_a_file_name_is_read_as_json(tmp_path: Path,
                                                                    emulator: Any) -> None:
    props = {f"field_{i:03d}_with_a_long_name": {"type": "string"} for i in range(20)}
    schema = json.dumps({"type": "object", "properties": props})
    assert len(schema) > 600  # longer than NAME_MAX: stat() of it fails with ENAMETOOLONG
    result = run_cli(tmp_path, "chat", "--no-log", "--schema", schema, "fill it",
                     endpoint=emulator.inference_url)
    assert result.returncode == 0, result.stderr
    body = chat_requests(emulator)[0].body
    assert body["response_format"]["json_schema"]["schema"]["properties"] == props


def test_a_schema_from_a_pipe_is_read(tmp_path: Path, emulator: Any) -> None:
    import subprocess

    from .test_cli import MODULE

    command = (f"{sys.executable} -m {MODULE} chat --no-log --schema "
               "<(echo '{\"type\": \"object\", \"properties\": {}}') hi")
    result = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=60,
                            env=cli_env(tmp_path, emulator.inference_url), check=False)
    assert result.returncode == 0, result.stderr
    assert chat_requests(emulator)[0].body["response_format"]["type"] == "json_schema"


def test_a_schema_naming_a_device_says_so(tmp_path: Path, emulator: Any) -> None:
    result = run_cli(tmp_path, "chat", "--no-log", "--schema", "/dev/null", "hi",
                     endpoint=emulator.inference_url)
    assert result.returncode != 0
    assert "not a regular file" in result.stderr and "Traceback" not in result.stderr
    assert chat_requests(emulator) == []


def test_an_unwritable_report_is_refused_before_any_request(tmp_path: Path,
                                                            emulator: Any) -> None:
    path = tmp_path / "p.prompt.yml"
    path.write_text(HEAD + "testData: [{q: one}, {q: two}]\n"
                    "evaluators: [{name: e, string: {contains: one}}]\n")
    for report, why in ((tmp_path / "missing" / "r.json", "does not exist"),
                        (tmp_path, "folder, device or pipe"),
                        (Path("/dev/full/r.json"), "does not exist")):
        result = run_cli(tmp_path, "eval", "--report", str(report), str(path),
                         endpoint=emulator.inference_url)
        assert result.returncode != 0
        assert "--report" in result.stderr and why in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    assert chat_requests(emulator) == []  # nothing was paid for


def test_a_report_naming_a_device_is_refused(tmp_path: Path, emulator: Any) -> None:
    path = tmp_path / "p.prompt.yml"
    path.write_text(HEAD + "testData: [{q: one}]\nevaluators: [{name: e, string: "
                    "{contains: one}}]\n")
    # /dev/full accepts the open and fails every write: refused up front, not after the run
    result = run_cli(tmp_path, "eval", "--report", "/dev/full", str(path),
                     endpoint=emulator.inference_url)
    assert result.returncode != 0 and "folder, device or pipe" in result.stderr
    assert chat_requests(emulator) == []


def test_the_log_is_private(tmp_path: Path, emulator: Any) -> None:
    env = cli_env(tmp_path, emulator.inference_url,
                  JAATO_GITHUB_LOG_DB=str(tmp_path / "new-folder" / "log.db"))
    result = run_cli(tmp_path, "chat", "hi", env=env)
    assert result.returncode == 0, result.stderr
    for name in ("log.db", "log.db-wal", "log.db-shm"):
        file = tmp_path / "new-folder" / name
        if file.exists():
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, name
    assert stat.S_IMODE((tmp_path / "new-folder").stat().st_mode) == 0o700


def test_a_log_setting_naming_dev_null_says_so(tmp_path: Path, emulator: Any) -> None:
    env = cli_env(tmp_path, emulator.inference_url, JAATO_GITHUB_LOG_DB="/dev/null")
    chat = run_cli(tmp_path, "chat", "hi", env=env)
    assert chat.returncode == 0 and chat.stdout == "Echo: hi\n"
    assert "not a regular file" in chat.stderr and "does not exist" not in chat.stderr


def test_an_env_file_naming_dev_null_says_so(tmp_path: Path, emulator: Any) -> None:
    env = cli_env(tmp_path, emulator.inference_url, JAATO_GITHUB_ENV_FILE="/dev/null")
    doctor = run_cli(tmp_path, "doctor", "--json", env=env)
    assert "not a regular file" in doctor.stdout + doctor.stderr
    assert "/dev/null not found" not in doctor.stdout + doctor.stderr


def test_resuming_a_history_in_another_format_names_the_log(tmp_path: Path,
                                                           emulator: Any) -> None:
    db = tmp_path / "log.db"
    env = cli_env(tmp_path, emulator.inference_url, JAATO_GITHUB_LOG_DB=str(db))
    assert run_cli(tmp_path, "chat", "one", env=env).returncode == 0
    for other in ('[{"role": "user", "content": "one"}]', '{"format": "another-tool/2"}',
                  "not json at all"):
        with sqlite3.connect(db) as conn:
            conn.execute("UPDATE conversations SET history = ?", (other,))
        resume = run_cli(tmp_path, "chat", "-c", "two", env=env)
        assert resume.returncode != 0, resume.stdout
        assert str(db) in resume.stderr and "not in this version's format" in resume.stderr
        assert "Traceback" not in resume.stderr
    assert len(chat_requests(emulator)) == 1  # nothing sent for the refused resumes


def test_logs_show_a_tampered_row(tmp_path: Path, emulator: Any) -> None:
    db = tmp_path / "log.db"
    env = cli_env(tmp_path, emulator.inference_url, JAATO_GITHUB_LOG_DB=str(db))
    assert run_cli(tmp_path, "chat", "one", env=env).returncode == 0
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE responses SET options = ?, tool_calls = ?",
                     ("[" * 100_000 + "]" * 100_000, b"\xff\xfe"))
    for args in (("logs",), ("logs", "--json")):
        result = run_cli(tmp_path, *args, env=env)
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr and "one" in result.stdout
