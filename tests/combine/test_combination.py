"""The combination against the paper: the published Run-2/3 inputs (Tables XXV-XXVI) through the
same GLS code give R'_mu and a_mu as printed; the Eq. 56 constants give a_mu / R'_mu; the GLS
and the covariance from components against hand calculations."""

from pathlib import Path

import numpy as np
import pytest

from g2chain.combine.published import published_combination
from g2chain.combine.r_mu import covariance, gls_average
from g2chain.constants import k_constants

DATA = Path(__file__).resolve().parents[1] / "data" / "published_run23.yaml"


def test_published_numbers_reproduce_the_papers_values():
    res = published_combination(DATA)
    p = res["printed"]
    checks = [
        ("R'_mu(Run-2/3)", res["run23"]["value"], p["run23"]["printed"]["value"], p["run23"]["printed"]["unc"]),
        ("R'_mu(Run-1/2/3)", res["run123"]["value"], p["run123_printed"]["value"],
         np.hypot(p["run123_printed"]["stat_unc"], p["run123_printed"]["syst_unc"])),
        ("R'_mu(Exp)", res["experimental_average"]["value"], p["experimental_average_printed"]["value"],
         p["experimental_average_printed"]["unc"]),
        ("a_mu(Exp)", res["a_mu"]["value"], p["a_mu_printed"]["value"], p["a_mu_printed"]["unc"]),
    ]
    for name, got, printed, unc in checks:
        print(f"{name}: {got:.12g} against {printed:.12g}: residual {(got - printed) / unc:+.3f} of the printed "
              f"uncertainty")
        assert abs(got - printed) < 0.1 * unc, name
    # the uncertainties as printed, to the last digit
    assert res["run23"]["error"] == pytest.approx(p["run23"]["printed"]["unc"], abs=0.006e-9)
    assert res["run123"]["stat"] == pytest.approx(p["run123_printed"]["stat_unc"], abs=0.006e-9)
    assert res["run123"]["syst"] == pytest.approx(p["run123_printed"]["syst_unc"], abs=0.006e-9)
    assert res["experimental_average"]["error"] == pytest.approx(p["experimental_average_printed"]["unc"],
                                                                 abs=0.006e-9)
    assert res["a_mu"]["error"] == pytest.approx(p["a_mu_printed"]["unc"], abs=0.6e-11)


def test_constants_product_is_the_papers_a_mu_over_r():
    # a_mu(Exp) / R'_mu(Exp) as printed: 116592059e-11 / 0.00370730095 = 0.31449310583
    k = k_constants()
    assert f"{k:.7f}" == "0.3144931"
    assert k == pytest.approx(116592059e-11 / 0.00370730095, rel=5e-9)  # the printed values' rounding
    # the edition scipy.constants holds (CODATA 2022) moves mu_e/mu'_p by 17.5 ppb
    assert k_constants("scipy") / k - 1 == pytest.approx(16.7e-9, abs=1e-9)


def test_gls_and_component_covariance():
    # two measurements, independent errors 1 and 2: inverse-variance mean
    g = gls_average([10.0, 13.0], np.diag([1.0, 4.0]))
    assert g["value"] == pytest.approx(10.6)
    assert g["error"] == pytest.approx(np.sqrt(0.8))
    assert g["chi2"] == pytest.approx(9.0 / 5.0)
    # a common systematic fully correlated: it adds to the covariance off the diagonal and passes
    # unreduced to the mean
    comps = [[{"row": "a", "source": "stat", "ppb": 1e3, "correlated": False},
              {"row": "a", "source": "syst", "ppb": 2e3, "correlated": True}] for _ in range(2)]
    cov = covariance([1.0, 1.0], comps)
    assert cov == pytest.approx(np.array([[5e-12, 4e-12], [4e-12, 5e-12]]))
    g = gls_average([1.0, 1.0 + 1e-6], cov)
    assert g["error"] == pytest.approx(np.sqrt(4e-12 + 0.5e-12))
