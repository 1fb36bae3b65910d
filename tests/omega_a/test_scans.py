"""Consistency scans (start time, calorimeter, energy) on Poisson histograms of the Eq. 7 model."""

import math

import numpy as np
import pytest

from g2chain.omega_a import minimizer, scans, wiggle_model
from g2chain.omega_a.seeding import five_parameter_fit

DT = 0.1492
T = (np.arange(4700) + 0.5) * DT  # 0 .. 701 us
WINDOW = (30.1, 650.0)
SEL = (T >= WINDOW[0]) & (T <= WINDOW[1])
DELTA_R = 3.0  # a software blinding offset, so that R and omega are not trivially related
LOSS = (np.array([0.0, 1.0]), np.zeros(1))
TRUTH = {"N0": 4634.0, "tau": 64.4, "A0": 0.37, "R": 15.0, "phi0": 2.1}  # ~2.0e6 entries in 0-701 us
STARTS = 30.1 + np.arange(0.0, 120.0, 10.0)


def expectation(values: dict) -> np.ndarray:
    return wiggle_model.wiggle(T, wiggle_model.parameter_vector(values), DELTA_R, 0, *LOSS)


def base_fit(y: np.ndarray) -> minimizer.FitResult:
    return five_parameter_fit(T[SEL], y[SEL], y[SEL], DELTA_R)


@pytest.fixture(scope="module")
def pure_histogram():
    y = np.random.default_rng(11).poisson(expectation(TRUTH)).astype(float)
    return y, base_fit(y)


def test_start_time_scan_within_allowed_band_and_anchored_at_base(pure_histogram):
    y, base = pure_histogram
    assert 1.9e6 < y.sum() < 2.1e6
    scan = scans.start_time_scan(T, y, y, base, DELTA_R, "exp", *LOSS, starts=STARTS, end=WINDOW[1])
    assert scan["failed"] == []
    assert scan["free"] == ["N0", "tau", "A0", "R", "phi0"]
    assert abs(scan["R"][0] - base.values["R"]) < 1e-6
    # the reference point's error is HESSE of the same chi^2: equal to the base fit's within a few %
    assert abs(scan["R_err"][0] / base.errors["R"] - 1) < 0.05
    band = scan["band"]
    assert band[0] == 0 and np.all(np.diff(band) > 0)
    assert np.all(np.abs(scan["dR"][1:]) < 3 * band[1:])
    # sanity of the scale: the band grows roughly like sigma_0 sqrt(exp(dt/tau) - 1) for a lifetime-limited fit
    assert 0.5 < band[-1] / (scan["R_err"][0] * math.sqrt(math.expm1(110 / 64.4))) < 2.0
    assert scan["all_within"] and 0 < scan["fraction_within_1sigma"] <= 1
    assert np.all(scan["pvalue"] > 1e-3)


def test_start_time_scan_refit_reference_and_given_variances(pure_histogram):
    y, base = pure_histogram
    nominal = scans.start_time_scan(T, y, y, base, DELTA_R, "exp", *LOSS, starts=STARTS[:3], end=WINDOW[1])
    # refitting the reference start only moves R by Migrad's tolerance (and the variance update)
    refit = scans.start_time_scan(T, y, y, base, DELTA_R, "exp", *LOSS, starts=STARTS[:3], end=WINDOW[1],
                              reference="refit")
    assert abs(refit["R"][0] - base.values["R"]) < 0.01 * base.errors["R"]
    assert np.allclose(refit["band"], nominal["band"], rtol=0.02)
    # fixed variances given by the caller (here the base model's Poisson variances, unsmoothed)
    f = wiggle_model.wiggle(T, base.vector(), DELTA_R, 0, *LOSS)
    given = scans.start_time_scan(T, y, f, base, DELTA_R, "exp", *LOSS, starts=STARTS[:3], end=WINDOW[1],
                              variance="given", free=["N0", "A0", "R", "phi0"])
    assert given["free"] == ["N0", "A0", "R", "phi0"] and given["failed"] == []
    assert np.allclose(given["R"][1:], nominal["R"][1:], atol=0.05 * base.errors["R"])


def test_start_time_scan_flags_an_early_time_phase_drift():
    # an early-to-late effect (e.g. an uncorrected gain or pileup phase pull): phi0 + 0.1 e^{-(t-30)/15}
    omega = wiggle_model.omega_from_r(TRUTH["R"], DELTA_R)
    phase = TRUTH["phi0"] + 0.1 * np.exp(-(T - 30.0) / 15.0)
    f = TRUTH["N0"] * np.exp(-T / TRUTH["tau"]) * (1 + TRUTH["A0"] * np.cos(omega * T - phase))
    y = np.random.default_rng(11).poisson(f).astype(float)
    scan = scans.start_time_scan(T, y, y, base_fit(y), DELTA_R, "exp", *LOSS, starts=STARTS, end=WINDOW[1])
    assert not scan["all_within"]
    assert np.nanmin(scan["pull"]) < -3


def test_band_formula_against_monte_carlo_replicas():
    """rms of R(t_s) - R(t_0) over replicas vs sqrt(sigma_s^2 - sigma_0^2) (nested data sets)."""
    rng = np.random.default_rng(2024)
    f = expectation(TRUTH)
    diffs, bands, naive = [], [], []
    for _ in range(100):  # rms known to ~7 %; 800 replicas (seed 99) gave rms / band = 0.98
        y = rng.poisson(f).astype(float)
        scan = scans.start_time_scan(T, y, y, base_fit(y), DELTA_R, "exp", *LOSS, starts=[30.1, 80.1], end=WINDOW[1])
        diffs.append(scan["dR"][1])
        bands.append(scan["band"][1])
        naive.append(math.hypot(*scan["R_err"]))
    rms = math.sqrt(np.mean(np.square(diffs)))
    band = float(np.mean(bands))
    assert np.std(bands) / band < 0.05  # the band is a property of the expectation, not of the replica
    assert abs(rms / band - 1) < 0.25, (rms, band)
    # ignoring the correlation, sqrt(sigma_s^2 + sigma_0^2), would overstate the allowed deviation
    assert rms < 0.8 * np.mean(naive)


def test_scan_chi2_follows_chi2_with_its_random_walk_covariance():
    """Over replicas, the deviations of three start times have the nested covariance
    cov(dR_i, dR_j) = band_min(i,j)^2 and the scan chi^2 averages its ndf."""
    rng = np.random.default_rng(77)
    f = expectation(TRUTH)
    d, chi2s, bands = [], [], []
    for _ in range(80):
        y = rng.poisson(f).astype(float)
        scan = scans.start_time_scan(T, y, y, base_fit(y), DELTA_R, "exp", *LOSS, starts=[30.1, 60.1, 90.1],
                                 end=WINDOW[1])
        d.append(scan["dR"][1:])
        bands.append(scan["band"][1:])
        chi2s.append(scan["scan_chi2"])
        assert scan["scan_ndf"] == 2
    d, band = np.array(d), np.mean(bands, axis=0)
    corr = np.corrcoef(d.T)[0, 1]
    assert abs(corr - band[0] / band[1]) < 0.15, (corr, band[0] / band[1])  # ~0.1 statistical
    assert abs(np.mean(chi2s) - 2.0) < 0.7  # mean of chi2_2 over 80 replicas: 2 +- 0.22
    assert scans.scan_consistency(np.array([1.0, 1.0]), np.array([1.0, 2.0])) == (1.0, 2)


def calorimeter_histograms(rng, trend_ppm_per_calo=0.0, n_calo=24, cbo=None):
    """Per-calorimeter Poisson histograms sharing R (plus an optional linear trend in index), each
    with its own normalisation, asymmetry and phase; ~2e6 entries in total."""
    k = np.arange(n_calo)
    counts, truths = [], []
    for i in k:
        values = dict(TRUTH)
        values["N0"] = TRUTH["N0"] / n_calo * (1 + 0.3 * math.cos(2 * math.pi * i / n_calo + 0.5))
        values["A0"] = TRUTH["A0"] * (1 + 0.05 * math.sin(2 * math.pi * i / n_calo))
        values["phi0"] = TRUTH["phi0"] + 0.4 * math.sin(2 * math.pi * i / n_calo)
        values["R"] = TRUTH["R"] + trend_ppm_per_calo * (i - (n_calo - 1) / 2)
        if cbo is not None:
            values.update(cbo, phi_cbo_N=cbo["phi_cbo_N"] + 0.25 * i)
        counts.append(rng.poisson(expectation(values)).astype(float))
        truths.append(values)
    return np.array(counts), truths


def test_per_calorimeter_scan_consistent_then_detects_injected_trend():
    counts, _ = calorimeter_histograms(np.random.default_rng(5))
    assert 1.9e6 < counts.sum() < 2.1e6
    total = counts.sum(axis=0)
    base = base_fit(total)
    scan = scans.per_calorimeter_scan(counts, counts, T, WINDOW, base, DELTA_R, "exp", *LOSS)
    assert scan["failed"] == [] and scan["calo"].tolist() == list(range(1, 25))
    assert scan["free"] == ["N0", "A0", "R", "phi0"]
    assert np.all(np.isfinite(scan["R"])) and scan["ndf"] == 23
    assert scan["pvalue"] > 1e-3
    assert abs(scan["slope"]) < 4 * scan["slope_err"]
    # the calorimeters' weighted mean agrees with the sum's fit (same data; the calorimeter fits
    # keep tau fixed at the sum's value, so their combined error is a little smaller)
    assert abs(scan["mean"] - base.values["R"]) < base.errors["R"]
    assert 0.85 < scan["mean_err"] / base.errors["R"] < 1.05

    trend = 50.0  # ppm per calorimeter
    counts_t, _ = calorimeter_histograms(np.random.default_rng(6), trend_ppm_per_calo=trend)
    scan_t = scans.per_calorimeter_scan(counts_t, counts_t, T, WINDOW, base_fit(counts_t.sum(axis=0)), DELTA_R, "exp",
                                    *LOSS)
    assert scan_t["failed"] == []
    assert scan_t["slope"] > 5 * scan_t["slope_err"]
    assert abs(scan_t["slope"] - trend) < 4 * scan_t["slope_err"]
    assert scan_t["pvalue"] < 1e-6  # and a constant no longer describes the calorimeters


CBO = {"A_cbo_N": 0.03, "phi_cbo_N": 0.3, "omega_cbo": 2.33, "tau_cbo": 150.0}


@pytest.fixture(scope="module")
def cbo_calorimeters():
    """8 calorimeters whose CBO phase advances by 0.25 rad each, and a nine-parameter fit of their sum."""
    counts, truths = calorimeter_histograms(np.random.default_rng(9), n_calo=8, cbo=CBO)
    total = counts.sum(axis=0)
    # the sum's fit: five parameters, then the CBO term (started near the truth: seeding it from the
    # residual spectrum is fit_analysis's business, not the scan's)
    base5 = base_fit(total)
    data = minimizer.FitData(T[SEL], total[SEL], minimizer.pearson_variance(
        total[SEL], total[SEL], wiggle_model.wiggle(T[SEL], base5.vector(), DELTA_R, 0, *LOSS)))
    free = ["N0", "tau", "A0", "R", "phi0", "A_cbo_N", "phi_cbo_N", "omega_cbo", "tau_cbo"]
    base = minimizer.fit(data, base5.values | {"A_cbo_N": 0.02, "phi_cbo_N": 1.2, "omega_cbo": 2.33, "tau_cbo": 150.0},
                 free, DELTA_R)
    return counts, truths, base


def test_start_time_scan_of_a_multiparameter_fit_frees_the_cbo_on_n(cbo_calorimeters):
    counts, _, base = cbo_calorimeters
    total = counts.sum(axis=0)
    scan = scans.start_time_scan(T, total, total, base, DELTA_R, "exp", *LOSS, starts=STARTS[::2], end=WINDOW[1])
    assert scan["free"] == ["N0", "tau", "A0", "R", "phi0", "A_cbo_N", "phi_cbo_N"]
    assert scan["failed"] == [] and scan["R"][0] == base.values["R"]
    assert np.all(np.diff(scan["band"]) > 0) and np.all(np.abs(scan["dR"][1:]) < 3 * scan["band"][1:])


def test_per_calorimeter_scan_seeds_and_fits_each_calorimeters_cbo_phase(cbo_calorimeters):
    counts, truths, base = cbo_calorimeters
    cbo = CBO
    seed = scans.seed_histogram(T[SEL], counts[0, SEL], counts[0, SEL], base, DELTA_R, "exp", *LOSS)
    assert abs(seed["A_cbo_N"] / cbo["A_cbo_N"] - 1) < 0.3
    assert abs(math.remainder(seed["phi_cbo_N"] - truths[0]["phi_cbo_N"], 2 * math.pi)) < 0.3
    scan = scans.per_calorimeter_scan(counts, counts, T, WINDOW, base, DELTA_R, "exp", *LOSS)
    assert scan["free"] == ["N0", "A0", "R", "phi0", "A_cbo_N", "phi_cbo_N"]
    assert scan["failed"] == [] and scan["pvalue"] > 1e-3
    phases = np.array([v["phi_cbo_N"] for v in truths])
    miss = np.remainder(scan["parameters"]["phi_cbo_N"] - phases + math.pi, 2 * math.pi) - math.pi
    assert np.all(np.abs(miss) < 4 * scan["parameter_errors"]["phi_cbo_N"]), miss
    pulls = (scan["parameters"]["A_cbo_N"] - cbo["A_cbo_N"]) / scan["parameter_errors"]["A_cbo_N"]
    assert np.all(np.abs(pulls) < 4), pulls


def test_energy_scan_with_sign_changing_asymmetry_and_min_counts():
    rng = np.random.default_rng(3)
    edges = np.array([0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.1])
    asym = [-0.15, 0.05, 0.25, 0.4, 0.55, 0.6]
    share = [0.25, 0.25, 0.2, 0.17, 0.13, 0.0003]  # the last bin is nearly empty
    counts = []
    for a, s, e in zip(asym, share, edges[:-1], strict=True):
        values = TRUTH | {"N0": TRUTH["N0"] * s, "A0": a, "phi0": TRUTH["phi0"] + 0.2 * e}
        counts.append(rng.poisson(expectation(values)).astype(float))
    counts = np.array(counts)
    base = base_fit(counts.sum(axis=0))
    scan = scans.energy_scan(counts, counts, T, WINDOW, edges, base, DELTA_R, "exp", *LOSS, min_counts=1e4)
    assert scan["skipped"] == [5] and scan["failed"] == []
    assert np.all(np.isfinite(scan["R"][:5])) and np.isnan(scan["R"][5])
    assert scan["ndf"] == 4 and scan["pvalue"] > 1e-3
    # a negative asymmetry is A0 > 0 with the phase turned by pi
    turned = math.remainder(scan["parameters"]["phi0"][0] - (TRUTH["phi0"] + 0.1) - math.pi, 2 * math.pi)
    assert abs(turned) < 0.2
    # the bin near the asymmetry's zero crossing knows little about R
    assert scan["R_err"][1] > 3 * scan["R_err"][3]


def test_constant_and_line_fit_analytic():
    x = np.arange(1.0, 6.0)
    out = scans.constant_and_line(x, 2.0 + 0.5 * x, np.ones(5))
    assert out["mean"] == pytest.approx(3.5) and out["slope"] == pytest.approx(0.5)
    assert out["line_chi2"] == pytest.approx(0.0, abs=1e-12) and out["chi2"] == pytest.approx(2.5)
    assert out["slope_err"] == pytest.approx(1 / math.sqrt(10.0)) and out["intercept"] == pytest.approx(2.0)


def test_bad_input_messages(pure_histogram):
    y, base = pure_histogram
    common = (DELTA_R, "exp", *LOSS)
    with pytest.raises(ValueError, match="^starts: no start times given$"):
        scans.start_time_scan(T, y, y, base, *common, starts=[], end=650.0)
    with pytest.raises(ValueError, match="^starts: start times must be .* strictly increasing"):
        scans.start_time_scan(T, y, y, base, *common, starts=[40.0, 30.1], end=650.0)
    with pytest.raises(ValueError, match="^end: 800.0 us outside the data"):
        scans.start_time_scan(T, y, y, base, *common, starts=[30.1], end=800.0)
    with pytest.raises(ValueError, match="^starts: start times 30.1-700.0 us outside"):
        scans.start_time_scan(T, y, y, base, *common, starts=[30.1, 700.0], end=650.0)
    with pytest.raises(ValueError, match="^var: shape \\(10,\\) does not match \\(4700,\\)$"):
        scans.start_time_scan(T, y, y[:10], base, *common, starts=[30.1], end=650.0)
    with pytest.raises(ValueError, match="^starts: first start 40.0 us gives .* reference='refit'"):
        scans.start_time_scan(T, y, y, base, *common, starts=[40.0], end=650.0)
    with pytest.raises(ValueError, match="^free: R must be a free parameter"):
        scans.start_time_scan(T, y, y, base, *common, starts=[30.1], end=650.0, free=["N0", "phi0"])
    with pytest.raises(ValueError, match="^free: unknown parameter\\(s\\) omega$"):
        scans.start_time_scan(T, y, y, base, *common, starts=[30.1], end=650.0, free=["R", "omega"])
    two = np.stack([y, y])
    with pytest.raises(ValueError, match="^window: fit window \\[20.0, 750.0\\] us outside the data"):
        scans.per_calorimeter_scan(two, two, T, (20.0, 750.0), base, *common)
    with pytest.raises(ValueError, match="^counts_calo_t: expected shape \\(n, 4700\\) matching t"):
        scans.per_calorimeter_scan(two[:, :100], two[:, :100], T, WINDOW, base, *common)
    with pytest.raises(ValueError, match="^var_calo_t: shape \\(1, 4700\\) does not match \\(2, 4700\\)$"):
        scans.per_calorimeter_scan(two, two[:1], T, WINDOW, base, *common)
    with pytest.raises(ValueError, match="^t: bin centres must be finite and strictly increasing$"):
        scans.per_calorimeter_scan(two, two, T[::-1], WINDOW, base, *common)
    with pytest.raises(ValueError, match="^energy_edges: expected 3 strictly increasing edges for 2 energy rows"):
        scans.energy_scan(two, two, T, WINDOW, [1.0, 2.0], base, *common)
    with pytest.raises(ValueError, match="^counts_e_t: expected a 2-D array"):
        scans.energy_scan(y, y, T, WINDOW, [1.0, 2.0], base, *common)
