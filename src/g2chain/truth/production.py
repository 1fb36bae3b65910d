"""Sealed truth from the production's own truth histograms: the omega_a^m each analysis method's
wiggle carries, and the truth summary written beside the experiment files."""

from __future__ import annotations

import numpy as np

from ..constants import GAMMA_MAGIC, TAU_MU_US
from ..io import write_json
from ..numerics import weighted_slope
from ..physics.michel import michel_asymmetry
from ..records import binning
from ..records.experiment_files import COUNTER_NAMES


# ------------------------------------------------------------------ sealed truth
def method_weights(method: str) -> np.ndarray:
    """Energy weights per recorded energy bin for the truth of an analysis method.

    T: E > 1.7 GeV, equal weights; A: the lab asymmetry A(E) for E > 1 GeV; Q: energy above the
    readout threshold (0.3 GeV).
    """
    e = binning.energy_centers()
    if method == "T":
        return (e > 1.7).astype(float)
    if method == "A":
        return np.where(e > 1.0, michel_asymmetry(np.clip(e / 3.095, 0.0, 1.0)), 0.0)
    if method == "Q":
        return np.where(e > 0.3, e, 0.0)
    raise ValueError(f"unknown method '{method}'")


def true_phase(truth: np.ndarray, weights: np.ndarray):
    """Average detected spin-phase offset Phi(t) and its statistical weight per truth time bin."""
    c = np.tensordot(weights, truth[1], axes=(0, 0))
    s = np.tensordot(weights, truth[2], axes=(0, 0))
    n_w2 = np.tensordot(weights**2, truth[0], axes=(0, 0))
    phase = np.arctan2(s, c)
    info = np.where(n_w2 > 0, (c**2 + s**2) / np.where(n_w2 > 0, n_w2, 1.0), 0.0)
    return phase, info


def true_omega_a_m(truth: np.ndarray, omega_a_ref: float, method: str, window=(30.1, 660.0)) -> dict:
    """The ω_a^m the wiggle of ``method`` carries over ``window``: omega_ref + dPhi/dt.

    Phi(t) is the detected population's mean spin-phase offset from omega_ref t; its slope over
    the fit window, weighted by each bin's phase information, contains the field each muon
    sampled, the transients, and every E-field, pitch, differential-decay, muon-loss and
    phase-acceptance effect the toy has.
    """
    return true_omega_a_summary(truth, omega_a_ref, method_weights(method), window)


def true_omega_a_m_weighted(truth: np.ndarray, omega_a_ref: float, weights, window=(30.1, 660.0)) -> float:
    """The true ω_a^m for an analysis's own energy weights (per recorded energy bin)."""
    return true_omega_a_summary(truth, omega_a_ref, np.asarray(weights, dtype=float), window)["omega_a_m"]


def true_omega_a_summary(truth: np.ndarray, omega_a_ref: float, w: np.ndarray, window) -> dict:
    """For energy weights ``w`` over ``window``: ω_a^m and its shift from omega_ref; the mean
    E-field and pitch terms and the mean fractional field B / f_ref - 1 of the detected
    positrons (ppb); and B_K, B_Q (ppb): the slope of the mean phase each transient added,
    weighted like a fit weighs the phase, over omega_ref (the shift a fit with a free phase
    sees; docs/muon_field.md). ``fit_ce_ppb``, ``fit_cp_ppb``, ``fit_field_ppb``: the same three
    terms as the fit sees them, d(m(t) t)/dt weighted like the phase (they differ from the means
    when the population's mix changes in the fill); with the beam truth's phase drifts they add
    up to ``shift_ppb`` (tests/truth/test_stage_truths_add_up.py)."""
    phase, info = true_phase(truth, w)
    t = (np.arange(truth.shape[2]) + 0.5) * binning.T_TRUTH_US
    sel = (t > window[0]) & (t < window[1]) & (info > 0)
    slope = weighted_slope(t[sel], np.unwrap(phase[sel]), info[sel])
    counts = np.tensordot(w, truth[0], axes=(0, 0))[sel]
    n = counts.sum()

    def mean(row):
        return np.tensordot(w, truth[row], axes=(0, 0))[sel].sum() / n

    def fit_weighted(row):
        # a term m(t) of each muon's frequency adds m(t) t to the phase of the population decaying
        # at t: the fit sees the slope of that, not the mean of m (they differ when the
        # population's mix changes in the fill, e.g. losses taking the wide orbits)
        m_t = np.tensordot(w, truth[row], axes=(0, 0))[sel] / np.maximum(counts, 1.0)
        return weighted_slope(t[sel], m_t * t[sel], info[sel])

    # the transients' phases are smooth and the same at every energy: their slope is taken over
    # all positrons the method uses (|w|: the A method weighs some energies negatively), with
    # the fit's expected weights exp(-t / gamma tau) (N A^2 without the sampling noise of N)
    used = np.tensordot(np.abs(w), truth[0], axes=(0, 0))
    in_window = (t > window[0]) & (t < window[1]) & (used > 0)
    expected_info = np.exp(-t[in_window] / (GAMMA_MAGIC * TAU_MU_US))

    def transient_ppb(row):
        per_bin = np.tensordot(np.abs(w), truth[row], axes=(0, 0))[in_window] / used[in_window]
        return weighted_slope(t[in_window], per_bin, expected_info) / omega_a_ref * 1e9

    return {"omega_a_m": omega_a_ref + slope, "shift_ppb": slope / omega_a_ref * 1e9,
            "mean_ce_ppb": mean(3) * 1e9, "mean_cp_ppb": mean(4) * 1e9, "mean_field_ppb": mean(5) * 1e9,
            "B_K_ppb": transient_ppb(6), "B_Q_ppb": transient_ppb(7),
            "fit_ce_ppb": fit_weighted(3) * 1e9, "fit_cp_ppb": fit_weighted(4) * 1e9,
            "fit_field_ppb": fit_weighted(5) * 1e9, "window_us": list(window)}


def truth_summary(total: dict, world: dict) -> dict:
    """The JSON summary of the production truth: counters, the stored population's mean E-field
    and pitch terms, and per method (T and A over 30.1-660 us, Q over 30.1-330 us) the true
    ω_a^m and what its detected muons experienced: omega~'_p = f_ref (1 + mean field), B_K, B_Q.
    ``total``: the merged chunk views (``truth``, ``counters``); ``world``: the sealed world scalars."""
    counters = dict(zip(COUNTER_NAMES, total["counters"].tolist(), strict=True))
    summary = {"counters": counters, "omega_a_ref": world["omega_a_ref"], "f_ref_hz": world["f_ref_hz"],
               "methods": {}}
    stored = max(counters["muons_stored"], 1.0)
    summary["stored_population"] = {
        "mean_ce_ppb": counters["sum_ce_stored"] / stored * 1e9,
        "mean_cp_ppb": counters["sum_cp_stored"] / stored * 1e9,
    }
    for method, window in (("T", (30.1, 660.0)), ("A", (30.1, 660.0)), ("Q", (30.1, 330.0))):
        m = true_omega_a_m(total["truth"], world["omega_a_ref"], method, window)
        m["omega_p_tilde_hz"] = world["f_ref_hz"] * (1.0 + 1e-9 * m["mean_field_ppb"])
        summary["methods"][method] = m
    return summary


def write_truth_summary(path, dataset: str, total: dict, world: dict):
    """sealed/truth.json: ``truth_summary`` of the merged views under the dataset's name."""
    write_json(path, {"dataset": dataset, **truth_summary(total, world)})
