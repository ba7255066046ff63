"""docs/public-api.md is the list of stable names: these tests keep it equal to the code.

A new public name, command, option, setting or environment variable fails here until it is
documented; a documented one that disappears fails here until the page (and the changelog) say so.
"""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path

import pytest

from shared.plugins.model_provider.github_models import errors
from shared.plugins.model_provider.github_models.config import env

ROOT = Path(__file__).resolve().parents[1]
PAGE = (ROOT / "docs" / "public-api.md").read_text()
CONFIG_PAGE = (ROOT / "docs" / "configuration.md").read_text()
PKG = "shared.plugins.model_provider.github_models"
INSTALLED = "jaato_github_models"
CLI = f"{PKG}.cli"
_TICKED = re.compile(r"`([^`]+)`")


def _section(text: str, heading: str) -> str:
    """The text under ``heading`` up to the next heading of the same or a higher level."""
    level = heading.split(" ", 1)[0]
    start = text.index(f"\n{heading}\n") + len(heading) + 2
    ends = [m.start() for m in re.finditer(r"\n(#+) ", text[start:])
            if len(m.group(1)) <= len(level)]
    return text[start:start + ends[0]] if ends else text[start:]


def _table_rows(text: str) -> list[list[str]]:
    rows = []
    for line in text.splitlines():
        if line.startswith("|") and not line.startswith("|---"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows[1:]  # the header row


def _first_column(text: str) -> set[str]:
    return {_TICKED.findall(row[0])[0] for row in _table_rows(text) if _TICKED.findall(row[0])}


def _documented_names(module: str) -> set[str]:
    return _first_column(_section(PAGE, f"### `{module}`"))


def _checkout_module(documented: str) -> str:
    return documented.replace(INSTALLED, PKG, 1)


@pytest.mark.parametrize("module", [INSTALLED, f"{INSTALLED}.errors", f"{INSTALLED}.emulator"])
def test_every_documented_name_is_importable(module: str) -> None:
    names = _documented_names(module)
    assert len(names) >= 4, f"no table under ### `{module}`"
    loaded = importlib.import_module(_checkout_module(module))
    missing = sorted(n for n in names if not hasattr(loaded, n))
    assert missing == [], f"documented in docs/public-api.md, not importable: {missing}"


def test_the_package_exports_exactly_the_documented_names() -> None:
    package = importlib.import_module(PKG)
    assert sorted(package.__all__) == sorted(_documented_names(INSTALLED))


def test_every_error_class_is_documented() -> None:
    classes = {name for name in errors.__all__
               if isinstance(getattr(errors, name), type)
               and issubclass(getattr(errors, name), errors.GitHubModelsError)}
    undocumented = sorted(classes - _documented_names(f"{INSTALLED}.errors"))
    assert undocumented == [], f"add these errors to docs/public-api.md: {undocumented}"


def test_the_emulator_exports_exactly_the_documented_names() -> None:
    emulator = importlib.import_module(f"{PKG}.emulator")
    assert sorted(emulator.__all__) == sorted(_documented_names(f"{INSTALLED}.emulator"))


def test_documented_entry_points_are_the_packaged_ones() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    rows = _table_rows(_section(PAGE, "### Entry points"))
    for group, name, target in ([_TICKED.findall(c)[0] for c in row] for row in rows[:2]):
        assert group == "jaato.model_providers"
        assert f'{name} = "{target}"' in pyproject
    assert 'jaato-github-models = "jaato_github_models._entry:main"' in pyproject


# --- the command line -------------------------------------------------------------------------

_OPTION_LINE = re.compile(r"^  (-\S.*?)(?:\s{2,}|$)")


def _help(*command: str) -> str:
    result = subprocess.run([sys.executable, "-m", CLI, *command, "--help"],
                            capture_output=True, text=True, timeout=60, check=True)
    return result.stdout


def _options_in_help(text: str) -> set[str]:
    """Every option string argparse lists (``-o NAME VALUE, --option NAME VALUE``)."""
    found: set[str] = set()
    for line in text.splitlines():
        match = _OPTION_LINE.match(line)
        if match:
            for spelling in match.group(1).split(", "):
                found.add(spelling.split(" ", 1)[0])
    return found


def _documented_commands() -> dict[str, set[str]]:
    rows = _table_rows(_section(PAGE, "## Command line"))
    return {_TICKED.findall(row[0])[0]: set(_TICKED.findall(row[1])) for row in rows}


def test_help_lists_exactly_the_documented_commands() -> None:
    documented = {c for c in _documented_commands() if " " not in c} - {"jaato-github-models"}
    text = _help()
    listed = set(re.findall(r"^    (\w+)\s", text, re.M))
    assert listed == documented


@pytest.mark.parametrize("command", sorted(_documented_commands()))
def test_help_lists_exactly_the_documented_options(command: str) -> None:
    words = [] if command == "jaato-github-models" else command.split()
    assert _options_in_help(_help(*words)) == _documented_commands()[command]


def test_the_options_parser_reads_option_lines() -> None:
    """The help parser above finds what argparse prints (so the tests above can fail)."""
    text = ("options:\n  -h, --help            show this help\n"
            "  --option NAME VALUE, -o NAME VALUE\n                        a request option\n"
            "  --json                print JSON (like --no-log)\n")
    assert _options_in_help(text) == {"-h", "--help", "--option", "-o", "--json"}


# --- settings and environment variables ------------------------------------------------------

_SOURCE = ROOT / "shared" / "plugins" / "model_provider" / "github_models"
_VARIABLE = re.compile(r"""["']((?:JAATO_GITHUB|GITHUB|JAATO|OTEL|XDG|NO)_[A-Z_]+|NO_COLOR)["']""")
# read by the package as names of other systems' conventions, not settings of this one
_NOT_SETTINGS = {"GITHUB_API_VERSION", "GITHUB_MODELS_HOST"}


def _variables_read_by_the_package() -> set[str]:
    found: set[str] = set()
    for path in _SOURCE.rglob("*.py"):
        found |= set(_VARIABLE.findall(path.read_text()))
    return found - _NOT_SETTINGS


def _documented_variables() -> set[str]:
    return _first_column(_section(CONFIG_PAGE, "## Environment variables (and `.env` keys)"))


def test_every_environment_variable_read_is_documented_and_back() -> None:
    documented = _documented_variables()
    read = _variables_read_by_the_package() | set(env.ENV_KEYS)
    assert sorted(read - documented) == [], "read by the package, not in docs/configuration.md"
    # every documented variable is read somewhere (JAATO_MODEL_PROVIDER is the framework's)
    framework = {"JAATO_MODEL_PROVIDER"}
    assert sorted(documented - read - framework) == []


def test_documented_settings_equal_the_settings_read() -> None:
    env_table = _section(CONFIG_PAGE, "## Environment variables (and `.env` keys)")
    via_env = set(re.findall(r'`extra\["(\w+)"\]`', env_table))
    settings_table = _first_column(_section(CONFIG_PAGE, "## `ProviderConfig.extra`: settings"))
    assert via_env | settings_table == set(env.SETTING_KEYS)


def test_every_knob_jaato_sees_is_a_documented_setting_or_request_option() -> None:
    from shared.plugins.model_provider.github_models import PROVIDER_KNOBS

    options_table = _section(CONFIG_PAGE, "## `ProviderConfig.extra`: request defaults")
    options = {name for row in _table_rows(options_table) for name in _TICKED.findall(row[0])}
    documented = set(env.SETTING_KEYS) | options | {"api_key"}
    knobs = {knob.name for layer in PROVIDER_KNOBS.layers for knob in layer.knobs}
    assert sorted(knobs - documented) == []
