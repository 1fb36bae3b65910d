"""The production kernel: fill by fill, in vectorized blocks of muons, streamed into the recorded views.

Per muon (DESIGN §5; the stages of a block are described before ``_muon_orbits``): momentum
offset delta with a kicker-induced correlation to its injection
time t0; equilibrium radius x_e = R0 delta/(1-n) and cyclotron frequency from it (the bunch
debunches); radial and vertical betatron motion with amplitude-dependent tunes (CBO and the
vertical waist emerge at a fixed calorimeter and decohere); aperture and scraping losses, then a
slow amplitude- and momentum-dependent loss; a spin precessing at a_mu (e/m) B, B the field the
muon samples on its own orbit at its fill's time in the dataset (``muon_field``), lowered by its
own E-field and pitch terms (Eq. 13, Eq. 22), plus the phase the kicker and ESQ transients add
while it is stored, with a delta-correlated initial phase;
decay after gamma(delta) tau_mu; a lab-frame Michel positron; calorimeter acceptance and
detected phase depending on energy and decay position.

Per fill: hits are sorted per calorimeter; gain (long-term, in-fill, short-term after a prior
hit) is applied; the local reconstruction merges hits closer than the resolving time, the global
one only when they are also close on the crystal face; the three pileup estimators build
artificial pileup from shadow windows; the energy-integrated readout sums all deposits.
Recorded times are on the blinded clock t / (1 + eps_hw).
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
from numba import njit

from ..constants import C_MM_PER_US, N_CALOS
from ..physics.multipoles import MULTIPOLE_R0_MM
from ..records import binning
from .decay import asymmetry_of, energy_table_position, interpolate_table, inverse_cdf_tables
from .muon_field import (
    COD_TABLE_SIZE,
    N_COEF,
    MuonField,
    fill_coefficients,
    orbit_field_fraction_block,
    transient_phase,
)
from .rng import LANES, fill_uniforms, normal_pair, seed_lanes, seed_state, uniform
from .trig import cos_sin_turns
from .vector_math import exp_v, log_v, normal_pair_v

# counters filled by the kernel
(
    C_FILLS, C_INJECTED, C_STORED, C_SCRAPED, C_LOST_SLOW, C_DECAYED, C_ACCEPTED, C_HITS_1GEV,
    C_UNIFORM, C_NORMAL, C_EXPONENTIAL, C_SUM_CE, C_SUM_CP, C_MERGED_LOCAL, C_MERGED_GLOBAL,
    C_TRACKED, C_COUNTED,
) = range(17)
N_COUNTERS = 17

_TWO_PI = 2.0 * math.pi
_CALO_WIDTH = _TWO_PI / N_CALOS
_CALO_ALIGN = binning.CALO_ALIGN_US
_STATIONS = np.array([math.pi, 1.5 * math.pi])  # tracker stations at 180 and 270 degrees
T_BIN, N_T = binning.T_BIN_US, binning.N_T
T_FINE, N_T_FINE = binning.T_FINE_US, binning.N_T_FINE
TQ, N_TQ, TQF, N_TQF = binning.TQ_BIN_US, binning.N_TQ, binning.TQ_FINE_US, binning.N_TQ_FINE
T_FR, N_FR, E_FR = binning.T_FR_US, binning.N_FR, binning.FR_ENERGY_MIN_GEV
T_TRUTH, N_T_TRUTH = binning.T_TRUTH_US, binning.N_T_TRUTH
T_TRACK, N_T_TRACK = binning.T_TRACK_US, binning.N_T_TRACK
N_XY, XY_MAX, XY_BIN = binning.N_XY_TRACK, binning.XY_TRACK_MAX_MM, binning.XY_TRACK_BIN_MM
N_E = binning.N_E
WRITE_BUFFER = 1 << 22  # positrons the write buffer holds (~1400 fills at 6000 muons; 64 MB with its sorted copy)
SORT_BUCKETS = 4096  # time buckets of a fill's hit sort (_time_order)
_BUCKETS_PER_US = SORT_BUCKETS / (N_T * T_BIN)
N_TRUTH_ROWS = 8  # n, a_cos, a_sin, sum_ce, sum_cp, sum_field, sum_phase_kicker, sum_phase_esq
_GOLDEN = 0.5 * (math.sqrt(5.0) - 1.0)
_COD_PER_RAD = COD_TABLE_SIZE / (2.0 * math.pi)
_SQRT12 = math.sqrt(12.0)

# The field world as the kernel reads it (``muon_field.MuonField``) and where this chunk's fills
# sit in the dataset's muon schedule: fill k is stored when a share lo + width frac(q0 + k g) of
# the muons has been (g the golden ratio: fills cover the slice evenly, whatever their number).
KernelField = namedtuple("KernelField", ["t_s", "coef", "schedule", "x_cod", "transient", "q0", "lo", "width"])


@njit(inline="always", cache=True)
def energy_bin(e):
    """Index in ENERGY_EDGES_GEV (underflow into bin 0, overflow into the last bin). Branch-free:
    energies are random, a branch would mispredict."""
    low = int(max(e, 0.0) * 10.0)
    high = min(32 + int((max(e, 3.2) - 3.2) * 2.5), N_E - 1)
    return low if e < 3.2 else high


@njit(cache=True, error_model="numpy", fastmath=True)
def _shadow(t, e, x, y, m, gap, width, sep, use_space, out):
    """Artificial pileup from shadow windows, at the first hit's time bin (Sec. IV C 2).

    Doubles: each hit a paired with every hit b in [t+gap, t+gap+width): out[0] gets E_a + E_b,
    out[1] both singles E_a, E_b. Triples: a with every b in that window and c in
    [t+2 gap, t+2 gap+width): out[2] gets E_a + E_b + E_c, out[3] the three pair sums, out[4]
    the three singles. How these combine into the pileup spectrum (to second order in rate x
    resolving time) is the analysis' business (omega_a/pileup.py). With ``use_space`` the
    shadow hits must also lie within ``sep`` of a on the crystal face (as the global
    reconstruction merges).
    """
    if width <= 0.0:
        return
    start = 0
    start2 = 0
    for a in range(m):
        tb = int(t[a] / T_BIN)
        if tb < 0 or tb >= N_T:
            continue
        lo = t[a] + gap
        hi = lo + width
        while start < m and t[start] < lo:
            start += 1
        lo2 = lo + gap
        hi2 = lo2 + width
        while start2 < m and t[start2] < lo2:
            start2 += 1
        r = start
        while r < m and t[r] < hi:
            if (not use_space) or (abs(x[r] - x[a]) < sep and abs(y[r] - y[a]) < sep):
                out[0, energy_bin(e[a] + e[r]), tb] += 1
                out[1, energy_bin(e[a]), tb] += 1
                out[1, energy_bin(e[r]), tb] += 1
                q = start2
                while q < m and t[q] < hi2:
                    if (not use_space) or (abs(x[q] - x[a]) < sep and abs(y[q] - y[a]) < sep):
                        out[2, energy_bin(e[a] + e[r] + e[q]), tb] += 1
                        out[3, energy_bin(e[a] + e[r]), tb] += 1
                        out[3, energy_bin(e[a] + e[q]), tb] += 1
                        out[3, energy_bin(e[r] + e[q]), tb] += 1
                        out[4, energy_bin(e[a]), tb] += 1
                        out[4, energy_bin(e[r]), tb] += 1
                        out[4, energy_bin(e[q]), tb] += 1
                    q += 1
            r += 1


# A recorded positron waits in the write buffer as one int64 word of its histogram bins (LSB
# first): fast-rotation bin + 1 (19 bits, 0: none), fine time bin (17 bits, all ones: none),
# energy bin (6), calorimeter (5), reconstruction (1), negative weight (1), then from bit 49 the
# 149 ns time bin (N_T: none), the flush's sort key.
_FR_BITS, _TF_BITS, _EB_BITS, _K_BITS = 19, 17, 6, 5
_TF_SHIFT = _FR_BITS
_EB_SHIFT = _TF_SHIFT + _TF_BITS
_K_SHIFT = _EB_SHIFT + _EB_BITS
_RECON_SHIFT = _K_SHIFT + _K_BITS
_NEG_SHIFT = _RECON_SHIFT + 1
_TB_SHIFT = _NEG_SHIFT + 1
_TF_NONE = (1 << _TF_BITS) - 1


@njit(inline="always", cache=True)
def _positron_word(recon, k, t, e, negative):
    """The write-buffer word of a positron at time t >= 0 with energy e in calorimeter k's
    reconstruction ``recon`` (0 local, 1 global - local: see ``_write_calorimeter``), counted -1
    if ``negative``. Its bins are those the histograms have always used: time-major layouts."""
    tb = min(int(t / T_BIN), N_T)
    tf = int(t / T_FINE)
    fr = 0
    if recon == 0 and e > E_FR and not negative:
        ta = t - _CALO_ALIGN[k]
        if ta >= 0.0:
            ir = int(ta / T_FR)
            fr = ir + 1 if ir < N_FR else 0
    return ((tb << _TB_SHIFT) | (int(negative) << _NEG_SHIFT) | (recon << _RECON_SHIFT) | (k << _K_SHIFT)
            | (energy_bin(e) << _EB_SHIFT) | ((tf if tf < N_T_FINE else _TF_NONE) << _TF_SHIFT) | fr)


@njit(inline="always", cache=True)
def _record_positron(word, calo_hist, fine_hist, fast_rot_1):
    """A buffered positron (``_positron_word``) into the histograms. ``fast_rot_1`` is the
    fast-rotation histogram shifted by one bin, its bin 0 a sink for the positrons it does not
    take: a branch on that would mispredict for half of them (it tripled the flush's time)."""
    tb = word >> _TB_SHIFT
    weight = -1 if (word >> _NEG_SHIFT) & 1 else 1
    recon = (word >> _RECON_SHIFT) & 1
    eb = (word >> _EB_SHIFT) & ((1 << _EB_BITS) - 1)
    if tb < N_T:
        calo_hist[recon, tb, (word >> _K_SHIFT) & ((1 << _K_BITS) - 1), eb] += weight
    tf = (word >> _TF_SHIFT) & _TF_NONE
    if tf != _TF_NONE:
        fine_hist[recon, tf, eb] += weight
    fast_rot_1[word & ((1 << _FR_BITS) - 1)] += 1


# The steps of one muon and of one fill. Each is inlined into run_fills at Numba's IR level
# (inline="always"), so it is compiled with run_fills' own fastmath flags: splitting the kernel
# into named steps changes neither its numbers nor its speed.
@njit(inline="always", cache=True)
def _loss_time(c, u, rho, rho_scrape, delta, t0):
    """When a stored muon is lost (1e30 if never), from one uniform u: a muon reaching past the
    scraping radius is shaved off at random before t_scrape; the others are lost slowly after
    t_scrape, at a rate lam that grows with their reach rho and their momentum, i.e. at
    t_scrape + E / lam with E = -log(u) exponential. Branch-free (a muon block's loop)."""
    t_scraped = t0 + u * (c.t_scrape - t0)
    lam = c.loss_rate * exp_v(
        (rho - rho_scrape) / c.loss_width + c.loss_mom * (delta - c.delta_mean) / c.delta_rms
    )
    t_slow = c.t_scrape - log_v(u) / max(lam, 1e-300)
    t_slow = t_slow if c.loss_rate > 0.0 else 1e30
    return t_scraped if rho >= rho_scrape else t_slow


@njit(inline="always", cache=True)
def _record_loss(c, u, t_loss, one_plus_eps, lost, truth_lost):
    """A lost muon: the true loss spectrum, and if its uniform u < triple_eff a triple coincidence
    5 ns later on the blinded clock (the recorded L(t))."""
    tb = int(t_loss / T_BIN)
    if 0 <= tb < N_T:
        truth_lost[tb] += 1
    if u < c.triple_eff:
        tb = int((t_loss + 0.005) / one_plus_eps / T_BIN)
        if 0 <= tb < N_T:
            lost[tb] += 1


@njit(inline="always", cache=True)
def _tune_offset(c, u):
    """A muon's radial tune offset from one uniform: 0 for the coherent fraction, else Lorentzian
    (half width ``tune_hwhm_x``, cut at 50 half widths), whose spread decoheres the CBO as
    exp(-t/tau) with 1/tau = 2 pi f_c hwhm, plus a constant from the coherent fraction (the
    envelopes Sec. IV J 1 finds: exponential in Run-2/3a, exponential + constant in Run-3b).
    Branch-free: 0 when hwhm = 0."""
    v = (u - c.tune_coherent_x) / max(1.0 - c.tune_coherent_x, 1e-300)
    cos_h, sin_h = cos_sin_turns(0.5 * (v - 0.5))  # tan(pi (v - 1/2)) without libm's tan
    offset = c.tune_hwhm_x * max(-50.0, min(50.0, sin_h / max(cos_h, 1e-300)))
    return 0.0 if u < c.tune_coherent_x else offset


@njit(inline="always", cache=True)
def _position_at_decay(c, t0, t_dec, delta, x_e, x0, px0, y0, py0, a_x2, a_y2, sqrt_1mn, sqrt_n, dnu_x):
    """(x, y, azimuth) at decay: the betatron phases advance with the turns travelled at the muon's
    own cyclotron frequency (the bunch debunches), with chromatic and amplitude-dependent tunes
    and the muon's own radial tune offset ``dnu_x`` (the CBO and the vertical waist decohere).
    Phases in turns: see trig.py."""
    ap = c.aperture
    omega_c = c.omega_c0 * c.r0 / (c.r0 + x_e)
    turns = omega_c * (t_dec - t0) / _TWO_PI
    nu_x = sqrt_1mn * (1.0 + c.chrom_x * delta) + c.detune_x * a_x2 / (ap * ap) + dnu_x
    nu_y = sqrt_n * (1.0 + c.chrom_y * delta) + c.detune_y * a_y2 / (ap * ap)
    # the ESQ field index relaxing after scraping, n(t) = n (1 + eps e^{-t/tau}): the tunes
    # sqrt(1 - n), sqrt(n) move by -n eps/(2 nu_x), +nu_y eps/2 times e^{-t/tau}, and the phases
    # by those times the turns' integral of e^{-t/tau} from t0 (Sec. IV J 1); 0 when eps = 0
    tau = max(c.esq_relax_tau, 1e-12)
    relax_turns = omega_c * tau * (exp_v(-t0 / tau) - exp_v(-t_dec / tau)) / _TWO_PI
    phase_x = nu_x * turns - c.n * c.esq_relax / (2.0 * sqrt_1mn) * relax_turns
    phase_y = nu_y * turns + 0.5 * sqrt_n * c.esq_relax * relax_turns
    cx, sx_ = cos_sin_turns(phase_x)
    cy, sy_ = cos_sin_turns(phase_y)
    x = x_e + x0 * cx + px0 * sx_
    y = y0 * cy + py0 * sy_
    return x, y, _TWO_PI * (turns - math.floor(turns))


@njit(inline="always", cache=True)
def _in_tracker_window(c, station, azimuth, yfrac):
    """A decay 0.05-0.35 rad upstream of the station, its positron of intermediate energy."""
    d = _STATIONS[station] - azimuth
    return c.drift_min <= d < c.drift_max and c.tracker_ymin < yfrac < c.tracker_ymax


@njit(inline="always", cache=True)
def _near_tracker(c, azimuth, yfrac):
    """1.0 if the decay lies in either station's window, else 0.0 (branch-free, for a block)."""
    near0 = 1.0 if _in_tracker_window(c, 0, azimuth, yfrac) else 0.0
    near1 = 1.0 if _in_tracker_window(c, 1, azimuth, yfrac) else 0.0
    return max(near0, near1)


@njit(inline="always", cache=True)
def _track(c, s, azimuth, yfrac, x, y, yn, t_dec, one_plus_eps, tracker):
    """The straw trackers: a decay 0.05-0.35 rad upstream of a station, its positron of intermediate
    energy (tracker_ymin < y < tracker_ymax), is seen with an efficiency
    falling with the vertical position, its vertex smeared by the resolution and binned on the
    blinded clock. Returns (uniforms, normals drawn, vertices recorded)."""
    n_uni = n_nor = n_trk = 0
    for st_i in range(2):
        if _in_tracker_window(c, st_i, azimuth, yfrac):
            n_uni += 1
            if uniform(s) < c.tracker_eff * (1.0 - c.tracker_falloff * yn * yn):
                ex, ey = normal_pair(s)
                n_nor += 2
                ix = int((x + c.tracker_res * ex + XY_MAX) / XY_BIN)
                iy = int((y + c.tracker_res * ey + XY_MAX) / XY_BIN)
                it = int(t_dec / one_plus_eps / T_TRACK)
                if 0 <= ix < N_XY and 0 <= iy < N_XY and 0 <= it < N_T_TRACK:
                    tracker[st_i, it, ix, iy] += 1
                    n_trk += 1
    return n_uni, n_nor, n_trk


@njit(inline="always", cache=True)
def calorimeter_acceptance(c, kappa_calo, calo, yfrac, xn, yn):
    """The calorimeter acceptance, which depends on energy and decay position. Each calorimeter's
    radial sensitivity differs a little (kappa_calo): with 24 identical calorimeters the CBO, seen
    at each with a phase set by its azimuth, would cancel in their sum. A detection probability
    where it lies in [0, 1]: above 1 the positron is always seen (the kernel draws a uniform
    below it), below 0 never."""
    return _acceptance(c, kappa_calo[calo], yfrac, xn, yn)


@njit(inline="always", cache=True)
def _acceptance(c, kappa, yfrac, xn, yn):
    """``calorimeter_acceptance`` given the calorimeter's radial slope ``kappa`` (the block's
    vector stage gathers it in a loop of its own)."""
    return (
        c.acc_scale
        * (c.acc_low + (1.0 - c.acc_low) * yfrac)
        * (1.0 + kappa * xn + c.kappa_a * (yfrac - 0.5) * xn)
        * (1.0 + c.eta_y * yn - c.zeta_y * yn * yn)
    )


@njit(inline="always", cache=True)
def _truth_cell(t_hit, e_true):
    """Where a positron's eight truth rows start in the flat truth accumulator [t, E, row] (its
    true time and energy bins), or -1 beyond the truth's time range."""
    tb = int(t_hit / T_TRUTH)
    return (tb * N_E + energy_bin(e_true)) * N_TRUTH_ROWS if tb < N_T_TRUTH else -1


@njit(inline="always", cache=True)
def _accumulate_truth(truth, cell, a_cos, a_sin, ce, cp, eps_b, phi_k, phi_q):
    """The sealed truth of a detected positron at ``cell`` (``_truth_cell``) of the flat truth
    accumulator: its count, its asymmetry-weighted detected spin-phase offset from omega_ref t
    (a_cos, a_sin: see ``_muon_positron``), its E-field and pitch terms, the fractional field it
    sampled (B / f_ref - 1) and the phases the kicker and ESQ transients added."""
    if cell >= 0:
        truth[cell] += 1.0
        truth[cell + 1] += a_cos
        truth[cell + 2] += a_sin
        truth[cell + 3] += ce
        truth[cell + 4] += cp
        truth[cell + 5] += eps_b
        truth[cell + 6] += phi_k
        truth[cell + 7] += phi_q


# A fill's muons go through the kernel in blocks of MUON_BLOCK, stage by stage, each stage a
# straight loop over the block that LLVM vectorizes (8 muons per AVX-512 instruction, with the
# polynomial exp, log, cos/sin and Box-Muller of vector_math and trig). Only the bookkeeping
# (losses, trackers, the calorimeter hits, the truth) runs muon by muon. The block lives in one
# flat array ``blk`` of rows at fixed offsets: row + i is muon i's value (one array with
# constant row offsets lets LLVM prove that a stage's stores do not overwrite its loads; with
# rows of a 2-D array it needs a run-time check per pair of rows and, past ~10, does not
# vectorize). A muon's uniforms, one row per use (rows U_*, from the lane generator), then its
# state between the stages (rows W_*):
MUON_BLOCK = 512
N_UNIFORM_ROWS = 15
N_BLOCK_ROWS = N_UNIFORM_ROWS + 31
(U_INJECT, U_T0, U_DELTA, U_X, U_PX, U_Y, U_PY, U_DECAY, U_LOSS, U_TRIPLE, U_TUNE, U_ENERGY, U_ACCEPT,
 U_E_RES, U_X_FACE,
 W_T0, W_DELTA, W_RHO2, W_CE, W_CP, W_TDEC, W_TLOSS, W_X, W_Y, W_AZIMUTH, W_U, W_QX,
 W_QY, W_EPS_B, W_PHI_K, W_PHI_Q, W_YFRAC, W_CALO, W_COD_INDEX, W_THIT, W_EDEP, W_XFACE, W_ACOS,
 W_ASIN, W_TABLE_ROW, W_TABLE_X, W_DPHASE, W_NEAR_TRACKER, W_TRUTH_CELL, W_KAPPA,
 W_FATE) = (
    row * MUON_BLOCK for row in range(N_BLOCK_ROWS))


@njit(inline="always", cache=True)
def _row(blk, row):
    """The block row at offset ``row`` as a view."""
    return blk[row:row + MUON_BLOCK]


@njit(inline="always", cache=True)
def _muon_orbits(c, blk, nb, sqrt_1mn, sqrt_n, rho_scrape):
    """Stage 1 of a muon block: injection (the bunch profile and the kicker-induced delta-t0
    correlation, x_e = R0 delta/(1 - n), and the betatron offsets from the inflector: every muon
    leaves it near one radius x_i, so its offset from its own closed orbit is x_i - x_e (Eq. 17,
    state i), the mean offset being the coherent one, as in beam.injection_offset), storage
    (rho2 < 1), its E-field and pitch terms (Eq. 13 and 22), decay after gamma tau_mu, the loss
    time, and the position (about the ideal orbit) and azimuth at decay."""
    n, ap = c.n, c.aperture
    rho_corr = math.sqrt(max(0.0, 1.0 - c.rho_dt * c.rho_dt))
    x_ref = c.r0 * c.delta_mean / (1.0 - n)  # closed orbit of the mean momentum
    efield_coef = 2.0 * n * (1.0 - n) / (c.r0 * c.r0)  # Eq. 13 per muon, times beta^2 below
    pitch_coef = n / (4.0 * c.r0 * c.r0)  # Eq. 22 per muon
    inv_r0m, inv_r0m2 = 1.0 / MULTIPOLE_R0_MM, 1.0 / (MULTIPOLE_R0_MM * MULTIPOLE_R0_MM)
    for i in range(min(nb, MUON_BLOCK)):
        u = blk[U_INJECT + i]
        z_t, z_d = normal_pair_v(blk[U_T0 + i], blk[U_DELTA + i])
        zx, zpx = normal_pair_v(blk[U_X + i], blk[U_PX + i])
        zy, zpy = normal_pair_v(blk[U_Y + i], blk[U_PY + i])
        t0 = c.bunch_width * (u - 0.5) + c.bunch_edge * z_t
        delta = c.delta_mean + c.delta_rms * (c.rho_dt * (u - 0.5) * _SQRT12 + rho_corr * z_d)
        x_e = c.r0 * delta / (1.0 - n)
        x0 = c.x_coh + x_ref - x_e + c.sigma_inj * zx
        px0 = c.sigma_x * zpx
        y0 = c.y_coh + c.sigma_y * (1.0 + c.vw_mismatch) * zy
        py0 = c.sigma_y * (1.0 - c.vw_mismatch) * zpy
        a_x2 = x0 * x0 + px0 * px0
        a_y2 = y0 * y0 + py0 * py0
        reach = abs(x_e) + math.sqrt(a_x2)
        rho2 = (reach * reach + a_y2) / (ap * ap)  # stored if < 1
        gamma = c.gamma_magic * (1.0 + delta)
        beta2 = 1.0 - 1.0 / (gamma * gamma)
        t_dec = t0 - gamma * c.tau_mu * log_v(blk[U_DECAY + i])
        rho = math.sqrt(rho2)
        dnu_x = _tune_offset(c, blk[U_TUNE + i])
        x, y, azimuth = _position_at_decay(c, t0, t_dec, delta, x_e, x0, px0, y0, py0, a_x2, a_y2, sqrt_1mn, sqrt_n,
                                           dnu_x)
        j = int(azimuth * _COD_PER_RAD)
        blk[W_T0 + i] = t0
        blk[W_DELTA + i] = delta
        blk[W_RHO2 + i] = rho2
        blk[W_CE + i] = efield_coef * beta2 * x_e * x_e
        blk[W_CP + i] = pitch_coef * a_y2
        blk[W_TDEC + i] = t_dec
        blk[W_TLOSS + i] = _loss_time(c, blk[U_LOSS + i], rho, rho_scrape, delta, t0)
        blk[W_X + i] = x  # the closed orbit is added in stage 1b
        blk[W_COD_INDEX + i] = j - COD_TABLE_SIZE if j >= COD_TABLE_SIZE else j
        blk[W_Y + i] = y
        blk[W_AZIMUTH + i] = azimuth
        blk[W_U + i] = x_e * inv_r0m
        blk[W_QX + i] = a_x2 * inv_r0m2
        blk[W_QY + i] = a_y2 * inv_r0m2


@njit(inline="always", cache=True)
def _closed_orbit(x_cod, blk, nb):
    """Stage 1b (a table look-up, muon by muon): the closed orbit at the decay azimuth."""
    for i in range(nb):
        blk[W_X + i] += x_cod[int(blk[W_COD_INDEX + i])]


@njit(inline="always", cache=True)
def _transient_phases(tr_kick, tr_esq, blk, nb):
    """Stage 3a (table look-ups, muon by muon): the phases the kicker and ESQ transients added
    between the muon's entry and its decay."""
    for i in range(nb):
        t0, t_dec = blk[W_T0 + i], blk[W_TDEC + i]
        blk[W_PHI_K + i] = transient_phase(tr_kick, t_dec) - transient_phase(tr_kick, t0)
        blk[W_PHI_Q + i] = transient_phase(tr_esq, t_dec) - transient_phase(tr_esq, t0)


@njit(inline="always", cache=True)
def _muon_spin(c, blk, nb, n_table):
    """Stage 3b: the spin at decay, a_mu (e/m) B with B the field on the muon's orbit at its
    fill's time (omega_ref (1 + eps_b)), lowered by its E-field and pitch terms (Eq. 13, 22), plus
    the phases the in-fill transients added since it entered, its initial phase correlated with
    delta, its detected phase shifted by the position; then where its positron's energy lies in
    the Michel tables (``decay.energy_table_position``), and the truth's asymmetry-weighted
    phase offset is prepared (W_DPHASE)."""
    ap = c.aperture
    for i in range(min(nb, MUON_BLOCK)):
        t0, t_dec, delta = blk[W_T0 + i], blk[W_TDEC + i], blk[W_DELTA + i]
        eps_b, ce, cp = blk[W_EPS_B + i], blk[W_CE + i], blk[W_CP + i]
        phi_k, phi_q = blk[W_PHI_K + i], blk[W_PHI_Q + i]
        xn, yn = blk[W_X + i] / ap, blk[W_Y + i] / ap
        d_omega = c.omega_a * (eps_b - ce - cp - eps_b * (ce + cp))
        phi_acc = c.phase_x * xn + c.phase_yy * yn * yn
        spin = c.phi0 + c.dphi0_ddelta * delta + (c.omega_a + d_omega) * (t_dec - t0) + phi_k + phi_q
        cos_spin, _ = cos_sin_turns((spin + phi_acc) / _TWO_PI)
        row, x = energy_table_position(blk[U_ENERGY + i], cos_spin, n_table)
        blk[W_TABLE_ROW + i] = row
        blk[W_TABLE_X + i] = x
        # the detected phase offset from omega_ref t, less omega_a t_hit (added in stage 3d)
        blk[W_DPHASE + i] = (c.dphi0_ddelta * delta + phi_acc + c.omega_a * (t_dec - t0) + d_omega * (t_dec - t0)
                             + phi_k + phi_q)


@njit(inline="always", cache=True)
def _energy_lookup(tables, blk, nb):
    """Stage 3c (a table look-up, muon by muon): the positron's energy fraction y."""
    for i in range(nb):
        blk[W_YFRAC + i] = interpolate_table(tables, int(blk[W_TABLE_ROW + i]), blk[W_TABLE_X + i])


@njit(inline="always", cache=True)
def _muon_positron(c, blk, nb):
    """Stage 3d: the Michel positron's calorimeter, hit time, true and deposited energy and
    crystal-face position, and the truth's asymmetry-weighted phase offset (``_accumulate_truth``)."""
    drift_span = c.drift_max - c.drift_min
    for i in range(min(nb, MUON_BLOCK)):
        yfrac, t_dec = blk[W_YFRAC + i], blk[W_TDEC + i]
        drift = c.drift_min + drift_span * yfrac
        turns = (blk[W_AZIMUTH + i] + drift) / _TWO_PI
        t_hit = t_dec + drift * c.r0 / C_MM_PER_US
        e_true = yfrac * c.e_max * (1.0 + blk[W_DELTA + i])
        z_e, z_x = normal_pair_v(blk[U_E_RES + i], blk[U_X_FACE + i])
        cos_d, sin_d = cos_sin_turns((blk[W_DPHASE + i] - c.omega_a * t_hit) / _TWO_PI)
        asym = asymmetry_of(yfrac)
        blk[W_CALO + i] = min(int((turns - math.floor(turns)) * N_CALOS), N_CALOS - 1)
        blk[W_THIT + i] = t_hit
        blk[W_EDEP + i] = e_true * (1.0 + c.eres / math.sqrt(max(e_true, 0.01)) * z_e)
        blk[W_XFACE + i] = 25.0 + 170.0 * (1.0 - yfrac) + 8.0 * z_x
        blk[W_ACOS + i] = asym * cos_d
        blk[W_ASIN + i] = asym * sin_d
        blk[W_NEAR_TRACKER + i] = _near_tracker(c, blk[W_AZIMUTH + i], yfrac)
        blk[W_TRUTH_CELL + i] = _truth_cell(t_hit, e_true)


# A muon's fate (row W_FATE), set by stage 3f for the bookkeeping
FATE_UNSTORED, FATE_LOST, FATE_LATE, FATE_MISSED, FATE_DETECTED = 0, 1, 2, 3, 4


@njit(inline="always", cache=True)
def _calorimeter_slopes(kappa_calo, blk, nb):
    """Stage 3e (a table look-up, muon by muon): the radial acceptance slope of the calorimeter
    the positron reaches."""
    for i in range(nb):
        blk[W_KAPPA + i] = kappa_calo[int(blk[W_CALO + i])]


@njit(inline="always", cache=True)
def _muon_fate(c, blk, nb, t_end_true):
    """Stage 3f: each muon's fate, branch-free: never stored (outside the aperture), lost before
    it decays, decayed after the fill's recorded time, decayed with its positron missed by the
    calorimeters, or detected (its uniform below the acceptance, ``calorimeter_acceptance``)."""
    ap = c.aperture
    for i in range(min(nb, MUON_BLOCK)):
        y = blk[W_Y + i]
        acc = _acceptance(c, blk[W_KAPPA + i], blk[W_YFRAC + i], blk[W_X + i] / ap, y / ap)
        seen = FATE_DETECTED if blk[U_ACCEPT + i] < acc else FATE_MISSED
        decayed = seen if blk[W_TDEC + i] < t_end_true else FATE_LATE
        alive = decayed if blk[W_TLOSS + i] >= blk[W_TDEC + i] else FATE_LOST
        blk[W_FATE + i] = alive if blk[W_RHO2 + i] < 1.0 else FATE_UNSTORED


@njit(inline="always", cache=True)
def _time_order(h_t, nh, bucket_start, order):
    """``order``: the fill's hits in time order. A counting sort on SORT_BUCKETS equal time
    buckets (a fill's ~3e3 hits over 4096 buckets: a few per bucket), then insertion sort, which
    only swaps neighbours within a bucket. O(n), where argsort's comparison sort was O(n log n)
    and took a fifth of the kernel; hit times never tie, so the order is argsort's exactly."""
    bucket_start[:] = 0
    for g in range(nh):
        bucket_start[_sort_bucket(h_t[g]) + 1] += 1
    for b in range(SORT_BUCKETS):
        bucket_start[b + 1] += bucket_start[b]
    for g in range(nh):
        b = _sort_bucket(h_t[g])
        order[bucket_start[b]] = g
        bucket_start[b] += 1
    for i in range(1, nh):
        g = order[i]
        tg = h_t[g]
        j = i - 1
        while j >= 0 and h_t[order[j]] > tg:
            order[j + 1] = order[j]
            j -= 1
        order[j + 1] = g


@njit(inline="always", cache=True)
def _sort_bucket(t):
    return min(max(int(t * _BUCKETS_PER_US), 0), SORT_BUCKETS - 1)


@njit(inline="always", cache=True)
def _order_by_calorimeter(h_t, h_k, nh, order, bucket_start, calo_count, by_calo):
    """Global time order of a fill's hits, then a stable partition by calorimeter
    (``by_calo``): each calorimeter's hits in time order, calorimeter after calorimeter."""
    _time_order(h_t, nh, bucket_start, order)
    calo_count[:] = 0
    for g in range(nh):
        calo_count[h_k[order[g]] + 1] += 1
    for kk in range(N_CALOS):
        calo_count[kk + 1] += calo_count[kk]
    for g in range(nh):
        idx = order[g]
        kk = h_k[idx]
        by_calo[calo_count[kk]] = idx
        calo_count[kk] += 1


@njit(inline="always", cache=True)
def _calibrate_hits(c, k, first, m, by_calo, h_t, h_e, h_x, h_y, h_infill, gain_lt, st, se, sx, sy, q_calo, q_fine,
                    q_fine2):
    """The m hits of calorimeter k in time order, gain applied (long-term, in-fill sag with
    recovery from ``_infill_gain``, short-term sag after the previous hit), into st, se, sx, sy; their energies above
    the threshold summed into the energy-integrated (Q) readout. Returns the hits above 1 GeV and
    those in the count window (production.count_window)."""
    prev_t = -1e9
    prev_e = 0.0
    n_1gev = n_counted = 0
    for q in range(m):
        idx = by_calo[first + q]
        t = h_t[idx]
        g = gain_lt[k] * h_infill[idx]
        # the short-term sag after the previous hit; beyond 40 time constants its e^-40 < 1e-17
        # leaves 1 - (...) = 1.0 exactly in double precision, so the exponential is skipped there
        dt_prev = t - prev_t
        if dt_prev < 40.0 * c.gain_st_tau:
            g *= 1.0 - c.gain_st_amp * prev_e * exp_v(-dt_prev / c.gain_st_tau)
        e = h_e[idx] * g
        prev_t, prev_e = t, h_e[idx]
        st[q], se[q], sx[q], sy[q] = t, e, h_x[idx], h_y[idx]
        n_1gev += 1 if e > 1.0 else 0
        n_counted += 1 if c.count_e_min < e < c.count_e_max and t > c.count_t_min else 0
        if e > c.q_threshold:
            iq = int(t / TQ)
            if iq < N_TQ:
                q_calo[k, iq] += e
            iq = int(t / TQF)
            if iq < N_TQF:
                q_fine[iq] += e
                q_fine2[iq] += e * e  # for the energy-weighted histogram's variance
    return n_1gev, n_counted


@njit(inline="always", cache=True)
def _infill_gain(c, h_t, nh, h_infill):
    """The in-fill gain sag with its recovery at each hit's time, for the fill's hits at once
    (a loop LLVM vectorizes)."""
    for g in range(nh):
        h_infill[g] = 1.0 - c.gain_if_amp * exp_v(-h_t[g] / c.gain_if_tau)


@njit(inline="always", cache=True)
def _local_reconstruction(c, m, st, se, out_t, out_e, pos_t, pos_e):
    """Local reconstruction: hits closer in time than the resolving time merge (energy-weighted
    time). Each positron is written at its seed hit (out_t[0], out_e[0]; -1 at the hits merged
    into it) and listed in pos_t, pos_e for the positron-level shadow window; returns their
    number and the merged hits'."""
    out_e[0, :m] = -1.0
    nr = n_merged = 0
    q = 0
    while q < m:
        esum, tw = se[q], se[q] * st[q]
        r = q + 1
        while r < m and st[r] - st[q] < c.tau_res:
            esum += se[r]
            tw += se[r] * st[r]
            r += 1
        n_merged += r - q - 1
        out_t[0, q] = tw / esum if esum > 0.0 else st[q]
        out_e[0, q] = max(esum, 0.0)
        pos_t[nr] = out_t[0, q]
        pos_e[nr] = esum
        nr += 1
        q = r
    return nr, n_merged


@njit(inline="always", cache=True)
def _global_reconstruction(c, m, st, se, sx, sy, used, out_t, out_e):
    """Global reconstruction: hits merge only if they are also close on the crystal face; each
    positron is written at its seed hit (out_t[1], out_e[1]; -1 at the hits merged into another).
    Returns the merged hits."""
    used[:m] = False
    out_e[1, :m] = -1.0
    n_merged = 0
    for q in range(m):
        if used[q]:
            continue
        esum, tw = se[q], se[q] * st[q]
        r = q + 1
        while r < m and st[r] - st[q] < c.tau_res:
            if (not used[r]) and abs(sx[r] - sx[q]) < c.global_sep and abs(sy[r] - sy[q]) < c.global_sep:
                used[r] = True
                esum += se[r]
                tw += se[r] * st[r]
                n_merged += 1
            r += 1
        out_t[1, q] = tw / esum if esum > 0.0 else st[q]
        out_e[1, q] = max(esum, 0.0)
    return n_merged


@njit(inline="always", cache=True)
def _buffer_positron(buf, nb, recon, k, t, e, negative):
    """Append one positron to the write buffer (nothing before t = 0); returns its new length."""
    if t < 0.0:
        return nb
    buf[nb] = _positron_word(recon, k, t, e, negative)
    return nb + 1


@njit(inline="always", cache=True)
def _write_calorimeter(k, m, out_t, out_e, buf, nb):
    """Calorimeter k's positrons of the fill into the write buffer (``_flush_positrons`` puts them
    in the histograms, in time order); returns the buffer's new length. The two reconstructions
    differ only where hits merged: the global histograms are accumulated as local + (global -
    local), which halves the writes per hit (a hit merged into an earlier one keeps out_e = -1
    there)."""
    for g in range(m):
        if out_e[0, g] < 0.0 and out_e[1, g] < 0.0:
            continue
        if out_e[0, g] == out_e[1, g] and out_t[0, g] == out_t[1, g]:
            nb = _buffer_positron(buf, nb, 0, k, out_t[0, g], out_e[0, g], False)
        else:
            if out_e[0, g] >= 0.0:
                nb = _buffer_positron(buf, nb, 0, k, out_t[0, g], out_e[0, g], False)
                nb = _buffer_positron(buf, nb, 1, k, out_t[0, g], out_e[0, g], True)
            if out_e[1, g] >= 0.0:
                nb = _buffer_positron(buf, nb, 1, k, out_t[1, g], out_e[1, g], False)
    return nb


@njit(cache=True)
def _flush_positrons(nb, buf, sorted_buf, bucket_start, calo_hist, fine_hist, fast_rot_1):
    """The buffered positrons of many fills into the histograms, in order of their 149 ns time
    bin: a counting sort moves their words into ``sorted_buf``, then one forward sweep writes
    them. Each bin's row of calo_hist (3.8 kB), its fine bins and its fast-rotation bins are then
    hot for the ~200 positrons of a buffer that fall in it, where a fill's ~3e3 positrons, spread
    over all 4700 rows, missed the cache at nearly every write. Integer counts: the order of the
    additions changes no bit of the histograms."""
    bucket_start[:] = 0
    for i in range(nb):
        bucket_start[(buf[i] >> _TB_SHIFT) + 1] += 1
    for b in range(N_T + 1):
        bucket_start[b + 1] += bucket_start[b]
    for i in range(nb):
        b = buf[i] >> _TB_SHIFT
        sorted_buf[bucket_start[b]] = buf[i]
        bucket_start[b] += 1
    for j in range(nb):
        _record_positron(sorted_buf[j], calo_hist, fine_hist, fast_rot_1)


# fastmath: FMA contraction and reassociation (+5 %); nothing here relies on NaN or inf semantics.
# error_model="numpy": no zero-division checks in the loop (+6 %); every division is guarded.
@njit(cache=True, error_model="numpy", fastmath=True)
def run_fills(c, fld, tables, s, lanes, target, gain_lt, kappa_calo, calo_hist, fine_hist, q_calo, q_fine, q_fine2,
              pileup, fast_rot, tracker, lost, truth, truth_lost, counters):
    """Simulate fills until ``target`` positrons in the count window are recorded; accumulate every
    view. Per fill: its time in the dataset (the field there, ``fld``: a KernelField); per block
    of muons (``lanes``: their uniforms; ``s``: the fill's and the rare draws): injection,
    storage or loss, decay position, the field on its orbit and the transients, spin phase,
    Michel positron, calorimeter; muon by muon: losses, trackers, hits, truth; per fill:
    reconstruction per calorimeter and the recorded histograms."""
    max_hits = int(c.muons_per_fill * (1.0 + 8.0 * c.intensity_rms)) + 64
    h_t = np.empty(max_hits)
    h_e = np.empty(max_hits)
    h_x = np.empty(max_hits)
    h_y = np.empty(max_hits)
    h_infill = np.empty(max_hits)
    h_k = np.empty(max_hits, np.int64)
    st = np.empty(max_hits)
    se = np.empty(max_hits)
    sx = np.empty(max_hits)
    sy = np.empty(max_hits)
    pos_t = np.empty(max_hits)
    pos_e = np.empty(max_hits)
    used = np.zeros(max_hits, np.bool_)
    order = np.empty(max_hits, np.int64)  # the fill's hits in time order
    bucket_start = np.zeros(SORT_BUCKETS + 1, np.int64)
    calo_count = np.zeros(N_CALOS + 1, np.int64)
    by_calo = np.empty(max_hits, np.int64)
    out_t = np.zeros((2, max_hits))
    out_e = np.zeros((2, max_hits))
    # the recorded positrons of many fills, waiting for _flush_positrons
    buf_size = WRITE_BUFFER + 3 * max_hits
    buf = np.empty(buf_size, np.int64)
    sorted_buf = np.empty(buf_size, np.int64)
    buf_bucket = np.zeros(N_T + 2, np.int64)
    fast_rot_1 = np.zeros(N_FR + 1, np.int32)  # fast_rot shifted by one bin (_record_positron)
    nb = 0
    blk = np.empty(N_BLOCK_ROWS * MUON_BLOCK)  # a muon block: its uniforms and its state by stage
    to_track = np.empty(MUON_BLOCK, np.int64)  # a block's muons that decay in a tracker's window
    to_detect = np.empty(MUON_BLOCK, np.int64)  # and those whose positron the calorimeters detect
    g_fill = np.empty(N_COEF)  # the fill's orbit-field coefficients
    truth_flat = truth.reshape(-1)  # a view: [t, E, row] flat (_truth_cell)
    tr_kick, tr_esq = fld.transient[0], fld.transient[1]

    n, ap = c.n, c.aperture
    one_plus_eps = 1.0 + c.eps_hw
    t_end_true = N_T * T_BIN * one_plus_eps
    rho_scrape = 1.0 - c.scrape_mm / ap
    sqrt_1mn, sqrt_n = math.sqrt(1.0 - n), math.sqrt(n)

    while counters[C_COUNTED] < target:
        za, _ = normal_pair(s)
        counters[C_NORMAL] += 2
        nmu = int(c.muons_per_fill * (1.0 + c.intensity_rms * za))
        nmu = min(max(nmu, 0), max_hits - 1)
        q = fld.q0 + counters[C_FILLS] * _GOLDEN
        fill_coefficients(fld.t_s, fld.coef, fld.schedule, fld.lo + fld.width * (q - math.floor(q)), g_fill)
        nh = 0
        n_uni = n_nor = n_sto = s_ce = s_cp = n_scr = n_los = n_dec = n_trk = n_acc = 0.0
        for first in range(0, nmu, MUON_BLOCK):
            m_b = min(MUON_BLOCK, nmu - first)
            for row in range(N_UNIFORM_ROWS):
                fill_uniforms(lanes, blk[row * MUON_BLOCK:(row + 1) * MUON_BLOCK], (m_b + LANES - 1) // LANES * LANES)
            _muon_orbits(c, blk, m_b, sqrt_1mn, sqrt_n, rho_scrape)
            _closed_orbit(fld.x_cod, blk, m_b)
            orbit_field_fraction_block(g_fill, _row(blk, W_U), _row(blk, W_QX), _row(blk, W_QY), m_b,
                                       _row(blk, W_EPS_B))
            _transient_phases(tr_kick, tr_esq, blk, m_b)
            _muon_spin(c, blk, m_b, tables.shape[1] - 1)
            _energy_lookup(tables, blk, m_b)
            _muon_positron(c, blk, m_b)
            _calorimeter_slopes(kappa_calo, blk, m_b)
            _muon_fate(c, blk, m_b, t_end_true)
            # muon by muon, branch-free: the counts, and lists of the muons to track and to detect
            n_track = n_seen = 0
            for i in range(m_b):
                fate = int(blk[W_FATE + i])
                stored = fate != FATE_UNSTORED
                n_sto += 1 if stored else 0
                s_ce += blk[W_CE + i] if stored else 0.0
                s_cp += blk[W_CP + i] if stored else 0.0
                if fate == FATE_LOST:  # ~2 % of the muons
                    if blk[W_RHO2 + i] >= rho_scrape * rho_scrape:
                        n_scr += 1
                    else:
                        n_los += 1
                    _record_loss(c, blk[U_TRIPLE + i], blk[W_TLOSS + i], one_plus_eps, lost, truth_lost)
                decayed = fate >= FATE_MISSED
                n_dec += 1 if decayed else 0
                to_track[n_track] = i
                n_track += 1 if decayed and blk[W_NEAR_TRACKER + i] != 0.0 else 0
                to_detect[n_seen] = i
                n_seen += 1 if fate == FATE_DETECTED else 0
            for q in range(n_track):  # in muon order: the tracker draws come from the scalar stream
                i = to_track[q]
                y = blk[W_Y + i]
                du, dn, dt = _track(c, s, blk[W_AZIMUTH + i], blk[W_YFRAC + i], blk[W_X + i], y, y / ap,
                                    blk[W_TDEC + i], one_plus_eps, tracker)
                n_uni += du
                n_nor += dn
                n_trk += dt
            n_acc += n_seen
            for q in range(n_seen):
                i = to_detect[q]
                h_t[nh] = blk[W_THIT + i] / one_plus_eps
                h_k[nh] = int(blk[W_CALO + i])
                h_e[nh] = blk[W_EDEP + i]
                h_x[nh] = blk[W_XFACE + i]
                h_y[nh] = blk[W_Y + i]
                nh += 1
                _accumulate_truth(truth_flat, int(blk[W_TRUTH_CELL + i]), blk[W_ACOS + i], blk[W_ASIN + i],
                                  blk[W_CE + i], blk[W_CP + i], blk[W_EPS_B + i], blk[W_PHI_K + i], blk[W_PHI_Q + i])
        # variates per injected muon: 6 uniforms, 8 normals (4 Box-Muller pairs), 1 exponential
        n_inj = float(nmu)
        n_uni += 6.0 * nmu
        n_nor += 8.0 * nmu
        n_exp = float(nmu)

        counters[C_INJECTED] += n_inj
        counters[C_UNIFORM] += n_uni
        counters[C_NORMAL] += n_nor
        counters[C_STORED] += n_sto
        counters[C_SUM_CE] += s_ce
        counters[C_SUM_CP] += s_cp
        counters[C_EXPONENTIAL] += n_exp
        counters[C_SCRAPED] += n_scr
        counters[C_LOST_SLOW] += n_los
        counters[C_DECAYED] += n_dec
        counters[C_TRACKED] += n_trk
        counters[C_ACCEPTED] += n_acc
        # per-fill reconstruction, calorimeter by calorimeter in time order; the reconstructed
        # positrons wait in the write buffer, which fills the histograms in time order
        _order_by_calorimeter(h_t, h_k, nh, order, bucket_start, calo_count, by_calo)
        _infill_gain(c, h_t, nh, h_infill)
        i = 0
        while i < nh:
            k = h_k[by_calo[i]]
            j = i
            while j < nh and h_k[by_calo[j]] == k:
                j += 1
            m = j - i
            n_1gev, n_counted = _calibrate_hits(c, k, i, m, by_calo, h_t, h_e, h_x, h_y, h_infill, gain_lt, st, se,
                                                sx, sy, q_calo, q_fine, q_fine2)
            nr, n_merged_local = _local_reconstruction(c, m, st, se, out_t, out_e, pos_t, pos_e)
            _shadow(pos_t, pos_e, sx, sy, nr, c.shadow_gap, c.tau_res, c.global_sep, False, pileup[0])
            _shadow(st, se, sx, sy, m, c.shadow_gap, c.tau_res, c.global_sep, False, pileup[1])
            n_merged_global = _global_reconstruction(c, m, st, se, sx, sy, used, out_t, out_e)
            nb = _write_calorimeter(k, m, out_t, out_e, buf, nb)
            counters[C_HITS_1GEV] += n_1gev
            counters[C_COUNTED] += n_counted
            counters[C_MERGED_LOCAL] += n_merged_local
            counters[C_MERGED_GLOBAL] += n_merged_global
            _shadow(st, se, sx, sy, m, c.shadow_gap, c.tau_res, c.global_sep, True, pileup[2])
            i = j
        if nb > WRITE_BUFFER:
            _flush_positrons(nb, buf, sorted_buf, buf_bucket, calo_hist, fine_hist, fast_rot_1)
            nb = 0
        counters[C_FILLS] += 1
    _flush_positrons(nb, buf, sorted_buf, buf_bucket, calo_hist, fine_hist, fast_rot_1)
    fast_rot += fast_rot_1[1:]


def _zeros_aligned(shape, dtype=np.float64, align: int = 64) -> np.ndarray:
    """np.zeros(shape, dtype) starting on an ``align``-byte boundary (numpy's large arrays start
    16 bytes past a page: a positron's eight truth rows would straddle two cache lines)."""
    nbytes = int(np.prod(shape)) * np.dtype(dtype).itemsize
    raw = np.zeros(nbytes + align, np.uint8)
    start = -raw.ctypes.data % align
    return raw[start:start + nbytes].view(dtype).reshape(shape)


def allocate_views() -> dict:
    """Zeroed accumulators of every recorded and sealed view."""
    q_fine_sums = _zeros_aligned((N_TQF, 2))  # [t, (sum E, sum E^2)]: a hit's two sums on one cache line
    return {
        # [recon, t, ...] while accumulating (_flush_positrons sweeps the local reconstruction's
        # rows in time order; recon 1, global - local, is rarely written); stored as [recon, calo, E, t]
        "calo_hist": np.zeros((2, N_T, N_CALOS, N_E), np.int32),
        "fine_hist": np.zeros((2, N_T_FINE, N_E), np.int32),
        "q_calo": np.zeros((N_CALOS, N_TQ)),
        "q_fine": q_fine_sums[:, 0],
        "q_fine2": q_fine_sums[:, 1],
        "pileup": np.zeros((3, 5, N_E, N_T), np.int32),
        "fast_rot": np.zeros(N_FR, np.int32),
        "tracker": np.zeros((2, N_T_TRACK, N_XY, N_XY), np.int32),
        "lost": np.zeros(N_T, np.int32),
        # [t, E, row] while accumulating (a positron's eight rows in one cache line); stored as
        # [row, E, t]
        "truth": _zeros_aligned((N_T_TRUTH, N_E, N_TRUTH_ROWS)),
        "truth_lost": np.zeros(N_T),
        "counters": np.zeros(N_COUNTERS),
    }


def long_term_gain(amplitude: float, chunk: int, n_chunks: int) -> np.ndarray:
    """Per-calorimeter gain during a chunk: a slow drift across the dataset, each calorimeter
    with its own phase."""
    progress = (chunk + 0.5) / n_chunks
    phases = 2.0 * np.pi * np.arange(N_CALOS) / N_CALOS
    return 1.0 + amplitude * np.sin(2.0 * np.pi * progress + phases)


def calorimeter_radial_sensitivity(kappa: float, spread: float) -> np.ndarray:
    """Radial acceptance slope of each calorimeter: kappa (1 + spread r_k), with r_k a fixed
    pattern (the detector's geometry, the same for every dataset and chunk), unit rms."""
    r = np.random.default_rng(np.random.SeedSequence(2024, spawn_key=(24,))).standard_normal(N_CALOS)
    r = (r - r.mean()) / r.std()
    return kappa * (1.0 + spread * r)


def kernel_field(field: MuonField, seed: int, dataset_key: int, chunk: int, n_chunks: int) -> KernelField:
    """The field arrays of a chunk's kernel: chunk k of n is the k-th n-th of the dataset's muon
    schedule (as its long-term gain is), its fills placed evenly in it from a seeded start."""
    q0 = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(dataset_key, chunk, 2)))).random()
    return KernelField(field.t_s, field.coef, field.schedule, field.x_cod_mm, field.transient_phase, float(q0),
                       chunk / n_chunks, 1.0 / n_chunks)


def simulate_chunk(cond, field: MuonField, positrons: float, seed: int, dataset_key: int, chunk: int, n_chunks: int,
                   detector_cfg: dict, progress=None, steps: int = 20) -> dict:
    """Produce one chunk: run the kernel, then add the readout pedestal and laser records.
    ``field``: the dataset's field world as the muons sample it (``muon_field.muon_field``).

    Returns the accumulators of ``allocate_views`` plus ``laser_*`` arrays and ``gain_lt``.
    With ``progress`` (a g2chain.progress.Progress in positrons) the kernel runs in ``steps``
    slices of the target, reporting after each: the fills continue where they stopped (the
    random state and the accumulators carry over), so the chunk is the same as in one call.
    """
    views = allocate_views()
    state = seed_state(seed, dataset_key, chunk, 0)  # the fills' intensities and the trackers' draws
    lanes = seed_lanes(seed, dataset_key, chunk, 3)  # the muon blocks' uniforms
    gain_lt = long_term_gain(detector_cfg["gain_long_term"], chunk, n_chunks)
    kappa = calorimeter_radial_sensitivity(cond.kappa_n, detector_cfg["acceptance_radial_calo_spread"])
    tables = inverse_cdf_tables()
    fld = kernel_field(field, seed, dataset_key, chunk, n_chunks)
    targets = [float(positrons)] if progress is None else [float(positrons) * (k + 1) / steps for k in range(steps)]
    for target in targets:
        run_fills(
            cond, fld, tables, state, lanes, target, gain_lt, kappa, views["calo_hist"],
            views["fine_hist"], views["q_calo"], views["q_fine"], views["q_fine2"], views["pileup"],
            views["fast_rot"],
            views["tracker"], views["lost"], views["truth"], views["truth_lost"], views["counters"],
        )
        if progress is not None:
            progress.update(float(views["counters"][C_COUNTED]))
    n_fills = views["counters"][C_FILLS]
    rng = np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(dataset_key, chunk, 1))))
    _add_pedestal(views, n_fills, detector_cfg, rng)
    views.update(_laser_records(cond, gain_lt, n_fills, detector_cfg, rng))
    views["gain_lt"] = gain_lt
    views["q_fine"], views["q_fine2"] = np.ascontiguousarray(views["q_fine"]), np.ascontiguousarray(views["q_fine2"])
    for name in ("calo_hist", "fine_hist"):
        views[name][1] += views[name][0]  # global = local + (global - local)
    views["calo_hist"] = np.ascontiguousarray(views["calo_hist"].transpose(0, 2, 3, 1))
    views["fine_hist"] = np.ascontiguousarray(views["fine_hist"].transpose(0, 2, 1))
    views["truth"] = np.ascontiguousarray(views["truth"].transpose(2, 1, 0))
    return views


def pedestal_ringing(t_us, detector_cfg: dict):
    """Residual pedestal bias per fill per 150 ns bin of the energy-integrated readout."""
    return (
        detector_cfg["pedestal_ringing_gev"]
        * np.exp(-t_us / detector_cfg["pedestal_ringing_tau_us"])
        * np.cos(2.0 * np.pi * detector_cfg["pedestal_ringing_mhz"] * t_us)
    )


def _add_pedestal(views, n_fills, det, rng):
    t = (np.arange(N_TQ) + 0.5) * TQ
    views["q_calo"] += n_fills * pedestal_ringing(t, det)[None, :]
    views["q_calo"] += rng.normal(0.0, det["pedestal_noise_gev"] * math.sqrt(n_fills), views["q_calo"].shape)
    tf = (np.arange(N_TQF) + 0.5) * TQF
    scale = TQF / TQ
    views["q_fine"] += N_CALOS * n_fills * scale * pedestal_ringing(tf, det)
    views["q_fine"] += rng.normal(0.0, det["pedestal_noise_gev"] * math.sqrt(scale * N_CALOS * n_fills), N_TQF)


def _laser_records(cond, gain_lt, n_fills, det, rng):
    """Laser gain monitor: one pulse per calorimeter per sampling time per fill, averaged."""
    sigma = det["laser_noise"] / math.sqrt(max(n_fills, 1.0))
    t = binning.LASER_INFILL_TIMES_US
    infill = gain_lt[:, None] * (1.0 - cond.gain_if_amp * np.exp(-t / cond.gain_if_tau))[None, :]
    dt = binning.LASER_SHORTTERM_DT_NS * 1e-3
    short = np.broadcast_to(1.0 - cond.gain_st_amp * 1.0 * np.exp(-dt / cond.gain_st_tau), (N_CALOS, dt.size))
    return {
        "laser_infill": infill + rng.normal(0.0, sigma, infill.shape),
        "laser_shortterm": short + rng.normal(0.0, sigma, short.shape),
        "laser_longterm": gain_lt + rng.normal(0.0, sigma, N_CALOS),
    }
