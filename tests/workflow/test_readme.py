"""The README's runnable commands run, on the ci config, in a copy of the ci workflow's results.

A code block preceded by a line `<!-- run -->` is runnable: each of its lines (comments after '#'
dropped) is run with bash in the copy, in order; `snakemake` commands get `--configfile
config/ci.yaml` unless they name a config file themselves. Blocks without the marker (install,
the test command itself, benchmarks) are not run here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time

import pytest

from ..conftest import ROOT

RUN_MARK = "<!-- run -->"


def runnable_commands(text: str) -> list[str]:
    """The command lines of every code block that follows a RUN_MARK line."""
    commands = []
    for block in re.findall(rf"^{re.escape(RUN_MARK)}\s*\n```[^\n]*\n(.*?)^```", text, flags=re.M | re.S):
        for line in block.splitlines():
            cmd = re.sub(r"\s+#.*$", "", line).strip()
            if cmd and not cmd.startswith("#"):
                commands.append(cmd)
    return commands


def on_ci_config(cmd: str) -> str:
    if cmd.startswith("snakemake") and "--configfile" not in cmd:
        return cmd + " --configfile config/ci.yaml"
    return cmd


def test_runnable_commands_are_found():
    text = "intro\n<!-- run -->\n```\nsnakemake --cores all   # all\n\n# a note\ncat x.json\n```\n```\npip x\n```\n"
    assert runnable_commands(text) == ["snakemake --cores all", "cat x.json"]
    assert on_ci_config("snakemake --cores all field") == "snakemake --cores all field --configfile config/ci.yaml"
    assert on_ci_config("snakemake -n --configfile config/paper.yaml") == "snakemake -n --configfile config/paper.yaml"
    assert on_ci_config("cat results/combined/budget.md") == "cat results/combined/budget.md"


@pytest.mark.workflow
def test_every_runnable_readme_command_runs_on_the_ci_config(ci_run, tmp_path):
    commands = runnable_commands((ROOT / "README.md").read_text())
    assert len(commands) >= 10, commands  # the README shows its commands as runnable
    work = tmp_path / "wf"
    shutil.copytree(ci_run, work, symlinks=True)
    shutil.copytree(ROOT / "tests" / "data", work / "tests" / "data")  # the checkout's test files (fit-public)
    # the commands as a user types them, with this interpreter's snakemake and g2chain
    prelude = (f'snakemake() {{ "{sys.executable}" -m snakemake "$@"; }}\n'
               f'g2chain() {{ "{sys.executable}" -m g2chain.cli "$@"; }}\n'
               f'python() {{ "{sys.executable}" "$@"; }}\nset -e\n')
    env = {**os.environ, "MPLBACKEND": "Agg"}
    for cmd in commands:
        start = time.perf_counter()
        run = subprocess.run(["bash", "-c", prelude + on_ci_config(cmd)], cwd=work, capture_output=True, text=True,
                             timeout=900, env=env)
        print(f"{time.perf_counter() - start:6.1f} s  {cmd}")
        assert run.returncode == 0, f"README command failed: {cmd}\n{run.stdout[-1500:]}\n{run.stderr[-3000:]}"
