"""The beam, decay and detector physics emerge from the per-muon toy (small productions)."""

import math

import numpy as np
import pytest
from scipy.optimize import curve_fit

from g2chain.constants import E_MAX_GEV, GAMMA_MAGIC, OMEGA_C_MAGIC, TAU_MU_US
from g2chain.physics.michel import ASYMMETRY_ZERO_Y
from g2chain.physics.ring import beam_frequencies
from g2chain.records import binning

from ..conftest import counter, fit_wiggle, five_parameter, produce

pytestmark = pytest.mark.slow


def wiggle(views, e_min=1.7, recon=0):
    hist = views["calo_hist"][recon].sum(axis=0)
    return hist[binning.ENERGY_EDGES_GEV[:-1] >= e_min - 1e-9].sum(axis=0)


@pytest.fixture(scope="module")
def beam_signals(base_cfg):
    # coherent effects enlarged so that each line stands clear of the noise in a small production.
    # 1e7 positrons: at 3e6 the VW line summed over the calorimeters reached only 1.2-2.3x the
    # median power (seeds 11-14; 1.20x failed at seed 14 with the kernel of 28400f4, and 1.31x at
    # seed 11 with the vectorized one), against 2.3-2.9x for both kernels' seeds 11-14 at 1e7
    return produce(
        base_cfg, positrons=1e7, seed=11,
        beam={"vertical_mismatch": 0.45, "vertical_offset_mm": 6.0, "coherent_offset_at_zero_kick_mm": 25.0},
        detector={"acceptance_vertical": 0.4, "acceptance_vertical_quadratic": 0.6, "acceptance_radial": 0.15},
    )


def _peak(freq, power, f_expect, half_width):
    sel = np.abs(freq - f_expect) < half_width * f_expect
    i = np.argmax(power[sel])
    return freq[sel][i], power[sel][i]


def test_residual_fft_has_cbo_vw_and_fy_lines(beam_signals):
    views, cond = beam_signals
    counts = wiggle(views)
    popt, _, t, res = fit_wiggle(counts)
    mhz = beam_frequencies(cond.n, OMEGA_C_MAGIC * (1 + cond.eps_hw))
    expect = {k: mhz[f"omega_{k}"] / (2 * math.pi) for k in ("cbo", "vw", "y")}
    # f_y survives the calorimeter sum; look at 30-130 us (small, decoheres)
    r = res[t < 130.0]
    power = np.abs(np.fft.rfft(r, n=16 * r.size)) ** 2
    freq = np.fft.rfftfreq(16 * r.size, d=binning.T_BIN_US)
    f_peak, p_peak = _peak(freq, power, expect["y"], 0.015)
    noise = np.median(power[(freq > 0.5) & (freq < 1.8)])
    assert abs(f_peak / expect["y"] - 1) < 0.01, (f_peak, expect["y"])
    assert p_peak > 10 * noise, (p_peak, noise)  # noise maxima reach ~8x the median
    # the CBO and the VW are seen by each calorimeter with a phase set by its azimuth and largely
    # cancel in the sum (as in the experiment): add the residual power of the 24 calorimeters
    # instead. (The VW, 4 % above f_y, is not resolved in the sum at this size: a +-3.5 % search
    # there used to find the f_y line's tail.)
    hist = views["calo_hist"][0][:, binning.ENERGY_EDGES_GEV[:-1] >= 1.7 - 1e-9, :].sum(axis=1)
    tt = (np.arange(hist.shape[1]) + 0.5) * binning.T_BIN_US
    for name, t_max, half_width, threshold in (("cbo", 660.0, 0.035, 3.0), ("vw", 130.0, 0.015, 1.4)):
        sel = (tt > 30.1) & (tt < t_max)
        power = 0.0
        for k in range(hist.shape[0]):
            y = hist[k, sel].astype(float)
            model = five_parameter(tt[sel], *popt)
            model *= y.sum() / model.sum()
            r = (y - model) / np.sqrt(model)
            power = power + np.abs(np.fft.rfft(r, n=16 * r.size)) ** 2
        freq = np.fft.rfftfreq(16 * r.size, d=binning.T_BIN_US)
        f_peak, p_peak = _peak(freq, power, expect[name], half_width)
        noise = np.median(power[(freq > 0.5) & (freq < 1.8)])
        print(f"{name}: {p_peak / noise:.2f}x the median at {f_peak / expect[name] - 1:+.4f} of the expected frequency")
        assert abs(f_peak / expect[name] - 1) < (0.02 if name == "cbo" else 0.01), (name, f_peak, expect[name])
        # a sum of 24 powers fluctuates by ~20 %: the largest of the ~7 independent bins in the
        # VW window stays below ~1.3x the median without a line
        assert p_peak > threshold * noise, (name, p_peak, noise)


def first_harmonic_envelope(t, f, bunch_width, bunch_edge, rho, delta_rms, n):
    """|<exp(-i 2 pi f (t0 + delta t / (1 - n)))>| for the injection model of DESIGN §5.

    t0 = W (u - 1/2) + e z_t and delta = delta_rms (rho sqrt(12) (u - 1/2) + sqrt(1 - rho^2) z_d):
    the Gaussian parts give Gaussian factors, the uniform part a sinc whose width grows with t
    through the momentum-time correlation. Only the momentum spread makes it fall with t.
    """
    w = 2 * math.pi * f
    spread = delta_rms / (1 - n)
    gauss = np.exp(-0.5 * (w * bunch_edge) ** 2 - 0.5 * (w * spread * math.sqrt(1 - rho**2) * t) ** 2)
    return gauss * np.abs(np.sinc(w * (bunch_width + math.sqrt(12) * rho * spread * t) / (2 * math.pi)))


def test_fast_rotation_period_and_decoherence(base_cfg):
    views, cond = produce(base_cfg, positrons=2e6, seed=12)
    sig = views["fast_rot"].astype(float)
    t = (np.arange(sig.size) + 0.5) * binning.T_FR_US
    f_c = OMEGA_C_MAGIC * (1 + cond.eps_hw) / (2 * math.pi)
    sel = (t > 2) & (t < 12)
    spec = np.abs(np.fft.rfft(sig[sel] - sig[sel].mean(), n=8 * sel.sum()))
    freq = np.fft.rfftfreq(8 * sel.sum(), d=binning.T_FR_US)
    band = (freq > 5) & (freq < 9)
    f_peak = freq[band][np.argmax(spec[band])]
    # the beam's mean momentum offset lowers f_c by delta/(1-n)
    f_beam = f_c * (1 - cond.delta_mean / (1 - cond.n))
    assert abs(f_peak / f_beam - 1) < 2e-3
    # first harmonic in windows one g-2 period long (the arrival time of E > E_FR positrons wobbles
    # with the wiggle, since the drift to the calorimeter depends on energy; a whole period
    # averages that into a constant factor), against the envelope the injection model predicts. The
    # envelope passes through zero (the sinc), so the phasor is projected on its own phase
    # (a line fitted where it is well measured) rather than taking |phasor|, whose noise floor
    # would fake a slower decoherence. Free: the momentum spread, a normalisation (the detector's
    # time-independent smearing: drift times, alignment) and the phase line.
    centers, ph = [], []
    period = 2 * math.pi / cond.omega_a
    for lo in 2.0 + period * np.arange(10):
        w = (t >= lo) & (t < lo + period)
        ph.append(np.sum(sig[w] * np.exp(-2j * math.pi * f_beam * t[w])) / sig[w].sum())
        centers.append(lo + period / 2)
    centers, ph = np.array(centers), np.array(ph)
    noise = 1 / np.sqrt(2 * sig[(t >= 2) & (t < 2 + period)].sum())  # per component, per window
    good = np.abs(ph) > 8 * noise
    line = np.polyfit(centers[good], np.unwrap(np.angle(ph[good])), 1)
    signed = np.real(ph * np.exp(-1j * np.polyval(line, centers)))

    def model(tc, norm, delta_rms):
        return norm * first_harmonic_envelope(tc, f_beam, cond.bunch_width, cond.bunch_edge, cond.rho_dt,
                                              delta_rms, cond.n)

    popt, pcov = curve_fit(model, centers, signed, p0=[signed[0] / model(centers[:1], 1.0, cond.delta_rms)[0],
                                                       cond.delta_rms], sigma=np.full(signed.size, noise))
    pull = (popt[1] - cond.delta_rms) / math.sqrt(pcov[1, 1])
    assert abs(pull) < 4, (popt, pcov, pull)
    assert math.sqrt(pcov[1, 1]) < 0.1 * cond.delta_rms
    # and the amplitude really does fall: the first harmonic loses most of its height by ~30 us
    assert np.abs(ph[5:7]).mean() < 0.5 * np.abs(ph[:2]).mean()


def test_measured_asymmetry_crosses_zero_near_042(base_cfg):
    views, cond = produce(base_cfg, positrons=2e6, seed=13)
    popt, _, _, _ = fit_wiggle(wiggle(views))
    _, tau, _, omega, phi = popt
    hist = views["calo_hist"][0].sum(axis=0)
    t = (np.arange(hist.shape[1]) + 0.5) * binning.T_BIN_US
    sel = (t > 30.1) & (t < 400)
    basis = np.vstack([np.exp(-t[sel] / tau), np.exp(-t[sel] / tau) * np.cos(omega * t[sel] - phi)]).T
    e_c = binning.energy_centers()
    asym = []
    for eb in range(len(e_c)):
        y = hist[eb, sel].astype(float)
        w = 1 / np.maximum(y, 1)
        coef = np.linalg.lstsq(basis * np.sqrt(w)[:, None], y * np.sqrt(w), rcond=None)[0]
        asym.append(coef[1] / coef[0] if coef[0] > 0 else np.nan)
    asym = np.array(asym)
    low = (e_c > 0.5) & (e_c < 2.5)
    cross = np.where(low[:-1] & (asym[:-1] < 0) & (asym[1:] >= 0))[0]
    assert cross.size == 1
    i = cross[0]
    e0 = e_c[i] - asym[i] * (e_c[i + 1] - e_c[i]) / (asym[i + 1] - asym[i])
    assert abs(e0 / (ASYMMETRY_ZERO_Y * E_MAX_GEV) - 1) < 0.08, e0
    assert np.nanmax(asym[(e_c > 2.5) & (e_c < 3.1)]) > 0.4


def test_energy_above_endpoint_only_from_pileup_and_rate_squared(base_cfg):
    above = binning.ENERGY_EDGES_GEV[:-1] >= 3.6 - 1e-9  # 1.16 E_max: beyond resolution's reach
    off, _ = produce(base_cfg, positrons=1e6, seed=14, detector={"resolving_time_ns": 0.0})
    assert off["calo_hist"][:, :, above].sum() == 0
    frac = []
    for mult in (1, 2):
        v, _ = produce(base_cfg, positrons=1e6, seed=15, production={"muons_per_fill": 6000 * mult})
        frac.append(v["calo_hist"][0][:, above].sum() / counter(v, "hits_above_1gev"))
    # pileup per positron scales with the instantaneous rate, so per fill with its square
    ratio = frac[1] / frac[0]
    assert 1.6 < ratio < 2.4, ratio
    assert frac[0] > 0


def test_lifetime_is_gamma_tau_without_losses(base_cfg):
    views, cond = produce(base_cfg, positrons=2e6, seed=16, beam={"loss_rate_per_us": 0.0},
                          detector={"resolving_time_ns": 0.0, "gain_in_fill": 0.0, "gain_short_term": 0.0})
    popt, perr, _, _ = fit_wiggle(wiggle(views))
    gamma_tau = GAMMA_MAGIC * (1 + cond.delta_mean) * TAU_MU_US / (1 + cond.eps_hw)
    assert abs(popt[1] - gamma_tau) < 3 * perr[1], (popt[1], perr[1], gamma_tau)


def test_blinded_clock_scales_every_frequency(base_cfg):
    eps = 2e-3  # far beyond the +-25 ppm blind so that the scaling is resolved
    a, _ = produce(base_cfg, positrons=1e6, seed=17, eps_hw=0.0)
    b, _ = produce(base_cfg, positrons=1e6, seed=17, eps_hw=eps)
    pa, ea, _, _ = fit_wiggle(wiggle(a))
    pb, eb, _, _ = fit_wiggle(wiggle(b), omega0=pa[3] * (1 + eps))
    assert abs(pb[3] / pa[3] - (1 + eps)) < 3 * math.hypot(ea[3], eb[3]) / pa[3]
    assert abs(pb[1] * (1 + eps) / pa[1] - 1) < 3 * math.hypot(ea[1], eb[1]) / pa[1]


def test_lost_muon_spectrum_matches_true_losses(base_cfg):
    views, cond = produce(base_cfg, positrons=1e6, seed=18)
    recorded = views["lost"].sum()
    true = views["truth_lost"].sum()
    assert true == counter(views, "muons_lost_slow") + counter(views, "muons_scraped")
    expect = cond.triple_eff * true
    assert abs(recorded - expect) < 4 * math.sqrt(expect * (1 - cond.triple_eff))
    # same time distribution: compare in 10 us bins (clock blind is far below that)
    edges = np.arange(0, 701, 10.0)
    t = (np.arange(binning.N_T) + 0.5) * binning.T_BIN_US
    h_rec = np.histogram(t, edges, weights=views["lost"])[0]
    h_true = np.histogram(t, edges, weights=views["truth_lost"])[0] * cond.triple_eff
    ok = h_true > 5
    chi2 = np.sum((h_rec[ok] - h_true[ok]) ** 2 / h_true[ok])
    assert chi2 < ok.sum() + 5 * math.sqrt(2 * ok.sum())


def test_the_esq_relaxation_after_scraping_moves_the_betatron_phases(base_cfg):
    """beam.esq_relaxation: n(t) = n (1 + eps e^{-t/tau}). A muon's radial and vertical betatron
    phases at its decay are the turn-by-turn sums of the exact tunes sqrt(1 - n(t)), sqrt(n(t))
    (to the kernel's first order in eps): the CBO frequency relaxes early in the fill."""
    from g2chain.experiment.production import _position_at_decay
    from g2chain.experiment.world import build_conditions, build_world

    c = build_conditions(base_cfg, "run2", build_world(base_cfg, "run2"))
    eps, tau = 0.01, 15.0
    relaxed = c._replace(esq_relax=eps, esq_relax_tau=tau)
    sqrt_1mn, sqrt_n = math.sqrt(1 - c.n), math.sqrt(c.n)
    t_c = 2 * math.pi / c.omega_c0  # one turn at x_e = 0 (us)
    for t_dec in (3.0, 20.0, 200.0):
        turns = np.arange(int(t_dec / t_c)) * t_c  # the turns' start times from t0 = 0
        n_t = c.n * (1 + eps * np.exp(-(turns + 0.5 * t_c) / tau))
        frac = t_dec / t_c - turns.size
        phase_x = np.sum(np.sqrt(1 - n_t)) + frac * math.sqrt(1 - c.n)  # turns of betatron phase
        phase_y = np.sum(np.sqrt(n_t)) + frac * math.sqrt(c.n)
        # a unit cosine-like amplitude in x and y: x - x_e = cos(2 pi phase_x), y = cos(2 pi phase_y)
        x, y, _ = _position_at_decay(relaxed, 0.0, t_dec, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, sqrt_1mn, sqrt_n, 0.0)
        x0, y0, _ = _position_at_decay(c, 0.0, t_dec, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.0, sqrt_1mn, sqrt_n, 0.0)
        assert x == pytest.approx(math.cos(2 * math.pi * phase_x), abs=2e-3)
        assert y == pytest.approx(math.cos(2 * math.pi * phase_y), abs=2e-3)
        moved = abs(x - x0) + abs(y - y0)
        assert moved > 0.05 if t_dec > 10 else True  # the relaxation is seen (0.3 turns of y phase by 20 us)


def test_a_lorentzian_tune_spread_decoheres_the_cbo_exponentially():
    # beam.tune_spread_x: each muon's radial tune offset; the CBO's coherent sum over muons is
    # E[exp(2 pi i f_c dnu t)] = f + (1 - f) exp(-2 pi f_c hwhm t), up to the 50-hwhm cut
    from collections import namedtuple

    from g2chain.experiment.production import _tune_offset

    spread = namedtuple("Spread", ["tune_hwhm_x", "tune_coherent_x"])
    f_c = OMEGA_C_MAGIC / (2 * math.pi)  # MHz
    u = (np.arange(200_000) + 0.5) / 200_000  # quadrature over the uniform
    t = np.array([30.0, 100.0, 160.0, 300.0, 600.0])
    for coherent in (0.0, 0.1):
        c = spread(1.48e-4, coherent)
        dnu = np.array([_tune_offset(c, x) for x in u])
        assert np.mean(dnu == 0.0) == pytest.approx(coherent, abs=1e-4)
        envelope = np.abs(np.exp(2j * math.pi * f_c * np.outer(t, dnu)).mean(axis=1))
        tau = 1.0 / (2 * math.pi * f_c * 1.48e-4)
        assert tau == pytest.approx(160.0, rel=0.01)
        # the muons beyond the cut, 2 / (50 pi) = 1.3 %, sit at +-50 hwhm instead: at most that much off
        assert envelope == pytest.approx(coherent + (1 - coherent) * np.exp(-t / tau), abs=2 / (50 * math.pi))
