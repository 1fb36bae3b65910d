"""The fast-rotation signal and the joint distribution of revolution frequency and injection time
(Run-2/3 report Sec. V A 1, Eq. 15-16).

The calorimeter-aligned positron rate early in the fill is a sum of pulse trains: a muon
injected at tau with revolution frequency f passes the reference azimuth at tau + m / f. Divided
by its own average over one revolution (which removes the decay, the wiggle and every other slow
feature, as binning at T_c does in the paper's fit method) it becomes the fast-rotation ratio,
linear in the joint distribution rho(f, tau):

    R_k = sum_ij B_ij,k rho_ij                                               (Eq. 16)

B_ij,k is the mean number of passages per revolution of a muon uniformly spread over the (f, tau)
cell ij that fall in time bin k, computed exactly (uniform tau plus the nearly uniform m/f of the
cell is a trapezoid). rho is fitted non-negative on the grid: no shape is imposed on the
frequency distribution or on how it changes along the bunch, so the momentum-time correlation
the kicker leaves (Fig. 14) is part of the result. Times in us, frequencies in MHz.

The Fourier method (``fourier_distribution``) works where its assumption holds: without the
kicker's momentum-time correlation it recovers the detected population's C_e within a few % at
1e7 positrons; with the default correlation it is tens of % high, as the paper warns (test).

Status: a free non-negative (f, tau) grid (``fit_joint_distribution`` here) is ill-conditioned on
the toy's signal (run2, 10-60 us, 30 x 20 cells: chi^2/ndf 0.99 with a 21 mm rms x_e against ~9 mm
true). The chi^2 method used downstream (``efield.fit_joint_distribution``) constrains the shape:
a free x_e distribution, the injection-time profile from the first turns and one log-linear
momentum-time correlation.
"""

from __future__ import annotations

import numpy as np
from numba import njit
from scipy.optimize import lsq_linear

from ..constants import BETA_MAGIC, MAGIC_RADIUS_MM, OMEGA_C_MAGIC

F0_MHZ = OMEGA_C_MAGIC / (2.0 * np.pi)  # magic revolution frequency


def calorimeter_alignment_delay_ns(x_mm) -> np.ndarray:
    """Mean delay (ns) of a muon at equilibrium radius R0 + x in the calorimeter-aligned
    fast-rotation signal, against the passage times the debunching basis assumes.

    Calorimeter k's times are shifted back by its azimuth at the magic period T0
    (``records.binning.CALO_ALIGN_US``). A muon of period T_x that decays at azimuth phi is
    therefore seen at t0 + n T_x + (phi / 2 pi)(T_x - T0); decays are uniform in phi, so on
    average (T_x - T0) / 2 = T0 x / (2 R0) late: 0.0105 ns per mm, a momentum-time correlation
    of +T0 / (2 (1 - n)) = 0.084 us per unit delta that the detector adds and the injection did
    not."""
    return 0.5e3 / F0_MHZ * np.asarray(x_mm, dtype=float) / MAGIC_RADIUS_MM


def rebin(counts, factor: int) -> np.ndarray:
    """Sum groups of ``factor`` adjacent bins (a trailing partial group is dropped)."""
    c = np.asarray(counts, dtype=float)
    n = c.size // factor
    return c[: n * factor].reshape(n, factor).sum(axis=1)


def period_kernel(period_us: float, bin_us: float) -> np.ndarray:
    """Weights of a running average over exactly one period on bins of ``bin_us``: whole bins
    inside, the two edge bins with the fraction of the period they cover (odd length, centred)."""
    length = period_us / bin_us
    if length < 1.0:
        raise ValueError(f"period {period_us} us is shorter than a bin ({bin_us} us)")
    n_full = int(np.floor(0.5 * (length - 1.0)))  # whole bins each side of the centre
    edge = 0.5 * (length - (2 * n_full + 1))  # what is left of the period, in [0, 1)
    kernel = np.concatenate([[edge], np.ones(2 * n_full + 1), [edge]])
    return kernel / length


def fast_rotation_ratio(counts, bin_us: float, period_us: float = 1.0 / F0_MHZ):
    """counts / (their average over one revolution centred on each bin) and its Poisson error:
    (ratio, sigma); the first and last half revolution are NaN."""
    c = np.asarray(counts, dtype=float)
    kernel = period_kernel(period_us, bin_us)
    avg = np.convolve(c, kernel, mode="same")
    ratio = np.full_like(c, np.nan)
    sigma = np.full_like(c, np.nan)
    m = kernel.size // 2
    ok = np.zeros(c.size, bool)
    ok[m: c.size - m] = True
    ok &= avg > 0
    ratio[ok] = c[ok] / avg[ok]
    sigma[ok] = np.sqrt(np.maximum(c[ok], 1.0)) / avg[ok]
    return ratio, sigma


@njit(cache=True)
def _sum_of_uniforms_cdf(s, w1, w2):
    """CDF of U[0, w1] + U[0, w2] at s: a trapezoid's integral."""
    a, b = min(w1, w2), max(w1, w2)
    s = min(max(s, 0.0), a + b)
    if s <= a:
        return s * s / (2.0 * a * b)
    if s <= b:
        return (s - 0.5 * a) / b
    return 1.0 - (a + b - s) ** 2 / (2.0 * a * b)


@njit(cache=True)
def _fill_basis(basis_t, rate, weights, t0, bw, f_edges, tau_edges):
    """Eq. 16 cell by cell: with ``weights`` empty, each cell's column of the basis into
    basis_t [cells, time bins]; otherwise sum_cells weight x column into ``rate`` directly."""
    n_t = basis_t.shape[1] if weights.size == 0 else rate.size
    t_end = t0 + n_t * bw
    col = 0
    for i in range(f_edges.size - 1):
        p_lo, p_hi = 1.0 / f_edges[i + 1], 1.0 / f_edges[i]  # revolution periods of the cell
        scale = 0.5 * (p_lo + p_hi) / bw
        for j in range(tau_edges.size - 1):
            tau_lo, w_tau = tau_edges[j], tau_edges[j + 1] - tau_edges[j]
            m_first = max(0, int((t0 - tau_edges[j + 1]) / p_hi) - 1)
            m_last = int((t_end - tau_lo) / p_lo) + 2
            c = scale * weights[col] if weights.size else 0.0
            if weights.size and c == 0.0:
                col += 1
                continue
            for m in range(m_first, m_last):
                # turn m of the cell: passages tau + m/f spread over [start, start + w_tau + w_m]
                start = tau_lo + m * p_lo
                w_m = max(m * (p_hi - p_lo), 1e-12)
                k_lo = int(np.floor((start - t0) / bw))
                for k in range(max(k_lo, 0), min(k_lo + int(np.ceil((w_tau + w_m) / bw)) + 2, n_t)):
                    p = (_sum_of_uniforms_cdf(t0 + (k + 1) * bw - start, w_tau, w_m)
                         - _sum_of_uniforms_cdf(t0 + k * bw - start, w_tau, w_m))
                    if weights.size:
                        rate[k] += c * p
                    else:
                        basis_t[col, k] += p
            if weights.size == 0:
                basis_t[col] *= scale
            col += 1


def _equal_bins(t_edges):
    t_edges = np.asarray(t_edges, dtype=float)
    width = np.diff(t_edges)
    if not np.allclose(width, width[0]):
        raise ValueError("t_edges: the basis needs equal time bins")
    return float(t_edges[0]), float(width[0]), t_edges.size - 1


def debunching_basis(t_edges, f_edges, tau_edges) -> np.ndarray:
    """B [time bins, f cells x tau cells]: per unit weight of a cell, the passages falling in
    each time bin times the mean revolution period over the bin width (so that a uniform ring of
    muons gives R = 1). Each turn m of a cell spreads its passages tau + m/f as uniform tau plus
    the nearly uniform m/f: a trapezoid, integrated exactly over the bins."""
    t0, bw, n_t = _equal_bins(t_edges)
    f_edges, tau_edges = np.asarray(f_edges, float), np.asarray(tau_edges, float)
    basis_t = np.zeros(((f_edges.size - 1) * (tau_edges.size - 1), n_t))
    _fill_basis(basis_t, np.empty(0), np.empty(0), t0, bw, f_edges, tau_edges)
    return np.ascontiguousarray(basis_t.T)


def debunching_rate(t_edges, f_edges, tau_edges, weights) -> np.ndarray:
    """B @ weights (Eq. 16) without building B: the ratio a distribution over the (f, tau)
    cells (flattened as the basis' columns) gives on equal time bins."""
    t0, bw, n_t = _equal_bins(t_edges)
    f_edges, tau_edges = np.asarray(f_edges, float), np.asarray(tau_edges, float)
    weights = np.ascontiguousarray(weights, dtype=float)
    if weights.size != (f_edges.size - 1) * (tau_edges.size - 1):
        raise ValueError(f"weights: {weights.size} values for {(f_edges.size - 1) * (tau_edges.size - 1)} cells")
    rate = np.zeros(n_t)
    _fill_basis(np.empty((0, 0)), rate, weights, t0, bw, f_edges, tau_edges)
    return rate


def fit_joint_distribution(ratio, sigma, basis, n_f: int, n_tau: int) -> dict:
    """Non-negative weighted least squares of the ratio on the basis: rho [n_f, n_tau]
    (normalised), chi^2, ndf, and the covariance of the cells the fit leaves free. Unconstrained:
    see the module's status note before trusting rho."""
    ok = np.isfinite(ratio) & np.isfinite(sigma) & (sigma > 0)
    a = basis[ok] / sigma[ok, None]
    y = ratio[ok] / sigma[ok]
    res = lsq_linear(a, y, bounds=(0.0, np.inf), method="bvls", tol=1e-12)
    rho = res.x
    chi2 = float(np.sum((a @ rho - y) ** 2))
    free = rho > 0
    cov = np.zeros((rho.size, rho.size))
    if free.any():
        af = a[:, free]
        cov[np.ix_(free, free)] = np.linalg.pinv(af.T @ af)
    norm = rho.sum()
    return {"rho": (rho / norm).reshape(n_f, n_tau), "norm": norm, "chi2": chi2,
            "ndf": int(ok.sum() - free.sum()), "cov": cov / norm**2, "free": free.reshape(n_f, n_tau)}


def radial_offset(f_mhz, omega_c0: float = OMEGA_C_MAGIC) -> np.ndarray:
    """Equilibrium radius offset x_e (mm) of a revolution frequency (Eq. 14, beta constant)."""
    return MAGIC_RADIUS_MM * (omega_c0 / (2.0 * np.pi * np.asarray(f_mhz, dtype=float)) - 1.0)


def fourier_distribution(ratio, t_us, t_start_us: float = 10.0, t_end_us: float = 250.0,
                         phase_window_us=(4.0, 8.0), half_band_mhz: float = 0.15, step_mhz: float = 5e-4,
                         aperture_mm: float = 45.0, iterations: int = 6) -> dict:
    """The frequency distribution by the Fourier method: the cosine transform of the fast-rotation
    ratio from t_start (after scraping) with the bunch centre t0 as reference.

    * t0 from the phase of the ratio's fundamental over ``phase_window_us``, demodulated at the
      distribution's own mean frequency (at f0 the phase drifts by 2 pi (f_mean - f0) t and t0
      comes out ns off);
    * the truncation background of starting at t_start: -int rho(f') sin(2 pi (f - f')(t_start -
      t0)) / (2 pi (f - f')) df', which for a distribution much narrower than 1/t_start is a sinc
      centred on the mean frequency; its amplitude is fitted outside the aperture and subtracted;
    * the distribution is zero outside the aperture (|x_e| < a) and non-negative.

    Assumes rho(f, tau) separable: a momentum-time correlation biases it (Sec. V A 1). Returns
    frequencies (MHz), x_e (mm), the normalised distribution, t0 and the background amplitude."""
    t = np.asarray(t_us, dtype=float)
    r = np.asarray(ratio, dtype=float)
    f = F0_MHZ + np.arange(-half_band_mhz, half_band_mhz, step_mhz)
    x = radial_offset(f)
    band, outside = np.abs(x) < aperture_mm, np.abs(x) > aperture_mm + 5.0
    early = (t > phase_window_us[0]) & (t < phase_window_us[1]) & np.isfinite(r)
    sel = (t >= t_start_us) & (t < t_end_us) & np.isfinite(r)
    if sel.sum() < 1000 or early.sum() < 100:
        raise ValueError("fast rotation: too few finite bins for the Fourier analysis")
    dt = float(np.median(np.diff(t)))
    # sum (r - 1) exp(2 pi i f t) once: the transform about any t0 is its real part turned by
    # exp(-2 pi i f t0), so the iterations on t0 cost nothing
    spectrum = _spectrum(np.where(sel, r - 1.0, 0.0), t, f, sel)
    f_mean = F0_MHZ
    for _ in range(iterations):
        z = np.sum((r[early] - 1.0) * np.exp(-2j * np.pi * f_mean * t[early]))
        t0 = -np.angle(z) / (2 * np.pi * f_mean)
        t0 = (t0 + 0.5 / f_mean) % (1.0 / f_mean) - 0.5 / f_mean
        c = np.real(spectrum * np.exp(-2j * np.pi * f * t0)) * dt
        shape = np.sinc(2.0 * (f - f_mean) * (t_start_us - t0))
        amp = float(np.sum(c[outside] * shape[outside]) / np.sum(shape[outside] ** 2))
        rho = np.where(band, np.clip(c - amp * shape, 0.0, None), 0.0)
        if not rho.sum() > 0:
            raise ValueError("fast rotation: no distribution left inside the aperture")
        rho = rho / rho.sum()
        f_mean = float(rho @ f)
    return {"f_mhz": f, "x_mm": x, "rho": rho, "t0_us": float(t0), "background": amp, "step_mhz": step_mhz}


def _spectrum(y, t, f, sel) -> np.ndarray:
    """sum_k y_k exp(2 pi i f_j t_k) over the selected bins, for equally spaced f_j.

    On equal time bins this is a chirp-z transform (scipy.signal.czt, O((n + m) log)) over the
    span of the selection, the unselected bins inside it contributing zero; otherwise the
    direct sum, in chunks to bound memory."""
    from scipy.signal import czt

    idx = np.flatnonzero(sel)
    lo, hi = idx[0], idx[-1] + 1
    dt = np.diff(t[lo:hi])
    df = np.diff(f)
    if np.allclose(dt, dt[0], rtol=1e-9, atol=0) and np.allclose(df, df[0], rtol=1e-9, atol=0):
        # exp(2 pi i (f_0 + j df)(t_lo + k dt)) = exp(2 pi i f_j t_lo) a^-k w^(jk)
        a = np.exp(-2j * np.pi * f[0] * dt[0])
        w = np.exp(2j * np.pi * df[0] * dt[0])
        return np.exp(2j * np.pi * f * t[lo]) * czt(y[lo:hi], m=f.size, w=w, a=a)
    ys, ts = y[idx], t[idx]
    out = np.zeros(f.size, dtype=complex)
    for i in range(0, ts.size, 16384):
        out += np.exp(2j * np.pi * np.outer(f, ts[i: i + 16384])) @ ys[i: i + 16384]
    return out


def efield_coefficient(field_index: float, beta2: float = BETA_MAGIC**2, radius_mm: float = MAGIC_RADIUS_MM) -> float:
    """Eq. 13's factor: C_e = 2 n (1 - n) beta^2 / R0^2 x <x_e^2> (per mm^2)."""
    return 2.0 * field_index * (1.0 - field_index) * beta2 / radius_mm**2


def efield_correction(x_mm, weights, field_index: float, beta2: float = BETA_MAGIC**2,
                      radius_mm: float = MAGIC_RADIUS_MM) -> float:
    """Eq. 13: C_e = 2 n (1 - n) beta^2 <x_e^2> / R0^2 (fractional) for an x_e distribution."""
    w = np.asarray(weights, dtype=float)
    return efield_coefficient(field_index, beta2, radius_mm) * float(w @ np.asarray(x_mm) ** 2) / w.sum()


def efield_blind_slope(x_mm, weights, field_index: float, beta2: float = BETA_MAGIC**2,
                       radius_mm: float = MAGIC_RADIUS_MM) -> float:
    """dC_e / d eps_hw: the fast-rotation times are on the blinded clock, so every frequency reads
    (1 + eps) high and x_e = R0 (omega_c0 (1 + eps) / omega_measured - 1) moves by (R0 + x_e) eps.
    C_e(true) = C_e(eps = 0) + eps x this slope; only ``unblind`` knows eps."""
    w = np.asarray(weights, dtype=float)
    x = np.asarray(x_mm, dtype=float)
    return 2.0 * efield_coefficient(field_index, beta2, radius_mm) * float(w @ (x * (radius_mm + x))) / w.sum()
