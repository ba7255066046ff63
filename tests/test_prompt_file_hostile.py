"""Hostile ``.prompt.yml`` files: alias and merge bombs, deep nesting, YAML dates and other
non-JSON values, non-regular files; and LLM judges whose reply negates a choice."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from shared.plugins.model_provider.github_models.emulator import Reply
from shared.plugins.model_provider.github_models.errors import InvalidRequestError
from shared.plugins.model_provider.github_models.prompts.evaluators import match_choice
from shared.plugins.model_provider.github_models.prompts.file import load_prompt_file

from .test_cli import chat_requests, run_cli

HEAD = "model: openai/gpt-4o\nmessages: [{role: user, content: '{{q}}'}]\n"


def refused(tmp_path: Path, text: str) -> InvalidRequestError:
    path = tmp_path / "bad.prompt.yml"
    path.write_text(text)
    started = time.monotonic()
    with pytest.raises(InvalidRequestError) as info:
        load_prompt_file(path)
    assert time.monotonic() - started < 5
    assert str(path) in str(info.value)
    return info.value


def test_an_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    # anchors must be defined before use: put them first
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        lines.append(f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]")
    text = "\n".join(lines) + "\n" + HEAD + "testData: [{q: hi, x: *l8}]\n"
    exc = refused(tmp_path, text)
    assert "alias" in str(exc) and "values" in str(exc)


def test_a_merge_key_chain_stays_small(tmp_path: Path) -> None:
    # each level merges nine copies of the one before (PyYAML 6.0.2+ keeps one of each key; the
    # loader also caps merge lists, for older PyYAML that copied them all)
    keys = ", ".join(f"k{j}: v" for j in range(9))
    lines = [f"m0: &m0 {{{keys}, z0: v}}"]
    for i in range(1, 12):
        lines.append(f"m{i}: &m{i} {{z{i}: v, <<: [" + ", ".join([f"*m{i - 1}"] * 9) + "]}")
    path = tmp_path / "merge.prompt.yml"
    path.write_text("\n".join(lines) + "\n" + HEAD)
    started = time.monotonic()
    assert load_prompt_file(path).model == "openai/gpt-4o"
    assert time.monotonic() - started < 5


@pytest.mark.parametrize("depth", [150, 5000, 100_000])
def test_deep_nesting_is_a_clear_error(tmp_path: Path, depth: int) -> None:
    exc = refused(tmp_path, HEAD + "testData: [{q: hi, x: " + "[" * depth + "]" * depth + "}]\n")
    assert "nested too deeply" in str(exc)


@pytest.mark.parametrize(("value", "why"), [("!!binary aGk=", "bytes"), ("!!set {a, b}", "set")])
def test_values_json_cannot_hold_are_refused(tmp_path: Path, value: str, why: str) -> None:
    exc = refused(tmp_path, HEAD + f"testData: [{{q: hi, x: {value}}}]\n")
    assert why in str(exc) and "JSON cannot hold" in str(exc)


def test_a_large_file_and_a_device_are_refused(tmp_path: Path) -> None:
    exc = refused(tmp_path, HEAD + "# " + "x" * 2_100_000 + "\n")
    assert "larger than" in str(exc)
    with pytest.raises(InvalidRequestError) as info:
        load_prompt_file("/dev/zero")  # a device never ends: refused before reading
    assert "not a regular file" in str(info.value)
    fifo = tmp_path / "fifo.prompt.yml"
    os.mkfifo(fifo)  # as `eval <(generate)` passes one: read, not refused
    writer = threading.Thread(target=fifo.write_text, args=(HEAD,), daemon=True)
    writer.start()
    assert load_prompt_file(fifo).model == "openai/gpt-4o"


def test_yaml_dates_in_test_data_run_as_text(tmp_path: Path, emulator: Any) -> None:
    path = tmp_path / "dated.prompt.yml"
    path.write_text(HEAD.replace("{{q}}", "{{q}} on {{when}}") +
                    "testData: [{q: hi, when: 2024-01-05, at: !!timestamp 2024-01-05 10:00:00}]\n"
                    "evaluators: [{name: says hi, string: {contains: hi}}]\n")
    result = run_cli(tmp_path, "eval", "--json", str(path), endpoint=emulator.inference_url)
    assert result.returncode == 0, result.stdout + result.stderr
    (test,) = json.loads(result.stdout)["testResults"]
    assert test["testCase"]["when"] == "2024-01-05"
    assert test["testCase"]["at"].startswith("2024-01-05")
    assert chat_requests(emulator)[0].body["messages"][-1]["content"] == "hi on 2024-01-05"


def test_the_cli_names_the_bomb_without_a_traceback(tmp_path: Path) -> None:
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        lines.append(f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 9) + "]")
    path = tmp_path / "bomb.prompt.yml"
    path.write_text("\n".join(lines) + "\n" + HEAD + "testData: [{q: hi, x: *l8}]\n")
    result = run_cli(tmp_path, "eval", str(path), endpoint="http://127.0.0.1:9/inference",
                     timeout=20)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr and "alias" in result.stderr


# ---- judges that negate a choice -------------------------------------------------------------

BINARY = (("irrelevant", 0.0), ("relevant", 1.0))
WITH_NOT = (("not relevant", 0.0), ("relevant", 1.0))


@pytest.mark.parametrize(("reply", "choices", "expected"), [
    ("not relevant", BINARY, None),
    ("The reply is not relevant.", BINARY, None),
    ("It isn't really relevant", BINARY, None),
    ("Relevant? No. Irrelevant", BINARY, ("irrelevant", 0.0)),
    ("not relevant", WITH_NOT, ("not relevant", 0.0)),
    ("Verdict: not relevant", WITH_NOT, ("not relevant", 0.0)),
    ("relevant", WITH_NOT, ("relevant", 1.0)),
    ("It is relevant", BINARY, ("relevant", 1.0)),
    ("Not 5, I would say 4", (("4", 0.75), ("5", 1.0)), ("4", 0.75)),
])
def test_a_negated_choice_is_not_chosen(reply: str, choices: Any, expected: Any) -> None:
    assert match_choice(reply, choices) == expected


def test_eval_fails_a_reply_the_judge_calls_not_relevant(tmp_path: Path, emulator: Any) -> None:
    path = tmp_path / "judged.prompt.yml"
    path.write_text(HEAD + "testData: [{q: one}]\n"
                    "evaluators: [{name: on topic, llm: {prompt: 'Is {{completion}} on topic?', "
                    "choices: [{choice: relevant, score: 1}, {choice: irrelevant, score: 0}]}}]\n")
    emulator.script(Reply.text("fine"), Reply.text("The answer is not relevant."))
    result = run_cli(tmp_path, "eval", "--json", str(path), endpoint=emulator.inference_url)
    assert result.returncode == 1, result.stdout + result.stderr
    (test,) = json.loads(result.stdout)["testResults"]
    assert test["passed"] is False
