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
from dataclasses import asdict, dataclass, fields
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
    toy's total uncertainty; ``evaluated_share`` the part of its variance the chain evaluates from
    the experiment's data (1 - the external inputs' share), None where not split."""

    table: str
    quantity: str
    column: str
    toy_value: float | None
    toy_unc: float | None
    paper_value: float | None
    paper_unc: float | None
    evaluated_share: float | None = None

    @property
    def value_ratio(self) -> float | None:
        """toy / paper correction (None if either is missing or the paper's is 0)."""
        if self.toy_value is None or not self.paper_value:
            return None
        return self.toy_value / self.paper_value

    @property
    def unc_ratio(self) -> float | None:
        """toy / paper uncertainty."""
        if self.toy_unc is None or not self.paper_unc:
            return None
        return self.toy_unc / self.paper_unc


def paper_tables() -> dict:
    """The report's tables as stored in the package (see ``PAPER_DATA``)."""
    return yaml.safe_load(resources.files("g2chain").joinpath(PAPER_DATA).read_text())


def budget_rows(budget_csv: str, paper: dict) -> list[ComparisonRow]:
    """Table XXIV: each paper row beside the toy's combined budget row of the same name."""
    toy = read_budget_csv(budget_csv)
    out = []
    for p in paper["table_XXIV"]:
        t = toy.get(p["quantity"], {})
        unc, evaluated = t.get("unc_ppb"), t.get("unc_evaluated_ppb")
        share = (evaluated / unc) ** 2 if unc and evaluated is not None else None
        out.append(ComparisonRow("XXIV", p["quantity"], "combined", t.get("correction_ppb"), unc,
                                 p["correction"], p["unc"], share))
    return out


def omega_a_systematic_rows(averages: dict, paper: dict) -> list[ComparisonRow]:
    """Table V: each dataset's omega_a^m systematic categories (the equal-weight average's,
    ppm in average.json) beside the paper's. ``averages``: {dataset: average.json record}."""
    table = paper["table_V"]
    out = []
    for ds, avg in averages.items():
        syst = avg["equal_weight"]["syst_ppm"]
        for key, name in TABLE_V_CATEGORIES.items():
            value = syst.get(key)
            out.append(ComparisonRow("V", name, ds, None, None if value is None else 1e3 * value,
                                     None, table["categories"][name].get(ds)))
        out.append(ComparisonRow("V", "total", ds, None, 1e3 * avg["equal_weight"]["syst_total_ppm"],
                                 None, table["total"].get(ds)))
    return out


def _pair(entry, ds):
    v = entry.get(ds) if entry else None
    return (None, None) if v is None else (float(v[0]), float(v[1]))


def beam_dynamics_rows(corrections: dict, paper: dict) -> list[ComparisonRow]:
    """Tables VII, X and XI per dataset. ``corrections``: {dataset: corrections.json record}."""
    out = []
    for ds, c in corrections.items():
        ce = c["C_e"]
        fr = ce["fast_rotation"]
        toy_ce = {"fast rotation": (fr["C_e_ppb"], math.hypot(fr["stat_ppb"], fr["syst_ppb"])),
                  "tracking": (ce["methods"]["tracker"]["C_e_ppb"], ce["method_sigma_ppb"]["tracker"]),
                  "combined": (ce["C_e_ppb"], math.hypot(ce["stat_ppb"], ce["syst_ppb"]))}
        for method, (value, unc) in toy_ce.items():
            out.append(ComparisonRow("VII", f"C_e {method}", ds, value, unc, *_pair(paper["table_VII"][method], ds)))
        dd = c["C_dd"]
        for key, name in TABLE_X_PARTS.items():
            out.append(ComparisonRow("X", f"C_dd {name}", ds, dd["parts_ppb"].get(key), None,
                                     *_pair(paper["table_X"][name], ds)))
        out.append(ComparisonRow("X", "C_dd total", ds, dd["C_dd_ppb"], math.hypot(dd["stat_ppb"], dd["syst_ppb"]),
                                 *_pair(paper["table_X"]["total"], ds)))
        pa, xi = c["C_pa"], paper["table_XI"]
        out.append(ComparisonRow("XI", "C_pa", ds, pa["C_pa_ppb"], math.hypot(pa["stat_ppb"], pa["syst_ppb"]),
                                 xi["correction"][ds], xi["total"][ds]))
        out.append(ComparisonRow("XI", "C_pa statistical", ds, None, pa["stat_ppb"], None, xi["stat"][ds]))
        out.append(ComparisonRow("XI", "C_pa systematic", ds, None, pa["syst_ppb"], None,
                                 math.sqrt(sum(v[ds] ** 2 for v in xi["syst"].values()))))
    return out


def comparison(budget_csv: str, averages: dict, corrections: dict, paper: dict | None = None) -> list[ComparisonRow]:
    """Every comparison row: Table XXIV, then V, VII, X, XI."""
    paper = paper_tables() if paper is None else paper
    return (budget_rows(budget_csv, paper) + omega_a_systematic_rows(averages, paper)
            + beam_dynamics_rows(corrections, paper))


def comparison_from_files(datasets, budget_csv_path, average_paths, corrections_paths) -> list[ComparisonRow]:
    """``comparison`` of the records a finished chain wrote (paths in the order of ``datasets``)."""
    averages = {ds: read_json(f) for ds, f in zip(datasets, average_paths, strict=True)}
    corrections = {ds: read_json(f) for ds, f in zip(datasets, corrections_paths, strict=True)}
    return comparison(Path(budget_csv_path).read_text(), averages, corrections)


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
            "Statistical rows scale as 1/sqrt(N); ratios are toy / paper; the evaluated share is the "
            "part of the toy's variance the chain evaluates from its data (the rest: external inputs)."]


def comparison_markdown(rows: list[ComparisonRow], header: list[str] = ()) -> str:
    """One markdown table per paper table: toy, paper, their ratios and the evaluated share."""
    lines = list(header)
    for table, title in TITLES.items():
        sel = [r for r in rows if r.table == table]
        if not sel:
            continue
        lines += ["", f"## {title}", "",
                  "| quantity | column | toy (ppb) | paper (ppb) | value ratio | unc ratio | evaluated share |",
                  "|---|---|---|---|---|---|---|"]
        for r in sel:
            share = "–" if r.evaluated_share is None else f"{100 * r.evaluated_share:.0f} %"
            lines.append(f"| {r.quantity} | {r.column} | {_cell(r.toy_value, r.toy_unc)} | "
                         f"{_cell(r.paper_value, r.paper_unc)} | {_ratio(r.value_ratio)} | {_ratio(r.unc_ratio)} | "
                         f"{share} |")
    return "\n".join(lines) + "\n"
