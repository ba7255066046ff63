"""jaato's own provider tests, as shipped inside the jaato-server 1.2.0 wheel
(``jaato_server/shared/tests``), run on this plugin's folder placed in jaato's tree: beside
jaato's own ``github_models`` (as ``github_models_ext``) and over it.

The tree is a copy of the installed ``jaato_server`` (the venv stays as pip left it). The few
tests that can only apply to jaato's own repository are deselected here and listed, with the
reason, in docs/jaato.md ("jaato's own provider tests").
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.jaato import venvs

pytestmark = pytest.mark.jaato

FOLDER = venvs.REPO_ROOT / "shared" / "plugins" / "model_provider" / "github_models"
TESTS = "jaato_server/shared/tests"
# protocol, capabilities, knobs, credential hygiene, tool-id wire, media output, unreadable tool
# arguments, dead streams
FILES = ("test_all_plugins_satisfy_protocol.py", "test_provider_capabilities.py",
         "test_provider_capability_conformance.py", "test_provider_knobs.py",
         "test_provider_knob_tail_is_evidenced_1008.py", "test_credential_hygiene.py",
         "test_tool_id_wire_conformance.py", "test_media_output_contract.py",
         "test_unreadable_tool_args_are_not_executed.py",
         "test_a_dead_stream_is_not_a_finished_turn.py")
NOT_APPLICABLE = (
    # compares a doc file of jaato's repository (docs/model-provider-capabilities.md), which
    # the wheel does not ship, with every provider's declarations
    "test_provider_capabilities.py::test_committed_doc_matches_declarations",
    # jaato's hard-coded list of the providers it has conformance converters for
    "test_provider_capability_conformance.py::"
    "test_every_provider_is_either_conformance_tested_or_explicitly_pending",
    # need fixtures (isolated_home, real_home, credential_env_vars) of jaato's repository-level
    # conftest.py, which the wheel does not ship: they error for jaato's own providers too
    "test_credential_hygiene.py::TestNoTestReadsTheRealHome",
)
# Over jaato's own folder only: these pin the files and base class of jaato's own
# github_models implementation by name (its provider.py and converters.py internals, its
# ModalityCapabilityMixin base), not a provider contract
NOT_APPLICABLE_OVER = (
    "test_a_dead_stream_is_not_a_finished_turn.py::"
    "test_every_streaming_provider_records_the_terminal_event[github_models/provider.py]",
    "test_a_dead_stream_is_not_a_finished_turn.py::"
    "test_every_streaming_provider_requires_a_terminated_stream[github_models/provider.py]",
    "test_media_output_contract.py::TestContractIsUniversal::"
    "test_provider_answers_output_capability[github_models]",
    "test_unreadable_tool_args_are_not_executed.py::"
    "test_every_provider_decodes_through_the_shared_parser[github_models/converters.py]",
    "test_unreadable_tool_args_are_not_executed.py::"
    "test_every_provider_decodes_through_the_shared_parser[github_models/provider.py]",
)


def _overlay(tmp_path: Path, placement: str) -> tuple[Path, Path, Path, str]:
    """(venv, a copy of jaato's installed tree with the folder placed in it, HOME, its name)."""
    target = venvs.DAEMON_TARGET
    interpreter = venvs.find_python(target.python)
    if interpreter is None:
        pytest.skip(f"Python {target.python} is not installed: jaato-server {target.version}'s "
                    "tests cannot run here")
    venv = venvs.ensure_venv(target, interpreter)
    venvs.pip(venv, "uninstall", "--yes", "--quiet", venvs.DIST)  # the folder alone
    sp = venvs.site_packages(venv)
    overlay = tmp_path / "overlay"
    shutil.copytree(sp / "jaato_server", overlay / "jaato_server",
                    ignore=shutil.ignore_patterns("__pycache__"))
    mp = overlay / "jaato_server" / "shared" / "plugins" / "model_provider"
    name = "github_models_ext" if placement == "beside" else "github_models"
    if placement == "over":
        shutil.rmtree(mp / "github_models")
    shutil.copytree(FOLDER, mp / name, ignore=shutil.ignore_patterns("__pycache__"))
    home = tmp_path / "home"
    home.mkdir()
    return venv, overlay, home, name


@pytest.mark.parametrize("placement", ["beside", "over"])
def test_jaatos_provider_tests_pass_on_the_folder_in_jaatos_tree(
        tmp_path: Path, placement: str) -> None:
    venv, overlay, home, name = _overlay(tmp_path, placement)
    args = [str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider",
            "-rfE", *(f"{TESTS}/{f}" for f in FILES),
            *(f"--deselect={TESTS}/{t}" for t in NOT_APPLICABLE
              + (NOT_APPLICABLE_OVER if placement == "over" else ())), "--collect-only"]
    collected = subprocess.run(args, cwd=overlay, capture_output=True, text=True, timeout=600,
                               env={"PATH": "/usr/bin:/bin", "HOME": str(home),
                                    "PYTHONPATH": str(overlay)}, check=False)
    ours = [line for line in collected.stdout.splitlines() if name + "]" in line
            or f".{name}." in line or f"{name}/" in line]
    assert len(ours) >= 2, collected.stdout[-3000:]  # tests parametrized by this folder
    done = subprocess.run(args[:-1], cwd=overlay, capture_output=True, text=True, timeout=900,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(home),
                               "PYTHONPATH": str(overlay)}, check=False)
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    passed = re.search(r"(\d+) passed", summary)
    assert passed and int(passed.group(1)) > 400, summary


@pytest.mark.parametrize("placement", ["beside", "over"])
def test_jaato_scaffold_validate_knows_every_variable_of_the_folder(
        tmp_path: Path, placement: str) -> None:
    from shared.plugins.model_provider.github_models.config.env import ENV_FILE, ENV_KEYS

    venv, overlay, home, name = _overlay(tmp_path, placement)
    workspace = tmp_path / "ws"
    workspace.mkdir()
    settings = {key: "x" for key in (*ENV_KEYS, ENV_FILE) if key.startswith("JAATO_")}
    (workspace / ".env").write_text("".join(f"{k}={v}\n" for k, v in {
        "JAATO_PROVIDER": name, "MODEL_NAME": "openai/gpt-4o", **settings}.items()),
        encoding="utf-8")
    done = subprocess.run([str(venv / "bin" / "python"), "-m", "jaato_server.shared.scaffold",
                           "validate", str(workspace), "--json"], cwd=workspace,
                          capture_output=True, text=True, timeout=600, check=False,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(home),
                               "PYTHONPATH": str(overlay)})
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout) == []  # no unknown provider, no "not read" variable
