"""The combination code fed the published numbers: R'_mu(Run-2/3) from Tables XXV-XXVI, then with
Run-1 (statistical errors independent, systematic fully correlated), then with BNL, and a_mu by
Eq. 56. A check of ``ratio`` and ``amu`` against the paper, run by the tests."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import yaml

from .amu import a_mu_from_ratio
from .r_mu import covariance, gls_average


def _split(g: dict, stat, syst) -> tuple[float, float]:
    """Statistical and systematic errors of a GLS mean: independent statistical errors add in
    quadrature over the weights, fully correlated systematic ones linearly."""
    w = np.asarray(g["weights"])
    return float(math.sqrt(np.sum((w * stat) ** 2))), float(abs(w @ syst))


def published_combination(path) -> dict:
    """R'_mu(Run-2/3), R'_mu(Run-1/2/3), the experimental average with BNL and a_mu(Exp) from the
    published inputs in ``path`` (the layout of tests/data/published_run23.yaml)."""
    p = yaml.safe_load(Path(path).read_text())
    r23 = p["run23"]
    vals = np.array([r23["R_mu_prime_x1000"][d]["value"] for d in r23["datasets"]]) * 1e-3
    errs = np.array([r23["R_mu_prime_x1000"][d]["unc"] for d in r23["datasets"]]) * 1e-3
    cov = np.asarray(r23["correlation"]) * np.outer(errs, errs)
    g23 = gls_average(vals, cov)
    run23 = {"value": g23["value"], "error": g23["error"], "chi2": g23["chi2"], "p_value": g23["p_value"],
             "stat": g23["value"] * r23["statistical_ppb"] * 1e-9,
             "syst": g23["value"] * r23["systematic_ppb"] * 1e-9}
    # with Run-1: the statistical errors independent, the systematic ones fully correlated
    r1 = p["run1"]["R_mu_prime"]
    pair = np.array([r1["value"], run23["value"]])
    stat = np.array([r1["stat_unc"], run23["stat"]])
    syst = np.array([r1["syst_unc"], run23["syst"]])
    comps = [[{"row": "R", "source": "statistical", "ppb": s / v * 1e9, "correlated": False},
              {"row": "R", "source": "systematic", "ppb": y / v * 1e9, "correlated": True}]
             for v, s, y in zip(pair, stat, syst, strict=True)]
    g123 = gls_average(pair, covariance(pair, comps))
    s123, y123 = _split(g123, stat, syst)
    run123 = {"value": g123["value"], "error": g123["error"], "stat": s123, "syst": y123}
    # with BNL: independent
    bnl = p["bnl"]["R_mu_prime"]
    both = np.array([run123["value"], bnl["value"]])
    g_exp = gls_average(both, np.diag([run123["error"] ** 2, bnl["unc"] ** 2]))
    exp = {"value": g_exp["value"], "error": g_exp["error"]}
    a = a_mu_from_ratio(exp["value"], exp["error"] / exp["value"] * 1e9)
    return {"run23": run23, "run123": run123, "experimental_average": exp,
            "a_mu": {"value": a["a_mu"], "error": a["a_mu_err"]}, "printed": p}
