"""One analysis end to end: histogram, corrections, staged blind fit (Sec. IV B-E).

``build_wiggle`` turns the recorded calorimeter views into the analysis's time histogram;
``fit_analysis`` runs the five-parameter fit, locates the beam-dynamics lines in its residual
spectrum, seeds each term there and runs the full fit; ``result_record`` is what goes to JSON.
"""

from __future__ import annotations

import numpy as np

from ..physics.ring import beam_frequencies
from . import minimizer, wiggle_model
from .groups import AnalysisSpec
from .ratio_fit import fit_ratio_analysis
from .seeding import GAMMA_TAU_NOMINAL_US, five_parameter_fit, residual_spectrum, seed_terms
from .staged_fit import AnalysisFit, _nested_test, check_nested, refit_parameter_set, staged_fit
from .variations import NOMINAL, Variation, tilted_losses, varied_fit_setup
from .wiggle import Wiggle, window_mask


def fit_analysis(wiggle: Wiggle, spec: AnalysisSpec, field_index: float, loss_edges, loss_counts,
                 reuse: minimizer.FitResult | None = None, variation: Variation = NOMINAL) -> dict:
    """Staged fit of one analysis; returns {'five': FitResult, 'full': FitResult, 'spectra': ...}.

    With ``reuse`` (the nominal FitResult) the fit keeps its parameter set and starts from it,
    changed by the fit-level fields of ``variation`` (systematic refits)."""
    sel = window_mask(wiggle.t, spec.window_us, spec.name)
    t, y, var = wiggle.t[sel], wiggle.y[sel], wiggle.var[sel]
    loss_counts = tilted_losses(loss_edges, loss_counts, variation.loss_tilt)
    if spec.is_ratio:
        return fit_ratio_analysis(wiggle, spec, field_index, loss_edges, loss_counts, reuse=reuse,
                                  variation=variation)
    res5 = five_parameter_fit(t, y, var, spec.delta_r_ppm)
    f5 = wiggle_model.wiggle(t, res5.vector(), spec.delta_r_ppm, 0, loss_edges, loss_counts)
    var_p = minimizer.pearson_variance(y, var, f5)
    spectrum5 = residual_spectrum(t, (y - f5) / np.sqrt(var_p))
    nominal = beam_frequencies(field_index)
    start = seed_terms(t, y, f5, f5**2 / var_p, spec, nominal, dict(res5.values), spectrum5)
    loss = (np.asarray(loss_edges, float), np.asarray(loss_counts, float))
    chol = None
    if wiggle.cov_band is not None:
        band = wiggle.cov_band[:, sel].copy()
        chol = minimizer.banded_cholesky(band)
    data = minimizer.FitData(t, y, var_p, chol=chol, loss_edges=loss[0], loss_counts=loss[1])
    free = spec.free_parameters()
    penalties = {"tau": (GAMMA_TAU_NOMINAL_US, spec.tau_penalty_us)} if spec.tau == "penalized" else {}

    def pearson_update(p, envelope):
        if chol is None:
            model = wiggle_model.wiggle(t, p, spec.delta_r_ppm, wiggle_model.ENVELOPES[envelope], loss[0], loss[1])
            data.var = minimizer.pearson_variance(y, var, model)

    if reuse is None:
        res, free, fixed_weak = staged_fit(data, start, free, spec, penalties, with_free=True,
                                           variance_update=lambda p: pearson_update(p, spec.envelope))
        check_nested(res5, res, spec.name)
    else:
        pearson_update(reuse.vector(), reuse.envelope)
        spec, values, free = varied_fit_setup(spec, reuse.values, reuse.free, variation)
        res, free, fixed_weak = refit_parameter_set(data, values, free, spec, penalties)
    env = spec.envelope
    f_full = minimizer.model_values(data, res.vector(), spec.delta_r_ppm, wiggle_model.ENVELOPES[env])
    sigma = np.sqrt(data.var) if chol is None else np.sqrt(wiggle.cov_band[0, sel])
    spectrum_full = residual_spectrum(t, (y - f_full) / sigma)
    return AnalysisFit(five=res5, full=res, t=t, y=y, sigma=sigma, model=f_full, model5=f5, spectrum5=spectrum5,
                       spectrum_full=spectrum_full, fixed_weak=fixed_weak)


def result_record(spec: AnalysisSpec, wiggle: Wiggle, fits: AnalysisFit) -> dict:
    """The JSON record of one analysis (blinded R: hardware clock blind and the group's Delta R)."""
    full, five = fits.full, fits.five
    record = {
        "analysis": spec.name, "group": spec.group, "method": spec.method, "dataset": spec.dataset,
        "blinding": "hardware and software (R carries the group's Delta R, Eq. 5)",
        "R_ppm": full.values["R"], "R_err_ppm": full.errors["R"],
        "chi2": full.chi2, "ndf": full.ndf, "chi2_ndf": full.chi2 / full.ndf,
        "p_value": fits.p_value,
        "five_parameter": {"R_ppm": five.values["R"], "R_err_ppm": five.errors["R"], "chi2": five.chi2,
                           "ndf": five.ndf, "p_value": fits.five_p_value,
                           **_nested_test(five, full, fits.chi2_scale)},
        "window_us": list(spec.window_us), "bin_us": wiggle.bin_us, "n_bins": int(fits.t.size),
        "envelope": full.envelope, "free_parameters": full.free,
        "parameters": {n: {"value": full.values[n], "error": full.errors[n]} for n in wiggle_model.PARAMS},
        "covariance": full.covariance.tolist(), "nfev": full.nfev,
        "fixed_unresolved": fits.fixed_weak,
        "ratio_bins_dropped": fits.ratio_bins_dropped,
        "corrections": wiggle.info,
    }
    return record
