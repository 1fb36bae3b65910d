"""One analysis end to end: histogram, corrections, staged blind fit (Sec. IV B-E).

``build_wiggle`` turns the recorded calorimeter views into the analysis's time histogram;
``fit_analysis`` runs the five-parameter fit, locates the beam-dynamics lines in its residual
spectrum, seeds each term there and runs the full fit; ``result_record`` is what goes to JSON.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np
from scipy.special import chdtrc  # chi^2 survival function chdtrc(ndf, chi2)

from ..experiment import binning as B
from ..experiment.beam import beam_frequencies
from ..experiment.rng import dataset_key
from . import fit as F
from . import histograms as H
from . import model as M
from .gain import fit_gain_model, total_gain
from .groups import AnalysisSpec
from .pileup import normalise_above_endpoint, pileup_estimate, subtract_pileup

GAMMA_TAU_NOMINAL_US = 64.44  # gamma tau_mu at the magic momentum: the start value (and VI's penalty centre)


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


def _window_mask(t, window, name):
    if window[0] >= window[1] or window[0] < t[0] or window[1] > t[-1] + 1e-9:
        raise AnalysisError(f"{name}: fit window {list(window)} us outside the data ({t[0]:.1f}-{t[-1]:.1f} us)")
    return (t >= window[0]) & (t <= window[1])


@dataclass(frozen=True)
class Variation:
    """One systematic change to an analysis (Table V), relative to its nominal choices.

    Changes to the histogram: laser-measured gain amplitudes and the fitted pileup normalisation
    moved by a number of their own standard errors, the pileup estimate shifted in time or cut
    at first order, an ad-hoc gain-like slow term 1 + a exp(-t / tau_s) on the energy scale, and
    another randomization seed. Changes to the fit: another CBO envelope, the CBO-drift time
    constant held at a value, k_loss held at zero, the lost-muon spectrum tilted by a fraction
    across its span, and the ratio construction's lifetime and half period moved.
    """

    infill_sigma: float = 0.0
    shortterm_sigma: float = 0.0
    pileup_sigma: float = 0.0
    pileup_shift_ns: float = 0.0
    pileup_order: int = 2
    slow_gain: float = 0.0
    slow_tau_us: float = 60.0
    seed_offset: int = 0
    envelope: str | None = None
    tau_drift_us: float | None = None
    k_loss_zero: bool = False
    loss_tilt: float = 0.0
    ratio_tau_shift_us: float = 0.0
    ratio_period_ppm: float = 0.0

    HISTOGRAM_FIELDS = ("infill_sigma", "shortterm_sigma", "pileup_sigma", "pileup_shift_ns", "pileup_order",
                        "slow_gain", "slow_tau_us", "seed_offset")

    def histogram_key(self) -> tuple:
        """The fields that change the histogram (variations with equal keys share one)."""
        return tuple(getattr(self, f) for f in self.HISTOGRAM_FIELDS)


NOMINAL = Variation()


def randomized_counts(calo: dict, spec: AnalysisSpec, seed_offset: int = 0) -> np.ndarray:
    """[energy x time] counts of the group's reconstruction, randomized by +-T_c/2 with the
    group's seed (and a resampling ``seed_offset``, 0 for the nominal)."""
    fine = H.check_counts(f"{spec.recon}/sum_fine", calo[f"{spec.recon}/sum_fine"])
    key = (dataset_key(spec.dataset),) + ((seed_offset,) if seed_offset else ())
    rng = np.random.default_rng(np.random.SeedSequence(spec.seed, spawn_key=key))
    return H.randomize_cyclotron(fine, rng).astype(float)


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
    t = (np.arange(counts.shape[1]) + 0.5) * B.T_BIN_US
    info = {}
    gain_model = fit_gain_model(calo["laser/infill"], calo["laser/infill_times"], calo["laser/shortterm"],
                                calo["laser/shortterm_dt"])
    if variation.infill_sigma or variation.shortterm_sigma:
        gain_model = dataclasses.replace(
            gain_model, infill_amp=gain_model.infill_amp + variation.infill_sigma * gain_model.infill_amp_err,
            shortterm_amp=gain_model.shortterm_amp + variation.shortterm_sigma * gain_model.shortterm_amp_err)
    e_c = B.energy_centers()
    gain = total_gain(gain_model, t, e_c @ counts, float(calo["fills"]), B.T_BIN_US * 1e3)
    if variation.slow_gain:
        # the residual slow term's ad-hoc "gain-like" correction (Sec. IV J 3)
        gain = gain * (1.0 + variation.slow_gain * np.exp(-t / variation.slow_tau_us))
    counts = H.gain_corrected_spectrum(counts, gain)
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
            est = est - variation.pileup_shift_ns * 1e-3 * np.gradient(est, B.T_BIN_US, axis=1)
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
    t = (np.arange(counts.shape[1]) + 0.5) * B.T_BIN_US
    _window_mask(t, spec.window_us, spec.name)
    if spec.base_method == "T" and spec.threshold_gev is not None:
        w = H.threshold_weights(spec.threshold_gev)
    else:
        a, a_err = _measured_asymmetry(counts, var, t, spec)
        info["asymmetry"] = {"A_of_E": a.tolist(), "A_of_E_err": np.where(np.isfinite(a_err), a_err, -1).tolist()}
        if spec.base_method == "T":
            # the default T method: the threshold of the best expected sigma_R (toy: near 1.9 GeV; paper: 1.7)
            sel = (t >= spec.window_us[0]) & (t <= spec.window_us[1])
            best, cand, rel = H.best_threshold(a, a_err, counts[:, sel].sum(axis=1), spec.threshold_search_gev)
            info["threshold"] = {"chosen_gev": best, "scanned_gev": cand.tolist(),
                                 "relative_sigma_R": np.where(np.isfinite(rel), rel, -1).tolist()}
            w = H.threshold_weights(best)
        else:
            w = H.asymmetry_weights(a, a_err, spec.a_method_min_gev)
    y, v = w @ counts, (w**2) @ var
    info["energy_weights"] = w.tolist()
    return Wiggle(t, y, v, B.T_BIN_US, weights=w, info=info)


SEED_THRESHOLD_GEV = 1.7  # the T histogram whose five-parameter fit gives omega, tau, phase for A(E)


def _measured_asymmetry(counts, var, t, spec):
    """A(E) per energy bin from the data: omega, tau and the phase from a five-parameter fit of a
    T-method histogram (threshold SEED_THRESHOLD_GEV), then per-bin projections (Sec. IV B)."""
    wt = H.threshold_weights(SEED_THRESHOLD_GEV)
    y_t, v_t = wt @ counts, (wt**2) @ var
    sel = _window_mask(t, spec.window_us, spec.name)
    res5 = five_parameter_fit(t[sel], y_t[sel], v_t[sel], spec.delta_r_ppm)
    omega = M.omega_from_r(res5.values["R"], spec.delta_r_ppm)
    return H.measured_asymmetry(counts, t, spec.window_us, omega, res5.values["tau"], res5.values["phi0"])


def _energy_wiggle(calo: dict, spec: AnalysisSpec, variation: Variation = NOMINAL) -> Wiggle:
    """Q method: the energy-integrated readout, spread uniformly over one cyclotron period and
    integrated into 150 ns bins; variances from sum E^2 and the pedestal-noise calibration."""
    q = np.asarray(calo["energy/q_sum_fine"], dtype=float)
    q2 = H.check_counts("energy/q_sum2_fine", calo["energy/q_sum2_fine"])
    if not np.all(np.isfinite(q)):
        raise H.HistogramError("energy/q_sum_fine: NaN bins")
    fine_w = B.TQ_FINE_US
    if variation.slow_gain:
        # the ad-hoc gain-like slow term on the energy scale of the integrated readout
        g = 1.0 + variation.slow_gain * np.exp(-(np.arange(q.size) + 0.5) * fine_w / variation.slow_tau_us)
        q, q2 = q / g, q2 / g**2
    n_out = int(round(q.size * fine_w / spec.bin_us))
    n_fills = float(calo["fills"])
    noise_var_fine = float(calo["energy/pedestal_noise_gev"]) ** 2 * n_fills * (fine_w / B.TQ_BIN_US) * 24
    y, m = H.spread_uniform(q, fine_w, B.T_BIN_US, spec.bin_us, n_out)
    var_fine = q2 + noise_var_fine
    # the spreading shares each fine bin between neighbouring output bins: banded covariance
    cov = (m @ (m.multiply(var_fine[None, :]).T)).tocsr()
    bw = 2
    band = np.zeros((bw, n_out))
    band[0] = cov.diagonal()
    band[1, :-1] = cov.diagonal(-1)
    t = (np.arange(n_out) + 0.5) * spec.bin_us
    _window_mask(t, spec.window_us, spec.name)
    info = {"pedestal_noise_var_per_fine_bin": noise_var_fine}
    return Wiggle(t, np.asarray(y), band[0].copy(), spec.bin_us, cov_band=band, info=info)


def five_parameter_fit(t, y, var, delta_r, loss=None) -> F.FitResult:
    """Five-parameter fit with Pearson variances (seeded by projection)."""
    data = F.FitData(t, y, F.first_pass_variance(y, var))
    start = F.five_parameter_start(t, y, delta_r, GAMMA_TAU_NOMINAL_US)
    free = ["N0", "tau", "A0", "R", "phi0"]
    res = F.fit(data, start, free, delta_r)
    f5 = M.wiggle(t, res.vector(), delta_r, 0, data.loss_edges, data.loss_counts)
    data.var = F.pearson_variance(y, var, f5)
    return F.fit(data, res.values, free, delta_r)


def _seed_terms(t, y, f5, weights, spec: AnalysisSpec, nominal: dict, start: dict, spectrum) -> dict:
    """Frequencies from the residual spectrum, amplitudes and phases by projection."""
    freq, amp = spectrum
    rel = (y - f5) / f5
    two_pi = 2 * math.pi
    w_cbo = nominal["omega_cbo"]
    f_cbo = F.peak_frequency(freq, amp, (0.85 * w_cbo / two_pi, 1.15 * w_cbo / two_pi))
    start["omega_cbo"] = two_pi * f_cbo
    start["tau_cbo"] = 200.0
    env = np.exp(-t / start["tau_cbo"])
    a, ph = F.project_term(t, rel, weights, start["omega_cbo"], env)
    start["A_cbo_N"], start["phi_cbo_N"] = a, ph
    if "vw" in spec.terms:
        f_vw = nominal["omega_vw"] / two_pi
        f = F.peak_frequency(freq, amp, (0.97 * f_vw, 1.03 * f_vw))
        start["omega_vw"], start["tau_vw"] = two_pi * f, 30.0
        start["A_vw"], start["phi_vw"] = F.project_term(t, rel, weights, two_pi * f, np.exp(-t / 30.0))
    if "y" in spec.terms:
        f_y = nominal["omega_y"] / two_pi
        f = F.peak_frequency(freq, amp, (0.97 * f_y, 1.03 * f_y))
        start["omega_y"], start["tau_y"] = two_pi * f, 100.0
        start["A_y"], start["phi_y"] = F.project_term(t, rel, weights, two_pi * f, np.exp(-t / 100.0))
    if "cbo_drift" in spec.terms:
        start["tau_drift"] = spec.cbo_drift_tau_us
    if "ringing" in spec.terms:
        start["omega_ring"], start["tau_ring"], start["A_ring"] = two_pi / 0.6, 20.0, 0.0  # ~600 ns ringing
    return start


def check_nested(five: F.FitResult, full: F.FitResult, name: str):
    """The full model contains the five-parameter one (extra amplitudes zero), so its minimum
    cannot lie far above the five-parameter chi^2; if it does, the staging ended in a false
    minimum and the fit is an error, not a result (margin: 5 sigma of a chi^2 of ndf degrees)."""
    margin = 5.0 * math.sqrt(2.0 * max(full.ndf, 1))
    if not full.chi2 <= five.chi2 + margin:
        raise F.FitError(f"{name}: full-fit chi2 {full.chi2:.1f} lies above the five-parameter fit's "
                         f"{five.chi2:.1f}: the staged fit ended in a false minimum")


def tilted_losses(loss_edges, loss_counts, tilt: float) -> np.ndarray:
    """The lost-muon spectrum with its shape changed: counts x (1 + tilt (t - t_mid) / span), so
    the late end gains ``tilt`` relative to the early end (the 'loss shape' source)."""
    edges, counts = np.asarray(loss_edges, float), np.asarray(loss_counts, float)
    if not tilt:
        return counts
    tc = 0.5 * (edges[1:] + edges[:-1])
    return counts * (1.0 + tilt * (tc - 0.5 * (edges[0] + edges[-1])) / (edges[-1] - edges[0]))


def varied_fit_setup(spec: AnalysisSpec, values: dict, free: list, variation: Variation):
    """The nominal fit's spec, start values and free list changed by the fit-level fields of
    ``variation`` (envelope, CBO-drift time constant, k_loss held at zero)."""
    values, free = dict(values), list(free)
    if variation.envelope is not None and variation.envelope != spec.envelope:
        spec = dataclasses.replace(spec, envelope=variation.envelope)
        if variation.envelope == "exp+C" and "A_cbo_N" in free and "C_cbo" not in free:
            free.append("C_cbo")
            values["C_cbo"] = 0.0
        elif variation.envelope != "exp+C":
            free = [p for p in free if p != "C_cbo"]
            values["C_cbo"] = 0.0
    if variation.tau_drift_us is not None:
        values["tau_drift"] = float(variation.tau_drift_us)
        free = [p for p in free if p != "tau_drift"]
    if variation.k_loss_zero:
        values["k_loss"] = 0.0
        free = [p for p in free if p != "k_loss"]
    return spec, values, free


def refit_parameter_set(data, values: dict, free: list, spec: AnalysisSpec, penalties: dict):
    """Fit with a given parameter set and start (a systematic variation: no new staging
    decisions, which would add discrete jumps to a small, smooth shift); a parameter that runs
    onto its limit is held there. Returns (FitResult, free, held)."""
    values, free, held = dict(values), list(free), []
    for _ in range(4):
        try:
            res = F.fit(data, values, free, spec.delta_r_ppm, spec.envelope, penalties, limits=fit_limits(data))
            return res, free, held
        except F.FitError as err:
            if not _hold_at_limit(err, values, held):
                raise
            free.remove(err.parameter)
    raise F.FitError(f"{spec.name}: variation refit still on its limits after fixing {', '.join(held)}")


def fit_analysis(wiggle: Wiggle, spec: AnalysisSpec, field_index: float, loss_edges, loss_counts,
                 reuse: F.FitResult | None = None, variation: Variation = NOMINAL) -> dict:
    """Staged fit of one analysis; returns {'five': FitResult, 'full': FitResult, 'spectra': ...}.

    With ``reuse`` (the nominal FitResult) the fit keeps its parameter set and starts from it,
    changed by the fit-level fields of ``variation`` (systematic refits)."""
    sel = _window_mask(wiggle.t, spec.window_us, spec.name)
    t, y, var = wiggle.t[sel], wiggle.y[sel], wiggle.var[sel]
    loss_counts = tilted_losses(loss_edges, loss_counts, variation.loss_tilt)
    if spec.is_ratio:
        from .ratio_fit import fit_ratio_analysis

        return fit_ratio_analysis(wiggle, spec, field_index, loss_edges, loss_counts, reuse=reuse,
                                  variation=variation)
    res5 = five_parameter_fit(t, y, var, spec.delta_r_ppm)
    f5 = M.wiggle(t, res5.vector(), spec.delta_r_ppm, 0, loss_edges, loss_counts)
    var_p = F.pearson_variance(y, var, f5)
    spectrum5 = F.residual_spectrum(t, (y - f5) / np.sqrt(var_p))
    nominal = beam_frequencies(field_index)
    start = _seed_terms(t, y, f5, f5**2 / var_p, spec, nominal, dict(res5.values), spectrum5)
    loss = (np.asarray(loss_edges, float), np.asarray(loss_counts, float))
    chol = None
    if wiggle.cov_band is not None:
        band = wiggle.cov_band[:, sel].copy()
        chol = F.banded_cholesky(band)
    data = F.FitData(t, y, var_p, chol=chol, loss_edges=loss[0], loss_counts=loss[1])
    free = spec.free_parameters()
    penalties = {"tau": (GAMMA_TAU_NOMINAL_US, spec.tau_penalty_us)} if spec.tau == "penalized" else {}

    def pearson_update(p, envelope):
        if chol is None:
            model = M.wiggle(t, p, spec.delta_r_ppm, M.ENVELOPES[envelope], loss[0], loss[1])
            data.var = F.pearson_variance(y, var, model)

    if reuse is None:
        res, free, fixed_weak = staged_fit(data, start, free, spec, penalties, with_free=True,
                                           variance_update=lambda p: pearson_update(p, spec.envelope))
        check_nested(res5, res, spec.name)
    else:
        pearson_update(reuse.vector(), reuse.envelope)
        spec, values, free = varied_fit_setup(spec, reuse.values, reuse.free, variation)
        res, free, fixed_weak = refit_parameter_set(data, values, free, spec, penalties)
    env = spec.envelope
    f_full = F.model_values(data, res.vector(), spec.delta_r_ppm, M.ENVELOPES[env])
    sigma = np.sqrt(data.var) if chol is None else np.sqrt(wiggle.cov_band[0, sel])
    spectrum_full = F.residual_spectrum(t, (y - f_full) / sigma)
    return {"five": res5, "full": res, "t": t, "y": y, "sigma": sigma, "model": f_full,
            "model5": f5, "spectrum5": spectrum5, "spectrum_full": spectrum_full, "fixed_weak": fixed_weak}


# terms enter in the order of their size in the toy and the paper's residual spectra (Fig. 7)
STAGES = (
    ("N0", "tau", "A0", "R", "phi0", "A_cbo_N", "phi_cbo_N", "omega_cbo", "tau_cbo"),
    ("A_cbo_A", "phi_cbo_A", "A_cbo_phi", "phi_cbo_phi", "C_cbo"),
    ("A_vw", "phi_vw", "omega_vw", "tau_vw", "A_y", "phi_y", "omega_y", "tau_y"),
)


# (amplitude, shape parameters) of each optional term; a term whose amplitude the data do not
# resolve keeps its amplitude free but its shape and phase fixed where they stand: with no
# signal, a free frequency, decoherence time or phase is undetermined and the covariance
# singular, while the amplitude at a fixed phase stays a well-determined (linear) parameter.
TERM_SHAPES = {
    "A_vw": ("omega_vw", "tau_vw", "phi_vw"), "A_y": ("omega_y", "tau_y", "phi_y"),
    "A_ring": ("omega_ring", "tau_ring", "phi_ring"), "A_cbo_N": ("tau_cbo", "omega_cbo", "phi_cbo_N"),
    "A_drift": ("tau_drift",),
    "A_cbo_A": ("phi_cbo_A",), "A_cbo_phi": ("phi_cbo_phi",), "A_2cbo": ("phi_2cbo",), "A_xy": ("phi_xy",),
}
WEAK_SIGNIFICANCE = 3.0


def staged_fit(data, start, free, spec, penalties, with_free=False, variance_update=None):
    """Free the parameters stage by stage (each stage starts at the previous minimum), then all.

    Terms the data do not resolve (|amplitude| < 3 sigma at the all-free intermediate minimum)
    get their shape parameters fixed, and an unresolved exp+C constant or CBO-frequency drift
    amplitude is fixed at zero, before the final fit; the record lists what was fixed.
    """
    values, released = dict(start), []
    for stage in STAGES:
        released += [p for p in stage if p in free]
        values = F.fit(data, values, released, spec.delta_r_ppm, spec.envelope, penalties, limits=fit_limits(data),
                       intermediate=True).values
    trial = F.fit(data, values, free, spec.delta_r_ppm, spec.envelope, penalties, limits=fit_limits(data),
                  intermediate=True)
    if variance_update is not None:
        # Pearson variances from the all-free model, then the all-free minimum again with them
        variance_update(trial.vector())
        trial = F.fit(data, trial.values, free, spec.delta_r_ppm, spec.envelope, penalties, limits=fit_limits(data),
                      intermediate=True)
    fixed = []
    for amp, shapes in TERM_SHAPES.items():
        if amp in free and not _resolved(trial, amp, float(data.t[0]), spec.envelope):
            fixed += [s for s in shapes if s in free]
            if amp == "A_drift":
                fixed.append(amp)
    if "C_cbo" in free and not _resolved(trial, "C_cbo"):
        fixed.append("C_cbo")
    values = dict(trial.values)
    for name in fixed:
        if name in ("A_drift", "C_cbo"):
            values[name] = 0.0
    # a shape parameter that ends on its limit is held there; one that is still degenerate (HESSE
    # not positive definite) is fixed in turn, the least determined first; each one is reported
    for _ in range(8):
        final_free = [p for p in free if p not in fixed]
        try:
            res = F.fit(data, values, final_free, spec.delta_r_ppm, spec.envelope, penalties, limits=fit_limits(data))
            return (res, final_free, fixed) if with_free else res
        except F.FitError as err:
            if _hold_at_limit(err, values, fixed):
                continue
            shapes = [p for p in final_free if p in SHAPE_PARAMETERS and trial.errors.get(p, 0) > 0]
            if not shapes:
                raise
            worst = max(shapes, key=lambda p: _relative_uncertainty(trial, p))
            fixed.append(worst)
    raise F.FitError(f"{spec.name}: covariance not positive definite after fixing {', '.join(fixed)}")


def _hold_at_limit(err: F.FitError, values: dict, fixed: list) -> bool:
    """A parameter that ran onto its physical limit (an unresolved term's shape, or k_loss sliding
    along its valley with N0 and tau at low statistics) is held there and reported: set it in
    ``values``, add it to ``fixed`` and return True. R itself never is (False: re-raise)."""
    if err.parameter in (None, "R") or err.value is None:
        return False
    values[err.parameter] = err.value
    fixed.append(err.parameter)
    return True


SHAPE_PARAMETERS = ("tau_cbo", "C_cbo", "tau_vw", "omega_vw", "tau_y", "omega_y", "tau_drift", "A_drift",
                    "tau_ring", "omega_ring", "A_2cbo", "A_xy", "phi_vw", "phi_y", "phi_ring", "phi_cbo_A",
                    "phi_cbo_phi", "phi_2cbo", "phi_xy")


def _relative_uncertainty(res, name) -> float:
    """How undetermined a parameter is: a phase's error in units of pi, else error / |value|."""
    if name.startswith("phi"):
        return res.errors[name] / math.pi
    return res.errors[name] / max(abs(res.values[name]), 1e-12)


# CBO-family amplitudes multiply the envelope e(t) (A_2cbo its square): their size is A e(t0)^k
ENVELOPE_POWER = {"A_cbo_N": 1, "A_cbo_A": 1, "A_cbo_phi": 1, "A_2cbo": 2, "A_xy": 1}


def _resolved(res, name, t0: float = 0.0, envelope: str = "exp") -> bool:
    """Whether the data resolve a term: its size at the start of the fit, |A e(t0)^k| for the
    CBO family (A alone is degenerate with tau_CBO and C in the exp+C envelope), |A| otherwise,
    above WEAK_SIGNIFICANCE times its error propagated with the fit covariance."""
    size, err = term_size(res, name, t0, envelope)
    return err > 0 and abs(size) > WEAK_SIGNIFICANCE * err


def term_size(res, name, t0: float = 0.0, envelope: str = "exp"):
    """(A e(t0)^k, its error) for a CBO-family amplitude, (value, error) for any other parameter."""
    if name not in ENVELOPE_POWER or "tau_cbo" not in res.free:
        return res.values[name], res.errors.get(name, 0.0)
    k = ENVELOPE_POWER[name]
    a, tau, c = res.values[name], res.values["tau_cbo"], res.values["C_cbo"]
    if envelope == "reciprocal":
        e = 1.0 / (1.0 + t0 / tau)
        de_dtau, de_dc = e * e * t0 / tau**2, 0.0
    else:
        ex = math.exp(-t0 / tau)
        e = ex + (c if envelope == "exp+C" else 0.0)
        de_dtau, de_dc = ex * t0 / tau**2, (1.0 if envelope == "exp+C" else 0.0)
    grad = {name: e**k, "tau_cbo": a * k * e ** (k - 1) * de_dtau, "C_cbo": a * k * e ** (k - 1) * de_dc}
    idx = [res.free.index(n) for n in grad if n in res.free]
    g = np.array([grad[res.free[i]] for i in idx])
    var = float(g @ res.covariance[np.ix_(idx, idx)] @ g)
    return a * e**k, math.sqrt(var) if var > 0 and math.isfinite(var) else 0.0


def fit_limits(data: F.FitData | None = None) -> dict:
    """Physical ranges of the fit parameters. With ``data``, k_loss is also bounded so that the
    loss factor Lambda(t) of Eq. 9 stays within 1 +- 0.5 over the data (at the nominal lifetime):
    with few losses recorded, k_loss, N0 and tau otherwise share a flat valley that an unbounded
    fit can slide down to Lambda >> 1."""
    limits = {"tau": (20.0, 200.0), "tau_cbo": (5.0, 5000.0), "tau_vw": (1.0, 1000.0), "tau_y": (1.0, 5000.0),
              "tau_drift": (1.0, 200.0), "tau_ring": (0.5, 500.0), "A0": (0.0, 2.0), "C_cbo": (-1.0, 1.0),
              # beam-dynamics modulations are small (relative, or radians for the phase): at low
              # statistics a free phase-modulation amplitude can otherwise run to ~10 rad, where
              # its broadband sidebands fit noise (seen in 1 of 64 correlation trials)
              **dict.fromkeys(("A_cbo_N", "A_cbo_A", "A_cbo_phi", "A_2cbo", "A_xy", "A_vw", "A_y"), (-0.5, 0.5))}
    if data is not None and np.sum(data.loss_counts) > 0:
        t_end = float(np.max(data.grid_t if data.grid_t is not None else data.t))
        lam_max = float(M.loss_integral(np.array([t_end]), GAMMA_TAU_NOMINAL_US, data.loss_edges, data.loss_counts)[0])
        if lam_max > 0:
            limits["k_loss"] = (-0.5 / lam_max, 0.5 / lam_max)
    return limits


def _nested_test(five: F.FitResult, full: F.FitResult, scale: float) -> dict:
    """Does the data need the terms beyond the five parameters? The chi^2 drop from the
    five-parameter to the full fit (divided by the ratio fits' Satterthwaite scale), for as many
    degrees of freedom as parameters were added, and its p-value (likelihood-ratio test). A
    goodness-of-fit p-value dilutes a few strong lines over ~4000 bins; this one does not."""
    d_chi2 = (five.chi2 - full.chi2) / scale
    d_ndf = max(len(full.free) - len(five.free), 1)
    return {"delta_chi2_vs_full": d_chi2, "delta_ndf_vs_full": d_ndf,
            "p_value_vs_full": float(chdtrc(d_ndf, max(d_chi2, 0.0)))}


def result_record(spec: AnalysisSpec, wiggle: Wiggle, fits: dict) -> dict:
    """The JSON record of one analysis (blinded R: hardware clock blind and the group's Delta R)."""
    full, five = fits["full"], fits["five"]
    record = {
        "analysis": spec.name, "group": spec.group, "method": spec.method, "dataset": spec.dataset,
        "blinding": "hardware and software (R carries the group's Delta R, Eq. 5)",
        "R_ppm": full.values["R"], "R_err_ppm": full.errors["R"],
        "chi2": full.chi2, "ndf": full.ndf, "chi2_ndf": full.chi2 / full.ndf,
        "p_value": fits.get("pvalue", full.pvalue),
        "five_parameter": {"R_ppm": five.values["R"], "R_err_ppm": five.errors["R"], "chi2": five.chi2,
                           "ndf": five.ndf, "p_value": fits.get("five_pvalue", five.pvalue),
                           **_nested_test(five, full, fits.get("chi2_scale", 1.0))},
        "window_us": list(spec.window_us), "bin_us": wiggle.bin_us, "n_bins": int(fits["t"].size),
        "envelope": full.envelope, "free_parameters": full.free,
        "parameters": {n: {"value": full.values[n], "error": full.errors[n]} for n in M.PARAMS},
        "covariance": full.covariance.tolist(), "nfev": full.nfev,
        "fixed_unresolved": fits.get("fixed_weak", []),
        "ratio_bins_dropped": fits.get("ratio_bins_dropped", 0),
        "corrections": wiggle.info,
    }
    return record
