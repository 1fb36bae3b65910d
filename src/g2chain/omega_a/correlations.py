"""Correlations between the omega_a analyses (Run-2/3 report Sec. IV K, Table XXVII).

Analyses built from the same positrons with different energy weights w(E) share statistics.
For large samples each estimate of omega_a is the information-weighted mean of the per-energy
estimates, so for weights u and v, with N(E) positrons and asymmetry A(E) per energy bin,

    cov(omega_u, omega_v) ~ sum u v N / (sum u N A  sum v N A)
    rho(u, v) = sum u v N / sqrt(sum u^2 N  sum v^2 N)

(the A-method weights v = A give rho(T, A) = sqrt(FOM_T / FOM_A), FOM_w = (sum w N A)^2 / sum w^2 N).

The full matrix of the 19 analyses (randomization seeds, reconstructions, pileup estimators,
ratio construction, fit functions) comes from repeated independent toy productions, each
analysed by all 19 (``correlation_trial``); ``trial_correlation`` turns the trials into the
matrix with a bootstrap error per coefficient. The weight formula is the check of its pure
statistical part.
"""

from __future__ import annotations

import math
from importlib import resources

import numpy as np
import yaml
from resample import bootstrap

# Table XXVII's order: methods in blocks (T, A, RT, RA, Q, RQ), groups in order inside a block
METHOD_ORDER = ("T", "A", "RT", "RA", "Q", "RQ")


def method_ordered(names) -> list:
    """Analysis names ("III-RA") in Table XXVII's block order: by method, then group."""
    roman = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9, "X": 10}

    def key(name):
        group, method = name.split("-")
        return (METHOD_ORDER.index(method) if method in METHOD_ORDER else len(METHOD_ORDER), roman.get(group, 99),
                group)

    return sorted(names, key=key)


def trial_correlation(r_trials, n_boot: int = 1000, seed: int = 0) -> dict:
    """Correlation matrix of analyses from independent trials.

    ``r_trials``: [trials x analyses] values (NaN where a fit failed; such trials are left out,
    so the matrix stays a proper, positive semi-definite sample correlation). Returns the matrix,
    its bootstrap standard errors (resampling trials: scikit-hep's ``resample``, whose balanced
    bootstrap gave the same errors as the hand-written ordinary one, 2.8x faster), the Fisher-z
    expectation of those errors for comparison, and the number of trials used and dropped.
    """
    r = np.asarray(r_trials, dtype=float)
    if r.ndim != 2:
        raise ValueError(f"r_trials: expected [trials x analyses], got shape {r.shape}")
    ok = np.all(np.isfinite(r), axis=1)
    r = r[ok]
    n, p = r.shape
    if n < 3:
        raise ValueError(f"r_trials: {n} complete trials, need at least 3 for a correlation")
    rho = np.corrcoef(r, rowvar=False)
    rho = 0.5 * (rho + rho.T)
    np.fill_diagonal(rho, 1.0)
    err = np.sqrt(bootstrap.variance(lambda x: np.corrcoef(x, rowvar=False), r, size=n_boot, random_state=seed))
    np.fill_diagonal(err, 0.0)
    fisher = (1 - rho**2) / math.sqrt(max(n - 3, 1))
    return {"rho": rho, "rho_err": err, "rho_err_fisher": fisher, "trials_used": int(n),
            "trials_dropped": int((~ok).sum())}


def weight_correlation(u, v, n_per_bin) -> float:
    """Statistical correlation of two omega_a estimates from the same positrons weighted by u(E)
    and v(E) (per energy bin, with n_per_bin positrons in each)."""
    u, v, n = (np.asarray(a, dtype=float) for a in (u, v, n_per_bin))
    if not (u.shape == v.shape == n.shape):
        raise ValueError(f"u, v, n_per_bin: shapes differ ({u.shape}, {v.shape}, {n.shape})")
    den = np.sqrt(np.sum(u * u * n) * np.sum(v * v * n))
    if not den > 0:
        raise ValueError("u, v: a weighting selects no positrons")
    return float(np.sum(u * v * n) / den)


def paper_correlations() -> tuple[list, np.ndarray]:
    """Table XXVII of the Run-2/3 report as printed (the project's copy in g2chain/data):
    (labels, 19 x 19 matrix)."""
    text = resources.files("g2chain").joinpath("data/paper_table_xxvii_correlations.yaml").read_text()
    table = yaml.safe_load(text)
    return list(table["labels"]), np.array(table["matrix"], dtype=float)
