"""a_mu from R'_mu (Run-2/3 report Eq. 56) with the external constants and their uncertainties."""

from __future__ import annotations

import math

from ..constants import eq56_constants

# Table XXIV lists mu'_p(T_r)/mu_e as one row: mu'_p(T_r)/mu_e(H) and mu_e(H)/mu_e together
CONSTANT_ROWS = {
    "mu'_p(T_r)/mu_e": ("mu'_p(T_r)/mu_e(H)", "mu_e(H)/mu_e"),
    "m_mu/m_e": ("m_mu/m_e",),
    "g_e/2": ("g_e/2",),
}


def constant_components(edition: str = "codata2018") -> list[dict]:
    """The constants' uncertainties as budget components (ppb; external, common to all datasets)."""
    c = eq56_constants(edition)
    return [{"row": row, "source": name, "ppb": c[name][1] * 1e9, "correlated": True, "kind": "external"}
            for row, names in CONSTANT_ROWS.items() for name in names]


def a_mu_from_ratio(r_mu: float, r_err_ppb: float, edition: str = "codata2018") -> dict:
    """a_mu = R'_mu mu'_p(T_r)/mu_e(H) mu_e(H)/mu_e m_mu/m_e g_e/2 (Eq. 56), with the error from
    R'_mu and, separately, the constants'."""
    c = eq56_constants(edition)
    k = math.prod(v for v, _ in c.values())
    const_ppb = math.sqrt(sum((u * 1e9) ** 2 for _, u in c.values()))
    value = r_mu * k
    total_ppb = math.hypot(r_err_ppb, const_ppb)
    return {"a_mu": value, "a_mu_err": value * total_ppb * 1e-9, "error_ppb": total_ppb,
            "from_R_ppb": r_err_ppb, "constants_ppb": const_ppb, "K": k, "constants_edition": edition,
            "constants": {name: {"value": v, "rel_unc_ppb": u * 1e9} for name, (v, u) in c.items()}}
