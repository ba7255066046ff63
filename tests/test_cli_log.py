"""The conversation log, driven as a user drives it: CLI processes, a real emulator, a real
SQLite file."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from shared.plugins.model_provider.github_models.cli.log import (
    _MIGRATIONS,
    SCHEMA_VERSION,
    LogStore,
    LogStoreError,
    Turn,
    default_db_path,
)

from .test_cli import MODULE, SECRET_BODY, TOKEN, assert_no_secret, chat_requests, cli_env, run_cli


def log_env(tmp_path: Path, endpoint: str, **extra: str) -> dict[str, str]:
    return cli_env(tmp_path, endpoint, JAATO_GITHUB_LOG_DB=str(tmp_path / "log.db"), **extra)


def logs_json(tmp_path: Path, env: dict[str, str], *args: str) -> Any:
    result = run_cli(tmp_path, "logs", *args, "--json", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_conversation_continues_across_three_processes(tmp_path: Path, emulator: Any) -> None:
    env = log_env(tmp_path, emulator.inference_url)
    first = run_cli(tmp_path, "chat", "-s", "Be brief.", "one", env=env)
    assert first.returncode == 0, first.stderr
    second = run_cli(tmp_path, "chat", "-c", "two", env=env)
    assert second.returncode == 0, second.stderr
    assert "continuing conversation" in second.stderr
    third = run_cli(tmp_path, "chat", "--continue", "three", env=env)
    assert third.returncode == 0, third.stderr
    last = chat_requests(emulator)[-1].body["messages"]
    assert [(m["role"], m["content"]) for m in last] == [
        ("system", "Be brief."), ("user", "one"), ("assistant", "Echo: one"),
        ("user", "two"), ("assistant", "Echo: two"), ("user", "three")]
    (conversation,) = {r["conversation_id"] for r in logs_json(tmp_path, env, "-n", "0")}
    shown = logs_json(tmp_path, env, "show", conversation)
    assert [r["prompt"] for r in shown["responses"]] == ["one", "two", "three"]
    assert shown["system"] == "Be brief." and "history" not in shown
    # --cid resumes a named conversation; a new chat starts another one
    run_cli(tmp_path, "chat", "other", env=env)
    again = run_cli(tmp_path, "chat", "--cid", conversation, "four", env=env)
    assert again.returncode == 0, again.stderr
    assert [m["content"] for m in chat_requests(emulator)[-1].body["messages"]][-2:] == [
        "Echo: three", "four"]
    unknown = run_cli(tmp_path, "chat", "--cid", "nope", "x", env=env)
    assert unknown.returncode == 1 and "jaato-github-models logs" in unknown.stderr


def test_each_row_has_model_endpoint_options_usage_cost_and_timing(tmp_path: Path,
                                                                  emulator: Any) -> None:
    from shared.plugins.model_provider.github_models.emulator import Reply

    emulator.script(Reply.text("fine", usage=(100, 10)))
    endpoint = emulator.inference_url.replace("http://", "http://user:pw@") + "?api-key=k3y"
    env = log_env(tmp_path, endpoint)
    result = run_cli(tmp_path, "chat", "-o", "temperature", "0.2", "-o", "seed", "7",
                     f"my key is {TOKEN}", env=env)
    assert result.returncode == 0, result.stderr
    (row,) = logs_json(tmp_path, env)
    assert row["endpoint"] == emulator.inference_url  # no user info, no query
    assert row["model"] == "openai/gpt-4o" and row["options"] == {"temperature": 0.2, "seed": 7}
    assert (row["prompt_tokens"], row["output_tokens"]) == (100, 10)
    assert row["cost_usd"] == pytest.approx(0.00035) and row["duration_ms"] >= 0
    assert row["prompt"] == "my key is github_pat_…" and row["finish_reason"] == "stop"
    for file in tmp_path.glob("log.db*"):  # the database, its WAL and shared memory
        assert SECRET_BODY.encode() not in file.read_bytes()
        assert b"k3y" not in file.read_bytes() and b"user:pw" not in file.read_bytes()


def test_tool_calls_are_logged(tmp_path: Path, emulator: Any) -> None:
    from shared.plugins.model_provider.github_models.emulator import Reply

    emulator.script(Reply.tool_calls([("get_weather", {"city": "Paris"})]))
    env = log_env(tmp_path, emulator.inference_url)
    assert run_cli(tmp_path, "chat", "weather?", env=env).returncode == 0
    (row,) = logs_json(tmp_path, env)
    assert row["tool_calls"][0]["name"] == "get_weather"
    assert row["tool_calls"][0]["args"] == {"city": "Paris"}


def test_two_clis_logging_at_once_lose_nothing(tmp_path: Path, emulator: Any) -> None:
    env = log_env(tmp_path, emulator.inference_url)
    turns = 25
    procs = [subprocess.Popen(
        [sys.executable, "-m", MODULE, "chat", "--no-pacing"], stdin=subprocess.PIPE,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in range(2)]
    for i, proc in enumerate(procs):  # both are fed before either is read: they run at once
        assert proc.stdin is not None
        proc.stdin.write("".join(f"p{i} turn {n}\n" for n in range(turns)))
        proc.stdin.flush()
    outputs = [p.communicate("", timeout=90) for p in procs]
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert "warning" not in err, err
    rows = logs_json(tmp_path, env, "-n", "0")
    assert len(rows) == 2 * turns
    assert {r["prompt"] for r in rows} == {f"p{i} turn {n}" for i in (0, 1) for n in range(turns)}
    assert len({r["conversation_id"] for r in rows}) == 2


def test_logs_search_list_and_path(tmp_path: Path, emulator: Any) -> None:
    env = log_env(tmp_path, emulator.inference_url)
    for prompt in ("the quick brown fox", "lazy dogs sleep", "what's up?"):
        assert run_cli(tmp_path, "chat", prompt, env=env).returncode == 0
    found = logs_json(tmp_path, env, "search", "fox")
    assert [r["prompt"] for r in found] == ["the quick brown fox"]
    assert [r["prompt"] for r in logs_json(tmp_path, env, "search", "what's")] == ["what's up?"]
    text = run_cli(tmp_path, "logs", "search", "dogs", env=env)
    assert text.returncode == 0 and "> lazy dogs sleep" in text.stdout
    assert "Echo: lazy dogs sleep" in text.stdout
    nothing = run_cli(tmp_path, "logs", "search", "zebra", env=env)
    assert nothing.returncode == 1 and "no logged exchange matches" in nothing.stderr
    assert [r["prompt"] for r in logs_json(tmp_path, env, "-n", "2")] == [
        "lazy dogs sleep", "what's up?"]  # the latest two, oldest first
    path = run_cli(tmp_path, "logs", "path", env=env)
    assert path.stdout.strip() == str(tmp_path / "log.db")


def test_no_log_flag_and_setting_turn_logging_off(tmp_path: Path, emulator: Any) -> None:
    env = log_env(tmp_path, emulator.inference_url)
    assert run_cli(tmp_path, "chat", "--no-log", "hi", env=env).returncode == 0
    assert not (tmp_path / "log.db").exists()
    off = log_env(tmp_path, emulator.inference_url, JAATO_GITHUB_LOG="false")
    assert run_cli(tmp_path, "chat", "hi", env=off).returncode == 0
    assert not (tmp_path / "log.db").exists()
    refused = run_cli(tmp_path, "chat", "--no-log", "-c", "hi", env=env)
    assert refused.returncode == 1 and "logging is turned off" in refused.stderr


def test_default_location_follows_xdg(tmp_path: Path, emulator: Any) -> None:
    env = cli_env(tmp_path, emulator.inference_url, XDG_DATA_HOME=str(tmp_path / "xdg"))
    assert run_cli(tmp_path, "chat", "hi", env=env).returncode == 0
    assert (tmp_path / "xdg" / "jaato-github-models" / "logs.db").is_file()
    assert default_db_path({"HOME": "/home/me"}, platform="linux") == Path(
        "/home/me/.local/share/jaato-github-models/logs.db")
    assert default_db_path({"HOME": "/Users/me"}, platform="darwin") == Path(
        "/Users/me/Library/Application Support/jaato-github-models/logs.db")
    assert default_db_path({"JAATO_GITHUB_LOG_DB": "/x/y.db"}) == Path("/x/y.db")


def test_a_corrupt_log_never_blocks_a_chat(tmp_path: Path, emulator: Any) -> None:
    (tmp_path / "log.db").write_bytes(b"this is not a database" * 100)
    env = log_env(tmp_path, emulator.inference_url)
    chat = run_cli(tmp_path, "chat", "hi", env=env)
    assert chat.returncode == 0 and chat.stdout == "Echo: hi\n"
    assert "warning: Opening the conversation log" in chat.stderr
    assert "not a readable SQLite database" in chat.stderr and "--no-log" in chat.stderr
    logs = run_cli(tmp_path, "logs", env=env)
    assert logs.returncode == 1 and "move " in logs.stderr and "Traceback" not in logs.stderr
    resume = run_cli(tmp_path, "chat", "-c", "hi", env=env)
    assert resume.returncode == 1 and "not a readable SQLite database" in resume.stderr


def test_a_locked_log_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "log.db"
    LogStore(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        store = LogStore(path, busy_timeout=0.2)
        with pytest.raises(LogStoreError, match="held the database lock") as info:
            store.record(Turn("c1", "m", "http://127.0.0.1/inference", "p", "r", "[]"))
        assert "--no-log" in str(info.value)
        store.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_old_schemas_are_migrated_in_order(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript(_MIGRATIONS[0])
    db.execute("INSERT INTO conversations VALUES ('c1', 'm', 'e', NULL, '[]', 1, 1)")
    db.execute("INSERT INTO responses (conversation_id, model, endpoint, prompt, response, "
               "created) VALUES ('c1', 'm', 'e', 'old words here', 'reply', 1)")
    db.execute("PRAGMA user_version = 1")
    db.commit()
    db.close()
    with LogStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION == 2
        assert [r["prompt"] for r in store.responses(query="words")] == ["old words here"]
    newer = sqlite3.connect(path)
    newer.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    newer.close()
    with pytest.raises(LogStoreError, match="newer than this program"):
        LogStore(path)


def test_logs_on_an_empty_machine(tmp_path: Path) -> None:
    env = cli_env(tmp_path, None, None, JAATO_GITHUB_LOG_DB=str(tmp_path / "none.db"))
    result = run_cli(tmp_path, "logs", env=env)
    assert result.returncode == 0 and "no conversations logged yet" in result.stderr
    assert json.loads(run_cli(tmp_path, "logs", "--json", env=env).stdout) == []
    assert_no_secret(result.stderr)
