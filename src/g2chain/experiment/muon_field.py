"""The field a stored muon samples, as the production kernel needs it (DESIGN §2, §5).

A muon with equilibrium offset x_e and betatron amplitudes A_x, A_y goes around the ring on the
closed orbit x_e + x_cod(phi) with x = x_e + x_cod + A_x cos(psi), y = A_y cos(chi). Over the
~1e4 turns before it decays the betatron phases psi, chi are uncorrelated with the azimuth, so
the field it sees is the map of Eq. 38 averaged over psi, chi and phi:

    B(x_e, A_x^2, A_y^2; t) = < sum_i m_i(phi, t) f_i(x_e + x_cod + A_x cos psi, A_y cos chi) >

f_i is a polynomial of degree <= 6 in (x, y), so B is a polynomial in (x_e, A_x^2, A_y^2) with 30
coefficients (skew moments average to zero: they are odd in y). The coefficients are linear in
the moments <m_i x_cod^k>_phi, so they are tabulated on the field world's time grid once; the
kernel interpolates them at the time of each fill and evaluates one polynomial per muon
(``orbit_field_fraction``). The derivation is in docs/muon_field.md.

The closed orbit is the world's own: every Fourier harmonic N of the dipole profile drives
x_N = R0 b_N / (N^2 - 1 + n) (continuous focusing), not only the N = 1 term the analysis keeps
(Eq. 54). The in-fill transients (kicker eddy currents, ESQ vibrations) are local fields over an
azimuthal coverage; a muon spends that share of its time in them, so its phase advances by
omega_ref * coverage * int b dt, tabulated in closed form on a fine grid of the time in fill.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from math import comb, factorial

import numpy as np
from numba import njit

from ..constants import MAGIC_RADIUS_MM
from ..numerics import periodic_linear_weights
from ..physics.multipoles import MULTIPOLE_R0_MM
from .field_world import N_TRACKED, FieldWorld, ramp_relaxation, storage_field

MAX_DEGREE = 6  # f_12 = Re z^6: the highest power of (x, y) in the twelve moments
# monomials x^p (A_x^2)^q (A_y^2)^r in the kernel's evaluation order (r, then q, then p)
MONOMIALS = np.array([(p, q, r) for r in range(4) for q in range(4 - r) for p in range(MAX_DEGREE + 1 - 2 * q - 2 * r)])
N_COEF = len(MONOMIALS)  # 30
COD_TABLE_SIZE = 1024    # azimuths of the closed-orbit table the kernel reads
TRANSIENT_STEP_US = 0.5  # grid of the transient phase tables (the phases are smooth on 20 us)


@dataclass
class MuonField:
    """What the kernel needs of one dataset's field world (sealed, world file ``muon_field/``).

    ``t_s`` (T,) and ``coef`` (T, 30): the orbit-averaged field as a fraction of ``f_ref_hz``,
    minus one, as polynomial coefficients in (x_e/r0, (A_x/r0)^2, (A_y/r0)^2) (r0 = 45 mm, order
    ``MONOMIALS``), on the world's uniform time grid [s]; ``schedule`` (T,): the share of the
    dataset's stored muons up to the end of each grid time's cell t_j + dt/2 (fills are placed
    by it); ``x_cod_mm``
    (COD_TABLE_SIZE,): the closed orbit at equally spaced azimuths from 0; ``transient_phase``
    (2, M): the phase [rad] the kicker and ESQ transients have added at time ``TRANSIENT_STEP_US``
    * j after the kick, for a muon present since the kick."""

    t_s: np.ndarray
    coef: np.ndarray
    schedule: np.ndarray
    x_cod_mm: np.ndarray
    transient_phase: np.ndarray
    f_ref_hz: float


def closed_orbit(m1_profile_hz, phi, field_index: float, radius_mm: float = MAGIC_RADIUS_MM) -> np.ndarray:
    """The radial closed orbit (mm) the dipole profile m_1(phi) drives in a continuously focusing
    ring: x'' + (1 - n) x = -R0 b(phi) (' = d/dphi, b the fractional field change), solved
    harmonic by harmonic, x_N = R0 b_N / (N^2 - 1 + n). The mean field (N = 0) defines the
    momentum scale and moves no orbit. ``phi``: equally spaced azimuths."""
    m1 = np.asarray(m1_profile_hz, dtype=float)
    b = np.fft.rfft(m1 / m1.mean() - 1.0)
    n_h = np.arange(b.size)
    gain = np.zeros(b.size)
    gain[1:] = radius_mm / (n_h[1:] ** 2 - 1.0 + field_index)
    x = np.fft.irfft(b * gain, m1.size)
    if not np.allclose(np.diff(phi), 2 * math.pi / m1.size) or abs(phi[0] - 0.5 * (phi[1] - phi[0])) > 1e-9:
        raise ValueError("closed_orbit: expects the field world's azimuths (phi_j = (j + 1/2) 2 pi / A)")
    return x


def _orbit_average_coefficients() -> np.ndarray:
    """L[c, i, k]: the coefficient of monomial c of B is sum_{i,k} L[c, i, k] <m_i X_cod^k>_phi
    (X = x / r0), from <cos^j> = C(j, j/2) / 2^j (j even) over a betatron phase."""
    def cos_moment(j):
        return comb(j, j // 2) / 2.0**j if j % 2 == 0 else 0.0

    index = {tuple(m): c for c, m in enumerate(MONOMIALS.tolist())}
    lin = np.zeros((N_COEF, 12, MAX_DEGREE + 1))
    lin[index[(0, 0, 0)], 0, 0] = 1.0  # the dipole: f_1 = 1
    for n in range(1, MAX_DEGREE + 1):  # normal 2n-pole: f_2n = Re (x + i y)^n / r0^n
        i = 2 * n - 1
        for b in range(0, n + 1, 2):
            for d in range(0, n - b + 1, 2):
                a = n - b - d
                w = factorial(n) / (factorial(a) * factorial(b) * factorial(d)) * (-1) ** (d // 2)
                w *= cos_moment(b) * cos_moment(d)
                for p in range(a + 1):  # (X_e + X_cod)^a
                    lin[index[(p, b // 2, d // 2)], i, a - p] += w * comb(a, p)
    return lin


_LIN = _orbit_average_coefficients()


def _moments_with_cod(world: FieldWorld, x_cod: np.ndarray) -> np.ndarray:
    """<m_i(phi, t) X_cod(phi)^k>_phi on the world's time grid: (T, 12, 7)."""
    powers = (x_cod / MULTIPOLE_R0_MM)[:, None] ** np.arange(MAX_DEGREE + 1)  # (A, 7)
    static = world.static.T @ powers / world.phi.size                       # (12, 7)
    w_station = periodic_linear_weights(world.phi, world.station_phi)        # (A, S): the world's drift shape
    station = w_station.T @ powers / world.phi.size                         # (S, 7)
    out = np.broadcast_to(static, (world.t_s.size, 12, MAX_DEGREE + 1)).copy()
    out[:, :N_TRACKED, :] += np.einsum("tsj,sk->tjk", world.drift, station)
    ramp = world.ramp_profile @ powers / world.phi.size                      # (7,)
    out[:, 0, :] += world.untracked[:, None] * powers.mean(axis=0)[None, :]
    out[:, 0, :] += ramp_relaxation(world, world.t_s)[:, None] * ramp[None, :]
    if world.collimator_phi.size:  # muons are stored only with the collimators in (Sec. VI D)
        out[:, 0, :] += (storage_field(world, world.phi) @ powers / world.phi.size)[None, :]
    return out


def with_kick(settings: dict, kicker_kV: float) -> dict:
    """The field block with the kicker's eddy field at the dataset's kick: ``kicker.amplitude_ppb``
    is the field at ``kicker.reference_kV``, and the eddy currents follow the kicker current, so a
    dataset's amplitude scales with its ``kicker_kV`` (Table XX: Run-3b's stronger kick, -22.5
    against -21.1 ppb in Run-2/3a)."""
    kick = settings["kicker"]
    scaled = {**kick, "amplitude_ppb": float(kick["amplitude_ppb"]) * float(kicker_kV) / float(kick["reference_kV"])}
    return {**settings, "kicker": scaled}


def transient_phase_tables(settings: dict, omega_ref: float, t_max_us: float) -> np.ndarray:
    """(2, M) phases [rad] the kicker and ESQ transients add between the kick and time j *
    TRANSIENT_STEP_US: omega_ref * coverage * int_0^t b(s) ds in closed form, with
    b_K = A exp(-s/tau) and b_Q = A exp(-s/tau) sin(2 pi f s + phase) (``field.kicker``,
    ``field.esq``: the world's transients, Sec. VI G)."""
    t = np.arange(0.0, t_max_us + 2 * TRANSIENT_STEP_US, TRANSIENT_STEP_US)
    kick, esq = settings["kicker"], settings["esq"]
    a_k, tau_k = 1e-9 * float(kick["amplitude_ppb"]), float(kick["tau_us"])
    phase_k = float(kick["coverage"]) * a_k * tau_k * (1.0 - np.exp(-t / tau_k))
    a_q, tau_q, ph = 1e-9 * float(esq["amplitude_ppb"]), float(esq["tau_us"]), float(esq["phase_rad"])
    w = 2 * math.pi * 1e-6 * float(esq["frequency_hz"])
    norm = 1.0 / tau_q**2 + w**2

    def primitive(s):  # d/ds = exp(-s/tau) sin(w s + ph)
        return -np.exp(-s / tau_q) * (np.sin(w * s + ph) / tau_q + w * np.cos(w * s + ph)) / norm

    phase_q = float(esq["coverage"]) * a_q * (primitive(t) - primitive(0.0))
    return omega_ref * np.stack([phase_k, phase_q])


def muon_field(world: FieldWorld, settings: dict, field_index: float, f_ref_hz: float, omega_ref: float,
               t_max_us: float) -> MuonField:
    """The kernel's view of a field world (see ``MuonField``). ``settings``: the dataset's
    ``field`` block (for the transients); ``f_ref_hz``: the frequency the spin phase is counted
    from (omega_ref = R'_mu 2 pi f_ref); ``t_max_us``: the longest time in fill a muon can decay."""
    x_cod = closed_orbit(world.static[:, 0], world.phi, field_index)
    coef = np.einsum("cik,tik->tc", _LIN, _moments_with_cod(world, x_cod)) / f_ref_hz
    coef[:, 0] -= 1.0
    dt = np.diff(world.t_s)
    if not np.allclose(dt, dt[0]):
        raise ValueError("field world: the time grid must be uniform")
    # the muon rate at grid time t_j holds over the cell t_j -+ dt/2 (the world's beam-on record)
    schedule = np.cumsum(world.muon_rate)
    if not schedule[-1] > 0:
        raise ValueError("field world: no muons are stored at any time (muon_rate is zero)")
    phi_table = np.arange(COD_TABLE_SIZE) * 2 * math.pi / COD_TABLE_SIZE
    x_table = np.interp(phi_table, world.phi, x_cod, period=2 * math.pi)
    return MuonField(world.t_s.copy(), coef, schedule / schedule[-1], x_table,
                     transient_phase_tables(settings, omega_ref, t_max_us), float(f_ref_hz))


def fill_field(mf: MuonField, quantile: float) -> np.ndarray:
    """The coefficient row at the time where a share ``quantile`` of the dataset's muons has been
    stored (numpy twin of the kernel's ``fill_coefficients``, for tests)."""
    out = np.empty(N_COEF)
    fill_coefficients(mf.t_s, mf.coef, mf.schedule, quantile, out)
    return out


@njit(cache=True)
def fill_coefficients(t_s, coef, schedule, quantile, out):
    """``coef`` at the time where the cumulative muon share reaches ``quantile``: the grid cell
    t_j -+ dt/2 that holds it, a uniform place in it, the field linearly interpolated there (the
    world's field is linear between grid times). Writes ``out``, returns the time [s]."""
    j = np.searchsorted(schedule, quantile, side="right")
    j = min(j, schedule.size - 1)
    lo = schedule[j - 1] if j > 0 else 0.0
    span = schedule[j] - lo
    f = (quantile - lo) / span if span > 0.0 else 0.5
    dt = t_s[1] - t_s[0]
    t = min(max(t_s[j] + (f - 0.5) * dt, t_s[0]), t_s[t_s.size - 1])
    x = (t - t_s[0]) / dt
    i = min(int(x), t_s.size - 2)
    w = x - i
    for c in range(out.size):
        out[c] = coef[i, c] + w * (coef[i + 1, c] - coef[i, c])
    return t


@njit(inline="always", cache=True)
def orbit_field_fraction(g, u, qx, qy):
    """B / f_ref - 1 for a muon at X_e = ``u``, (A_x/r0)^2 = ``qx``, (A_y/r0)^2 = ``qy`` from the
    fill's coefficient row ``g`` (order ``MONOMIALS``: Horner in u inside each (q, r))."""
    total = 0.0
    idx = 0
    qy_pow = 1.0
    for r in range(4):
        qx_pow = 1.0
        for q in range(4 - r):
            deg = MAX_DEGREE - 2 * q - 2 * r
            acc = 0.0
            for p in range(deg, -1, -1):
                acc = acc * u + g[idx + p]
            idx += deg + 1
            total += acc * qx_pow * qy_pow
            qx_pow *= qx
        qy_pow *= qy
    return total


@njit(inline="always", cache=True)
def orbit_field_fraction_block(g, u, qx, qy, nb, out):
    """``orbit_field_fraction`` for nb muons at once (out[:nb]): LLVM unrolls the polynomial's
    constant loops and vectorizes the loop over the muons (about 1 ns a muon)."""
    for i in range(nb):
        out[i] = orbit_field_fraction(g, u[i], qx[i], qy[i])


@njit(inline="always", cache=True)
def transient_phase(table, t):
    """The table's phase at time t (us) after the kick, linearly interpolated; 0 before it."""
    # branch-free (half the muons enter before the kick, t0 < 0: a branch would mispredict);
    # table[0] = 0, so t <= 0 gives 0 exactly
    x = min(max(t, 0.0) / TRANSIENT_STEP_US, table.size - 1.0)
    j = min(int(x), table.size - 2)
    f = x - j
    return table[j] + f * (table[j + 1] - table[j])
