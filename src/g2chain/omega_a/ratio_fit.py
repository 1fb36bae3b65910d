"""Fitting the ratio histograms RT, RA, RQ (Sec. IV B, Table III ratio rows).

The ratio R(t) is fitted with the ratio construction applied to Eq. 7 on the histogram's own
grid (same interpolation kernel as the data). The bins of R are correlated (each N(t) enters
five R bins), and the first-order covariance is too badly conditioned to invert safely (see
ratio.py), so the chi^2 uses the diagonal and the parameter covariance is the sandwich
    C_p = H^-1 (J^T W C W J) H^-1,  H = J^T W J,  W = diag(1/C_ii),
with the full bin covariance C. The chi^2 of a diagonal-weighted fit is not chi^2(ndf)
distributed; its p-value uses the Satterthwaite scaled chi^2 with the moments tr(WC), tr((WC)^2).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import sparse
from scipy.special import chdtrc  # chi^2 survival function chdtrc(ndf, chi2)

from . import minimizer, wiggle_model
from .ratio import ratio_histogram
from .seeding import GAMMA_TAU_NOMINAL_US, five_parameter_fit, residual_spectrum, seed_terms
from .staged_fit import AnalysisFit, check_nested, fit_limits, refit_parameter_set, staged_fit
from .variations import NOMINAL, varied_fit_setup
from .wiggle import window_mask

# effective entries per copy bin for the ratio's Gaussian, first-order treatment. 50 (session 3)
# cut the fit at ~230 us at 3e6 positrons and ~450 us at 1e8, so the ratio analyses' errors and
# their correlations with the others depended on the statistics (rho(A, RA) 0.49 at 1e6 e+).
# At 5, 48 productions of 1e6 e+ give RA - A = (0.04 +- 0.06) sigma_A: no bias shows.
MIN_ENTRIES = 5.0


def _covariance_input(wiggle):
    if wiggle.cov_band is None:
        return wiggle.var
    band = wiggle.cov_band
    n = band.shape[1]
    diags = [band[0]] + [band[k, : n - k] for k in range(1, band.shape[0])]
    offsets = list(range(band.shape[0]))
    low = sparse.diags(diags, [-o for o in offsets], shape=(n, n))
    up = sparse.diags(diags[1:], offsets[1:], shape=(n, n))
    return (low + up).tocsr()


def _sandwich_errors(data, res, cov, var, delta_r, envelope):
    """Replace the errors of a diagonal-chi^2 ratio fit by the sandwich H^-1 (J^T W C W J) H^-1
    with the full bin covariance C (W = diag(1/var)); returns the model at the bins."""
    model, jac_all = minimizer.model_jacobian(data, res.vector(), delta_r, envelope)
    jac = jac_all[:, [wiggle_model.INDEX[n] for n in res.free]]
    w = 1.0 / var
    h_inv = np.linalg.inv(jac.T @ (jac * w[:, None]))
    jw = jac * w[:, None]
    middle = jw.T @ (cov @ jw)
    cov_p = h_inv @ middle @ h_inv
    res.covariance = cov_p
    res.errors = dict.fromkeys(wiggle_model.PARAMS, 0.0)
    res.errors.update({n: float(math.sqrt(cov_p[k, k])) for k, n in enumerate(res.free)})
    return model


def fit_ratio_analysis(wiggle, spec, field_index, loss_edges, loss_counts, reuse=None, variation=None) -> dict:
    """Ratio fit of one analysis: returns the same structure as analysis.fit_analysis.

    With ``reuse`` (the nominal FitResult) the full fit keeps its parameter set and start, changed
    by the fit-level fields of ``variation``; ``variation`` also moves the construction's fixed
    lifetime and half period (the 'ratio construction' source)."""
    from ..physics.ring import beam_frequencies

    variation = NOMINAL if variation is None else variation
    sel = window_mask(wiggle.t, spec.window_us, spec.name)
    res5 = five_parameter_fit(wiggle.t[sel], wiggle.y[sel], wiggle.var[sel], spec.delta_r_ppm)
    omega = wiggle_model.omega_from_r(res5.values["R"], spec.delta_r_ppm)
    # T_a/2 from the group's own (blinded) frequency, and the fixed weighting lifetime
    half = math.pi / omega * (1.0 + 1e-6 * variation.ratio_period_ppm)
    tau_w = GAMMA_TAU_NOMINAL_US + variation.ratio_tau_shift_us
    loss = (np.asarray(loss_edges, float), np.asarray(loss_counts, float))
    # the ratio's covariance is propagated at the expectation (the five-parameter model on the
    # whole grid, Pearson variances), not at the observed counts: late bins hold a few positrons,
    # where first-order propagation around the data fails (zero-count bins give zero variance)
    f5_grid = np.maximum(wiggle_model.wiggle(wiggle.t, res5.vector(), spec.delta_r_ppm, 0, loss[0], loss[1]), 1e-9)
    if wiggle.cov_band is None:
        cov_in = minimizer.pearson_variance(wiggle.y, wiggle.var, f5_grid)
    else:
        cov_in = _covariance_input(wiggle)
    r_all, _, valid = ratio_histogram(wiggle.y, cov_in, wiggle.bin_us, half, tau_w, covariance=None)
    _, cov_all, valid_model = ratio_histogram(f5_grid, cov_in, wiggle.bin_us, half, tau_w, covariance="sparse")
    # where the data's V + U <= 0 (late, nearly empty bins of weighted histograms) R is undefined:
    # those bins are left out of the fit and counted in the record
    dropped = int(np.count_nonzero((valid != valid_model) & sel))
    # R is a ratio of counts: where the copies hold few entries it is biased and non-Gaussian at
    # O(1/N) (see ratio.py). Bins whose latest copy, N(t + T_a/2), expects fewer than
    # MIN_ENTRIES effective entries are left out.
    n_eff = f5_grid**2 / np.maximum(cov_in if wiggle.cov_band is None else wiggle.var, 1e-300)
    shift = int(np.ceil(half / wiggle.bin_us))
    late_ok = np.zeros_like(sel)
    late_ok[: n_eff.size - shift] = n_eff[shift:] >= MIN_ENTRIES
    low_stat = int(np.count_nonzero(sel & ~late_ok))
    # each result is given on its own valid bins: bring both to the valid bins of the window
    grid_index = np.flatnonzero(valid & valid_model & sel & late_ok)
    r = r_all[np.isin(np.flatnonzero(valid), grid_index)]
    keep = np.isin(np.flatnonzero(valid_model), grid_index)
    cov = cov_all[keep][:, keep]  # banded (sparse): each N(t) enters only the R bins within T_a/2
    t = wiggle.t[grid_index]
    var = cov.diagonal().copy()
    data = minimizer.FitData(t, r, var, loss_edges=loss[0], loss_counts=loss[1], model="ratio", ratio_half_period=half,
                     ratio_tau=tau_w, grid_t=wiggle.t, grid_index=grid_index)
    start = dict(res5.values)
    start["tau"] = tau_w
    # seeds of the beam-dynamics terms from the five-parameter residuals of the wiggle
    t_w, y_w = wiggle.t[sel], wiggle.y[sel]
    f5 = wiggle_model.wiggle(t_w, res5.vector(), spec.delta_r_ppm, 0, loss[0], loss[1])
    var_p = minimizer.pearson_variance(y_w, wiggle.var[sel], f5)
    spectrum5 = residual_spectrum(t_w, (y_w - f5) / np.sqrt(var_p))
    start = seed_terms(t_w, y_w, f5, f5**2 / var_p, spec, beam_frequencies(field_index), start, spectrum5)
    free = spec.free_parameters()
    five_free = ["A0", "R", "phi0"]
    # the ratio's "five-parameter" fit: A, R, phi with every other term off (N0 and the
    # exponential cancel in the ratio; tau is the fixed weighting lifetime)
    five_only = {k: start[k] for k in ("N0", "tau", "A0", "R", "phi0")}
    r5 = minimizer.fit(data, five_only, five_free, spec.delta_r_ppm, spec.envelope, limits=fit_limits(data))
    if reuse is None:
        start.update({k: r5.values[k] for k in five_free})
        stage2 = five_free + [p for p in free if p in ("A_cbo_N", "phi_cbo_N", "omega_cbo", "tau_cbo")]
        res = minimizer.fit(data, start, stage2, spec.delta_r_ppm, spec.envelope, limits=fit_limits(data),
                            intermediate=True)
        res, free, fixed_weak = staged_fit(data, res.values, free, spec, {}, with_free=True)
        check_nested(r5, res, spec.name)
    else:
        spec, values, free = varied_fit_setup(spec, reuse.values, reuse.free, variation)
        values["tau"] = tau_w
        res, free, fixed_weak = refit_parameter_set(data, values, free, spec, {})
    e = wiggle_model.ENVELOPES[spec.envelope]
    model = _sandwich_errors(data, res, cov, var, spec.delta_r_ppm, e)
    _sandwich_errors(data, r5, cov, var, spec.delta_r_ppm, e)
    # p-value of the diagonal chi^2 under the full bin covariance (Satterthwaite)
    # tr(WC) and tr((WC)^2) = sum_ij C_ij^2 / (var_i var_j) for the symmetric C
    w = 1.0 / var
    tr1, tr2 = float(np.sum(cov.diagonal() * w)), float(w @ (cov.multiply(cov) @ w))
    scale, nu = tr2 / tr1, tr1**2 / tr2 - len(free)
    res.ndf = int(round(nu))
    pvalue = float(chdtrc(nu, res.chi2 / scale))
    # the three-parameter (A, R, phi: the ratio's "five-parameter") fit judged the same way
    nu5 = tr1**2 / tr2 - len(five_free)
    r5.ndf = int(round(nu5))
    pvalue5 = float(chdtrc(nu5, r5.chi2 / scale))
    sigma = np.sqrt(var)
    return AnalysisFit(five=r5, full=res, t=t, y=r, sigma=sigma, model=model, model5=None,
                       spectrum5=spectrum5, spectrum_full=residual_spectrum(t, (r - model) / sigma),
                       fixed_weak=fixed_weak, pvalue=pvalue, five_pvalue=pvalue5, chi2_scale=scale,
                       ratio_bins_dropped=dropped + low_stat)
