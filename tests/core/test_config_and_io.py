"""Bad configuration and bad files: one clear line naming the key or the file."""

import copy

import h5py
import numpy as np
import pytest

from g2chain.config import ConfigError, validate_config
from g2chain.io import DataFileError, H5Views, read_h5, write_h5

from ..conftest import SCHEMA
from ..helpers import config_merged


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


@pytest.mark.parametrize("profile", [None, "ci.yaml", "paper.yaml", "paper_1percent.yaml"])
def test_shipped_configs_are_valid(base_cfg, profile):
    import yaml

    from ..conftest import ROOT

    over = yaml.safe_load((ROOT / "config" / profile).read_text()) if profile else {}
    cfg = validate_config(config_merged(base_cfg, over), SCHEMA)
    # the profile's own statistics arrive, and every dataset keeps the physics it needs
    for ds, block in over.get("datasets", {}).items():
        if "positrons" in block:
            assert cfg["datasets"][ds]["positrons"] == float(block["positrons"])
    assert set(cfg["datasets"]) >= {"run2", "run3a", "run3b"}
    assert all(0 < cfg["datasets"][ds]["field_index"] < 1 for ds in cfg["datasets"])


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


def test_lazy_views_read_what_read_h5_reads_and_check_the_file_first(tmp_path):
    path = tmp_path / "c.h5"
    write_h5(path, {"a/x": (np.arange(5000.0), "us"), "b": (np.arange(3), "counts")}, kind="calorimeters")
    views = H5Views(path, kind="calorimeters")
    assert sorted(views) == ["a/x", "b"] and "b" in views and len(views) == 2
    np.testing.assert_array_equal(views["a/x"], read_h5(path)[0]["a/x"])
    with pytest.raises(KeyError, match="no dataset 'c'"):
        views["c"]
    with pytest.raises(DataFileError, match="expected a 'trackers' file"):
        H5Views(path, kind="trackers")


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
