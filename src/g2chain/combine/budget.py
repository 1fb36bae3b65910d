"""The ppb budget of R'_mu and a_mu (the Table XXIV analogue), combined and per dataset.

Each row gives the correction (ppb; positive C_i raise a_mu, positive B_i lower it, as in the
paper) and its uncertainty, split into the part the chain evaluates from the experiment's data
and the external inputs (config values, the constants). Combined columns use the GLS weights of
the R'_mu combination: correlated sources add linearly over datasets, independent ones in
quadrature.
"""

from __future__ import annotations

import csv
import io
import math

from ..units import quadrature
from .amu import CONSTANT_ROWS
from .r_mu import FIELD_ROW

# (quantity, section, carries a correction)
ROWS = [
    ("omega_a^m statistical", "IV K", False),
    ("omega_a^m systematic", "IV J", False),
    ("C_e", "V A", True),
    ("C_p", "V B", True),
    ("C_ml", "V C", True),
    ("C_dd", "V D", True),
    ("C_pa", "V E", True),
    (FIELD_ROW, "VI H", False),
    ("B_K", "VI G 1", True),
    ("B_Q", "VI G 2", True),
    ("mu'_p(T_r)/mu_e", "Eq. 56, refs [45,57]", False),
    ("m_mu/m_e", "Eq. 56, CODATA", False),
    ("g_e/2", "Eq. 56, ref [59]", False),
]
CONSTANTS = tuple(CONSTANT_ROWS)
SIGN = {"B_K": -1.0, "B_Q": -1.0}  # B_i enter the denominator of Eq. 4


def row_uncertainties(components: list[dict], row: str) -> dict:
    """Evaluated, external and total uncertainty (ppb) of one budget row, and its statistical
    part (the components that shrink as 1/sqrt(N) with the positrons; inside the evaluated part)."""
    mine = [c for c in components if c["row"] == row]
    ev = quadrature(c["ppb"] for c in mine if c["kind"] == "evaluated")
    ex = quadrature(c["ppb"] for c in mine if c["kind"] == "external")
    st = quadrature(c["ppb"] for c in mine if c.get("statistical", False))
    return {"evaluated": ev, "external": ex, "total": math.hypot(ev, ex), "statistical": st}


def _column(components: list[dict], corrections: dict) -> dict:
    col = {}
    for q, _, has_corr in ROWS:
        u = row_uncertainties(components, q)
        col[q] = {"correction": corrections.get(q) if has_corr else None, **u}
    syst = [q for q, _, _ in ROWS if q != "omega_a^m statistical" and q not in CONSTANTS]
    col["total systematic"] = {"correction": None, "total": quadrature(col[q]["total"] for q in syst),
                               "evaluated": quadrature(col[q]["evaluated"] for q in syst),
                               "external": quadrature(col[q]["external"] for q in syst),
                               "statistical": quadrature(col[q]["statistical"] for q in syst)}
    col["total external parameters"] = {"correction": None, "total": quadrature(col[q]["total"] for q in CONSTANTS),
                                        "evaluated": 0.0, "external": quadrature(col[q]["total"] for q in CONSTANTS),
                                        "statistical": 0.0}
    total_corr = sum(SIGN.get(q, 1.0) * col[q]["correction"] for q, _, has in ROWS if has)
    allq = [q for q, _, _ in ROWS]
    col["totals"] = {"correction": total_corr, "total": quadrature(col[q]["total"] for q in allq),
                     "evaluated": quadrature(col[q]["evaluated"] for q in allq),
                     "external": quadrature(col[q]["external"] for q in allq),
                     "statistical": quadrature(col[q]["statistical"] for q in allq)}
    return col


def budget_table(ratios: list[dict], combined: dict, constants: list[dict]) -> dict:
    """The budget: per row the combined and per-dataset corrections and uncertainties (ppb).
    ``ratios``: ``ratio.dataset_ratio`` per dataset; ``combined``: ``ratio.combine_datasets``;
    ``constants``: ``amu.constant_components``."""
    columns = {"combined": _column(combined["components"] + constants, combined["corrections_ppb"])}
    for r in ratios:
        columns[r["dataset"]] = _column(r["components"] + constants, r["corrections_ppb"])
    sections = {q: s for q, s, _ in ROWS}
    return {"rows": list(columns["combined"]), "sections": sections, "columns": columns}


def budget_csv(table: dict) -> str:
    """The budget as CSV: one line per row; combined correction, uncertainty (evaluated, external,
    and the statistical part that shrinks as 1/sqrt(N)) and per-dataset correction, uncertainty and
    statistical part, all in ppb."""
    out = io.StringIO()
    sets = [k for k in table["columns"] if k != "combined"]
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["quantity", "section", "correction_ppb", "unc_ppb", "unc_evaluated_ppb", "unc_external_ppb",
                "unc_statistical_ppb"]
               + [f"{d}_{k}" for d in sets for k in ("correction_ppb", "unc_ppb", "unc_statistical_ppb")])
    for q in table["rows"]:
        c = table["columns"]["combined"][q]
        line = [q, table["sections"].get(q, ""), _num(c["correction"]), _num(c["total"]), _num(c["evaluated"]),
                _num(c["external"]), _num(c["statistical"])]
        for d in sets:
            e = table["columns"][d][q]
            line += [_num(e["correction"]), _num(e["total"]), _num(e["statistical"])]
        w.writerow(line)
    return out.getvalue()


def read_budget_csv(text: str) -> dict:
    """{quantity: {column: float or None}} from ``budget_csv`` output."""
    rows = list(csv.DictReader(io.StringIO(text)))
    return {r["quantity"]: {k: (float(v) if v not in ("", None) else None) for k, v in r.items()
                            if k not in ("quantity", "section")} for r in rows}


def _num(v) -> str:
    return "" if v is None else f"{v:.3f}"


def _cell(v, digits=0) -> str:
    return "..." if v is None else f"{v:.{digits}f}"


def _display_rows(table: dict):
    """(quantity, cells) per budget row for the Markdown and HTML tables: section, combined
    correction, uncertainty, evaluated and external parts, then each dataset's correction and
    uncertainty (ppb, rounded)."""
    sets = [k for k in table["columns"] if k != "combined"]
    for q in table["rows"]:
        c = table["columns"]["combined"][q]
        cells = [table["sections"].get(q, ""), _cell(c["correction"]), _cell(c["total"]), _cell(c["evaluated"]),
                 _cell(c["external"])]
        for d in sets:
            cells += [_cell(table["columns"][d][q]["correction"]), _cell(table["columns"][d][q]["total"])]
        yield q, cells


def budget_markdown(table: dict, header: list[str]) -> str:
    """The budget as a Markdown table (ppb), with ``header`` lines above it."""
    sets = [k for k in table["columns"] if k != "combined"]
    lines = [*header, "",
             "| quantity | section | correction | uncertainty | evaluated | external | "
             + " | ".join(f"{d} corr. | {d} unc." for d in sets) + " |",
             "|---|---|---:|---:|---:|---:|" + "---:|---:|" * len(sets)]
    for q, cells in _display_rows(table):
        name = f"**{q}**" if q.startswith("total") else q
        lines.append("| " + " | ".join([name, *cells]) + " |")
    lines += ["", "ppb. Positive C_i increase a_mu; positive B_i decrease it (Eq. 4). 'evaluated': from the toy "
              "experiment's own data; 'external': config inputs and the constants of Eq. 56."]
    return "\n".join(lines) + "\n"


def budget_values(table_csv: str) -> dict:
    """{(quantity, column): value (ppb)} of a budget CSV, columns 'correction' and 'unc' for the
    combined datasets and '<dataset> correction', '<dataset> unc' for each."""
    out = {}
    for q, row in read_budget_csv(table_csv).items():
        for k, v in row.items():
            if v is None:
                continue
            name = k.removesuffix("_ppb").replace("_correction", " correction").replace("_unc", " unc")
            out[(q, name)] = v
    return out


def read_reference(text: str) -> dict:
    """{(quantity, column): (value, tolerance)} from a regression reference CSV (lines starting
    with '#' are its notes; ``unguarded_entries`` lists the entries it does not guard)."""
    lines = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    return {(r["quantity"], r["column"]): (float(r["value_ppb"]), float(r["tolerance_ppb"]))
            for r in csv.DictReader(lines)}


UNGUARDED = "# unguarded: "


def unguarded_entries(text: str) -> set:
    """The (quantity, column) a reference leaves out: their seed-to-seed spread at the reference's
    statistics is too wide for a tolerance that would catch a sign flip or a doubling."""
    out = set()
    for ln in text.splitlines():
        if ln.startswith(UNGUARDED):
            q, c = ln[len(UNGUARDED):].rsplit(" / ", 1)
            out.add((q, c))
    return out


def compare_to_reference(reference: dict, values: dict, unguarded=()) -> list[str]:
    """The budget entries outside their reference tolerance, or missing, one line each
    (``unguarded``: entries the reference leaves out on purpose)."""
    bad = []
    for key, (ref, tol) in reference.items():
        if key not in values:
            bad.append(f"{key[0]} / {key[1]}: missing (reference {ref:.2f} ppb)")
        elif abs(values[key] - ref) > tol:
            bad.append(f"{key[0]} / {key[1]}: {values[key]:.2f} ppb, reference {ref:.2f} +- {tol:.2f}")
    bad += [f"{k[0]} / {k[1]}: not in the reference" for k in values if k not in reference and k not in set(unguarded)]
    return bad


def budget_diff(before_csv: str, after_csv: str, min_ppb: float = 0.0005) -> list[dict]:
    """What moved between two budgets (``budget_csv`` texts): one entry per (quantity, column)
    whose value changed by more than ``min_ppb``, with the change in units of the row's
    uncertainty before (its 'unc' column for that dataset or the combination), largest first."""
    a, b = budget_values(before_csv), budget_values(after_csv)
    out = []
    for key in sorted(set(a) | set(b)):
        old, new = a.get(key), b.get(key)
        if old is not None and new is not None and abs(new - old) <= min_ppb:
            continue
        q, col = key
        unc = a.get((q, col.replace("correction", "unc"))) if "correction" in col else None
        change = None if old is None or new is None else new - old
        out.append({"quantity": q, "column": col, "before_ppb": old, "after_ppb": new, "change_ppb": change,
                    "change_in_unc": (change / unc) if change is not None and unc else None})
    return sorted(out, key=lambda d: -abs(d["change_ppb"] if d["change_ppb"] is not None else float("inf")))


def budget_diff_text(rows: list[dict]) -> str:
    """``budget_diff`` as an aligned table (ppb)."""
    if not rows:
        return "no budget entry moved"

    def f(v, fmt):
        return "-" if v is None else format(v, fmt)

    lines = [f"{'quantity':32s} {'column':22s} {'before':>12s} {'after':>12s} {'change':>11s} {'/ unc':>7s}"]
    lines += [f"{r['quantity']:32s} {r['column']:22s} {f(r['before_ppb'], '12.3f')} {f(r['after_ppb'], '12.3f')} "
              f"{f(r['change_ppb'], '+11.3f')} {f(r['change_in_unc'], '+7.2f')}" for r in rows]
    return "\n".join(lines)


def budget_html(table: dict, header: list[str]) -> str:
    """The budget as a small self-contained HTML page (for ``snakemake --report``)."""
    import html

    sets = [k for k in table["columns"] if k != "combined"]
    head = "".join(f"<p>{html.escape(h.lstrip('# '))}</p>" for h in header if h)
    cols = ["quantity", "section", "correction", "uncertainty", "evaluated", "external"]
    cols += [f"{d} {k}" for d in sets for k in ("corr.", "unc.")]
    rows = []
    for q, cells in _display_rows(table):
        tag = "th" if q.startswith("total") else "td"
        rows.append("<tr>" + "".join(f"<{tag}>{html.escape(x)}</{tag}>" for x in [q, *cells]) + "</tr>")
    return ("<html><head><meta charset='utf-8'><style>td,th{padding:2px 8px;text-align:right}"
            "td:first-child,th:first-child{text-align:left}</style></head><body>" + head
            + "<table><tr>" + "".join(f"<th>{html.escape(c)}</th>" for c in cols) + "</tr>" + "".join(rows)
            + "</table><p>ppb. Positive C_i increase a_mu; positive B_i decrease it.</p></body></html>\n")
