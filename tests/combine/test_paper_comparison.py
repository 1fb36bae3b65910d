"""The toy-paper comparison: the stored paper tables add up as the report's totals do, the rows
pair the right numbers, and the ci run writes the comparison."""

import math

import pytest

from g2chain.combine import paper_comparison as pc
from g2chain.combine.budget import ROWS


@pytest.fixture(scope="module")
def paper():
    return pc.paper_tables()


def test_the_stored_table_xxiv_adds_up_to_its_printed_totals(paper):
    """A transcription check: the systematic rows in quadrature give the printed 70 ppb, the
    constants the printed 25 (to the rounding of the printed rows)."""
    unc = {r["quantity"]: r["unc"] for r in paper["table_XXIV"]}
    syst = ["omega_a^m systematic", "C_e", "C_p", "C_ml", "C_dd", "C_pa", "<omega'_p x M>", "B_K", "B_Q"]
    assert math.hypot(*(unc[q] for q in syst)) == pytest.approx(unc["total systematic"], abs=1.0)
    ext = ["mu'_p(T_r)/mu_e", "m_mu/m_e", "g_e/2"]
    assert math.hypot(*(unc[q] for q in ext)) == pytest.approx(unc["total external parameters"], abs=1.0)
    assert math.hypot(unc["omega_a^m statistical"], unc["total systematic"], unc["total external parameters"]) \
        == pytest.approx(unc["totals"], abs=1.0)
    corr = sum(r["correction"] for r in paper["table_XXIV"][:10] if r["correction"] is not None
               and not r["quantity"].startswith("B_")) - sum(r["correction"] for r in paper["table_XXIV"]
                                                             if r["quantity"].startswith("B_"))
    assert corr == pytest.approx(paper["table_XXIV"][-1]["correction"], abs=2)  # 622: B_i enter with - (Eq. 4)


def test_the_stored_tables_v_and_x_add_up(paper):
    v = paper["table_V"]
    for ds in ("run2", "run3a", "run3b", "combined"):
        assert math.hypot(*(c[ds] for c in v["categories"].values())) == pytest.approx(v["total"][ds], abs=1.0)
    x = paper["table_X"]
    for ds in ("run2", "run3a", "run3b"):
        parts = [x[p][ds] for p in ("beamline", "p-x", "p-t0")]
        assert sum(p[0] for p in parts) == pytest.approx(x["total"][ds][0], abs=1.0)
        assert math.hypot(*(p[1] for p in parts)) == pytest.approx(x["total"][ds][1], abs=1.0)


def test_every_toy_budget_row_has_its_paper_row(paper):
    names = {r["quantity"] for r in paper["table_XXIV"]}
    assert {q for q, _, _ in ROWS} <= names


def test_rows_pair_the_toy_and_the_paper(paper):
    budget = ("quantity,section,correction_ppb,unc_ppb,unc_evaluated_ppb,unc_external_ppb\n"
              "C_e,V A,225.5,64.0,32.0,55.4\n")
    rows = {r.quantity: r for r in pc.budget_rows(budget, paper)}
    ce = rows["C_e"]
    assert (ce.toy_value, ce.toy_unc, ce.paper_value, ce.paper_unc) == (225.5, 64.0, 451, 32)
    assert ce.value_ratio == pytest.approx(0.5) and ce.unc_ratio == pytest.approx(2.0)
    assert ce.evaluated_share == pytest.approx(0.25)  # a quarter of the variance evaluated
    assert rows["C_p"].toy_value is None and rows["C_p"].value_ratio is None  # not in this budget
    md = pc.comparison_markdown(list(rows.values()))
    assert "| C_e | combined | 226 ± 64 | – | 451 ± 32 | 0.50 | 2.00 | 25 % |" in md
    assert pc.comparison_csv(list(rows.values())).splitlines()[0].endswith("value_ratio,unc_ratio")


def test_uncertainties_extrapolate_to_the_papers_statistics(paper):
    """At 1 % of Table I a statistical part shrinks x10 at the paper's N; the rest stays, and the
    evaluated share is taken at that N."""
    budget = ("quantity,section,correction_ppb,unc_ppb,unc_evaluated_ppb,unc_external_ppb,unc_statistical_ppb\n"
              "C_pa,V E,-30.0,50.0,40.0,30.0,40.0\n")
    positrons = {ds: 0.01 * n for ds, n in paper["table_I_positrons"].items()}
    fractions = pc.statistics_fractions(positrons, paper)
    assert fractions["combined"] == pytest.approx(0.01) and fractions["run3b"] == pytest.approx(0.01)
    row = {r.quantity: r for r in pc.budget_rows(budget, paper, fractions)}["C_pa"]
    assert row.toy_unc_full == pytest.approx(math.hypot(4.0, 30.0))
    assert row.evaluated_share == pytest.approx(0.64)
    assert row.evaluated_share_full == pytest.approx(16.0 / (16.0 + 900.0))
    assert row.unc_ratio == pytest.approx(math.hypot(4.0, 30.0) / 13)  # at the paper's N
    assert pc.extrapolated(5.0, 3.0, 1.0) == pytest.approx(5.0)


def test_the_omega_a_systematic_scales_only_its_calibration_statistics(paper):
    """A category's part set by calibration statistics (the pileup normalisation's endpoint fit)
    shrinks x10 at 1 % of Table I; the rest (an envelope spread) stays. The combined row adds the
    datasets' categories with the combination's weights, and the totals follow."""
    def avg(cbo, pileup, limited):
        return {"equal_weight": {"syst_ppm": {"cbo": cbo, "pileup": pileup, "gain": 0.0, "slow term": 0.0,
                                              "other": 0.0},
                                 "syst_statistics_limited_ppm": {"cbo": 0.0, "pileup": limited, "gain": 0.0,
                                                                 "slow term": 0.0, "other": 0.0},
                                 "syst_total_ppm": math.hypot(cbo, pileup)}}
    averages = {"run2": avg(0.020, 0.060, 0.060), "run3a": avg(0.020, 0.0, 0.0), "run3b": avg(0.020, 0.0, 0.0)}
    positrons = {ds: 0.01 * n for ds, n in paper["table_I_positrons"].items()}
    fractions = pc.statistics_fractions(positrons, paper)
    rows = {(r.quantity, r.column): r for r in pc.omega_a_systematic_rows(averages, paper, fractions)}
    assert rows["Pileup corrections", "run2"].toy_unc == pytest.approx(60.0)
    assert rows["Pileup corrections", "run2"].toy_unc_full == pytest.approx(6.0)
    assert rows["CBO handling", "run2"].toy_unc_full == pytest.approx(20.0)
    assert rows["total", "run2"].toy_unc_full == pytest.approx(math.hypot(20.0, 6.0))
    weights = {"run2": 0.5, "run3a": 0.25, "run3b": 0.25}
    full = pc.omega_a_systematic_at_paper_statistics(averages, weights, fractions)
    assert full == pytest.approx(math.hypot(20.0, 3.0))
    budget = ("quantity,section,correction_ppb,unc_ppb,unc_evaluated_ppb,unc_external_ppb,unc_statistical_ppb\n"
              "omega_a^m systematic,IV J,,31.6,31.6,0.0,0.0\n"
              "total systematic,,,40.0,30.0,26.5,0.0\n")
    with_full = {r.quantity: r for r in pc._with_omega_a_systematic(pc.budget_rows(budget, paper, fractions), full)}
    assert with_full["omega_a^m systematic"].toy_unc_full == pytest.approx(full)
    assert with_full["total systematic"].toy_unc_full == pytest.approx(math.sqrt(40.0**2 - 31.6**2 + full**2))


@pytest.mark.workflow
def test_the_ci_run_writes_the_comparison(ci_run):
    out = ci_run / "results/combined"
    md = (out / "paper_comparison.md").read_text()
    for q, _, _ in ROWS:
        assert f"| {q} | combined |" in md, q
    for table in ("Table V", "Table VII", "Table X", "Table XI"):
        assert f"## {table}" in md, table
    assert (out / "paper_comparison.png").stat().st_size > 0
    assert len((out / "paper_comparison.csv").read_text().splitlines()) > len(ROWS)
