"""Bad configuration and bad files: one clear line naming the key or the file."""

import copy
import subprocess
import sys

import h5py
import numpy as np
import pytest
import yaml

from g2chain.config import ConfigError, validate_config
from g2chain.io import DataFileError, read_h5, write_h5

from .conftest import ROOT, SCHEMA, copy_workflow


@pytest.mark.parametrize(
    "mutate, key",
    [
        (lambda c: c["datasets"]["run2"].update(positrons=-5), "datasets.run2.positrons"),
        (lambda c: c["datasets"].update(runX={}), "runX"),
        (lambda c: c["datasets"]["run3a"].update(field_index=1.3), "datasets.run3a.field_index"),
        (lambda c: c["datasets"]["run3a"].update(field_index=0.0), "datasets.run3a.field_index"),
        (lambda c: c["datasets"]["run2"].update(colour="red"), "colour"),
        (lambda c: c["beam"].update(scraping_mm="two"), "beam.scraping_mm"),
        (lambda c: c["omega_a_systematics"].update(envelopes=["exp", "gaussian"]), "omega_a_systematics.envelopes"),
        (lambda c: c["omega_a_correlations"].update(trials=2), "omega_a_correlations.trials"),
        (lambda c: c["omega_a_correlations"].update(dataset="run7"), "omega_a_correlations.dataset"),
        (lambda c: c["omega_a_average"].update(analyses=["I_A"]), "omega_a_average.analyses"),
    ],
)
def test_bad_config_value_names_the_key(base_cfg, mutate, key):
    cfg = copy.deepcopy(base_cfg)
    mutate(cfg)
    with pytest.raises(ConfigError) as exc:
        validate_config(cfg, SCHEMA)
    msg = str(exc.value)
    assert key in msg and "\n" not in msg


def test_default_configs_are_valid(base_cfg):
    validate_config(copy.deepcopy(base_cfg), SCHEMA)


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


def test_truncated_and_foreign_hdf5_name_the_file(tmp_path):
    good = tmp_path / "good.h5"
    write_h5(good, {"x": (np.arange(5000.0), "us")}, kind="calorimeters")
    data, attrs = read_h5(good, kind="calorimeters")
    assert attrs["schema_version"] == 1 and data["x"].size == 5000
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(good.read_bytes()[:3000])
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["x"] = np.zeros(3)
    for path in (truncated, foreign, tmp_path / "missing.h5"):
        with pytest.raises(DataFileError) as exc:
            read_h5(path, kind="calorimeters")
        assert str(path) in str(exc.value) and "\n" not in str(exc.value)
    with pytest.raises(DataFileError, match="expected a 'trackers' file"):
        read_h5(good, kind="trackers")


def test_cli_show_lists_datasets_units_and_json_keys(tmp_path, capsys):
    from g2chain.cli import main
    from g2chain.io import write_json

    h5 = tmp_path / "c.h5"
    write_h5(h5, {"wiggle/counts": (np.arange(10, dtype=np.int32), "counts")}, kind="calorimeters")
    js = tmp_path / "r.json"
    write_json(js, {"omega_a": {"R_ppm": -12.5, "stat_ppb": 300.0}, "chi2": [1, 2]})
    assert main(["show", str(h5), str(js)]) == 0
    out = capsys.readouterr().out
    assert "kind: calorimeters" in out and "wiggle/counts" in out and "counts" in out and "45" in out
    assert "omega_a.R_ppm" in out and "-12.5" in out
    assert main(["show", str(tmp_path / "missing.json")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "missing.json" in err[0]


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
