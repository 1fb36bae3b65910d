"""docs/tutorial.py, the first hour, runs on a copy of the finished ci run (as a user runs its
cells, top to bottom) and opens as a notebook; what it shows is checked, so that it cannot rot."""

import os
import re
import shutil
import subprocess
import sys

import pytest

from ..conftest import ROOT

TUTORIAL = ROOT / "docs" / "tutorial.py"


def test_the_tutorial_is_a_notebook():
    import jupytext
    import nbformat

    nb = jupytext.read(TUTORIAL)
    nbformat.validate(nb)
    kinds = [c.cell_type for c in nb.cells]
    assert kinds.count("markdown") >= 6 and kinds.count("code") >= 6


@pytest.mark.workflow
def test_the_tutorial_runs_on_the_ci_run(ci_run, tmp_path):
    work = tmp_path / "wf"
    shutil.copytree(ci_run, work, symlinks=True)
    shutil.copytree(ROOT / "tests" / "data", work / "tests" / "data")  # the toy file in the public format
    run = subprocess.run([sys.executable, str(TUTORIAL)], cwd=work, capture_output=True, text=True, timeout=900,
                         env={**os.environ, "MPLBACKEND": "Agg"})
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    out = run.stdout
    print(out)
    assert (work / "results/tutorial/wiggle_and_fft.png").stat().st_size > 0
    # the five-parameter fit leaves the CBO: its residual line at f_CBO (0.37 MHz at n = 0.108, Table II)
    peak = float(re.search(r"largest residual line of the five-parameter fit: ([\d.]+) MHz", out).group(1))
    assert 0.33 < peak < 0.42
    # a field-measurement key reruns the field measurement and analysis only
    reran = set(re.search(r"reran: \[(.*)\]", out).group(1).replace("'", "").split(", "))
    assert reran == {"measure_field", "field_analysis"}
    runs = [int(m) for m in re.findall(r"(\d+) trolley runs", out)]
    assert len(runs) == 2 and runs[1] < runs[0]  # every 6 days instead of the ci config's interval
    assert "a_mu pull" in out and "Table XXIV" in (work / "results/combined/paper_comparison.md").read_text()
