"""Consistency scans of an omega_a fit (Sec. IV I of the Run-2/3 report, Figs. 10 and 11).

* ``start_time_scan``: refit the same histogram with later and later fit start times (end fixed)
  and compare R(t_s) with the reference R(t_0) against the *allowed* deviation band
  sqrt(sigma_R(t_s)^2 - sigma_R(t_0)^2) (Fig. 10). Early-to-late effects (cyclotron rotation,
  pileup, gain) show up as a drift of R outside the band.
* ``per_calorimeter_scan``: fit each calorimeter's histogram, then a constant and a straight line
  in calorimeter index to the R values (Fig. 11). Cyclotron rotation and CBO are larger in single
  calorimeters than in the sum (their phase advances by 2 pi around the ring), so a mis-modelled
  term shows up as scatter or a trend around the ring.
* ``energy_scan``: the same for positron-energy bins (pileup and gain changes vary with energy).

Pure functions: arrays in, dicts of arrays and numbers out. Every scan refits the wiggle model
(Eq. 7) with diagonal (Pearson) variances; ratio and banded-covariance fits are not rescanned here.

Derivation of the allowed-deviation band (nested data sets)
-----------------------------------------------------------
Let R_0 be the fit to the bins in [t_0, t_end] and R_s the fit to the subset [t_s, t_end],
t_s > t_0, with the same bin variances (they are computed once, from the base model, and kept
fixed over the scan) and the same free parameters. Near the minimum both are linear, unbiased
estimators of R from the same bin contents, and R_0 is the minimum-variance one (weighted least
squares on the full set). D = R_s - R_0 is then an unbiased estimator of zero, and D must be
uncorrelated with R_0: otherwise R_0 + c D (c = -cov(R_0, D) / var D) would be an unbiased
estimator with smaller variance than R_0. Hence cov(R_0, R_s) = var R_0 and

    var(R_s - R_0) = sigma_s^2 + sigma_0^2 - 2 cov(R_0, R_s) = sigma_s^2 - sigma_0^2.

Explicitly, with Fisher matrices I_0 = I_s + I_early (the removed bins add information),
cov(R_0, R_s) = [I_0^-1 I_s I_s^-1]_RR = [I_0^-1]_RR. The same argument gives the familiar
sqrt(sigma_s^2 - sigma_0^2) for any nested pair of analyses. ``tests/test_scans.py`` checks it
with Monte Carlo replicas. Numerically, sigma_s^2 - sigma_0^2 is a small difference of HESSE
errors for start times a few bins apart (removing one 149 ns bin at 30 us removes ~2e-4 of the
information on R): use steps of ~1 us or more; a negative difference is clipped to zero.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import chdtrc  # chi^2 survival function chdtrc(ndf, chi2)

from . import minimizer, wiggle_model
from .staged_fit import fit_limits

# parameters the scans refit by default (each only if the base fit had it free): the wiggle's
# normalisation, asymmetry, frequency and phase, the lifetime, and the leading CBO term on N,
# whose phase differs from calorimeter to calorimeter and which decoheres early in the fill
START_SCAN_FREE = ("N0", "tau", "A0", "R", "phi0", "A_cbo_N", "phi_cbo_N")
HISTOGRAM_SCAN_FREE = ("N0", "A0", "R", "phi0", "A_cbo_N", "phi_cbo_N")
ALWAYS_FREE = ("N0", "A0", "R", "phi0")  # a single calorimeter / energy bin always needs its own


# ----------------------------------------------------------------------------------------------
# input checks (one-line ValueErrors naming the argument)


def _time_axis(t) -> np.ndarray:
    t = np.asarray(t, dtype=float)
    if t.ndim != 1 or t.size < 2:
        raise ValueError(f"t: expected a 1-D array of at least 2 bin centres, got shape {t.shape}")
    if not np.all(np.isfinite(t)) or np.any(np.diff(t) <= 0):
        raise ValueError("t: bin centres must be finite and strictly increasing")
    return t


def _same_shape(name: str, a, shape) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    if a.shape != tuple(shape):
        raise ValueError(f"{name}: shape {a.shape} does not match {tuple(shape)}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: contains NaN or infinite values")
    return a


def _window(t: np.ndarray, window, name: str = "window") -> np.ndarray:
    w = np.asarray(window, dtype=float)
    if w.shape != (2,) or not np.all(np.isfinite(w)):
        raise ValueError(f"{name}: expected (start, end) in us, got {window!r}")
    if w[0] >= w[1] or w[0] < t[0] or w[1] > t[-1] + 1e-9:
        raise ValueError(f"{name}: fit window {w.tolist()} us outside the data ({t[0]:.3f}-{t[-1]:.3f} us)")
    return (t >= w[0]) & (t <= w[1])


def _free_list(free, default, base, always=("R",)) -> list:
    if free is None:
        free = [p for p in default if p in always or p in base.free]
    free = list(free)
    unknown = [p for p in free if p not in wiggle_model.INDEX]
    if unknown:
        raise ValueError(f"free: unknown parameter(s) {', '.join(unknown)}")
    if "R" not in free:
        raise ValueError("free: R must be a free parameter of a scan")
    return free


def _envelope_values(t: np.ndarray, values: dict, envelope: str) -> np.ndarray:
    """The CBO envelope e(t) of Eq. 8 (numpy twin of the envelope in wiggle_model.wiggle)."""
    tau, c = values["tau_cbo"], values["C_cbo"]
    if envelope == "exp":
        return np.exp(-t / tau)
    if envelope == "exp+C":
        return np.exp(-t / tau) + c
    return 1.0 / (1.0 + t / tau)


# ----------------------------------------------------------------------------------------------
# shared fitting helpers


def _hesse_at(data: minimizer.FitData, values: dict, free: list, delta_r: float, envelope: str,
              penalties: dict | None) -> minimizer.FitResult:
    """Errors of the chi^2 of ``data`` at fixed parameter values, without minimising (the
    Gauss-Newton covariance, as the fits report).

    Used for the scan's reference point when it is the base fit's own window: re-running the
    minimisation from a minimum only adds its convergence noise, so the base minimum is kept.
    """
    ls = minimizer.WhitenedResiduals(data, delta_r, wiggle_model.ENVELOPES[envelope], penalties)
    p0 = wiggle_model.parameter_vector(values)
    z, jw = ls(p0)
    idx = [wiggle_model.INDEX[n] for n in free]
    cov = minimizer.gauss_newton_covariance(jw[:, idx])
    errors = dict.fromkeys(wiggle_model.PARAMS, 0.0)
    errors.update({n: float(np.sqrt(cov[k, k])) for k, n in enumerate(free)})
    return minimizer.FitResult(dict(values), errors, list(free), cov, float(z @ z), data.t.size - len(free), 1,
                               envelope)


def seed_histogram(t, y, var, base: minimizer.FitResult, delta_r: float, envelope: str, loss_edges, loss_counts,
                   cbo: bool = True) -> dict:
    """Start values for one calorimeter's (or energy bin's) histogram from the base fit.

    Each histogram has its own normalisation, asymmetry and g-2 phase (and CBO phase: the CBO
    advances by ~2 pi around the ring). At the base fit's omega and tau these enter linearly:
        y ~ N0 g(t) [1 + A0 cos(omega t - phi0)] = N0 g + (N0 A0 cos phi0) g cos wt + (N0 A0 sin phi0) g sin wt
    with g(t) the base model's slow shape (N0 = 1, A0 = 0: lifetime, losses, vertical terms), so a
    weighted linear least-squares projection gives N0, A0, phi0. With ``cbo`` (and a CBO term in
    the base fit) the relative residuals y/f - 1 are projected on e(t) cos(psi), -e(t) sin(psi)
    at the base CBO frequency and envelope for A_cbo_N and phi_cbo_N. Returns a full value dict.
    """
    t, y, var = (np.asarray(a, dtype=float) for a in (t, y, var))
    loss_edges, loss_counts = np.asarray(loss_edges, float), np.asarray(loss_counts, float)
    values = dict(base.values)
    env = wiggle_model.ENVELOPES[envelope]
    w = 1.0 / minimizer.first_pass_variance(y, var)
    p = wiggle_model.parameter_vector(values)
    p[wiggle_model.INDEX["N0"]], p[wiggle_model.INDEX["A0"]] = 1.0, 0.0
    use_cbo = cbo and values["A_cbo_N"] != 0.0
    if use_cbo:
        p[wiggle_model.INDEX["A_cbo_N"]] = 0.0
    g = wiggle_model.wiggle(t, p, delta_r, env, loss_edges, loss_counts)
    omega = wiggle_model.omega_from_r(values["R"], delta_r)
    basis = np.stack([g, g * np.cos(omega * t), g * np.sin(omega * t)], axis=1)
    sw = np.sqrt(w)
    (n0, c, s), *_ = np.linalg.lstsq(basis * sw[:, None], y * sw, rcond=None)
    if not n0 > 0:
        raise minimizer.FitError("seed: non-positive normalisation (empty histogram?)")
    values.update(N0=float(n0), A0=math.hypot(c, s) / n0, phi0=math.atan2(s, c))
    if use_cbo:
        p1 = wiggle_model.parameter_vector(values | {"A_cbo_N": 0.0})
        f1 = wiggle_model.wiggle(t, p1, delta_r, env, loss_edges, loss_counts)
        e = _envelope_values(t, values, envelope)
        psi = values["omega_cbo"] * (t - values["A_drift"] * values["tau_drift"] * np.exp(-t / values["tau_drift"]))
        rel = y / f1 - 1.0
        sw = np.sqrt(f1**2 * w)
        cb = np.stack([e * np.cos(psi), -e * np.sin(psi)], axis=1)
        (a, b), *_ = np.linalg.lstsq(cb * sw[:, None], rel * sw, rcond=None)
        values.update(A_cbo_N=math.hypot(a, b), phi_cbo_N=math.atan2(b, a))
    return values


def fit_histogram(t, y, var, base: minimizer.FitResult, delta_r: float, envelope: str, loss_edges, loss_counts,
                  free: list) -> minimizer.FitResult:
    """Fit one calorimeter / energy-bin histogram: seed by projection, a first pass with smoothed
    data variances, then the final fit with Pearson variances from the first-pass model."""
    loss_edges, loss_counts = np.asarray(loss_edges, float), np.asarray(loss_counts, float)
    start = seed_histogram(t, y, var, base, delta_r, envelope, loss_edges, loss_counts,
                           cbo="A_cbo_N" in free)
    data = minimizer.FitData(t, y, minimizer.first_pass_variance(y, var), loss_edges=loss_edges,
                             loss_counts=loss_counts)
    limits = {k: v for k, v in fit_limits(data).items() if k != "A0"}  # A(E) changes sign with energy
    first = minimizer.fit(data, start, free, delta_r, envelope, limits=limits, intermediate=True)
    f1 = wiggle_model.wiggle(t, first.vector(), delta_r, wiggle_model.ENVELOPES[envelope], loss_edges, loss_counts)
    data.var = minimizer.pearson_variance(y, var, f1)
    return minimizer.fit(data, first.values, free, delta_r, envelope, limits=limits)


def constant_and_line(x, r, err) -> dict:
    """Weighted constant (mean) and straight-line fits of values r +- err against x.

    Points with non-finite r or err are left out. The line is fitted as a + b (x - x_w) with x_w
    the weighted mean of x, so intercept and slope are uncorrelated; errors are not rescaled by
    chi^2/ndf (they are the statistical ones, to judge the chi^2 against).
    """
    x, r, err = (np.asarray(a, dtype=float) for a in (x, r, err))
    ok = np.isfinite(r) & np.isfinite(err) & (err > 0)
    x, r, err = x[ok], r[ok], err[ok]
    out = {"n_points": int(ok.sum())}
    if x.size < 2:
        return out | dict.fromkeys(("mean", "mean_err", "chi2", "ndf", "chi2_ndf", "pvalue", "slope", "slope_err",
                                    "intercept", "line_chi2", "line_ndf", "line_pvalue"), math.nan)
    w = 1.0 / err**2
    mean = float(np.sum(w * r) / np.sum(w))
    chi2 = float(np.sum(w * (r - mean) ** 2))
    ndf = x.size - 1
    out.update(mean=mean, mean_err=float(1.0 / math.sqrt(np.sum(w))), chi2=chi2, ndf=ndf, chi2_ndf=chi2 / ndf,
               pvalue=float(chdtrc(ndf, chi2)))
    xw = float(np.sum(w * x) / np.sum(w))
    sxx = float(np.sum(w * (x - xw) ** 2))
    if x.size < 3 or sxx <= 0:
        out.update(slope=math.nan, slope_err=math.nan, intercept=math.nan, line_chi2=math.nan, line_ndf=math.nan,
                   line_pvalue=math.nan)
        return out
    slope = float(np.sum(w * (x - xw) * (r - mean)) / sxx)
    intercept = mean - slope * xw  # at x = 0
    line_chi2 = float(np.sum(w * (r - mean - slope * (x - xw)) ** 2))
    out.update(slope=slope, slope_err=1.0 / math.sqrt(sxx), intercept=intercept, line_chi2=line_chi2,
               line_ndf=x.size - 2, line_pvalue=float(chdtrc(x.size - 2, line_chi2)))
    return out


# ----------------------------------------------------------------------------------------------
# start-time scan (Fig. 10)


def start_time_scan(t, y, var, base: minimizer.FitResult, delta_r: float, envelope: str, loss_edges, loss_counts,
                    starts, end: float, free=None, variance: str = "pearson", reference: str = "base",
                    penalties: dict | None = None, pass_sigma: float = 2.0) -> dict:
    """Refit the histogram (t, y, var) for each fit start time in ``starts`` (end fixed).

    Every fit starts from the base fit's values. ``free`` defaults to the parameters that matter
    for a start-time scan and were free in the base fit: N0, tau, A0, R, phi0 and the CBO-on-N
    amplitude and phase; everything else stays fixed at the base values (the slow and small terms
    are determined by the early data a scan removes; freeing them makes late-start fits unstable
    and slow without changing what the scan tests). ``penalties`` as in ``fit.fit`` (e.g. a
    penalised tau). Bin variances: ``variance='pearson'`` (default) takes the base model's Pearson
    variances on the full axis, computed once and kept fixed over the scan, which the nested-band
    formula needs; ``'given'`` uses ``var`` as the fit variances (e.g. ``fit_analysis(...)['sigma']**2``).

    Reference point t_0 = starts[0]: with ``reference='base'`` it must be the base fit's window
    (same number of bins) and the base minimum itself is the reference (R(t_0) equals the base R;
    sigma_R(t_0) is HESSE of the scan's chi^2 there, so the band compares like with like; it is
    smaller than the base's sigma_R when the base had more free parameters); with
    ``'refit'`` it is fitted like every other start.

    Returns a dict of arrays over starts: ``start``, ``R``, ``R_err``, ``dR`` = R - R(t_0),
    ``band`` = sqrt(sigma_R^2 - sigma_R(t_0)^2) (the 1-sigma allowed deviation, see the module
    docstring), ``pull`` = dR / band, ``chi2``, ``ndf``, ``pvalue``, ``n_bins``; and the summary
    ``fraction_within_1sigma`` (points after t_0 with |dR| <= band), ``all_within`` (every point
    after t_0 within ``pass_sigma`` bands; the caller decides what to do with it), ``pass_sigma``,
    ``free``, ``R_base``, ``failed`` (starts whose fit did not converge: NaN entries).
    """
    t = _time_axis(t)
    y = _same_shape("y", y, t.shape)
    var = _same_shape("var", var, t.shape)
    starts = np.asarray(starts, dtype=float).ravel()
    if starts.size == 0:
        raise ValueError("starts: no start times given")
    if not np.all(np.isfinite(starts)) or np.any(np.diff(starts) <= 0):
        raise ValueError("starts: start times must be finite and strictly increasing (nested fit windows)")
    if not (np.isfinite(end) and t[0] < end <= t[-1] + 1e-9):
        raise ValueError(f"end: {end} us outside the data ({t[0]:.3f}-{t[-1]:.3f} us)")
    if starts[0] < t[0] or starts[-1] >= end:
        raise ValueError(f"starts: start times {starts[0]}-{starts[-1]} us outside the data/end ({t[0]:.3f}-{end} us)")
    if variance not in ("pearson", "given"):
        raise ValueError(f"variance: expected 'pearson' or 'given', got {variance!r}")
    if reference not in ("base", "refit"):
        raise ValueError(f"reference: expected 'base' or 'refit', got {reference!r}")
    if envelope not in wiggle_model.ENVELOPES:
        raise ValueError(f"envelope: unknown CBO envelope {envelope!r}")
    free = _free_list(free, START_SCAN_FREE, base)
    loss_edges, loss_counts = np.asarray(loss_edges, float), np.asarray(loss_counts, float)
    masks = [(t >= s) & (t <= end) for s in starts]
    n_bins = np.array([int(m.sum()) for m in masks])
    if n_bins[-1] <= len(free):
        raise ValueError(f"starts: last start {starts[-1]} us leaves {n_bins[-1]} bins for {len(free)} parameters")
    base_bins = base.ndf + len(base.free)
    if reference == "base" and n_bins[0] != base_bins:
        raise ValueError(f"starts: first start {starts[0]} us gives {n_bins[0]} bins, the base fit had {base_bins};"
                         " pass reference='refit' to scan from another start")
    if variance == "pearson":
        env = wiggle_model.ENVELOPES[envelope]
        f_base = wiggle_model.wiggle(t, base.vector(), delta_r, env, loss_edges, loss_counts)
        fit_var = minimizer.pearson_variance(y, var, f_base)
    else:
        if np.any(var[masks[0]] <= 0):
            raise ValueError("var: non-positive fit variances in the scan range")
        fit_var = var

    n = starts.size
    r, r_err, chi2, ndf = (np.full(n, np.nan) for _ in range(4))
    failed = []
    for i, m in enumerate(masks):
        data = minimizer.FitData(t[m], y[m], fit_var[m], loss_edges=loss_edges, loss_counts=loss_counts)
        try:
            if i == 0 and reference == "base":
                res = _hesse_at(data, base.values, free, delta_r, envelope, penalties)
            else:
                res = minimizer.fit(data, base.values, free, delta_r, envelope, penalties, limits=fit_limits(data))
        except minimizer.FitError:
            failed.append(float(starts[i]))
            continue
        r[i], r_err[i], chi2[i], ndf[i] = res.values["R"], res.errors["R"], res.chi2, res.ndf
    # nested data sets: var(R_s - R_0) = sigma_s^2 - sigma_0^2 (module docstring)
    d_r = r - r[0]
    band = np.sqrt(np.clip(r_err**2 - r_err[0] ** 2, 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        pull = np.where(band > 0, d_r / band, np.nan)
    later = np.isfinite(d_r[1:]) & np.isfinite(band[1:])
    dl, bl = np.abs(d_r[1:][later]), band[1:][later]
    fraction = float(np.mean(dl <= bl)) if dl.size else math.nan
    all_within = bool(np.all(dl <= pass_sigma * bl)) and not failed
    scan_chi2, scan_ndf = scan_consistency(d_r[1:], band[1:])
    return {"start": starts, "end": float(end), "R": r, "R_err": r_err, "dR": d_r, "band": band, "pull": pull,
            "chi2": chi2, "ndf": ndf, "pvalue": chdtrc(ndf, chi2), "n_bins": n_bins,
            "fraction_within_1sigma": fraction, "all_within": all_within, "pass_sigma": float(pass_sigma),
            "scan_chi2": scan_chi2, "scan_ndf": scan_ndf,
            "scan_pvalue": float(chdtrc(scan_ndf, scan_chi2)) if scan_ndf else math.nan,
            "free": free, "R_base": float(base.values["R"]), "reference": reference, "failed": failed}


def scan_consistency(d_r: np.ndarray, band: np.ndarray):
    """chi^2 of the whole start-time scan against its allowed deviations, with their correlations.

    The later start's data are a subset of the earlier's, so (module docstring)
    cov(R_i - R_0, R_j - R_0) = sigma_i^2 - sigma_0^2 = band_i^2 for t_i <= t_j: the deviations
    walk like a random walk and neighbouring points share most of their excursion. Judging each
    point against its own band alone (``all_within``) fails for some scan in a few tens of percent
    of perfect experiments; this chi^2 (ndf = number of points) has a proper p-value.
    Returns (chi2, ndf) over the finite points with band > 0.
    """
    d_r, band = np.asarray(d_r, float), np.asarray(band, float)
    ok = np.isfinite(d_r) & np.isfinite(band) & (band > 0)
    d, b = d_r[ok], band[ok]
    if d.size == 0:
        return math.nan, 0
    order = np.arange(d.size)  # points in order of start time
    cov = (b**2)[np.minimum.outer(order, order)]
    return float(d @ np.linalg.solve(cov, d)), int(d.size)


# ----------------------------------------------------------------------------------------------
# calorimeter and energy scans (Fig. 11)


def _histogram_scan(counts, var, t, window, base, delta_r, envelope, loss_edges, loss_counts, free, names,
                    min_counts) -> dict:
    t = _time_axis(t)
    counts = np.asarray(counts, dtype=float)
    if counts.ndim != 2 or counts.shape[1] != t.size:
        raise ValueError(f"{names[0]}: expected shape (n, {t.size}) matching t, got {counts.shape}")
    if not np.all(np.isfinite(counts)):
        raise ValueError(f"{names[0]}: contains NaN or infinite values")
    var = _same_shape(names[1], var, counts.shape)
    sel = _window(t, window)
    if envelope not in wiggle_model.ENVELOPES:
        raise ValueError(f"envelope: unknown CBO envelope {envelope!r}")
    free = _free_list(free, HISTOGRAM_SCAN_FREE, base, always=ALWAYS_FREE)
    if sel.sum() <= len(free):
        raise ValueError(f"window: {int(sel.sum())} bins for {len(free)} free parameters")
    n = counts.shape[0]
    r, r_err, chi2, ndf = (np.full(n, np.nan) for _ in range(4))
    fitted = {p: np.full(n, np.nan) for p in free}
    fitted_err = {p: np.full(n, np.nan) for p in free}
    failed, skipped = [], []
    for k in range(n):
        y, v = counts[k, sel], var[k, sel]
        if y.sum() < min_counts:
            skipped.append(k)
            continue
        try:
            res = fit_histogram(t[sel], y, v, base, delta_r, envelope, loss_edges, loss_counts, free)
        except minimizer.FitError:
            failed.append(k)
            continue
        r[k], r_err[k], chi2[k], ndf[k] = res.values["R"], res.errors["R"], res.chi2, res.ndf
        for p in free:
            fitted[p][k], fitted_err[p][k] = res.values[p], res.errors[p]
    return {"R": r, "R_err": r_err, "chi2": chi2, "ndf": ndf, "pvalue": chdtrc(ndf, chi2),
            "parameters": fitted, "parameter_errors": fitted_err, "free": free, "failed": failed, "skipped": skipped}


def per_calorimeter_scan(counts_calo_t, var_calo_t, t, window, base: minimizer.FitResult, delta_r: float, envelope: str,
                         loss_edges, loss_counts, free=None) -> dict:
    """Fit each calorimeter's histogram (rows of ``counts_calo_t``, shape [n_calo, n_t], variances
    ``var_calo_t``) in ``window``, then a constant and a straight line in calorimeter index.

    Free by default: N0, A0, R, phi0, and the CBO-on-N amplitude and phase if the base fit had
    them free (each calorimeter sees its own CBO phase); the other parameters (tau, CBO frequency
    and envelope, vertical terms, losses) stay at the base (calorimeter-sum) values. Each
    calorimeter is seeded by a linear projection at the base omega and tau (``seed_histogram``).

    Returns ``calo`` (index 1..n, as in Fig. 11), ``R``, ``R_err``, each calorimeter's own fit
    ``fit_chi2``/``fit_ndf``/``fit_pvalue`` (Pearson chi^2: not chi^2-distributed where a single
    calorimeter has << 1 entry per bin late in the fill), ``parameters`` and ``parameter_errors``
    of the free parameters, ``failed`` (0-based rows whose fit did not converge: NaN, left out of
    the summary fits), and the summary fits of R against calorimeter index (``constant_and_line``):
    ``mean``, ``mean_err``, ``chi2``, ``ndf``, ``chi2_ndf``, ``pvalue`` of the constant; ``slope``,
    ``slope_err`` (ppm per calorimeter), ``intercept``, ``line_chi2``, ``line_ndf``, ``line_pvalue``.
    """
    out = _histogram_scan(counts_calo_t, var_calo_t, t, window, base, delta_r, envelope, loss_edges, loss_counts,
                          free, ("counts_calo_t", "var_calo_t"), -math.inf)
    out.pop("skipped")
    calo = np.arange(1, out["R"].size + 1)
    summary = constant_and_line(calo, out["R"], out["R_err"])
    fit_chi2 = {"chi2": "fit_chi2", "ndf": "fit_ndf", "pvalue": "fit_pvalue"}
    out = {fit_chi2.get(k, k): v for k, v in out.items()}
    return {"calo": calo} | out | summary


def energy_scan(counts_e_t, var_e_t, t, window, energy_edges, base: minimizer.FitResult, delta_r: float, envelope: str,
                loss_edges, loss_counts, free=None, min_counts: float = 1e4,
                min_asymmetry_significance: float = 10.0) -> dict:
    """Fit each energy bin's histogram (rows of ``counts_e_t``, shape [n_e, n_t]; ``energy_edges``
    the n_e + 1 bin edges in GeV, e.g. coarse bins summed from the recorded ones with
    ``np.add.reduceat``) as in ``per_calorimeter_scan``, then a constant (and a line in energy).

    The asymmetry changes sign with energy, so A0 has no limit here and a negative asymmetry
    appears as A0 > 0 with phi0 shifted by pi. Bins with fewer than ``min_counts`` entries in the
    window are skipped (``skipped``, NaN); bins near the asymmetry's zero crossing carry little
    information on R: those with |A0| < ``min_asymmetry_significance`` sigma are fitted but left
    out of the constant and line (``weak_asymmetry``). Returns ``energy`` (bin centres), ``energy_edges``,
    ``R``, ``R_err``, per-bin ``fit_chi2``/``fit_ndf``/``fit_pvalue``, ``parameters``,
    ``parameter_errors``, ``failed``,
    ``skipped`` and the summary of ``constant_and_line`` against the bin-centre energy: the
    constant's ``chi2``, ``ndf``, ``pvalue`` (and ``slope``/``slope_err`` in ppm per GeV).
    """
    counts = np.asarray(counts_e_t, dtype=float)
    if counts.ndim != 2:
        raise ValueError(f"counts_e_t: expected a 2-D array [n_e, n_t], got shape {counts.shape}")
    edges = np.asarray(energy_edges, dtype=float).ravel()
    n_e = counts.shape[0]
    if edges.size != n_e + 1 or not np.all(np.isfinite(edges)) or np.any(np.diff(edges) <= 0):
        raise ValueError(f"energy_edges: expected {n_e + 1} strictly increasing edges for {n_e} energy rows,"
                         f" got {edges.size}")
    if not np.isfinite(min_counts) or min_counts < 0:
        raise ValueError(f"min_counts: expected a non-negative number, got {min_counts!r}")
    out = _histogram_scan(counts, var_e_t, t, window, base, delta_r, envelope, loss_edges, loss_counts, free,
                          ("counts_e_t", "var_e_t"), min_counts)
    centres = 0.5 * (edges[1:] + edges[:-1])
    # near A(E) = 0 (about 1.3 GeV in the lab) R is barely determined and its estimate neither
    # Gaussian nor unbiased (omega and phase of a vanishing oscillation): such bins are fitted
    # and shown, but left out of the constant and the line
    a0, a0_err = out["parameters"]["A0"], out["parameter_errors"]["A0"]
    weak = np.isfinite(a0) & (np.abs(a0) < min_asymmetry_significance * a0_err)
    summary = constant_and_line(centres, np.where(weak, np.nan, out["R"]), out["R_err"])
    out["weak_asymmetry"] = np.flatnonzero(weak).tolist()
    fit_chi2 = {"chi2": "fit_chi2", "ndf": "fit_ndf", "pvalue": "fit_pvalue"}
    out = {fit_chi2.get(k, k): v for k, v in out.items()}
    return {"energy": centres, "energy_edges": edges} | out | summary
