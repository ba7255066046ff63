"""GitHub's ``.prompt.yml`` prompt files: parse, check and fill them in.

The format (docs.github.com, "Storing prompts in GitHub repositories"; ``gh models run``/``eval``)::

    name: Text summarizer                # optional
    description: Summarizes input text   # optional
    model: openai/gpt-4o-mini
    modelParameters: {temperature: 0.5, maxTokens: 100, topP: 1}
    responseFormat: json_schema          # optional: text, json_object, json_schema
    jsonSchema: {...}                    # with json_schema: the schema (or {name, schema})
    messages:
      - role: system                     # system, user, assistant
        content: You are a text summarizer.
      - role: user
        content: "Summarize: {{input}}"
    testData:                            # for eval: one row of variables per test
      - input: ...
        expected: ...
    evaluators:                          # for eval: string checks, LLM judges, github/<name>
      - name: mentions the topic
        string: {contains: "{{topic}}"}  # or equals, startsWith, endsWith

``{{name}}`` placeholders are filled from ``--var name=value`` (``run``) or a ``testData`` row
(``eval``). Parsing uses PyYAML's safe loader, bounded (``yaml_input``: no alias bombs, no deep
nesting, dates kept as text; imported when a file is read). Every problem is an
``InvalidRequestError`` naming the file and the key, raised before any request.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InvalidRequestError

__all__ = ["BUILTIN_NAMES", "Evaluator", "PromptFile", "fill", "load_prompt_file", "option_key",
           "placeholders"]

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][\w.-]*)\s*\}\}")
_ROLES = ("system", "user", "assistant")
_STRING_CHECKS = ("equals", "contains", "startsWith", "endsWith")
_FORMATS = ("text", "json_object", "json_schema")
# GitHub's built-in judges (``uses: github/<name>``); their rubrics are in ``evaluators``
BUILTIN_NAMES = frozenset({"similarity", "coherence", "fluency", "relevance", "groundedness"})

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def placeholders(text: str) -> list[str]:
    """The ``{{variables}}`` of ``text``, in order, without repeats."""
    return list(dict.fromkeys(_PLACEHOLDER.findall(text)))


def fill(text: str, variables: Mapping[str, Any]) -> str:
    """``text`` with each ``{{name}}`` replaced by ``variables[name]``; unknown ones stay."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in variables:
            return match.group(0)
        value = variables[name]
        return value if isinstance(value, str) else _scalar(value)

    return _PLACEHOLDER.sub(one, text)


def _scalar(value: Any) -> str:
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, int | float) or value is None else json.dumps(value)


@dataclass(frozen=True)
class Evaluator:
    """One evaluator: ``kind`` is ``string`` (``check``, ``value``), ``llm`` (``prompt``,
    ``choices``, ``model``, ``system``) or ``uses`` (``uses``: ``github/<builtin>``)."""

    name: str
    kind: str
    check: str = ""
    value: str = ""
    prompt: str = ""
    system: str = ""
    model: str | None = None
    choices: tuple[tuple[str, float], ...] = ()
    uses: str = ""


@dataclass(frozen=True)
class PromptFile:
    """A parsed ``.prompt.yml`` file."""

    path: Path
    name: str
    description: str
    model: str | None
    model_parameters: dict[str, Any]
    messages: tuple[tuple[str, str], ...]
    test_data: tuple[dict[str, Any], ...] = ()
    evaluators: tuple[Evaluator, ...] = ()
    response_format: str | None = None
    json_schema: dict[str, Any] | None = field(default=None)

    def variables(self) -> list[str]:
        """Every ``{{variable}}`` the messages use."""
        return placeholders("\n".join(content for _, content in self.messages))


def _bad(path: Path, where: str, why: str, fix: str) -> InvalidRequestError:
    return InvalidRequestError(what=f"Reading the prompt file {path} ({where})", why=why,
                               fix=fix, param="prompt_file")


def _text(path: Path, data: Mapping[str, Any], key: str, where: str) -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _bad(path, where, f"'{key}' is missing or not a non-empty string",
                   f"give {where} a '{key}:' string")
    return value


def _messages(path: Path, raw: Any) -> tuple[tuple[str, str], ...]:
    if not isinstance(raw, list) or not raw:
        raise _bad(path, "messages", "there is no 'messages' list",
                   "add messages: with at least one {role: user, content: ...} item")
    out = []
    for i, item in enumerate(raw, 1):
        where = f"messages item {i}"
        if not isinstance(item, Mapping):
            raise _bad(path, where, "it is not a mapping", "write each message as role/content")
        role = str(item.get("role", "")).lower()
        if role not in _ROLES:
            raise _bad(path, where, f"role {item.get('role')!r} is not one of "
                                    f"{', '.join(_ROLES)}", "use system, user or assistant")
        out.append((role, _text(path, item, "content", where)))
    if out[-1][0] != "user":
        raise _bad(path, "messages", "the last message is not a user message",
                   "end messages with the user turn the model should answer")
    return tuple(out)


def _choices(path: Path, raw: Any, where: str) -> tuple[tuple[str, float], ...]:
    if not isinstance(raw, list) or not raw:
        raise _bad(path, where, "an llm evaluator needs a 'choices' list",
                   "add choices: [{choice: good, score: 1.0}, {choice: bad, score: 0.0}]")
    out = []
    for item in raw:
        if (not isinstance(item, Mapping) or "choice" not in item
                or isinstance(item.get("score"), bool)
                or not isinstance(item.get("score"), int | float)):
            raise _bad(path, where, f"choice {item!r} needs 'choice' and a numeric 'score'",
                       "write each choice as {choice: ..., score: 0.0-1.0}")
        out.append((str(item["choice"]), float(item["score"])))
    return tuple(out)


def _evaluator(path: Path, raw: Any, i: int, builtins: frozenset[str]) -> Evaluator:
    where = f"evaluators item {i}"
    if not isinstance(raw, Mapping):
        raise _bad(path, where, "it is not a mapping", "give each evaluator a name and a kind")
    name = str(raw.get("name") or f"evaluator {i}")
    where = f"evaluator '{name}'"
    if isinstance(raw.get("string"), Mapping):
        checks = [(k, v) for k, v in raw["string"].items() if k in _STRING_CHECKS]
        if len(checks) != 1 or not isinstance(checks[0][1], str | int | float):
            raise _bad(path, where, "a string evaluator needs exactly one of "
                                    f"{', '.join(_STRING_CHECKS)}",
                       "write e.g. string: {contains: 'hello'}")
        return Evaluator(name, "string", check=checks[0][0], value=str(checks[0][1]))
    if isinstance(raw.get("llm"), Mapping):
        llm = raw["llm"]
        model = llm.get("modelId")
        return Evaluator(name, "llm", prompt=_text(path, llm, "prompt", where),
                         system=str(llm.get("systemPrompt") or ""),
                         model=str(model) if model else None,
                         choices=_choices(path, llm.get("choices"), where))
    uses = raw.get("uses")
    if isinstance(uses, str):
        if uses.removeprefix("github/") not in builtins or not uses.startswith("github/"):
            raise _bad(path, where, f"uses: {uses} is not a built-in evaluator",
                       "use one of " + ", ".join(f"github/{b}" for b in sorted(builtins)))
        return Evaluator(name, "uses", uses=uses)
    raise _bad(path, where, "it has no 'string', 'llm' or 'uses' entry",
               "give it one of string: {...}, llm: {...} or uses: github/<name>")


def option_key(name: str) -> str:
    """A request option's name: ``maxTokens`` or ``max-tokens`` -> ``max_tokens``."""
    return _CAMEL.sub("_", name.strip()).replace("-", "_").lower()


def load_prompt_file(path: str | Path) -> PromptFile:
    """Read and check a ``.prompt.yml`` file.

    Raises:
        InvalidRequestError: Unreadable, not YAML, or not in the prompt-file format.
    """
    from ..config.setting_checks import path_problem
    from .yaml_input import YamlInputError, load_yaml_file

    path = Path(path)
    problem = path_problem(path, pipes=True)  # a device such as /dev/zero never ends
    if problem and problem != "does not exist":  # (a missing file: the read below says so)
        raise _bad(path, "the file", f"it {problem}", "pass the path of a .prompt.yml file")
    try:
        data = load_yaml_file(path)
    except OSError as exc:
        raise _bad(path, "the file", str(exc), "check the path") from exc
    except UnicodeDecodeError as exc:
        raise _bad(path, "the file", f"it is not UTF-8 text ({exc.reason} at byte {exc.start})",
                   "save it as UTF-8") from exc
    except YamlInputError as exc:
        raise _bad(path, "YAML", exc.why, exc.fix) from exc
    if not isinstance(data, Mapping):
        raise _bad(path, "top level", "it is not a mapping of keys",
                   "write name:, model:, messages: ... at the top level")
    params = data.get("modelParameters") or {}
    if not isinstance(params, Mapping):
        raise _bad(path, "modelParameters", "it is not a mapping",
                   "write e.g. modelParameters: {temperature: 0.5, maxTokens: 100}")
    tests = data.get("testData") or []
    if not isinstance(tests, list) or not all(isinstance(t, Mapping) for t in tests):
        raise _bad(path, "testData", "it is not a list of variable mappings",
                   "write testData: [{input: ..., expected: ...}, ...]")
    raw_evals = data.get("evaluators") or []
    if not isinstance(raw_evals, list):
        raise _bad(path, "evaluators", "it is not a list", "write evaluators: [- name: ...]")
    builtins = BUILTIN_NAMES
    fmt = data.get("responseFormat")
    if fmt is not None and fmt not in _FORMATS:
        raise _bad(path, "responseFormat", f"{fmt!r} is not one of {', '.join(_FORMATS)}",
                   "use text, json_object or json_schema")
    schema = data.get("jsonSchema")
    if isinstance(schema, str):  # the web editor stores it as JSON text
        import json

        try:
            schema = json.loads(schema)
        except ValueError as exc:
            raise _bad(path, "jsonSchema", f"it is not JSON ({exc})", "fix the schema") from exc
    if isinstance(schema, Mapping) and isinstance(schema.get("schema"), Mapping):
        schema = schema["schema"]
    if fmt == "json_schema" and not isinstance(schema, Mapping):
        raise _bad(path, "jsonSchema", "responseFormat is json_schema but there is no schema",
                   "add jsonSchema: {type: object, properties: ...}")
    model = data.get("model")
    return PromptFile(
        path=path, name=str(data.get("name") or path.name),
        description=str(data.get("description") or ""),
        model=str(model) if model else None,
        model_parameters={option_key(str(k)): v for k, v in params.items()},
        messages=_messages(path, data.get("messages")),
        test_data=tuple(dict(t) for t in tests),
        evaluators=tuple(_evaluator(path, e, i, builtins) for i, e in enumerate(raw_evals, 1)),
        response_format=fmt,
        json_schema=dict(schema) if fmt == "json_schema" and isinstance(schema, Mapping)
        else None)
