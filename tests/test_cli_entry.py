"""The installed ``jaato-github-models`` script under Ctrl-C while the CLI loads: exit 130 with
one ``interrupted`` line, never a traceback (issue 12's early start-up window)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

# what the console script does (import the entry, run main), after an import hook that sends
# SIGINT the moment a given module starts importing
INTERRUPT_AT = """
import os, signal, sys
target = sys.argv.pop(1)
class Hook:
    def find_spec(self, name, path=None, target_=None):
        if name == target:
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        return None
sys.meta_path.insert(0, Hook())
from jaato_github_models._entry import main
sys.exit(main())
"""


@pytest.mark.parametrize("stage", ["jaato_github_models.cli", "jaato_github_models.cli.output",
                                   "argparse", "jaato_github_models.errors"])
def test_ctrl_c_while_the_script_loads_the_cli_exits_130_quietly(emulator: Any, tmp_path: Path,
                                                                 stage: str) -> None:
    env = {**os.environ, "JAATO_GITHUB_ENDPOINT": emulator.inference_url,
           "GITHUB_TOKEN": "github_pat_11ENTRYTEST_abcdefghijklmnopqrstuvwxyz"}
    done = subprocess.run([sys.executable, "-c", INTERRUPT_AT, stage, "chat", "hi"], env=env,
                          cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 130, (done.returncode, done.stderr)
    assert done.stderr.strip().endswith("interrupted")
