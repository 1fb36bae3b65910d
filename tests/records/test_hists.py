"""g2chain.records.hists: a recorded view round-trips through hist.Hist with named, unit-labelled
axes read from its file; the analysis histogram is the one the fit saw."""

import hist  # the test extra installs it: the round trip must run, not skip
import numpy as np
import pytest

from g2chain.io import write_h5
from g2chain.records import binning
from g2chain.records.hists import recorded_hist, recorded_views

N_T = 200  # a short time axis: the axes come from the file's own edges


@pytest.fixture
def calorimeter_file(tmp_path):
    rng = np.random.default_rng(7)
    calo = rng.poisson(5.0, size=(24, binning.N_E, N_T))
    q, q2 = rng.random(300) * 10, rng.random(300) * 30
    path = tmp_path / "calorimeters.h5"
    write_h5(path, {
        "local/calo": (calo, "counts"),
        "energy/q_sum_fine": (q, "GeV"),
        "energy/q_sum2_fine": (q2, "GeV^2"),
        "laser/infill": (np.ones((24, 70)), "1"),
        "binning/energy_edges": (binning.ENERGY_EDGES_GEV, "GeV"),
        "binning/time_edges": (binning.time_edges(binning.T_BIN_US, N_T), "us"),
        "binning/q_fine_time_edges": (binning.time_edges(binning.TQ_FINE_US, 300), "us"),
    }, attrs={"clock": "blinded"}, kind="calorimeters")
    return path, calo, q, q2


def test_a_view_round_trips_with_named_unit_labelled_axes(calorimeter_file):
    path, calo, _, _ = calorimeter_file
    h = recorded_hist(path, "local/calo")
    assert [a.name for a in h.axes] == ["calo", "energy", "t"]
    assert h.axes["energy"].label == "energy [GeV]" and h.axes["t"].label == "time (blinded clock) [us]"
    assert np.allclose(h.axes["energy"].edges, binning.ENERGY_EDGES_GEV, rtol=0, atol=1e-9)
    assert np.allclose(h.axes["t"].edges, binning.time_edges(binning.T_BIN_US, N_T))
    assert h.storage_type is hist.storage.Int64
    assert np.array_equal(h.values(), calo)  # and back
    # what a user does with it: the T-method wiggle above 1.7 GeV, and a rebinned time slice
    wiggle = h[{"calo": sum, "energy": slice(hist.loc(1.7), None, sum)}]
    assert np.array_equal(wiggle.values(), calo[:, 17:, :].sum(axis=(0, 1)))
    part = h[:, :, hist.loc(3.0):hist.loc(6.0):hist.rebin(4)]
    lo = int(round(3.0 / binning.T_BIN_US - 0.5))  # the bin holding 3.0 us
    assert part.axes["t"].edges[0] == pytest.approx(lo * binning.T_BIN_US)
    assert part.values()[..., 0].sum() == calo[:, :, lo:lo + 4].sum()


def test_the_energy_sum_carries_its_variance(calorimeter_file):
    path, _, q, q2 = calorimeter_file
    h = recorded_hist(path, "energy/q_sum_fine")
    assert h.storage_type is hist.storage.Weight
    assert np.allclose(h.values(), q) and np.allclose(h.variances(), q2)


def test_only_histograms_load_and_a_wrong_name_is_named(calorimeter_file):
    path, *_ = calorimeter_file
    assert recorded_views(path) == ["energy/q_sum_fine", "local/calo"]
    with pytest.raises(ValueError, match=r"'laser/infill' is not a recorded histogram of this calorimeters file "
                                         r"\(these are: energy/q_sum_fine, local/calo\)"):
        recorded_hist(path, "laser/infill")


@pytest.mark.workflow
def test_the_analysis_histogram_is_the_fitted_one(ci_run):
    from g2chain.io import H5Views
    from g2chain.omega_a.groups import analysis_spec, load_groups
    from g2chain.omega_a.run_omega_a import GROUPS_SCHEMA, analysis_hist
    from g2chain.omega_a.wiggle import build_wiggle

    calo_path, groups = ci_run / "results/run2/experiment/calorimeters.h5", ci_run / "config/groups.yaml"
    h = analysis_hist("run2", "I-A", calo_path, groups)
    w = build_wiggle(H5Views(calo_path), analysis_spec(load_groups(groups, GROUPS_SCHEMA), "I-A", "run2"))
    assert np.array_equal(h.values(), w.y) and np.array_equal(h.variances(), w.var)
    assert np.allclose(h.axes["t"].centers, w.t)
    # the whole views of the run load too
    for view in recorded_views(calo_path):
        assert recorded_hist(calo_path, view).sum() is not None
