"""The staged fit of Eq. 7: terms enter in stages in the order of their size, weak ones are held
fixed, and the full fit is tested against the five-parameter fit it nests."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.special import chdtrc  # chi^2 survival function chdtrc(ndf, chi2)

from . import minimizer, wiggle_model
from .groups import AnalysisSpec
from .minimizer import FitResult
from .seeding import GAMMA_TAU_NOMINAL_US


@dataclass
class AnalysisFit:
    """The fits of one analysis (what ``analysis_fit.fit_analysis`` returns): the five-parameter
    fit ``five`` and the ``full`` fit of Eq. 7 on the window's bins ``t`` (us, blinded clock) with
    data ``y``, their uncertainties ``sigma`` and the full model; the residual spectra
    (frequency MHz, amplitude) of both fits; the unresolved terms held fixed. For a ratio fit
    (Eq. 10) the covariance of the ratio's bins makes chi^2 not a sum of independent terms: its
    p-values ``pvalue``, ``five_pvalue`` come from the sandwich covariance and ``chi2_scale``
    scales the nested test; ``ratio_bins_dropped`` counts the bins with too few entries. For an
    event-based fit these stay None, 1 and 0, and the fits' own p-values hold."""

    five: FitResult
    full: FitResult
    t: np.ndarray
    y: np.ndarray
    sigma: np.ndarray
    model: np.ndarray
    model5: np.ndarray | None
    spectrum5: tuple
    spectrum_full: tuple
    fixed_weak: list
    pvalue: float | None = None
    five_pvalue: float | None = None
    chi2_scale: float = 1.0
    ratio_bins_dropped: int = 0

    @property
    def p_value(self) -> float:
        """The full fit's p-value (the sandwich one for a ratio fit)."""
        return self.full.pvalue if self.pvalue is None else self.pvalue

    @property
    def five_p_value(self) -> float:
        return self.five.pvalue if self.five_pvalue is None else self.five_pvalue


def check_nested(five: minimizer.FitResult, full: minimizer.FitResult, name: str):
    """The full model contains the five-parameter one (extra amplitudes zero), so its minimum
    cannot lie far above the five-parameter chi^2; if it does, the staging ended in a false
    minimum and the fit is an error, not a result (margin: 5 sigma of a chi^2 of ndf degrees)."""
    margin = 5.0 * math.sqrt(2.0 * max(full.ndf, 1))
    if not full.chi2 <= five.chi2 + margin:
        raise minimizer.FitError(f"{name}: full-fit chi2 {full.chi2:.1f} lies above the five-parameter fit's "
                         f"{five.chi2:.1f}: the staged fit ended in a false minimum")


def refit_parameter_set(data, values: dict, free: list, spec: AnalysisSpec, penalties: dict):
    """Fit with a given parameter set and start (a systematic variation: no new staging
    decisions, which would add discrete jumps to a small, smooth shift); a parameter that runs
    onto its limit is held there. Returns (FitResult, free, held)."""
    values, free, held = dict(values), list(free), []
    for _ in range(4):
        try:
            res = minimizer.fit(data, values, free, spec.delta_r_ppm, spec.envelope, penalties, limits=fit_limits(data))
            return res, free, held
        except minimizer.FitError as err:
            if not _hold_at_limit(err, values, held):
                raise
            free = [p for p in free if p not in held]
    raise minimizer.FitError(f"{spec.name}: variation refit still on its limits after fixing {', '.join(held)}")


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
    get their shape parameters fixed, an unresolved exp+C constant is fixed at zero, and so is
    the CBO-frequency drift amplitude where the CBO itself is unresolved, before the final fit;
    the record lists what was fixed.
    """
    values, released = dict(start), []
    for stage in STAGES:
        released += [p for p in stage if p in free]
        values = minimizer.fit(data, values, released, spec.delta_r_ppm, spec.envelope, penalties,
                               limits=fit_limits(data),
                       intermediate=True).values
    trial = minimizer.fit(data, values, free, spec.delta_r_ppm, spec.envelope, penalties, limits=fit_limits(data),
                  intermediate=True)
    if variance_update is not None:
        # Pearson variances from the all-free model, then the all-free minimum again with them
        variance_update(trial.vector())
        trial = minimizer.fit(data, trial.values, free, spec.delta_r_ppm, spec.envelope, penalties,
                              limits=fit_limits(data),
                      intermediate=True)
    fixed = []
    for amp, shapes in TERM_SHAPES.items():
        if amp in free and not _resolved(trial, amp, float(data.t[0]), spec.envelope):
            fixed += [s for s in shapes if s in free]
    # the drift amplitude stays a fitted parameter at its fixed tau_d (Sec. IV E 2), resolved or
    # not: held at zero it would bias R by what the drift does to the CBO's phase. Only where
    # the CBO itself is unresolved has a drift of its frequency nothing to act on.
    if "A_drift" in free and "omega_cbo" in fixed:
        fixed.append("A_drift")
    if "C_cbo" in free and not _resolved(trial, "C_cbo"):
        fixed.append("C_cbo")
    # a term whose decay time is fixed where the term has died out before the fit starts (e^-t0/tau
    # < 1e-6: an unresolved tau runs to its lower limit) leaves its amplitude undetermined
    t0 = float(data.t[0] if data.grid_t is None else data.grid_t[data.grid_index[0]])
    fixed += [amp for tau, amp in DECAYING_TERMS.items()
              if tau in fixed and amp in free and amp not in fixed and t0 / trial.values[tau] > DEAD_DECAYS]
    values = dict(trial.values)
    for name in fixed:
        if name in ("A_drift", "C_cbo", *DECAYING_TERMS.values()):
            values[name] = 0.0
    # a shape parameter that ends on its limit is held there; one that is still degenerate (HESSE
    # not positive definite) is fixed in turn, the least determined first; each one is reported
    for _ in range(8):
        final_free = [p for p in free if p not in fixed]
        try:
            res = minimizer.fit(data, values, final_free, spec.delta_r_ppm, spec.envelope, penalties,
                                limits=fit_limits(data))
            return (res, final_free, fixed) if with_free else res
        except minimizer.FitError as err:
            if _hold_at_limit(err, values, fixed):
                continue
            shapes = [p for p in final_free if p in SHAPE_PARAMETERS and trial.errors.get(p, 0) > 0]
            if not shapes:
                raise
            worst = max(shapes, key=lambda p: _relative_uncertainty(trial, p))
            fixed.append(worst)
    raise minimizer.FitError(f"{spec.name}: covariance not positive definite after fixing {', '.join(fixed)}")


def _hold_at_limit(err: minimizer.FitError, values: dict, fixed: list) -> bool:
    """A parameter that ran onto its physical limit (an unresolved term's shape, or k_loss sliding
    along its valley with N0 and tau at low statistics) is held there and reported: set it in
    ``values``, add it to ``fixed`` and return True. R itself never is (False: re-raise)."""
    if err.parameter in (None, "R") or err.value is None:
        return False
    values[err.parameter] = err.value
    fixed.append(err.parameter)
    # a decay time held at its lower limit: the term has died out before the fit starts, and its
    # amplitude would be undetermined (a drift with tau_d = 1 us ran to A_d ~ 1e13 in 200 steps)
    amplitude = DECAYING_TERMS.get(err.parameter)
    if amplitude and err.value <= fit_limits()[err.parameter][0] and amplitude not in fixed:
        values[amplitude] = 0.0
        fixed.append(amplitude)
    return True


# decay time -> the amplitude of the term it belongs to; a term is dead after DEAD_DECAYS decay times
DECAYING_TERMS = {"tau_drift": "A_drift", "tau_vw": "A_vw", "tau_y": "A_y", "tau_ring": "A_ring"}
DEAD_DECAYS = 13.8  # e^-13.8 = 1e-6


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


def fit_limits(data: minimizer.FitData | None = None) -> dict:
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
        lam_max = float(wiggle_model.loss_integral(np.array([t_end]), GAMMA_TAU_NOMINAL_US, data.loss_edges,
                                                   data.loss_counts)[0])
        if lam_max > 0:
            limits["k_loss"] = (-0.5 / lam_max, 0.5 / lam_max)
    return limits


def _nested_test(five: minimizer.FitResult, full: minimizer.FitResult, scale: float) -> dict:
    """Does the data need the terms beyond the five parameters? The chi^2 drop from the
    five-parameter to the full fit (divided by the ratio fits' Satterthwaite scale), for as many
    degrees of freedom as parameters were added, and its p-value (likelihood-ratio test). A
    goodness-of-fit p-value dilutes a few strong lines over ~4000 bins; this one does not."""
    d_chi2 = (five.chi2 - full.chi2) / scale
    d_ndf = max(len(full.free) - len(five.free), 1)
    return {"delta_chi2_vs_full": d_chi2, "delta_ndf_vs_full": d_ndf,
            "p_value_vs_full": float(chdtrc(d_ndf, max(d_chi2, 0.0)))}
