"""The wiggle an analysis fits: its time histogram built from the recorded calorimeter views with
the group's energy weights, randomization, pileup and gain corrections (Sec. IV B-F)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from ..records import binning
from ..seeds import dataset_key
from . import histograms, wiggle_model
from .gain import fit_gain_model, total_gain
from .groups import AnalysisSpec
from .pileup import normalise_above_endpoint, pileup_estimate, subtract_pileup
from .seeding import five_parameter_fit
from .variations import NOMINAL, Variation


class AnalysisError(ValueError):
    """An analysis input that cannot be used (one-line message)."""


@dataclass
class Wiggle:
    """An analysis histogram on its full time axis, with what was done to it."""

    t: np.ndarray
    y: np.ndarray
    var: np.ndarray
    bin_us: float
    weights: np.ndarray | None = None  # energy weights (event-based)
    cov_band: np.ndarray | None = None  # lower banded covariance (spreading / ratio), else diagonal
    info: dict = field(default_factory=dict)


def window_mask(t, window, name):
    if window[0] >= window[1] or window[0] < t[0] or window[1] > t[-1] + 1e-9:
        raise AnalysisError(f"{name}: fit window {list(window)} us outside the data ({t[0]:.1f}-{t[-1]:.1f} us)")
    return (t >= window[0]) & (t <= window[1])


def randomized_counts(calo: dict, spec: AnalysisSpec, seed_offset: int = 0) -> np.ndarray:
    """[energy x time] counts of the group's reconstruction, randomized by +-T_c/2 with the
    group's seed (and a resampling ``seed_offset``, 0 for the nominal)."""
    fine = histograms.check_counts(f"{spec.recon}/sum_fine", calo[f"{spec.recon}/sum_fine"])
    key = (dataset_key(spec.dataset),) + ((seed_offset,) if seed_offset else ())
    rng = np.random.default_rng(np.random.SeedSequence(spec.seed, spawn_key=key))
    return histograms.randomize_cyclotron(fine, rng).astype(float)


def event_histogram_et(calo: dict, spec: AnalysisSpec, variation: Variation = NOMINAL,
                       randomized: dict | None = None) -> tuple[np.ndarray, np.ndarray, dict]:
    """[energy x time] counts of the group's reconstruction, randomized by +-T_c/2, pileup
    subtracted and gain corrected; returns (counts, variances, info). ``randomized``: a dict
    that keeps the randomized counts by seed offset between calls on the same calo and spec
    (the systematic variations of gain and pileup share the nominal randomization)."""
    if randomized is None:
        counts = randomized_counts(calo, spec, variation.seed_offset)
    else:
        if variation.seed_offset not in randomized:
            randomized[variation.seed_offset] = randomized_counts(calo, spec, variation.seed_offset)
        counts = randomized[variation.seed_offset].copy()
    var = counts.copy()
    t = (np.arange(counts.shape[1]) + 0.5) * binning.T_BIN_US
    info = {}
    gain_model = fit_gain_model(calo["laser/infill"], calo["laser/infill_times"], calo["laser/shortterm"],
                                calo["laser/shortterm_dt"])
    if variation.infill_sigma or variation.shortterm_sigma:
        gain_model = dataclasses.replace(
            gain_model, infill_amp=gain_model.infill_amp + variation.infill_sigma * gain_model.infill_amp_err,
            shortterm_amp=gain_model.shortterm_amp + variation.shortterm_sigma * gain_model.shortterm_amp_err)
    e_c = binning.energy_centers()
    gain = total_gain(gain_model, t, e_c @ counts, float(calo["fills"]), binning.T_BIN_US * 1e3)
    if variation.slow_gain:
        # the residual slow term's ad-hoc "gain-like" correction (Sec. IV J 3)
        gain = gain * (1.0 + variation.slow_gain * np.exp(-t / variation.slow_tau_us))
    counts = histograms.gain_corrected_spectrum(counts, gain)
    info["gain"] = {"infill_amp": gain_model.infill_amp, "infill_amp_err": gain_model.infill_amp_err,
                    "infill_tau_us": gain_model.infill_tau_us, "shortterm_amp_per_gev": gain_model.shortterm_amp,
                    "shortterm_amp_err": gain_model.shortterm_amp_err, "shortterm_tau_ns": gain_model.shortterm_tau_ns,
                    "max_correction": float(np.max(np.abs(1 - gain[t > spec.window_us[0]])))}
    if spec.pileup != "none":
        key = f"pileup/{spec.pileup}"
        second = [calo[f"{key}/{k}"] for k in ("triples", "triple_pairs", "triple_singles")]
        est, est_var = pileup_estimate(calo[f"{key}/doubles"], calo[f"{key}/singles"],
                                       *(second if variation.pileup_order >= 2 else ()))
        if variation.pileup_shift_ns:
            # the estimate moved in time by dt: est(t - dt) to first order in dt
            est = est - variation.pileup_shift_ns * 1e-3 * np.gradient(est, binning.T_BIN_US, axis=1)
        window_bins = np.flatnonzero((t >= spec.window_us[0]) & (t <= spec.window_us[1]))
        norm = normalise_above_endpoint(counts, est, window_bins)
        scale = norm.scale + (variation.pileup_sigma * norm.scale_error if np.isfinite(norm.scale_error) else 0.0)
        counts, var = subtract_pileup(counts, var, est, est_var, scale)
        info["pileup"] = {"estimator": spec.pileup, "scale": norm.scale, "scale_error": norm.scale_error,
                          "chi2_above_endpoint": norm.chi2_above_endpoint,
                          "ndf_above_endpoint": norm.ndf_above_endpoint}
    return counts, var, info


def build_wiggle(calo: dict, spec: AnalysisSpec, omega_guess: float | None = None,
                 variation: Variation = NOMINAL, randomized: dict | None = None) -> Wiggle:
    """The analysis histogram of ``spec`` from the recorded calorimeter views.

    The A method needs omega, tau and phase for measuring A(E): a T-method histogram of the
    same data is fitted (five parameters) first. ``randomized``: see ``event_histogram_et``.
    """
    if spec.base_method == "Q":
        return _energy_wiggle(calo, spec, variation)
    counts, var, info = event_histogram_et(calo, spec, variation, randomized)
    t = (np.arange(counts.shape[1]) + 0.5) * binning.T_BIN_US
    window_mask(t, spec.window_us, spec.name)
    if spec.base_method == "T" and spec.threshold_gev is not None:
        w = histograms.threshold_weights(spec.threshold_gev)
    else:
        a, a_err = _measured_asymmetry(counts, var, t, spec)
        info["asymmetry"] = {"A_of_E": a.tolist(), "A_of_E_err": np.where(np.isfinite(a_err), a_err, -1).tolist()}
        if spec.base_method == "T":
            # the default T method: the threshold of the best expected sigma_R (toy: near 1.9 GeV; paper: 1.7)
            sel = (t >= spec.window_us[0]) & (t <= spec.window_us[1])
            best, cand, rel = histograms.best_threshold(a, a_err, counts[:, sel].sum(axis=1), spec.threshold_search_gev)
            info["threshold"] = {"chosen_gev": best, "scanned_gev": cand.tolist(),
                                 "relative_sigma_R": np.where(np.isfinite(rel), rel, -1).tolist()}
            w = histograms.threshold_weights(best)
        else:
            w = histograms.asymmetry_weights(a, a_err, spec.a_method_min_gev)
    y, v = w @ counts, (w**2) @ var
    info["energy_weights"] = w.tolist()
    return Wiggle(t, y, v, binning.T_BIN_US, weights=w, info=info)


SEED_THRESHOLD_GEV = 1.7  # the T histogram whose five-parameter fit gives omega, tau, phase for A(E)


def _measured_asymmetry(counts, var, t, spec):
    """A(E) per energy bin from the data: omega, tau and the phase from a five-parameter fit of a
    T-method histogram (threshold SEED_THRESHOLD_GEV), then per-bin projections (Sec. IV B)."""
    wt = histograms.threshold_weights(SEED_THRESHOLD_GEV)
    y_t, v_t = wt @ counts, (wt**2) @ var
    sel = window_mask(t, spec.window_us, spec.name)
    res5 = five_parameter_fit(t[sel], y_t[sel], v_t[sel], spec.delta_r_ppm)
    omega = wiggle_model.omega_from_r(res5.values["R"], spec.delta_r_ppm)
    return histograms.measured_asymmetry(counts, t, spec.window_us, omega, res5.values["tau"], res5.values["phi0"])


def _energy_wiggle(calo: dict, spec: AnalysisSpec, variation: Variation = NOMINAL) -> Wiggle:
    """Q method: the energy-integrated readout, spread uniformly over one cyclotron period and
    integrated into 150 ns bins; variances from sum E^2 and the pedestal-noise calibration."""
    q = np.asarray(calo["energy/q_sum_fine"], dtype=float)
    q2 = histograms.check_counts("energy/q_sum2_fine", calo["energy/q_sum2_fine"])
    if not np.all(np.isfinite(q)):
        raise histograms.HistogramError("energy/q_sum_fine: NaN bins")
    fine_w = binning.TQ_FINE_US
    if variation.slow_gain:
        # the ad-hoc gain-like slow term on the energy scale of the integrated readout
        g = 1.0 + variation.slow_gain * np.exp(-(np.arange(q.size) + 0.5) * fine_w / variation.slow_tau_us)
        q, q2 = q / g, q2 / g**2
    n_out = int(round(q.size * fine_w / spec.bin_us))
    n_fills = float(calo["fills"])
    noise_var_fine = float(calo["energy/pedestal_noise_gev"]) ** 2 * n_fills * (fine_w / binning.TQ_BIN_US) * 24
    y, m = histograms.spread_uniform(q, fine_w, binning.T_BIN_US, spec.bin_us, n_out)
    var_fine = q2 + noise_var_fine
    # the spreading shares each fine bin between neighbouring output bins: banded covariance
    cov = (m @ (m.multiply(var_fine[None, :]).T)).tocsr()
    bw = 2
    band = np.zeros((bw, n_out))
    band[0] = cov.diagonal()
    band[1, :-1] = cov.diagonal(-1)
    t = (np.arange(n_out) + 0.5) * spec.bin_us
    window_mask(t, spec.window_us, spec.name)
    info = {"pedestal_noise_var_per_fine_bin": noise_var_fine}
    return Wiggle(t, np.asarray(y), band[0].copy(), spec.bin_us, cov_band=band, info=info)
