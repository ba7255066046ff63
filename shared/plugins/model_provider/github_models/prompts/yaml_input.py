"""YAML read from files people hand us (``.prompt.yml``): bounded, and JSON-shaped on the way out.

PyYAML's safe loader builds no objects of its own choosing, but it trusts the document's size:
an alias bomb (a few hundred bytes of ``&a [*b, *b, ...]``) expands to a billion values the first
time anything walks it, merge keys (``<<: *a``) copy mappings eagerly, and deep nesting ends in
a bare ``RecursionError``. Here the file is capped, merge lists are capped while they are built,
and the result is walked once under a value budget and a depth limit. Dates stay text (the
implicit timestamp rule is off; an explicit ``!!timestamp`` becomes ISO text) so every value
serialises as JSON; ``!!binary`` and ``!!set`` are refused.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

__all__ = ["MAX_DEPTH", "MAX_VALUES", "MAX_YAML_BYTES", "YamlInputError", "load_yaml_file"]

MAX_YAML_BYTES = 2_000_000  # a prompt file with a large test set is well under 1 MB
MAX_VALUES = 200_000  # values after alias expansion
MAX_DEPTH = 100  # nesting levels

_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class YamlInputError(ValueError):
    """The YAML cannot be used: ``why`` says what was checked; ``fix`` what to do."""

    def __init__(self, why: str, fix: str) -> None:
        self.why, self.fix = why, fix
        super().__init__(why)


def load_yaml_file(path: Path) -> Any:
    """The document in ``path`` as plain JSON-shaped values (dict, list, str, int, float, bool,
    None).

    Raises:
        OSError: The file cannot be read.
        UnicodeDecodeError: It is not UTF-8 text.
        YamlInputError: Too large, not YAML, an alias or merge bomb, nested too deeply, or a
            value JSON cannot hold.
    """
    import yaml

    with path.open("rb") as handle:
        data = handle.read(MAX_YAML_BYTES + 1)
    if len(data) > MAX_YAML_BYTES:
        raise YamlInputError(f"the file is larger than {MAX_YAML_BYTES:,} bytes",
                             "split the test data over several files")
    text = data.decode("utf-8")
    try:
        value = yaml.load(text, Loader=_loader_class())  # noqa: S506 - a SafeLoader subclass
    except RecursionError as exc:
        raise YamlInputError(f"it is nested too deeply (more than {MAX_DEPTH} levels)",
                             "flatten the structure") from exc
    except yaml.YAMLError as exc:
        raise YamlInputError(" ".join(str(exc).split()), "fix the YAML syntax") from exc
    return _plain(value)


_LOADER: list[type] = []


def _loader_class() -> type:
    """A SafeLoader without the implicit timestamp rule, with capped merge keys (built once)."""
    if _LOADER:
        return _LOADER[0]
    import yaml

    class BoundedLoader(yaml.SafeLoader):
        def flatten_mapping(self, node: Any) -> None:
            super().flatten_mapping(node)
            if len(node.value) > MAX_VALUES:
                raise YamlInputError(
                    f"its merge keys (<<) expand to more than {MAX_VALUES:,} entries",
                    "write the mappings out instead of merging them into each other")

        def construct_yaml_timestamp(self, node: Any) -> Any:
            return _iso(super().construct_yaml_timestamp(node))

    BoundedLoader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in rules if tag != _TIMESTAMP]
        for first, rules in yaml.SafeLoader.yaml_implicit_resolvers.items()}
    BoundedLoader.add_constructor(_TIMESTAMP, BoundedLoader.construct_yaml_timestamp)
    _LOADER.append(BoundedLoader)
    return BoundedLoader


def _iso(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else str(value)


def _plain(root: Any) -> Any:
    """``root`` checked iteratively: at most MAX_VALUES values (aliases count every time they
    are reached), MAX_DEPTH levels, JSON types only. Shared (aliased) containers are copied so the
    caller gets a tree."""
    budget = [MAX_VALUES]

    def visit(value: Any, depth: int, where: str) -> Any:
        budget[0] -= 1
        if budget[0] < 0:
            raise YamlInputError(
                f"it expands to more than {MAX_VALUES:,} values (YAML aliases, *name, that "
                "repeat each other: an alias bomb?)", "write the values out without aliases")
        if depth > MAX_DEPTH:
            raise YamlInputError(f"it is nested too deeply (more than {MAX_DEPTH} levels, at "
                                 f"{where})", "flatten the structure")
        if isinstance(value, str | bool | int | float) or value is None:
            return value
        if isinstance(value, dt.date | dt.datetime):
            return _iso(value)
        if isinstance(value, list):
            return [visit(v, depth + 1, f"{where}[{i}]") for i, v in enumerate(value)]
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for key, v in value.items():
                if not (isinstance(key, str | int | float | bool) or key is None):
                    raise YamlInputError(f"the key {key!r} at {where} is not text",
                                         "use plain text keys")
                name = key if isinstance(key, str) else _json_key(key)
                out[name] = visit(v, depth + 1, f"{where}.{name}")
            return out
        raise YamlInputError(
            f"the value at {where} is a {type(value).__name__} (!!binary or !!set), which "
            "JSON cannot hold", "write it as text or a list")

    # recursion is bounded by MAX_DEPTH (well under the interpreter's limit)
    return visit(root, 0, "the top")


def _json_key(key: Any) -> str:
    import json

    return json.dumps(key)
