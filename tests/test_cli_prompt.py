"""``run`` and ``eval`` of GitHub ``.prompt.yml`` files, as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shared.plugins.model_provider.github_models.emulator import Reply
from shared.plugins.model_provider.github_models.errors import InvalidRequestError
from shared.plugins.model_provider.github_models.prompts.evaluators import (
    BUILTIN_EVALUATORS,
    match_choice,
    string_result,
)
from shared.plugins.model_provider.github_models.prompts.file import (
    BUILTIN_NAMES,
    Evaluator,
    fill,
    load_prompt_file,
)

from .test_cli import chat_requests, run_cli

PROMPTS = Path(__file__).parent / "fixtures" / "prompts"
GITHUB_FILES = sorted(PROMPTS.glob("github_*.prompt.yml"))
FIVE = (("1", 0.0), ("2", 0.25), ("3", 0.5), ("4", 0.75), ("5", 1.0))


# ---------------------------------------------------------------- the format


def test_githubs_example_files_parse() -> None:
    assert len(GITHUB_FILES) == 5
    files = {p.name: load_prompt_file(p) for p in GITHUB_FILES}
    sample = files["github_sample.prompt.yml"]
    assert sample.model == "openai/gpt-4o"
    assert sample.model_parameters == {"temperature": 0.5, "max_tokens": 50}
    assert [e.kind for e in sample.evaluators] == ["string", "uses"]
    assert sample.variables() == ["input"] and len(sample.test_data) == 2
    builtins = files["github_builtins.prompt.yml"]
    assert [e.uses for e in builtins.evaluators] == [
        f"github/{n}" for n in ("similarity", "coherence", "fluency", "relevance",
                                "groundedness")]
    schema = files["github_json_schema.prompt.yml"]
    assert schema.response_format == "json_schema" and schema.json_schema is not None
    assert schema.json_schema["required"] == ["name", "age"]
    template = files["github_template_variables.prompt.yml"]
    assert template.variables() == ["persona", "domain", "name", "topic", "input"]
    assert files["github_text_summarizer.prompt.yml"].evaluators[0].check == "startsWith"


@pytest.mark.parametrize(("text", "why"), [
    ("just a string", "not a mapping"),
    ("model: x\n", "no 'messages' list"),
    ("messages: [{role: robot, content: hi}]", "role 'robot'"),
    ("messages: [{role: user, content: hi}, {role: assistant, content: yo}]",
     "last message is not a user message"),
    ("messages: [{role: user, content: hi}]\nevaluators: [{name: x, uses: github/nope}]",
     "not a built-in evaluator"),
    ("messages: [{role: user, content: hi}]\nevaluators: [{name: x, string: {}}]",
     "exactly one of equals, contains, startsWith, endsWith"),
    ("messages: [{role: user, content: hi}]\nevaluators: [{name: x, llm: {prompt: p}}]",
     "needs a 'choices' list"),
    ("messages: [{role: user, content: hi}\n", "YAML"),
])
def test_malformed_files_are_refused_with_the_key_at_fault(tmp_path: Path, text: str,
                                                           why: str) -> None:
    path = tmp_path / "bad.prompt.yml"
    path.write_text(text)
    with pytest.raises(InvalidRequestError) as info:
        load_prompt_file(path)
    assert str(path) in str(info.value) and why in str(info.value)


def test_fill_and_string_checks_follow_gh_models() -> None:
    assert fill("{{ a }}-{{b}}-{{missing}}", {"a": 1, "b": "x"}) == "1-x-{{missing}}"
    contains = Evaluator("c", "string", check="contains", value="{{word}}")
    assert string_result(contains, {"word": "HELLO"}, "oh hello there").passed
    equals = Evaluator("e", "string", check="equals", value="Hello")
    assert not string_result(equals, {}, "hello").passed  # equals is exact
    starts = Evaluator("s", "string", check="startsWith", value="summary -")
    assert string_result(starts, {}, "Summary - short").passed
    ends = Evaluator("n", "string", check="endsWith", value="END")
    assert string_result(ends, {}, "the end").passed


@pytest.mark.parametrize(("reply", "expected"), [
    ("5", ("5", 1.0)),
    ("Let's think step by step: fine.\nScore: 4", ("4", 0.75)),
    ("**3**", ("3", 0.5)),
    ("I would give it a 2 out of 5, so 2", ("2", 0.25)),
    ("no idea", None),
])
def test_judge_replies_are_matched_to_choices(reply: str, expected: Any) -> None:
    assert match_choice(reply, FIVE) == expected


def test_builtin_judges_are_githubs_documented_set() -> None:
    # the file reader accepts exactly the judges the evaluators have a rubric for
    assert set(BUILTIN_EVALUATORS) == BUILTIN_NAMES == {
        "similarity", "coherence", "fluency", "relevance", "groundedness"}
    for judge in BUILTIN_EVALUATORS.values():
        assert judge.choices == FIVE and "{{completion}}" in judge.prompt


# ---------------------------------------------------------------- eval


def test_eval_prints_the_table_writes_the_report_and_exits_1(tmp_path: Path,
                                                            emulator: Any) -> None:
    report = tmp_path / "report.json"
    result = run_cli(tmp_path, "eval", str(PROMPTS / "greetings.prompt.yml"), "--report",
                     str(report), endpoint=emulator.inference_url)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["#", "TEST", "EVALUATOR", "SCORE", "RESULT"]
    assert lines[1].split() == ["1", "Hello", "mentions", "the", "keyword", "1.00", "PASS"]
    assert lines[9].split() == ["3", "Hi", "mentions", "the", "keyword", "0.00", "FAIL"]
    assert "test 3 · mentions the keyword: expected to contain 'Hopper'; reply: Echo: Hi, " \
           "I am Grace" in result.stdout
    assert "Passed: 2/3 (66.7%)" in result.stdout
    data = json.loads(report.read_text())
    assert data["summary"] == {"tests": 3, "passed": 2, "failed": 1, "passRate": 66.7}
    first = data["testResults"][0]
    assert first["testCase"] == {"greeting": "Hello", "name": "Ada", "keyword": "Ada"}
    assert first["modelResponse"] == "Echo: Hello, I am Ada" and first["passed"] is True
    assert [e["evaluatorName"] for e in first["evaluationResults"]] == [
        "mentions the keyword", "starts politely", "never says goodbye", "relevance"]
    assert data["usage"]["requests"] == 9  # 3 replies + 3 x 2 judge calls
    models = [r.body["model"] for r in chat_requests(emulator)]
    assert models[:3] == ["openai/gpt-4o-mini", "openai/gpt-4o", "openai/gpt-4o-mini"]
    judge = chat_requests(emulator)[1].body["messages"]
    assert judge[0] == {"role": "system", "content": "You check replies of a greeting bot."}
    assert "Reply: Echo: Hello, I am Ada" in judge[1]["content"]
    assert judge[1]["content"].endswith("Answer with exactly one of: bad, good.")
    as_json = run_cli(tmp_path, "eval", "--json", str(PROMPTS / "greetings.prompt.yml"),
                      endpoint=emulator.inference_url)
    assert as_json.returncode == 1
    assert json.loads(as_json.stdout)["summary"]["failed"] == 1


def test_a_judge_grade_decides_pass_or_fail(tmp_path: Path, emulator: Any) -> None:
    path = tmp_path / "judged.prompt.yml"
    path.write_text(
        "model: openai/gpt-4o\nmessages: [{role: user, content: '{{q}}'}]\n"
        "testData: [{q: one}, {q: two}, {q: three}]\n"
        "evaluators: [{name: fluent, uses: github/fluency}]\n")
    emulator.script(Reply.text("fine"), Reply.text("Let's think step by step.\n1"),
                    Reply.text("fine"), Reply.text("4"),
                    Reply.text("fine"), Reply.text("cannot say"))
    result = run_cli(tmp_path, "eval", "--json", "--judge-model", "openai/gpt-4o-mini",
                     str(path), endpoint=emulator.inference_url)
    assert result.returncode == 1, result.stderr
    verdicts = [t["evaluationResults"][0] for t in json.loads(result.stdout)["testResults"]]
    assert [(v["score"], v["passed"]) for v in verdicts] == [(0.0, False), (0.75, True),
                                                             (0.0, False)]
    assert "chose '1'" in verdicts[0]["details"]
    assert "none of the choices" in verdicts[2]["details"]
    judge = chat_requests(emulator)[1].body
    assert judge["model"] == "openai/gpt-4o-mini"  # --judge-model
    assert "response: fine" in judge["messages"][1]["content"]


def test_githubs_example_files_run(tmp_path: Path, emulator: Any) -> None:
    url = emulator.inference_url
    sample = run_cli(tmp_path, "eval", str(PROMPTS / "github_sample.prompt.yml"), endpoint=url)
    assert sample.returncode == 0, sample.stdout + sample.stderr
    assert "Passed: 2/2 (100.0%)" in sample.stdout
    body = chat_requests(emulator)[0].body
    assert (body["temperature"], body["max_tokens"]) == (0.5, 50)
    assert body["messages"][-1]["content"] == (
        "Please respond to this message appropriately: hello world")
    builtins = run_cli(tmp_path, "eval", "--json", str(PROMPTS / "github_builtins.prompt.yml"),
                       endpoint=url)
    assert builtins.returncode == 0, builtins.stderr
    (test,) = json.loads(builtins.stdout)["testResults"]
    assert [e["passed"] for e in test["evaluationResults"]] == [True] * 5
    schema = run_cli(tmp_path, "eval", str(PROMPTS / "github_json_schema.prompt.yml"),
                     endpoint=url)
    assert schema.returncode == 0, schema.stdout + schema.stderr
    assert chat_requests(emulator)[-1].body["response_format"]["type"] == "json_schema"
    summary = run_cli(tmp_path, "eval", str(PROMPTS / "github_text_summarizer.prompt.yml"),
                      endpoint=url)  # the emulator echoes: it does not start with "Summary -"
    assert summary.returncode == 1 and "Passed: 0/1" in summary.stdout
    template = run_cli(tmp_path, "run", str(PROMPTS / "github_template_variables.prompt.yml"),
                       "--var", "persona=Ada", "--var", "domain=maths", "--var", "name=Bo",
                       "--var", "topic=sums", "--var", "input=Help!", endpoint=url)
    assert template.returncode == 0, template.stderr
    assert template.stdout == "Echo: Hello Bo! I need help with sums. Help!\n"
    sent = chat_requests(emulator)[-1].body
    assert sent["messages"][0]["content"] == (
        "You are Ada, a helpful assistant specializing in maths.")
    assert (sent["temperature"], sent["max_tokens"]) == (0.3, 200)


# ---------------------------------------------------------------- run


def test_run_takes_vars_stdin_model_and_options(tmp_path: Path, emulator: Any) -> None:
    summarizer = str(PROMPTS / "github_text_summarizer.prompt.yml")
    piped = run_cli(tmp_path, "run", summarizer, stdin="Tides follow the moon.",
                    endpoint=emulator.inference_url)
    assert piped.returncode == 0, piped.stderr
    assert "<text>\nTides follow the moon.\n</text>" in piped.stdout
    assert "[" in piped.stderr and "tokens" in piped.stderr  # the usage line
    run_cli(tmp_path, "run", summarizer, "--var", "input=x", "-m", "openai/gpt-4.1-mini",
            "-o", "temperature", "0.1", endpoint=emulator.inference_url)
    first, second = chat_requests(emulator)
    assert first.body["model"] == "openai/gpt-4o-mini" and first.body["temperature"] == 0.5
    assert second.body["model"] == "openai/gpt-4.1-mini" and second.body["temperature"] == 0.1
    schema = run_cli(tmp_path, "run", str(PROMPTS / "github_json_schema.prompt.yml"), "--var",
                     "name=Al", "--var", "age=3", endpoint=emulator.inference_url)
    assert json.loads(schema.stdout) == {"name": "example", "age": 1}


def test_run_refuses_bad_input_before_any_request(tmp_path: Path, emulator: Any) -> None:
    template = str(PROMPTS / "github_template_variables.prompt.yml")
    missing = run_cli(tmp_path, "run", template, "--var", "persona=x", stdin="",
                      endpoint=emulator.inference_url)
    assert missing.returncode == 2
    assert "pass --var domain=... --var name=... --var topic=... --var input=..." in \
           missing.stderr
    bad_var = run_cli(tmp_path, "run", template, "--var", "novalue", stdin="",
                      endpoint=emulator.inference_url)
    assert bad_var.returncode == 2 and "is not NAME=VALUE" in bad_var.stderr
    hot = tmp_path / "hot.prompt.yml"
    hot.write_text("modelParameters: {temperature: 7}\nmessages: [{role: user, content: hi}]\n")
    too_hot = run_cli(tmp_path, "run", str(hot), endpoint=emulator.inference_url)
    assert too_hot.returncode == 1 and "modelParameters" in too_hot.stderr
    assert "temperature=7" in too_hot.stderr
    nothing = run_cli(tmp_path, "run", "nope.prompt.yml", endpoint=emulator.inference_url)
    assert nothing.returncode == 1 and "Reading the prompt file nope.prompt.yml" in \
           nothing.stderr
    no_tests = run_cli(tmp_path, "eval", template, endpoint=emulator.inference_url)
    assert no_tests.returncode == 1 and "no testData" in no_tests.stderr
    assert chat_requests(emulator) == []
