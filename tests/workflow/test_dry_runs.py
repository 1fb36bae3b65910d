"""Snakemake dry runs in the checkout and in a copy: a bad config or an unknown analysis stops the
plan with one line, and the paper config plans every chunk of Table I."""

import subprocess
import sys

import pytest
import yaml

from ..conftest import ROOT, copy_workflow


def test_snakemake_stops_before_any_job_with_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"datasets": {"run2": {"positrons": -1}}}))
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--cores", "1", "--configfile", str(bad)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode != 0
    lines = [ln for ln in proc.stderr.splitlines() if "config error" in ln]
    assert lines == ["config error: datasets.run2.positrons: -1 is less than or equal to the minimum of 0"]
    assert "Job stats" not in proc.stdout + proc.stderr


@pytest.mark.parametrize("analysis, message", [
    ("IX-T", "analysis 'IX-T': unknown group 'IX' (groups: I, II, III, IV, V, VI, VII)"),
    ("I-Q", "analysis 'I-Q': group I has no method 'Q' (methods: T, A)"),
])
def test_unknown_analysis_target_names_it(analysis, message):
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--cores", "1", f"results/run2/analysis/omega_a/{analysis}.json"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode != 0
    assert message in proc.stdout + proc.stderr  # snakemake prints the exception on stdout


def test_paper_config_plans_every_chunk(tmp_path):
    """`snakemake -n --configfile config/paper.yaml` plans Table I's statistics in >= 200 chunks."""
    paper = yaml.safe_load((ROOT / "config" / "paper.yaml").read_text())
    table_i = {"run2": 24.7e9, "run3a": 33.1e9, "run3b": 11.9e9}
    for ds, n in table_i.items():
        assert paper["datasets"][ds]["positrons"] == pytest.approx(n, rel=0.01)
        assert paper["datasets"][ds]["chunks"] >= 200
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--cores", "2", "--configfile", "config/paper.yaml"],
        cwd=copy_workflow(tmp_path / "wf"), capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    counts = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            counts[parts[0]] = int(parts[1])
    assert counts.get("simulate_chunk") == sum(paper["datasets"][ds]["chunks"] for ds in table_i), counts


def _edit_groups(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


# (how to break the copy, the one line that must stop the plan); issue 20's list of mistakes that passed
BAD_INPUTS = {
    "duplicate group": (
        lambda g: _edit_groups(g, "\n  II:\n", "\n  I:\n"),
        "config error: config/groups.yaml: duplicate key 'I' (line"),
    "envelope of a dataset that does not exist": (
        lambda g: _edit_groups(g, "envelope: {run2: exp, run3a: exp, run3b: exp+C}",
                               "envelope: {run2: exp, run3a: exp, run3c: exp+C}"),
        "config error: config/groups.yaml: groups.I.envelope.run3c: not a dataset or run "
        "(datasets: run2, run3a, run3b; runs: run2, run3)"),
    "two groups sharing a software blind": (
        lambda g: _edit_groups(g, 'phrase: "group I: a wiggle is a wiggle"',
                               'phrase: "group II: shadows behind every hit"'),
        "config error: config/groups.yaml: groups.II.phrase: the same as group I's (each group needs its own phrase)"),
    "two groups sharing a randomization seed": (
        lambda g: _edit_groups(g, "seed: 101", "seed: 202"),
        "config error: config/groups.yaml: groups.II.seed: the same as group I's (each group needs its own seed)"),
    "a reversed fit window": (
        lambda g: _edit_groups(g, "window_us: [30.1, 660.0]", "window_us: [660.0, 30.1]"),
        "config error: config/groups.yaml: defaults.window_us: [660, 30.1] is not ordered (start before end)"),
    "a fit window past the recorded time": (
        lambda g: _edit_groups(g, "window_us: [30.1, 660.0]", "window_us: [30.1, 800.0]"),
        "config error: config/groups.yaml: defaults.window_us: [30.1, 800] is outside the recorded 0-701.2 us"),
    "a fit window too short for the fit's smoothing": (
        lambda g: _edit_groups(g, "window_us: [30.1, 660.0]", "window_us: [30.1, 60.0]"),
        "config error: config/groups.yaml: defaults.window_us: [30.1, 60] spans 29.9 us; the fit's variance smoothing "
        "needs at least 44.9 us (301 bins of 149.2 ns)"),
}


def assert_plan_stops_with(work, message, *args):
    """A dry run in ``work`` fails with exactly one config-error line, starting with ``message``,
    and plans no job."""
    proc = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--cores", "1", *args], cwd=work,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    lines = [ln for ln in proc.stderr.splitlines() if "config error" in ln]
    assert len(lines) == 1 and lines[0].startswith(message), proc.stderr[-1500:]
    assert "Job stats" not in proc.stdout + proc.stderr


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_a_bad_groups_file_stops_the_plan_with_one_line(tmp_path, case):
    edit, message = BAD_INPUTS[case]
    work = copy_workflow(tmp_path / "wf")
    groups = work / "config" / "groups.yaml"
    groups.write_text(edit(groups.read_text()))
    assert_plan_stops_with(work, message)


@pytest.mark.parametrize("args, files, message", [
    (["--config", "omega_a_average={analyses: [I-A, IX-A]}"], {},
     "config error: omega_a_average.analyses: unknown analysis IX-A (the groups run I-T, I-A,"),
    (["--configfile", "twice.yaml"], {"twice.yaml": "seed: 1\nseed: 2\n"},
     "config error: twice.yaml: duplicate key 'seed' (line 2)"),
])
def test_a_bad_config_stops_the_plan_with_one_line(tmp_path, args, files, message):
    work = copy_workflow(tmp_path / "wf")
    for name, text in files.items():
        (work / name).write_text(text)
    assert_plan_stops_with(work, message, *args)


def test_the_workflow_lints_clean_and_the_catalog_test_dir_runs_the_ci_config(tmp_path):
    """`snakemake --lint` finds nothing (the Snakemake workflow catalog's check), and `.test/` (the
    catalog's `snakemake --directory .test`) plans the ci config exactly: the same config hash
    as `--configfile config/ci.yaml`."""
    import shutil

    work = copy_workflow(tmp_path / "wf")
    shutil.copytree(ROOT / ".test", work / ".test", symlinks=True)
    lint = subprocess.run([sys.executable, "-m", "snakemake", "--lint", "--configfile", "config/ci.yaml"], cwd=work,
                          capture_output=True, text=True, timeout=300)
    assert lint.returncode == 0, lint.stdout[-3000:] + lint.stderr[-3000:]

    def config_md5(*args):
        run = subprocess.run([sys.executable, "-m", "snakemake", "-n", *args], cwd=work, capture_output=True,
                             text=True, timeout=300)
        assert run.returncode == 0, run.stderr[-2000:]
        return [ln.split()[-1] for ln in (run.stdout + run.stderr).splitlines() if "Config MD5" in ln]

    test_dir = config_md5("--directory", ".test")
    assert test_dir and test_dir == config_md5("--configfile", "config/ci.yaml")
