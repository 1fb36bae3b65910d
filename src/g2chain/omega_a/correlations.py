"""Correlations between the omega_a analyses (Run-2/3 report Sec. IV K, Table XXVII).

Analyses built from the same positrons with different energy weights w(E) share statistics.
For large samples each estimate of omega_a is the information-weighted mean of the per-energy
estimates, so for weights u and v, with N(E) positrons and asymmetry A(E) per energy bin,

    cov(omega_u, omega_v) ~ sum u v N / (sum u N A  sum v N A)
    rho(u, v) = sum u v N / sqrt(sum u^2 N  sum v^2 N)

(the A-method weights v = A give rho(T, A) = sqrt(FOM_T / FOM_A), FOM_w = (sum w N A)^2 / sum w^2 N).
The full matrix of the 19 analyses (randomization seeds, reconstructions, pileup estimators,
ratio construction) needs repeated toy productions; this formula is the check for the pure
statistical part.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import yaml


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
