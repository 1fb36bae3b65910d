"""The toy's budget beside the Run-2/3 report's: Table XXIV row by row, the omega_a^m systematic
categories (Table V), C_e by method (Table VII), C_dd's parts (Table X) and C_pa (Table XI).

The paper's numbers are the package's own data (``data/paper_run23_tables.yaml``); the toy's come
from the chain's records (budget.csv, each dataset's omega_a average and beam-dynamics
corrections). Every row is a ``ComparisonRow``; where the toy has no counterpart of a paper entry
(or the paper none of the toy's), that side is None.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import asdict, dataclass, fields, replace
from importlib import resources
from pathlib import Path

import yaml

from ..io import read_json
from .budget import read_budget_csv

PAPER_DATA = "data/paper_run23_tables.yaml"
# the toy's omega_a^m systematic categories (average.json's syst_ppm) as Table V names them
TABLE_V_CATEGORIES = {"cbo": "CBO handling", "pileup": "Pileup corrections", "gain": "Gain corrections",
                      "slow term": "Residual slow effect", "other": "Other systematics"}
TABLE_X_PARTS = {"beamline": "beamline", "p_x": "p-x", "p_t0": "p-t0"}


@dataclass(frozen=True)
class ComparisonRow:
    """One entry of the comparison (ppb). ``column``: a dataset or 'combined'. ``toy_unc`` is the
    toy's total uncertainty at its own statistics; ``toy_unc_full`` the same extrapolated to the
    paper's positrons (Table I): its statistical part times sqrt(N_toy / N_paper), the rest as it
    is (None where the toy's uncertainty is not split). ``evaluated_share`` and
    ``evaluated_share_full``: the part of the toy's variance the chain evaluates from the
    experiment's data (1 - the external inputs' share), at the toy's and at the paper's statistics."""

    table: str
    quantity: str
    column: str
    toy_value: float | None
    toy_unc: float | None
    paper_value: float | None
    paper_unc: float | None
    evaluated_share: float | None = None
    toy_unc_full: float | None = None
    evaluated_share_full: float | None = None

    @property
    def value_ratio(self) -> float | None:
        """toy / paper correction (None if either is missing or the paper's is 0)."""
        if self.toy_value is None or not self.paper_value:
            return None
        return self.toy_value / self.paper_value

    @property
    def unc_ratio(self) -> float | None:
        """toy / paper uncertainty, the toy's at the paper's statistics where it is extrapolated."""
        unc = self.toy_unc if self.toy_unc_full is None else self.toy_unc_full
        if unc is None or not self.paper_unc:
            return None
        return unc / self.paper_unc


def at_statistics(statistical: float, rest: float, fraction: float) -> float:
    """An uncertainty of a ``statistical`` part and a ``rest`` (in quadrature) at other statistics:
    the statistical part scales as 1/sqrt(N), so with ``fraction`` = N_now / N_then it becomes
    statistical * sqrt(fraction); the rest stays."""
    return math.hypot(statistical * math.sqrt(fraction), rest)


def extrapolated(unc: float, statistical: float, fraction: float) -> float:
    """``at_statistics`` of a total uncertainty ``unc`` whose statistical part is ``statistical``."""
    return at_statistics(statistical, math.sqrt(max(unc**2 - statistical**2, 0.0)), fraction)


def statistics_fractions(positrons: dict | None, paper: dict) -> dict:
    """{dataset or 'combined': N_toy / N_paper} from the toy's positrons per dataset (as the config
    counts them) and Table I's; {} without ``positrons`` (no extrapolation)."""
    if not positrons:
        return {}
    ref = paper["table_I_positrons"]
    out = {ds: float(n) / float(ref[ds]) for ds, n in positrons.items() if ds in ref}
    if out:
        out["combined"] = sum(float(positrons[d]) for d in out) / sum(float(ref[d]) for d in out)
    return out


def paper_tables() -> dict:
    """The report's tables as stored in the package (see ``PAPER_DATA``)."""
    return yaml.safe_load(resources.files("g2chain").joinpath(PAPER_DATA).read_text())


def budget_rows(budget_csv: str, paper: dict, fractions: dict | None = None) -> list[ComparisonRow]:
    """Table XXIV: each paper row beside the toy's combined budget row of the same name;
    ``fractions`` (``statistics_fractions``) extrapolates the toy's uncertainties to the paper's
    statistics."""
    toy = read_budget_csv(budget_csv)
    f = (fractions or {}).get("combined")
    out = []
    for p in paper["table_XXIV"]:
        t = toy.get(p["quantity"], {})
        unc, evaluated, stat = t.get("unc_ppb"), t.get("unc_evaluated_ppb"), t.get("unc_statistical_ppb")
        share = (evaluated / unc) ** 2 if unc and evaluated is not None else None
        full = share_full = None
        if f is not None and unc is not None and stat is not None:
            full = extrapolated(unc, stat, f)
            if evaluated is not None and full > 0:
                share_full = extrapolated(evaluated, stat, f) ** 2 / full**2
        out.append(ComparisonRow("XXIV", p["quantity"], "combined", t.get("correction_ppb"), unc,
                                 p["correction"], p["unc"], share, full, share_full))
    return out


def category_at_paper_statistics(avg: dict, category: str, fraction: float | None) -> float | None:
    """One omega_a^m systematic category of a dataset's average (ppb) at the paper's statistics:
    its part set by calibration statistics (``syst_statistics_limited_ppm``, e.g. the pileup
    normalisation's endpoint fit) scaled by sqrt(fraction), the rest as measured."""
    eq = avg["equal_weight"]
    value = eq["syst_ppm"].get(category)
    if value is None or fraction is None:
        return None
    limited = eq.get("syst_statistics_limited_ppm", {}).get(category, 0.0)
    return extrapolated(1e3 * value, 1e3 * limited, fraction)


def omega_a_systematic_rows(averages: dict, paper: dict, fractions: dict | None = None) -> list[ComparisonRow]:
    """Table V: each dataset's omega_a^m systematic categories (the equal-weight average's,
    ppm in average.json) beside the paper's, and at the paper's statistics with ``fractions``.
    ``averages``: {dataset: average.json record}."""
    table = paper["table_V"]
    out = []
    for ds, avg in averages.items():
        syst = avg["equal_weight"]["syst_ppm"]
        f = (fractions or {}).get(ds)
        fulls = []
        for key, name in TABLE_V_CATEGORIES.items():
            value = syst.get(key)
            full = category_at_paper_statistics(avg, key, f)
            fulls.append(full)
            out.append(ComparisonRow("V", name, ds, None, None if value is None else 1e3 * value,
                                     None, table["categories"][name].get(ds), toy_unc_full=full))
        total_full = math.hypot(*fulls) if fulls and None not in fulls else None
        out.append(ComparisonRow("V", "total", ds, None, 1e3 * avg["equal_weight"]["syst_total_ppm"],
                                 None, table["total"].get(ds), toy_unc_full=total_full))
    return out


def omega_a_systematic_at_paper_statistics(averages: dict, weights: dict, fractions: dict) -> float | None:
    """The combined omega_a^m systematic (ppb) at the paper's statistics: per category the
    datasets' values at that statistics (``category_at_paper_statistics``) added linearly with
    the combination's weights (the categories are correlated across datasets, as in the budget),
    then the categories in quadrature. None without weights or fractions for every dataset."""
    if not weights or any(fractions.get(ds) is None or ds not in weights for ds in averages):
        return None
    total2 = 0.0
    for key in TABLE_V_CATEGORIES:
        total2 += sum(weights[ds] * category_at_paper_statistics(avg, key, fractions[ds])
                      for ds, avg in averages.items()) ** 2
    return math.sqrt(total2)


def _with_omega_a_systematic(rows: list[ComparisonRow], full: float) -> list[ComparisonRow]:
    """Table XXIV's rows with the omega_a^m systematic at the paper's statistics replaced by
    ``full`` and the totals that contain it adjusted (it is wholly evaluated)."""
    by = {r.quantity: r for r in rows if r.table == "XXIV"}
    old = by.get("omega_a^m systematic")
    if old is None or old.toy_unc_full is None:
        return rows
    out = []
    for r in rows:
        if r.table == "XXIV" and r.quantity == "omega_a^m systematic":
            r = replace(r, toy_unc_full=full)
        elif r.table == "XXIV" and r.quantity in ("total systematic", "totals") and r.toy_unc_full is not None:
            new = math.sqrt(max(r.toy_unc_full**2 - old.toy_unc_full**2 + full**2, 0.0))
            evaluated2 = (r.evaluated_share_full or 0.0) * r.toy_unc_full**2 - old.toy_unc_full**2 + full**2
            r = replace(r, toy_unc_full=new, evaluated_share_full=max(evaluated2, 0.0) / new**2 if new else None)
        out.append(r)
    return out


def _pair(entry, ds):
    v = entry.get(ds) if entry else None
    return (None, None) if v is None else (float(v[0]), float(v[1]))


def beam_dynamics_rows(corrections: dict, paper: dict, fractions: dict | None = None) -> list[ComparisonRow]:
    """Tables VII, X and XI per dataset. ``corrections``: {dataset: corrections.json record};
    ``fractions``: as in ``budget_rows``, per dataset."""
    out = []
    for ds, c in corrections.items():
        f = (fractions or {}).get(ds)

        def full(stat, syst, f=f):  # the (stat, syst) pair's total at the paper's statistics
            return None if f is None else at_statistics(stat, syst, f)

        ce = c["C_e"]
        fr = ce["fast_rotation"]
        toy_ce = {"fast rotation": (fr["C_e_ppb"], math.hypot(fr["stat_ppb"], fr["syst_ppb"]),
                                    full(fr["stat_ppb"], fr["syst_ppb"])),
                  "tracking": (ce["methods"]["tracker"]["C_e_ppb"], ce["method_sigma_ppb"]["tracker"], None),
                  "combined": (ce["C_e_ppb"], math.hypot(ce["stat_ppb"], ce["syst_ppb"]),
                               full(ce["stat_ppb"], ce["syst_ppb"]))}
        for method, (value, unc, unc_full) in toy_ce.items():
            out.append(ComparisonRow("VII", f"C_e {method}", ds, value, unc, *_pair(paper["table_VII"][method], ds),
                                     toy_unc_full=unc_full))
        dd = c["C_dd"]
        for key, name in TABLE_X_PARTS.items():
            out.append(ComparisonRow("X", f"C_dd {name}", ds, dd["parts_ppb"].get(key), None,
                                     *_pair(paper["table_X"][name], ds)))
        dd_full = full(dd["stat_ppb"], dd["syst_ppb"])
        out.append(ComparisonRow("X", "C_dd total", ds, dd["C_dd_ppb"], math.hypot(dd["stat_ppb"], dd["syst_ppb"]),
                                 *_pair(paper["table_X"]["total"], ds), toy_unc_full=dd_full))
        pa, xi = c["C_pa"], paper["table_XI"]
        pa_full = full(pa["stat_ppb"], pa["syst_ppb"])
        out.append(ComparisonRow("XI", "C_pa", ds, pa["C_pa_ppb"], math.hypot(pa["stat_ppb"], pa["syst_ppb"]),
                                 xi["correction"][ds], xi["total"][ds], toy_unc_full=pa_full))
        out.append(ComparisonRow("XI", "C_pa statistical", ds, None, pa["stat_ppb"], None, xi["stat"][ds],
                                 toy_unc_full=full(pa["stat_ppb"], 0.0)))
        out.append(ComparisonRow("XI", "C_pa systematic", ds, None, pa["syst_ppb"], None,
                                 math.sqrt(sum(v[ds] ** 2 for v in xi["syst"].values()))))
    return out


def comparison(budget_csv: str, averages: dict, corrections: dict, paper: dict | None = None,
               positrons: dict | None = None, weights: dict | None = None) -> list[ComparisonRow]:
    """Every comparison row: Table XXIV, then V, VII, X, XI; with the toy's ``positrons`` per
    dataset (as the config counts them) the uncertainties are also extrapolated to Table I's, the
    omega_a^m systematic with its calibration-statistics part scaled when the combination's
    ``weights`` ({dataset: GLS weight}) are given."""
    paper = paper_tables() if paper is None else paper
    fractions = statistics_fractions(positrons, paper)
    budget = budget_rows(budget_csv, paper, fractions)
    full = omega_a_systematic_at_paper_statistics(averages, weights or {}, fractions)
    if full is not None:
        budget = _with_omega_a_systematic(budget, full)
    return (budget + omega_a_systematic_rows(averages, paper, fractions)
            + beam_dynamics_rows(corrections, paper, fractions))


def comparison_from_files(datasets, budget_csv_path, average_paths, corrections_paths,
                          positrons: dict | None = None, r_mu_path=None) -> list[ComparisonRow]:
    """``comparison`` of the records a finished chain wrote (paths in the order of ``datasets``;
    ``r_mu_path``: the combination's record, for its weights)."""
    averages = {ds: read_json(f) for ds, f in zip(datasets, average_paths, strict=True)}
    corrections = {ds: read_json(f) for ds, f in zip(datasets, corrections_paths, strict=True)}
    weights = read_json(r_mu_path)["combined"]["weights"] if r_mu_path else None
    return comparison(Path(budget_csv_path).read_text(), averages, corrections, positrons=positrons, weights=weights)


def comparison_csv(rows: list[ComparisonRow]) -> str:
    """CSV: the rows' fields and the two ratios."""
    buf = io.StringIO()
    names = [f.name for f in fields(ComparisonRow)] + ["value_ratio", "unc_ratio"]
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(names)
    for r in rows:
        d = asdict(r) | {"value_ratio": r.value_ratio, "unc_ratio": r.unc_ratio}
        w.writerow(["" if d[n] is None else (f"{d[n]:.4g}" if isinstance(d[n], float) else d[n]) for n in names])
    return buf.getvalue()


def _cell(value, unc=None) -> str:
    if value is None and unc is None:
        return "–"
    if value is None:
        return f"± {unc:.0f}"
    return f"{value:.0f}" if unc is None else f"{value:.0f} ± {unc:.0f}"


def _ratio(x) -> str:
    return "–" if x is None else f"{x:.2f}"


TITLES = {"XXIV": "Table XXIV: the budget of R'_mu (combined datasets)",
          "V": "Table V: omega_a^m systematic categories (uncertainty)",
          "VII": "Table VII: C_e by method", "X": "Table X: C_dd's parts", "XI": "Table XI: C_pa"}


def comparison_header(positrons: dict) -> list[str]:
    """The markdown's title and what the toy's statistics are (``positrons``: {dataset: e+ as the
    config counts them: every e+ above 1 GeV, or those in ``production.count_window``}) against the
    paper's (Table I)."""
    paper = paper_tables()["table_I_positrons"]
    sizes = ", ".join(f"{ds} {n:.3g}" for ds, n in positrons.items())
    ref = ", ".join(f"{ds} {n:.3g}" for ds, n in paper.items())
    return ["# The toy's budget beside the Run-2/3 report's (PRD 110, 032009)", "",
            f"Toy positrons (as the config counts them): {sizes}. Paper (Table I, 1-3 GeV in the fits): {ref}.",
            "'toy at paper N': the toy's uncertainty with its statistical part scaled by sqrt(N_toy / N_paper) "
            "(the rest unchanged); ratios are toy / paper, the uncertainty ratio at the paper's N; 'evaluated' is "
            "the share of the toy's variance the chain evaluates from its data (the rest: external inputs), "
            "at the toy's N and at the paper's."]


def comparison_markdown(rows: list[ComparisonRow], header: list[str] = ()) -> str:
    """One markdown table per paper table: toy, paper, their ratios and the evaluated share."""
    lines = list(header)
    for table, title in TITLES.items():
        sel = [r for r in rows if r.table == table]
        if not sel:
            continue
        lines += ["", f"## {title}", "",
                  "| quantity | column | toy (ppb) | toy at paper N | paper (ppb) | value ratio | unc ratio | "
                  "evaluated (toy N, paper N) |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in sel:
            shares = [s for s in (r.evaluated_share, r.evaluated_share_full) if s is not None]
            share = " / ".join(f"{100 * s:.0f} %" for s in shares) or "–"
            full = "–" if r.toy_unc_full is None else f"± {r.toy_unc_full:.0f}"
            lines.append(f"| {r.quantity} | {r.column} | {_cell(r.toy_value, r.toy_unc)} | {full} | "
                         f"{_cell(r.paper_value, r.paper_unc)} | {_ratio(r.value_ratio)} | {_ratio(r.unc_ratio)} | "
                         f"{share} |")
    return "\n".join(lines) + "\n"
