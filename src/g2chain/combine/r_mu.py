"""R'_mu per dataset (Run-2/3 report Eq. 4) and its combination across datasets (Sec. VIII).

    R'_mu = omega_a^m (1 + C_e + C_p + C_pa + C_dd + C_ml) / (omega~'_p (1 + B_K + B_Q))

(the clock and calibration factors f_clock, f_calib are already inside omega_a^m and omega~'_p).
Every uncertainty of R'_mu is kept as a list of components, each relative (ppb), with its budget
row, its source and whether it is fully correlated between datasets or independent:

* omega_a^m statistical: independent; each omega_a^m systematic category: correlated (Sec. IV K);
* each beam-dynamics correction: its statistical part (the dataset's own tracker and
  fast-rotation data) independent, its systematic and external parts correlated;
* the field: each Table XXII entry as flagged by the field analysis (the Brownian bridge, map
  noise, calibration statistics independent; the rest correlated, Sec. VI H); B_K and B_Q
  correlated.

The covariance between datasets follows from matching components by (row, source); the combined
R'_mu is the generalized-least-squares mean with its chi^2 probability.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from ..records.uncertainty import CATEGORIES
from ..units import quadrature

CORRECTIONS = ("C_e", "C_p", "C_ml", "C_dd", "C_pa")
TRANSIENTS = {"transient_kicker": "B_K", "transient_esq": "B_Q"}
FIELD_ROW = "<omega'_p x M>"


@dataclass(frozen=True)
class Component:
    """One uncertainty source of R'_mu: relative size (ppb), its budget row, whether it is fully
    correlated between datasets, whether it is evaluated by the chain or an external input, and
    whether it is statistical: it shrinks as 1/sqrt(N) with the dataset's positrons (and the
    tracker decays that come with them), so that a budget can be extrapolated to other statistics."""

    row: str
    source: str
    ppb: float
    correlated: bool
    kind: str = "evaluated"
    statistical: bool = False


def omega_a_hz(average: dict, eps_hw: float = 0.0) -> float:
    """omega_a^m / 2 pi (Hz) of a dataset's average.json; with ``eps_hw`` the hardware blind
    (the blinded clock runs at (1 + eps_hw) of the true one) is removed."""
    return average["equal_weight"]["omega_a_m_rad_per_us"] / (2.0 * math.pi) * 1e6 / (1.0 + eps_hw)


def dataset_ratio(dataset: str, average: dict, corrections: dict, omega_p: dict, eps_hw: float = 0.0) -> dict:
    """R'_mu of one dataset (Eq. 4) from its omega_a/average.json, beam_dynamics/corrections.json
    and field/omega_p.json, with its uncertainty components. ``eps_hw`` = 0 gives the blinded
    value; the corrections with a clock dependence (C_e) are taken at that eps_hw."""
    eq = average["equal_weight"]
    comps = [Component("omega_a^m statistical", "statistical", eq["stat_ppm"] * 1e3, False, statistical=True)]
    comps += [Component("omega_a^m systematic", cat, eq["syst_ppm"][cat] * 1e3, True) for cat in CATEGORIES]
    c_ppb = {}
    for name in CORRECTIONS:
        c = corrections["corrections"][name]
        c_ppb[name] = c["value"] + eps_hw * c.get("dvalue_deps", 0.0)
        comps += [Component(name, "statistical", c["stat"], False, statistical=True),
                  Component(name, "systematic", c["syst"], bool(c.get("correlated_syst", True))),
                  Component(name, "external", c["external"], True, "external")]
    for row in omega_p["uncertainty_ppb"]["rows"]:
        target = TRANSIENTS.get(row["row"], FIELD_ROW)
        for e in row["entries"]:
            # the trace fits of B_K, B_Q are systematic for the combination (one method, one magnet)
            correlated = True if target != FIELD_ROW else bool(e["correlated"])
            comps.append(Component(target, f"{row['row']}: {e['source']}", e["ppb"], correlated, e["kind"],
                                   bool(e.get("statistical", False))))
    b_ppb = {"B_K": omega_p["B_K_ppb"], "B_Q": omega_p["B_Q_ppb"]}
    f_a, f_p = omega_a_hz(average, eps_hw), omega_p["omega_p_tilde_hz"]
    r = f_a * (1.0 + 1e-9 * sum(c_ppb.values())) / (f_p * (1.0 + 1e-9 * sum(b_ppb.values())))
    comps = [c for c in comps if c.ppb > 0.0]
    return {"dataset": dataset, "R_mu": r, "omega_a_hz": f_a, "omega_p_tilde_hz": f_p,
            "corrections_ppb": {**c_ppb, **b_ppb}, "eps_hw_applied": eps_hw != 0.0,
            "components": [asdict(c) for c in comps],
            "total_ppb": quadrature(c.ppb for c in comps)}


def covariance(values, components: list[list[dict]]) -> np.ndarray:
    """Covariance of the values (absolute units) from each one's relative components (ppb):
    components with the same (row, source) are fully correlated when flagged so."""
    values = np.asarray(values, dtype=float)
    n = values.size
    rel = np.zeros((n, n))
    keyed = [{(c["row"], c["source"]): c for c in comps} for comps in components]
    for i in range(n):
        for j in range(n):
            if i == j:
                rel[i, i] = sum(c["ppb"] ** 2 for c in components[i])
                continue
            for key, c in keyed[i].items():
                d = keyed[j].get(key)
                if d is not None and c["correlated"] and d["correlated"]:
                    rel[i, j] += c["ppb"] * d["ppb"]
    return rel * 1e-18 * np.outer(values, values)


def gls_average(values, cov) -> dict:
    """Generalized-least-squares mean of correlated measurements of one quantity: value, its
    error, the weights, chi^2, ndf and the chi^2 probability."""
    y = np.asarray(values, dtype=float)
    cov = np.asarray(cov, dtype=float)
    inv = np.linalg.inv(cov)
    one = np.ones(y.size)
    var = 1.0 / float(one @ inv @ one)
    w = var * (inv @ one)
    mean = float(w @ y)
    r = y - mean
    chi2 = float(r @ inv @ r)
    ndf = y.size - 1
    return {"value": mean, "error": math.sqrt(var), "weights": w.tolist(), "chi2": chi2, "ndf": ndf,
            "p_value": float(stats.chi2.sf(chi2, ndf)) if ndf > 0 else 1.0}


def correlation(cov) -> np.ndarray:
    """Correlation matrix of a covariance."""
    s = np.sqrt(np.diag(cov))
    return np.asarray(cov) / np.outer(s, s)


def combined_components(components: list[list[dict]], weights) -> list[dict]:
    """The components of a weighted combination (ppb of the combined value): correlated sources
    add linearly over datasets, independent ones in quadrature."""
    acc: dict = {}
    for w, comps in zip(weights, components, strict=True):
        for c in comps:
            a = acc.setdefault((c["row"], c["source"]), {"row": c["row"], "source": c["source"], "kind": c["kind"],
                                                          "correlated": c["correlated"],
                                                          "statistical": bool(c.get("statistical", False)),
                                                          "lin": 0.0, "quad": 0.0})
            a["lin"] += w * c["ppb"]
            a["quad"] += (w * c["ppb"]) ** 2
    return [{k: a[k] for k in ("row", "source", "kind", "correlated", "statistical")}
            | {"ppb": abs(a["lin"]) if a["correlated"] else math.sqrt(a["quad"])} for a in acc.values()]


def combine_datasets(ratios: list[dict]) -> dict:
    """The combined R'_mu of several datasets (GLS), the correlation matrix (Table XXV analogue)
    and the combined uncertainty components."""
    values = [r["R_mu"] for r in ratios]
    comps = [r["components"] for r in ratios]
    cov = covariance(values, comps)
    g = gls_average(values, cov)
    ppb_w = np.asarray(g["weights"])
    combined = combined_components(comps, ppb_w)
    corr_sum = {}
    for name in ratios[0]["corrections_ppb"]:
        corr_sum[name] = float(ppb_w @ [r["corrections_ppb"][name] for r in ratios])
    stat = quadrature(c["ppb"] for c in combined if c["row"] == "omega_a^m statistical")
    return {"datasets": [r["dataset"] for r in ratios], "R_mu": g["value"], "error": g["error"],
            "error_ppb": g["error"] / g["value"] * 1e9, "statistical_ppb": stat,
            "systematic_ppb": math.sqrt(max((g["error"] / g["value"] * 1e9) ** 2 - stat**2, 0.0)),
            "weights": dict(zip([r["dataset"] for r in ratios], g["weights"], strict=True)),
            "chi2": g["chi2"], "ndf": g["ndf"], "p_value": g["p_value"],
            "correlation": correlation(cov).tolist(), "corrections_ppb": corr_sum, "components": combined}
