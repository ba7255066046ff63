"""The command line's one way to add a command: a module in ``cli/commands/`` with one
``register(sub, common)``, listed in ``cli.main.COMMANDS``; and ``--help`` stays cheap (the
command modules load, what their handlers need does not)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from shared.plugins.model_provider.github_models.cli import main as cli_main

PKG = "shared.plugins.model_provider.github_models"
COMMANDS_DIR = Path(cli_main.__file__).resolve().parent / "commands"

# what `jaato-github-models --help` may load of the package: the CLI's own modules and the
# shared leaves (no errors, settings, provider or transport: those load when a command runs)
HELP_MAY_LOAD = ("", "._contracts", "._public", ".cli", ".common")


def test_every_command_module_is_listed_and_registers_itself() -> None:
    on_disk = {p.stem for p in COMMANDS_DIR.glob("*.py") if p.stem != "__init__"}
    listed = {m.__name__.rpartition(".")[2] for m in cli_main.COMMANDS}
    assert listed == on_disk, "list every module of cli/commands/ in cli.main.COMMANDS"
    for module in cli_main.COMMANDS:
        assert callable(getattr(module, "register", None)), f"{module.__name__}: no register()"


def test_each_register_adds_its_commands_with_a_handler() -> None:
    for module in cli_main.COMMANDS:
        parser = argparse.ArgumentParser()
        sub = parser.add_subparsers(dest="command")
        module.register(sub, argparse.ArgumentParser(add_help=False))
        assert sub.choices, f"{module.__name__}.register added no command"
        for name, command in sub.choices.items():
            handler = command.get_default("func")
            assert callable(handler), f"{name}: no handler bound"
            if name != "emulator":  # the description is the handler's docstring's first paragraph
                first = " ".join((handler.__doc__ or "").split("\n\n")[0].split())
                assert command.description == first and len(first) > 40, name


def test_help_loads_no_handler_dependencies() -> None:
    probe = ("import json, runpy, sys\nsys.argv = ['jaato-github-models', '--help']\n"
             "try:\n"
             f"    runpy.run_module({PKG + '.cli'!r}, run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             f"print(json.dumps(sorted(m for m in sys.modules if m.startswith({PKG!r}))))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    loaded = {m.removeprefix(PKG) for m in json.loads(out.splitlines()[-1])}
    assert ".cli.commands.chat" in loaded and ".cli.main" in loaded  # the probe saw the CLI
    extra = sorted(m for m in loaded
                   if not any(m == a or m.startswith(a + ".") for a in HELP_MAY_LOAD if a)
                   and m != "")
    assert extra == [], f"--help loaded what only a running command needs: {extra}"


def test_a_command_given_unknown_options_is_a_usage_error_but_the_emulator_takes_its_own(
        tmp_path: Path) -> None:
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", f"{PKG}.cli", *args], cwd=tmp_path,
                              capture_output=True, text=True, timeout=60, check=False)

    bad = cli("doctor", "--script", "x.json")
    assert bad.returncode == 2 and "unrecognized arguments: --script" in bad.stderr
    # the emulator's own options reach it (a missing script file is its error, exit 2)
    missing = cli("emulator", "--port", "0", "--script", str(tmp_path / "none.json"))
    assert missing.returncode == 2, missing.stderr
    assert "unrecognized" not in missing.stderr and "none.json" in missing.stderr
