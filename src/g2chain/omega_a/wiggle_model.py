"""The omega_a^m fit function, Eq. 7-9 of the Run-2/3 report, compiled with numba.

    f(t) = N0 N_x N_y N_xy Lambda e^{-t/tau} [1 + A0 A_x cos(omega t - phi0 - phi_x)] + ringing

with omega = omega_ref (1 + [R - Delta R] 1e-6) (Eq. 5, R blinded by the group's Delta R),
    N_x   = 1 + A_N e(t) cos(psi + phi_N) + A_2 e(t)^2 cos(2 psi + phi_2)       (Eq. 8, CBO and 2CBO)
    A_x   = 1 + A_A e(t) cos(psi + phi_A),   phi_x = A_phi e(t) cos(psi + phi_phi)
    N_y   = 1 + A_vw e^{-t/tau_vw} cos(omega_vw t + phi_vw) + A_y e^{-t/tau_y} cos(omega_y t + phi_y)
    N_xy  = 1 + A_xy e^{-t/tau_vw} e(t) cos(omega_vw t - psi + phi_xy)           (VW - CBO)
    Lambda = 1 - k_loss int_0^t L(t') e^{t'/tau} dt' / sum L                     (Eq. 9)
    psi   = omega_cbo (t - A_d tau_d e^{-t/tau_d})        i.e. omega_cbo(t) = omega_cbo (1 + A_d e^{-t/tau_d})
            (the constant phase omega_cbo A_d tau_d of the integral is left to phi_CBO: with a fit
            starting at 30 us it would otherwise be almost degenerate with it)
    e(t)  = e^{-t/tau_cbo}  |  e^{-t/tau_cbo} + C  |  1 / (1 + t/tau_cbo)       (envelope families)
    ringing = N0 A_ring e^{-t/tau_ring} cos(omega_ring t + phi_ring)            (energy-based, additive)

Parameters a group does not use are fixed at neutral values (zero amplitude), so one compiled
function serves all 19 analyses.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ..constants import OMEGA_REF

PARAMS = (
    "N0", "tau", "A0", "R", "phi0",
    "A_cbo_N", "phi_cbo_N", "omega_cbo", "tau_cbo", "C_cbo",
    "A_cbo_A", "phi_cbo_A", "A_cbo_phi", "phi_cbo_phi",
    "A_2cbo", "phi_2cbo",
    "A_vw", "phi_vw", "omega_vw", "tau_vw",
    "A_y", "phi_y", "omega_y", "tau_y",
    "A_xy", "phi_xy",
    "k_loss", "A_drift", "tau_drift",
    "A_ring", "phi_ring", "omega_ring", "tau_ring",
)
INDEX = {name: i for i, name in enumerate(PARAMS)}
N_PARAMS = len(PARAMS)
ENVELOPES = {"exp": 0, "exp+C": 1, "reciprocal": 2}

# neutral values: every optional term off; time constants finite so the terms stay defined
NEUTRAL = dict.fromkeys(PARAMS, 0.0)
NEUTRAL.update(tau=64.4, tau_cbo=200.0, tau_vw=30.0, tau_y=100.0, tau_drift=15.0, tau_ring=20.0, omega_ring=10.0)


# On a uniform time grid the exponentials and the linear phases of Eq. 7-9 follow by
# recurrence, e^{-(t + dt)/tau} = e^{-t/tau} e^{-dt/tau} and a rotation by omega dt, anchored to
# the exact value every GRID_ANCHOR bins (the rounding grows to ~GRID_ANCHOR ulp in between):
# a transcendental call per 32 bins instead of one per bin.
GRID_ANCHOR = 32


@njit(cache=True)
def grid_step(t):
    """The step of t if it is a uniform grid (every step within 1e-9 of the mean), else 0."""
    n = t.size
    if n < 2:
        return 0.0
    dt = (t[n - 1] - t[0]) / (n - 1)
    if not dt > 0.0:
        return 0.0
    for i in range(1, n):
        if abs(t[i] - t[i - 1] - dt) > 1e-9 * dt:
            return 0.0
    return dt


@njit(cache=True, fastmath=True)
def exp_grid(t, rate, dt):
    """exp(-rate t) at every t; by recurrence where ``dt`` > 0 (t uniform with that step)."""
    out = np.empty(t.size)
    if dt > 0.0:
        q = math.exp(-rate * dt)
        e = 0.0
        for i in range(t.size):
            e = math.exp(-rate * t[i]) if i % GRID_ANCHOR == 0 else e * q
            out[i] = e
    else:
        for i in range(t.size):
            out[i] = math.exp(-rate * t[i])
    return out


@njit(cache=True, fastmath=True)
def cos_sin_grid(t, omega, phase, dt):
    """(cos, sin)(omega t + phase) at every t; by rotation where ``dt`` > 0 (t uniform)."""
    n = t.size
    c_out, s_out = np.empty(n), np.empty(n)
    if dt > 0.0:
        cd, sd = math.cos(omega * dt), math.sin(omega * dt)
        c, s = 0.0, 0.0
        for i in range(n):
            if i % GRID_ANCHOR == 0:
                c, s = math.cos(omega * t[i] + phase), math.sin(omega * t[i] + phase)
            else:
                c, s = c * cd - s * sd, s * cd + c * sd
            c_out[i], s_out[i] = c, s
    else:
        for i in range(n):
            c_out[i], s_out[i] = math.cos(omega * t[i] + phase), math.sin(omega * t[i] + phase)
    return c_out, s_out


@njit(cache=True, fastmath=True)
def _loss_cumulant(t, tau, loss_edges, loss_counts, dtau):
    """int_0^t L(t') w(t') dt' / sum L with w = e^{t'/tau} (``dtau`` False) or its tau derivative
    -t'/tau^2 e^{t'/tau} (``dtau`` True); L piecewise constant in bins, linear in between."""
    nb = loss_counts.size
    cum = np.empty(nb + 1)
    cum[0] = 0.0
    total = 0.0
    centres = 0.5 * (loss_edges[:-1] + loss_edges[1:])
    growth = exp_grid(centres, -1.0 / tau, grid_step(centres))
    for j in range(nb):
        w = growth[j]
        if dtau:
            w *= -centres[j] / (tau * tau)
        cum[j + 1] = cum[j] + loss_counts[j] * w
        total += loss_counts[j]
    out = np.zeros(t.size)
    if total <= 0.0:
        return out  # no losses measured: Lambda = 1
    width = loss_edges[1] - loss_edges[0]
    for i in range(t.size):
        x = (t[i] - loss_edges[0]) / width
        if x <= 0.0:
            out[i] = 0.0
        elif x >= nb:
            out[i] = cum[nb] / total
        else:
            k = int(x)
            out[i] = (cum[k] + (x - k) * (cum[k + 1] - cum[k])) / total
    return out


@njit(cache=True, fastmath=True)
def loss_integral(t, tau, loss_edges, loss_counts):
    """int_0^t L(t') e^{t'/tau} dt' / sum L for sorted or unsorted t (L piecewise constant in bins)."""
    return _loss_cumulant(t, tau, loss_edges, loss_counts, False)


@njit(cache=True, fastmath=True)
def loss_integral_dtau(t, tau, loss_edges, loss_counts):
    """d/dtau of ``loss_integral`` (the e^{t'/tau} weight makes Lambda depend on the lifetime)."""
    return _loss_cumulant(t, tau, loss_edges, loss_counts, True)


@njit(cache=True, fastmath=True)
def wiggle(t, p, delta_r_ppm, envelope, loss_edges, loss_counts):
    """Eq. 7 at times t (blinded clock, us) for parameter vector p (order of PARAMS)."""
    n0, tau, a0, r, phi0 = p[0], p[1], p[2], p[3], p[4]
    omega = OMEGA_REF * (1.0 + (r - delta_r_ppm) * 1e-6)
    a_n, ph_n, w_cbo, tau_cbo, c_cbo = p[5], p[6], p[7], p[8], p[9]
    a_a, ph_a, a_ph, ph_ph = p[10], p[11], p[12], p[13]
    a_2, ph_2 = p[14], p[15]
    a_vw, ph_vw, w_vw, tau_vw = p[16], p[17], p[18], p[19]
    a_y, ph_y, w_y, tau_y = p[20], p[21], p[22], p[23]
    a_xy, ph_xy = p[24], p[25]
    k_loss, a_d, tau_d = p[26], p[27], p[28]
    a_r, ph_r, w_r, tau_r = p[29], p[30], p[31], p[32]
    if k_loss != 0.0:
        lam = loss_integral(t, tau, loss_edges, loss_counts)
    else:
        lam = np.zeros(t.size)
    # the constant phases' cosines and sines once: each term's phase is then an angle addition
    # to psi or omega_vw t (one cos and sin of each per bin instead of one per term)
    cn, sn, ca, sa, cq, sq = math.cos(ph_n), math.sin(ph_n), math.cos(ph_a), math.sin(ph_a), math.cos(ph_ph), \
        math.sin(ph_ph)
    c2, s2, cv, sv, cxy, sxy = math.cos(ph_2), math.sin(ph_2), math.cos(ph_vw), math.sin(ph_vw), math.cos(ph_xy), \
        math.sin(ph_xy)
    dt = grid_step(t)
    dec, e_d, e_vw, e_y = exp_grid(t, 1.0 / tau, dt), exp_grid(t, 1.0 / tau_d, dt), exp_grid(t, 1.0 / tau_vw, dt), \
        exp_grid(t, 1.0 / tau_y, dt)
    e_cbo = exp_grid(t, 1.0 / tau_cbo, dt)
    cw_all, sw_all = cos_sin_grid(t, w_vw, 0.0, dt)
    cy_all, _ = cos_sin_grid(t, w_y, ph_y, dt)
    out = np.empty(t.size)
    for i in range(t.size):
        ti = t[i]
        if envelope == 0:
            env = e_cbo[i]
        elif envelope == 1:
            env = e_cbo[i] + c_cbo
        else:
            env = 1.0 / (1.0 + ti / tau_cbo)
        psi = w_cbo * (ti - a_d * tau_d * e_d[i])
        cp, sp = math.cos(psi), math.sin(psi)
        c2p, s2p = cp * cp - sp * sp, 2.0 * sp * cp
        nx = 1.0 + a_n * env * (cp * cn - sp * sn) + a_2 * env * env * (c2p * c2 - s2p * s2)
        ax = 1.0 + a_a * env * (cp * ca - sp * sa)
        phx = a_ph * env * (cp * cq - sp * sq)
        cw, sw = cw_all[i], sw_all[i]
        ny = 1.0 + a_vw * e_vw[i] * (cw * cv - sw * sv) + a_y * e_y[i] * cy_all[i]
        cm, sm = cw * cp + sw * sp, sw * cp - cw * sp  # omega_vw t - psi
        nxy = 1.0 + a_xy * e_vw[i] * env * (cm * cxy - sm * sxy)
        f = n0 * nx * ny * nxy * (1.0 - k_loss * lam[i]) * dec[i]
        f *= 1.0 + a0 * ax * math.cos(omega * ti - phi0 - phx)
        if a_r != 0.0:
            f += n0 * a_r * math.exp(-ti / tau_r) * math.cos(w_r * ti + ph_r)
        out[i] = f
    return out


@njit(cache=True, fastmath=True)
def wiggle_jacobian(t, p, delta_r_ppm, envelope, loss_edges, loss_counts):
    """Eq. 7 and its analytic derivatives: (f, J) with J[i, k] = df(t_i)/dp_k for all PARAMS.

    Written out by the chain rule through the factors of Eq. 7-9 (f = N0 N_x N_y N_xy Lambda
    e^{-t/tau} W + ringing, W = 1 + A0 A_x cos theta, theta = omega t - phi0 - phi_x), so that
    least squares can take Gauss-Newton steps and the covariance (J^T V^-1 J)^-1 without a
    numerical Hessian. Tested against finite differences.
    """
    n0, tau, a0, r, phi0 = p[0], p[1], p[2], p[3], p[4]
    omega = OMEGA_REF * (1.0 + (r - delta_r_ppm) * 1e-6)
    a_n, ph_n, w_cbo, tau_cbo, c_cbo = p[5], p[6], p[7], p[8], p[9]
    a_a, ph_a, a_ph, ph_ph = p[10], p[11], p[12], p[13]
    a_2, ph_2 = p[14], p[15]
    a_vw, ph_vw, w_vw, tau_vw = p[16], p[17], p[18], p[19]
    a_y, ph_y, w_y, tau_y = p[20], p[21], p[22], p[23]
    a_xy, ph_xy = p[24], p[25]
    k_loss, a_d, tau_d = p[26], p[27], p[28]
    a_r, ph_r, w_r, tau_r = p[29], p[30], p[31], p[32]
    lam = loss_integral(t, tau, loss_edges, loss_counts)
    dlam = loss_integral_dtau(t, tau, loss_edges, loss_counts)
    n = t.size
    f = np.empty(n)
    jac = np.zeros((n, 33))
    cn, sn, ca, sa, cq, sq = math.cos(ph_n), math.sin(ph_n), math.cos(ph_a), math.sin(ph_a), math.cos(ph_ph), \
        math.sin(ph_ph)
    c2, s2, cv, sv, cxy, sxy = math.cos(ph_2), math.sin(ph_2), math.cos(ph_vw), math.sin(ph_vw), math.cos(ph_xy), \
        math.sin(ph_xy)
    dt = grid_step(t)
    dec_all, e_d_all, e_vw_all, e_y_all = exp_grid(t, 1.0 / tau, dt), exp_grid(t, 1.0 / tau_d, dt), \
        exp_grid(t, 1.0 / tau_vw, dt), exp_grid(t, 1.0 / tau_y, dt)
    e_cbo, e_r_all = exp_grid(t, 1.0 / tau_cbo, dt), exp_grid(t, 1.0 / tau_r, dt)
    cw_all, sw_all = cos_sin_grid(t, w_vw, 0.0, dt)
    cy_all, sy_all = cos_sin_grid(t, w_y, ph_y, dt)
    cr_all, sr_all = cos_sin_grid(t, w_r, ph_r, dt)
    for i in range(n):
        ti = t[i]
        # CBO envelope e(t) and its tau_cbo, C derivatives
        if envelope == 0:
            env = e_cbo[i]
            de_dtau = env * ti / (tau_cbo * tau_cbo)
            de_dc = 0.0
        elif envelope == 1:
            ex = e_cbo[i]
            env = ex + c_cbo
            de_dtau = ex * ti / (tau_cbo * tau_cbo)
            de_dc = 1.0
        else:
            env = 1.0 / (1.0 + ti / tau_cbo)
            de_dtau = env * env * ti / (tau_cbo * tau_cbo)
            de_dc = 0.0
        e_d = e_d_all[i]
        psi = w_cbo * (ti - a_d * tau_d * e_d)
        # every CBO phase by angle addition to psi (one cos and sin per bin, see ``wiggle``)
        cp, sp = math.cos(psi), math.sin(psi)
        c_n, s_n = cp * cn - sp * sn, sp * cn + cp * sn
        c2p, s2p = cp * cp - sp * sp, 2.0 * sp * cp
        c_2, s_2 = c2p * c2 - s2p * s2, s2p * c2 + c2p * s2
        c_a, s_a = cp * ca - sp * sa, sp * ca + cp * sa
        c_p, s_p = cp * cq - sp * sq, sp * cq + cp * sq
        nx = 1.0 + a_n * env * c_n + a_2 * env * env * c_2
        ax = 1.0 + a_a * env * c_a
        phx = a_ph * env * c_p
        e_vw = e_vw_all[i]
        cw, sw = cw_all[i], sw_all[i]
        c_vw, s_vw = cw * cv - sw * sv, sw * cv + cw * sv
        e_y = e_y_all[i]
        c_y, s_y = cy_all[i], sy_all[i]
        ny = 1.0 + a_vw * e_vw * c_vw + a_y * e_y * c_y
        cm, sm = cw * cp + sw * sp, sw * cp - cw * sp  # omega_vw t - psi, then + phi_xy
        c_x, s_x = cm * cxy - sm * sxy, sm * cxy + cm * sxy
        nxy = 1.0 + a_xy * e_vw * env * c_x
        big_l = 1.0 - k_loss * lam[i]
        dec = dec_all[i]
        theta = omega * ti - phi0 - phx
        c_t, s_t = math.cos(theta), math.sin(theta)
        w = 1.0 + a0 * ax * c_t
        e_r = e_r_all[i]
        c_r, s_r = cr_all[i], sr_all[i]
        ring = n0 * a_r * e_r * c_r

        g = n0 * ny * big_l * dec          # common factor of the N_x, N_xy and W pieces
        b = g * nx * nxy                   # df/dW
        main = b * w
        f[i] = main + ring
        df_dnx = g * nxy * w
        df_dnxy = g * nx * w
        df_dny = n0 * nx * nxy * big_l * dec * w
        df_dax = b * a0 * c_t
        df_dphx = b * a0 * ax * s_t
        # through psi and e(t), which every CBO factor shares
        dnx_dpsi = -a_n * env * s_n - 2.0 * a_2 * env * env * s_2
        dnx_de = a_n * c_n + 2.0 * a_2 * env * c_2
        dnxy_dpsi = a_xy * e_vw * env * s_x
        dnxy_de = a_xy * e_vw * c_x
        df_dpsi = df_dnx * dnx_dpsi + df_dnxy * dnxy_dpsi - df_dax * a_a * env * s_a - df_dphx * a_ph * env * s_p
        df_de = df_dnx * dnx_de + df_dnxy * dnxy_de + df_dax * a_a * c_a + df_dphx * a_ph * c_p

        jac[i, 0] = nx * ny * nxy * big_l * dec * w + a_r * e_r * c_r
        jac[i, 1] = main * ti / (tau * tau) - n0 * nx * ny * nxy * dec * w * k_loss * dlam[i]
        jac[i, 2] = b * ax * c_t
        jac[i, 3] = -b * a0 * ax * s_t * OMEGA_REF * 1e-6 * ti
        jac[i, 4] = b * a0 * ax * s_t
        jac[i, 5] = df_dnx * env * c_n
        jac[i, 6] = -df_dnx * a_n * env * s_n
        jac[i, 7] = df_dpsi * (ti - a_d * tau_d * e_d)
        jac[i, 8] = df_de * de_dtau
        jac[i, 9] = df_de * de_dc
        jac[i, 10] = df_dax * env * c_a
        jac[i, 11] = -df_dax * a_a * env * s_a
        jac[i, 12] = df_dphx * env * c_p
        jac[i, 13] = -df_dphx * a_ph * env * s_p
        jac[i, 14] = df_dnx * env * env * c_2
        jac[i, 15] = -df_dnx * a_2 * env * env * s_2
        jac[i, 16] = df_dny * e_vw * c_vw
        jac[i, 17] = -df_dny * a_vw * e_vw * s_vw
        jac[i, 18] = -df_dny * a_vw * e_vw * s_vw * ti - df_dnxy * a_xy * e_vw * env * s_x * ti
        jac[i, 19] = (df_dny * a_vw * e_vw * c_vw + df_dnxy * a_xy * e_vw * env * c_x) * ti / (tau_vw * tau_vw)
        jac[i, 20] = df_dny * e_y * c_y
        jac[i, 21] = -df_dny * a_y * e_y * s_y
        jac[i, 22] = -df_dny * a_y * e_y * s_y * ti
        jac[i, 23] = df_dny * a_y * e_y * c_y * ti / (tau_y * tau_y)
        jac[i, 24] = df_dnxy * e_vw * env * c_x
        jac[i, 25] = -df_dnxy * a_xy * e_vw * env * s_x
        jac[i, 26] = -n0 * nx * ny * nxy * dec * w * lam[i]
        jac[i, 27] = -df_dpsi * w_cbo * tau_d * e_d
        jac[i, 28] = -df_dpsi * w_cbo * a_d * e_d * (1.0 + ti / tau_d)
        jac[i, 29] = n0 * e_r * c_r
        jac[i, 30] = -n0 * a_r * e_r * s_r
        jac[i, 31] = -n0 * a_r * e_r * s_r * ti
        jac[i, 32] = n0 * a_r * e_r * c_r * ti / (tau_r * tau_r)
    return f, jac


@njit(cache=True, fastmath=True)
def chi2_diagonal(t, y, inv_var, p, delta_r_ppm, envelope, loss_edges, loss_counts):
    """sum (y - f)^2 / var."""
    f = wiggle(t, p, delta_r_ppm, envelope, loss_edges, loss_counts)
    s = 0.0
    for i in range(t.size):
        d = y[i] - f[i]
        s += d * d * inv_var[i]
    return s


@njit(cache=True, fastmath=True)
def whiten_banded(chol_lower, resid):
    """Solve L z = r for a lower-banded Cholesky factor stored as chol_lower[k, i] = L[i, i - k]."""
    bw = chol_lower.shape[0]
    n = resid.size
    z = np.empty(n)
    for i in range(n):
        s = resid[i]
        for k in range(1, bw):
            if i - k < 0:
                break
            s -= chol_lower[k, i] * z[i - k]
        z[i] = s / chol_lower[0, i]
    return z


@njit(cache=True, fastmath=True)
def whiten_banded_columns(chol_lower, mat):
    """``whiten_banded`` applied to every column of mat (n, k): L^-1 J for the Gauss-Newton step."""
    bw = chol_lower.shape[0]
    n, k = mat.shape
    z = np.empty((n, k))
    for i in range(n):
        for c in range(k):
            s = mat[i, c]
            for j in range(1, bw):
                if i - j < 0:
                    break
                s -= chol_lower[j, i] * z[i - j, c]
            z[i, c] = s / chol_lower[0, i]
    return z


def omega_from_r(r_ppm: float, delta_r_ppm: float) -> float:
    """Eq. 5: the (hardware-blinded) omega_a^m of a blinded R."""
    return OMEGA_REF * (1.0 + (r_ppm - delta_r_ppm) * 1e-6)


def r_from_omega(omega: float, delta_r_ppm: float) -> float:
    """Inverse of Eq. 5."""
    return (omega / OMEGA_REF - 1.0) * 1e6 + delta_r_ppm


def parameter_vector(values: dict) -> np.ndarray:
    """Full parameter vector from a dict (missing names take their neutral values)."""
    unknown = set(values) - set(PARAMS)
    if unknown:
        raise KeyError(f"unknown fit parameter(s): {', '.join(sorted(unknown))}")
    return np.array([values.get(name, NEUTRAL[name]) for name in PARAMS], dtype=float)
