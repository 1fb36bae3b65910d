"""The budget table and its CI regression: rows of Table XXIV, totals, and the regression check
itself (a test of the test: a row moved beyond its tolerance fails, within it passes)."""

from pathlib import Path

import pytest

from g2chain.combine.budget import (
    ROWS,
    budget_csv,
    budget_markdown,
    budget_table,
    budget_values,
    compare_to_reference,
    read_reference,
)

REFERENCE = Path(__file__).resolve().parents[1] / "regression" / "budget_ci.csv"


def _comps(scale=1.0):
    c = [{"row": "omega_a^m statistical", "source": "statistical", "ppb": 200 * scale, "correlated": False,
          "kind": "evaluated", "statistical": True},
         {"row": "C_e", "source": "systematic", "ppb": 30.0, "correlated": True, "kind": "evaluated"},
         {"row": "C_dd", "source": "external", "ppb": 6.0, "correlated": True, "kind": "external"},
         {"row": "<omega'_p x M>", "source": "tracking", "ppb": 40.0, "correlated": False, "kind": "evaluated"}]
    return c


def _table():
    corr = {"C_e": 450.0, "C_p": 170.0, "C_ml": 0.0, "C_dd": -15.0, "C_pa": -27.0, "B_K": -21.0, "B_Q": -21.0}
    ratios = [{"dataset": "run2", "components": _comps(), "corrections_ppb": corr}]
    combined = {"components": _comps(), "corrections_ppb": corr}
    constants = [{"row": "m_mu/m_e", "source": "m_mu/m_e", "ppb": 22.0, "correlated": True, "kind": "external"}]
    return budget_table(ratios, combined, constants)


def test_budget_rows_and_totals():
    t = _table()
    col = t["columns"]["combined"]
    assert [q for q, _, _ in ROWS] == t["rows"][:len(ROWS)]
    # positive C_i raise a_mu, positive B_i lower it: the paper's 622 from its rows
    assert col["totals"]["correction"] == pytest.approx(450 + 170 - 15 - 27 + 21 + 21)
    assert col["total systematic"]["total"] == pytest.approx((30**2 + 6**2 + 40**2) ** 0.5)
    assert col["total external parameters"]["total"] == pytest.approx(22.0)
    assert col["C_dd"]["external"] == pytest.approx(6.0) and col["C_dd"]["evaluated"] == 0.0
    md = budget_markdown(t, ["# test"])
    assert "| C_e | V A | 450 | 30 |" in md


def test_each_row_carries_its_statistical_part():
    """The part that shrinks as 1/sqrt(N) (Component.statistical) is a column of its own, so that
    the paper comparison can scale it to Table I's positrons; rows without one have 0."""
    t = _table()
    col = t["columns"]["combined"]
    assert col["omega_a^m statistical"]["statistical"] == pytest.approx(200.0)
    assert col["C_e"]["statistical"] == 0.0 and col["total systematic"]["statistical"] == 0.0
    assert col["totals"]["statistical"] == pytest.approx(200.0)
    header, first = budget_csv(t).splitlines()[:2]
    assert "unc_statistical_ppb" in header.split(",") and "run2_unc_statistical_ppb" in header.split(",")
    assert first.split(",")[header.split(",").index("unc_statistical_ppb")] == "200.000"


def test_regression_check_fails_beyond_tolerance_and_passes_within():
    values = budget_values(budget_csv(_table()))
    reference = {k: (v, 2.0) for k, v in values.items()}
    assert compare_to_reference(reference, values) == []
    moved = dict(values)
    moved[("C_e", "correction")] += 1.5  # within
    assert compare_to_reference(reference, moved) == []
    moved[("C_e", "correction")] += 1.0  # beyond: 2.5 > 2
    assert compare_to_reference(reference, moved) == ["C_e / correction: 452.50 ppb, reference 450.00 +- 2.00"]
    del moved[("C_p", "run2 correction")]
    assert any("missing" in line for line in compare_to_reference(reference, moved))


def test_regression_reference_is_complete_and_every_tolerance_can_fail():
    from g2chain.combine.budget import unguarded_entries

    ref = read_reference(REFERENCE.read_text())
    assert {q for q, _ in ref} | {q for q, _ in unguarded_entries(REFERENCE.read_text())} >= {q for q, _, _ in ROWS}
    # every entry moved by 1.01 of its tolerance fails, alone (no tolerance is infinite or zero)
    values = {k: v for k, (v, _) in ref.items()}
    for key, (v, tol) in ref.items():
        assert 0.0 < tol < float("inf"), key
        moved = dict(values)
        moved[key] = v + 1.01 * tol
        assert len(compare_to_reference(ref, moved)) == 1, key
        # a sign flip or a doubling of any guarded entry fails (a zero stays zero)
        for wrong in (-v, 2 * v):
            moved[key] = wrong
            assert len(compare_to_reference(ref, moved)) == (0 if v == 0 else 1), (key, wrong)


def test_budget_diff_names_what_moved_in_units_of_its_uncertainty():
    from g2chain.combine.budget import budget_diff, budget_diff_text

    header = ("quantity,section,correction_ppb,unc_ppb,unc_evaluated_ppb,unc_external_ppb,run2_correction_ppb,"
              "run2_unc_ppb")
    before = (header + "\nC_e,V A,300.000,50.000,50.000,0.000,300.000,50.000"
              "\nC_p,V B,170.000,9.000,9.000,0.000,170.000,9.000\n")
    after = before.replace("C_e,V A,300.000,50.000,50.000,0.000,300.000", "C_e,V A,300.000,50.000,50.000,0.000,325.000")
    rows = budget_diff(before, after)
    assert [(r["quantity"], r["column"]) for r in rows] == [("C_e", "run2 correction")]
    assert rows[0]["change_ppb"] == 25.0 and rows[0]["change_in_unc"] == 0.5
    assert "+0.50" in budget_diff_text(rows)
    assert budget_diff(before, before) == [] and budget_diff_text([]) == "no budget entry moved"
