"""The combination's rules as functions of files: the blinded budget (rule combine), the
unblinding (rule unblind, the only analysis-side reader of the hardware blind) and the closure
against the sealed truth (rule closure)."""

from __future__ import annotations

from pathlib import Path

from ..io import read_json, write_json
from .amu import a_mu_from_ratio, constant_components
from .budget import budget_csv, budget_html, budget_markdown, budget_table
from .r_mu import combine_datasets, dataset_ratio


def _write_text(path, text: str):
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(text)


def dataset_ratios(datasets, averages, corrections, omega_ps, eps=None) -> list[dict]:
    """R'_mu of each dataset from its three analysis files (eps: hardware blinds, or None)."""
    out = []
    for i, ds in enumerate(datasets):
        e = 0.0 if eps is None else float(eps[i])
        out.append(dataset_ratio(ds, read_json(averages[i]), read_json(corrections[i]), read_json(omega_ps[i]), e))
    return out


def combination(cfg: dict, ratios: list[dict]) -> dict:
    """R'_mu per dataset and combined, a_mu, and the budget table."""
    edition = cfg["combination"]["constants"]
    comb = combine_datasets(ratios)
    a = a_mu_from_ratio(comb["R_mu"], comb["error_ppb"], edition)
    per = {r["dataset"]: {"R_mu": r["R_mu"], "R_mu_err_ppb": r["total_ppb"],
                          **{k: v for k, v in a_mu_from_ratio(r["R_mu"], r["total_ppb"], edition).items()
                             if k in ("a_mu", "a_mu_err", "error_ppb")},
                          "omega_a_hz": r["omega_a_hz"], "omega_p_tilde_hz": r["omega_p_tilde_hz"],
                          "corrections_ppb": r["corrections_ppb"]} for r in ratios}
    table = budget_table(ratios, comb, constant_components(edition))
    comb["evaluated_ppb"] = table["columns"]["combined"]["totals"]["evaluated"]
    for ds, d in per.items():
        d["evaluated_ppb"] = table["columns"][ds]["totals"]["evaluated"]
    return {"datasets": per, "combined": {k: v for k, v in comb.items() if k != "components"} | {
        "a_mu": a["a_mu"], "a_mu_err": a["a_mu_err"], "a_mu_error_ppb": a["error_ppb"],
        "a_mu_constants_ppb": a["constants_ppb"]}, "constants": a["constants"], "K": a["K"],
        "budget": table, "components": comb["components"]}


def _header(res: dict, blinded: bool) -> list[str]:
    c = res["combined"]
    clock = "blinded clock (hardware blind not removed)" if blinded else "unblinded"
    lines = [f"# R'_mu and a_mu budget ({clock})", "",
             f"R'_mu = {c['R_mu']:.12f} +- {c['error_ppb']:.0f} ppb "
             f"(stat {c['statistical_ppb']:.0f}, syst {c['systematic_ppb']:.0f}); "
             f"datasets' chi^2 = {c['chi2']:.2f} / {c['ndf']} (p = {c['p_value']:.2f})"]
    if not blinded:
        lines.append(f"a_mu = {c['a_mu'] * 1e11:.0f}({c['a_mu_err'] * 1e11:.0f}) x 10^-11 "
                     f"({c['a_mu_error_ppb']:.0f} ppb)")
    lines.append("")
    for ds, d in res["datasets"].items():
        line = f"{ds}: R'_mu = {d['R_mu']:.12f} +- {d['R_mu_err_ppb']:.0f} ppb"
        if not blinded:
            line += f", a_mu = {d['a_mu'] * 1e11:.0f}({d['a_mu_err'] * 1e11:.0f}) x 10^-11"
        lines.append(line + "  ")
    return lines


def _outputs(res: dict, blinded: bool, out_json, out_csv, out_md, out_html=None):
    _write_text(out_csv, budget_csv(res["budget"]))
    _write_text(out_md, budget_markdown(res["budget"], _header(res, blinded)))
    if out_html is not None:
        _write_text(out_html, budget_html(res["budget"], _header(res, blinded)))
    record = {k: v for k, v in res.items() if k != "budget"}
    record["blinded"] = blinded
    write_json(out_json, record)
    return record


def run_combine(cfg, datasets, averages, corrections, omega_ps, out_json, out_csv, out_md) -> dict:
    """Rule combine: the budget and R'_mu on the blinded clock (no a_mu: the blinded R'_mu is
    not a result)."""
    res = combination(cfg, dataset_ratios(datasets, averages, corrections, omega_ps))
    res["combined"] = {k: v for k, v in res["combined"].items() if not k.startswith("a_mu")}
    for d in res["datasets"].values():
        for k in ("a_mu", "a_mu_err", "error_ppb"):
            d.pop(k)
    return _outputs(res, True, out_json, out_csv, out_md)


def run_unblind(cfg, datasets, averages, corrections, omega_ps, eps, out_json, out_csv, out_md,
                out_html=None) -> dict:
    """Rule unblind: the hardware blind ``eps`` (per dataset, ``truth.closure.hardware_blinds``)
    removed from omega_a^m and C_e; a_mu per dataset and combined, and the unblinded budget."""
    res = combination(cfg, dataset_ratios(datasets, averages, corrections, omega_ps, eps))
    res["eps_hw"] = dict(zip(datasets, eps, strict=True))
    return _outputs(res, False, out_json, out_csv, out_md, out_html)


