"""The debunching basis of the fast-rotation signal (Eq. 15-16) against analytic cases."""

import numpy as np
import pytest

from g2chain.beam_dynamics import fast_rotation


def test_a_ring_filled_uniformly_gives_a_flat_ratio():
    f = fast_rotation.F0_MHZ
    t_edges = np.arange(5.0, 6.0, 0.002)
    # muons spread uniformly over one revolution in injection time: every bin sees the mean rate
    basis = fast_rotation.debunching_basis(t_edges, [f * (1 - 1e-6), f * (1 + 1e-6)], [0.0, 1.0 / f])
    assert np.allclose(basis[:, 0], 1.0, atol=2e-3)


def test_a_short_bunch_passes_once_per_revolution_with_unit_area():
    f = fast_rotation.F0_MHZ * (1 + 2e-3)
    bw = 0.001
    t_edges = np.arange(3.0, 3.6 + bw / 2, bw)
    basis = fast_rotation.debunching_basis(t_edges, [f, f * (1 + 1e-5)], [0.010, 0.012])[:, 0]
    t = 0.5 * (t_edges[1:] + t_edges[:-1])
    peaks = t[basis > 0.5 * basis.max()]
    turns = np.round((peaks - 0.011) * f)
    assert np.allclose(peaks, 0.011 + turns / f, atol=2 * bw)  # tau + m / f
    # each passage holds one muon: summed over a revolution, basis x bin / period = 1
    one_rev = (t >= 3.1) & (t < 3.1 + 1 / f)
    assert basis[one_rev].sum() * bw * f == pytest.approx(1.0, rel=0.02)


def test_ratio_removes_slow_features_and_keeps_the_revolution():
    bw = 0.001
    t = np.arange(0.0, 40.0, bw) + bw / 2
    fast = 1 + 0.3 * np.cos(2 * np.pi * fast_rotation.F0_MHZ * t)
    slow = 1e4 * np.exp(-t / 64.4) * (1 + 0.3 * np.cos(1.44 * t))
    ratio, sigma = fast_rotation.fast_rotation_ratio(slow * fast, bw)
    ok = np.isfinite(ratio)
    assert np.nanmax(np.abs(ratio[ok] - fast[ok])) < 0.01
    assert np.isnan(ratio[0]) and np.all(sigma[ok] > 0)
    assert fast_rotation.radial_offset(fast_rotation.F0_MHZ) == pytest.approx(0.0, abs=1e-9)
    assert fast_rotation.radial_offset(fast_rotation.F0_MHZ * 7112 / 7117) == pytest.approx(5.0, rel=1e-9)


@pytest.mark.slow
def test_fourier_method_is_biased_by_the_momentum_time_correlation(base_cfg):
    """Issue 6: the Fourier method assumes rho(f, tau) separable. Without the kicker's delta-t0
    correlation it recovers the detected population's C_e (seeds 5-8 at 1e7 e+: -2.4 % to +4.5 %,
    so 12 % is 4 sigma); with the default correlation it comes out tens of % high (+55 % here)."""
    from g2chain.truth import production as production_truth

    from ..conftest import produce

    dev = {}
    for rho_dt in (0.0, 0.2):
        views, cond = produce(base_cfg, positrons=1e7, seed=5, beam={"delta_t0_correlation": rho_dt})
        truth = production_truth.true_omega_a_m(views["truth"], cond.omega_a, "T")["mean_ce_ppb"]
        sig = views["fast_rot"].astype(float)
        ratio, _ = fast_rotation.fast_rotation_ratio(sig, 0.001)
        d = fast_rotation.fourier_distribution(ratio, (np.arange(sig.size) + 0.5) * 0.001)
        # the blinded clock: the analysis quotes C_e at eps = 0 and its slope; the truth side adds eps
        blinded = fast_rotation.efield_correction(d["x_mm"], d["rho"], cond.n)
        ce = (blinded + cond.eps_hw * fast_rotation.efield_blind_slope(d["x_mm"], d["rho"], cond.n)) * 1e9
        dev[rho_dt] = ce / truth - 1
        print(f"delta-t0 correlation {rho_dt}: C_e {ce:.1f} ppb (blinded {blinded * 1e9:.1f}), truth {truth:.1f}, "
              f"{dev[rho_dt]:+.1%}")
    assert abs(dev[0.0]) < 0.12
    assert dev[0.2] > 0.25


def test_unwrap_profile_removes_the_wrapped_bunch_tails():
    """A flat 120 ns bunch with 10 ns Gaussian edges folded at a 149 ns period: its tails beyond
    half a period land on the opposite end. Unwrapping gives back the bunch inside the period."""
    from scipy.special import ndtr

    from g2chain.beam_dynamics.efield import unwrap_profile

    period = 0.1492
    edges = (np.linspace(0.0, 1.0, 25) - 0.5) * period
    fine = np.linspace(-0.3, 0.3, 600001)
    density = ndtr((fine + 0.060) / 0.010) - ndtr((fine - 0.060) / 0.010)
    phase = (fine + 0.5 * period) % period - 0.5 * period
    folded = np.histogram(phase, bins=edges, weights=density)[0]
    inside = np.histogram(fine, bins=edges, weights=density)[0]
    out = unwrap_profile(edges, folded, period)
    a, b, sig = out["bunch_ns"]
    assert a == pytest.approx(-60.0, abs=0.3) and b == pytest.approx(60.0, abs=0.3)
    assert sig == pytest.approx(10.0, abs=0.3)
    np.testing.assert_allclose(out["profile"], inside / inside.sum(), rtol=0.02, atol=2e-4)
    assert (folded / folded.sum())[0] > 1.2 * (inside / inside.sum())[0]  # the wrap was there to remove


def test_the_rate_of_a_distribution_is_the_basis_times_its_weights():
    # debunching_rate sums the cells' passages without building B: it must equal B @ w
    rng = np.random.default_rng(3)
    t_edges = np.arange(2.0, 6.0 + 1e-9, 0.002)
    f_edges = fast_rotation.F0_MHZ * (1 + np.linspace(-3e-3, 3e-3, 7))
    tau_edges = np.linspace(-0.04, 0.06, 9)
    w = rng.uniform(0, 1, 6 * 8)
    w[::5] = 0.0  # empty cells are skipped
    basis = fast_rotation.debunching_basis(t_edges, f_edges, tau_edges)
    rate = fast_rotation.debunching_rate(t_edges, f_edges, tau_edges, w)
    assert np.max(np.abs(rate - basis @ w)) < 1e-12 * np.max(np.abs(rate))
    with pytest.raises(ValueError, match="weights"):
        fast_rotation.debunching_rate(t_edges, f_edges, tau_edges, w[:-1])


def test_the_chirp_z_spectrum_is_the_direct_sum():
    # on equal bins the Fourier method's transform is a chirp-z transform; the direct sum is the
    # definition (and the path for unequal bins)
    rng = np.random.default_rng(4)
    t = (np.arange(20000) + 0.5) * 0.001 + 9.0
    y = rng.normal(size=t.size)
    sel = np.ones(t.size, bool)
    sel[:50] = sel[-70:] = sel[5000:5003] = False
    f = fast_rotation.F0_MHZ + np.arange(-0.15, 0.15, 5e-4)
    direct = np.exp(2j * np.pi * np.outer(f, t[sel])) @ y[sel]
    fast = fast_rotation._spectrum(np.where(sel, y, 0.0), t, f, sel)
    assert np.max(np.abs(fast - direct)) < 1e-9 * np.max(np.abs(direct))
    t_uneven = t + 1e-4 * np.sin(np.arange(t.size))
    direct = np.exp(2j * np.pi * np.outer(f, t_uneven[sel])) @ y[sel]
    assert np.allclose(fast_rotation._spectrum(np.where(sel, y, 0.0), t_uneven, f, sel), direct, rtol=1e-12, atol=1e-9)


def test_nonnegative_least_squares_on_the_normal_equations_is_scipys():
    from scipy.optimize import nnls

    from g2chain.beam_dynamics.efield import nonnegative_least_squares

    rng = np.random.default_rng(5)
    design = np.abs(rng.normal(size=(3000, 20))) + np.linspace(0, 1, 20)
    truth = np.where(rng.uniform(size=20) < 0.4, 0.0, rng.uniform(0, 2, 20))  # some cells at the bound
    y = design @ truth + rng.normal(size=3000)
    w_ref, rnorm = nnls(design, y)
    w, chi2 = nonnegative_least_squares(design, y)
    assert np.allclose(w, w_ref, rtol=1e-9, atol=1e-10)
    assert chi2 == pytest.approx(rnorm**2, rel=1e-10)
    assert np.all(w >= 0) and np.any(w == 0)


def test_nonnegative_normal_equations_without_a_cholesky_factor():
    # two identical columns: D^T D is singular, the eigenvector factor still gives the tall
    # problem's minimum chi^2 (the split between the twins is not unique)
    from scipy.optimize import nnls

    from g2chain.beam_dynamics.efield import nonnegative_normal_equations

    rng = np.random.default_rng(6)
    design = np.abs(rng.normal(size=(2000, 8)))
    design[:, 5] = design[:, 4]
    y = design @ np.array([1.0, 0.0, 2.0, 0.5, 0.7, 0.3, 0.0, 1.2]) + rng.normal(size=2000)
    _, rnorm = nnls(design, y)
    w, chi2 = nonnegative_normal_equations(design.T @ design, design.T @ y, float(y @ y))
    assert np.all(w >= 0)
    assert chi2 == pytest.approx(rnorm**2, rel=1e-8)
    assert float(np.sum((design @ w - y) ** 2)) == pytest.approx(rnorm**2, rel=1e-8)


def test_ce_average_of_fast_rotation_and_trackers_is_uncorrelated_inverse_variance():
    """Sec. V A 3 / Table VII: C_e is the weighted average of the fast-rotation result (chi^2 and
    Fourier together: one data set) and the trackers, each with its total uncertainty, taken as
    uncorrelated; the systematics are inflated once by the 1.5 after the average."""
    from g2chain.beam_dynamics.corrections import EfieldCorrection
    from g2chain.beam_dynamics.efield import with_tracker_method

    infl = 1.5
    # fast rotation 340 +- hypot(6, 8) = 10 ppb before inflation; trackers 360 +- hypot(12, 16) = 20 ppb
    ce = {"C_e_ppb": 340.0, "stat_ppb": 6.0, "syst_ppb": infl * 8.0, "systematics_ppb": {"profile": 8.0},
          "inflation": infl, "dCe_deps_ppb": 700.0, "weights": {"chi2": 0.75, "fourier": 0.25},
          "methods": {"chi2": {"C_e_ppb": 345.0, "stat_ppb": 6.0}, "fourier": {"C_e_ppb": 325.0, "stat_ppb": 7.0}}}
    tracker = {"C_e": 360e-9, "stat": 12e-9, "systematics": {"phase mixture": 16e-9}, "C_e_two_state": 361e-9,
               "series": {"n": np.ones(3)}, "fit": {"params": {"mean_xe": 1.0}, "errors": {"mean_xe": 0.1},
                                                     "chi2": 1.0, "ndf": 1},
               "error_scale": 1.0, "rms_xe_mm": 10.0, "x_i_mm": 0.0}
    fast_rotation_ce = EfieldCorrection("C_e", ce, chi2_fit={}, fourier={}, ratio=(), profile=())
    result = with_tracker_method(fast_rotation_ce, tracker)
    assert result.tracker is tracker and fast_rotation_ce.record is ce  # the input is not changed
    out = result.record
    w_fr = (1 / 10.0**2) / (1 / 10.0**2 + 1 / 20.0**2)  # 0.8
    assert out["method_weights"]["fast rotation"] == pytest.approx(w_fr)
    assert out["C_e_ppb"] == pytest.approx(w_fr * 340 + (1 - w_fr) * 360)
    assert out["stat_ppb"] == pytest.approx(np.hypot(w_fr * 6, (1 - w_fr) * 12))
    syst = np.sqrt((w_fr * 8) ** 2 + ((1 - w_fr) * 16) ** 2 + (0.5 * 20) ** 2)  # + half the method difference
    assert out["syst_ppb"] == pytest.approx(infl * syst)
    assert out["dCe_deps_ppb"] == pytest.approx(w_fr * 700)  # the trackers do not see the blinded clock
    assert sum(out["weights"].values()) == pytest.approx(1.0)
    assert out["weights"]["chi2"] == pytest.approx(0.75 * w_fr)
