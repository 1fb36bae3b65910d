"""The Run-2/3 world at 1 % of Table I against the report (issue 22's acceptance), opt-in:

    G2CHAIN_PAPER_RUN=/path/to/finished/run pytest -m paper_world tests/regression/test_paper_world_run.py -s

checks a finished `snakemake --configfile config/paper.yaml config/paper_1percent.yaml` run (its
results/combined/paper_comparison.csv and closure.json); without the variable it runs that chain
in a copy of the workflow first (~30 min on 2 cores). The reference is the report itself
(Tables XXIV and V, in the package's data): the tolerances are the issue's, x1.5 on a value, or
2 sigma where the paper's value is within 2 sigma of zero.

Why not in CI: the paper world's budget only means something at statistics where its
beam-dynamics rows are resolved; at the ci size (2e6 e+ per dataset) C_ml, C_dd and C_pa are
noise (the ci reference leaves them unguarded), and one more ci-sized chain costs ~4 min of a
.ci/run that is at 13 of its 15 minutes. The world's truths are in CI
(tests/experiment/test_paper_world.py).

On the 1 % run recorded in tests/regression/paper_world_1percent.md (a clean clone of 61dc492,
session 22's vectorized kernel) the closures hold, every correction is the paper's (C_pa 1.07 of
it) and <omega'_p x M> is 0.66 evaluated; two tests fail, on what a 1 % run cannot show (issue 22,
blocked): the omega_a^m categories are below the noise of their own estimates at 1 % (run3a's
largest is "Pileup corrections", not "CBO handling"; the total at the paper's N is 18 against 25
here, 50 in the run of 6963448 before it; Run-3b at 10 % gives Table V:
tests/regression/paper_world_run3b_10percent.md), and C_dd's evaluated share is 0.44: see the
README's "Paper scale" section.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import copy_workflow  # noqa: E402

pytestmark = pytest.mark.paper_world

# Table XXIV rows whose value is compared (x1.5) and those where the paper's value is within 2
# sigma of zero (the toy's within 2 sigma of the paper's)
RATIO_ROWS = ("C_e", "C_p", "C_pa")
TWO_SIGMA_ROWS = ("C_ml", "C_dd", "B_K", "B_Q")
CONSTANTS = ("mu'_p(T_r)/mu_e", "m_mu/m_e", "g_e/2")
FACTOR = 1.5


@pytest.fixture(scope="module")
def paper_run(tmp_path_factory) -> Path:
    given = os.environ.get("G2CHAIN_PAPER_RUN")
    if given:
        return Path(given)
    work = copy_workflow(tmp_path_factory.mktemp("paper_run") / "wf")
    run = subprocess.run([sys.executable, "-m", "snakemake", "results/combined/paper_comparison.md",
                          "results/combined/closure.json", "--cores", "2", "--configfile", "config/paper.yaml",
                          "config/paper_1percent.yaml"], cwd=work, capture_output=True, text=True)
    if run.returncode:
        pytest.fail(f"the 1 % paper-world chain failed:\n{run.stderr[-3000:]}")
    return work


@pytest.fixture(scope="module")
def rows(paper_run):
    with open(paper_run / "results/combined/paper_comparison.csv") as f:
        return list(csv.DictReader(f))


def _num(row, key):
    return float(row[key]) if row[key] not in ("", None) else None


def _xxiv(rows):
    return {r["quantity"]: r for r in rows if r["table"] == "XXIV"}


def test_the_corrections_are_the_papers(rows):
    budget = _xxiv(rows)
    bad = []
    for q in RATIO_ROWS:
        ratio = _num(budget[q], "value_ratio")
        print(f"{q}: toy {_num(budget[q], 'toy_value'):.0f}, paper {_num(budget[q], 'paper_value'):.0f}, "
              f"ratio {ratio:.2f}")
        if not 1 / FACTOR <= ratio <= FACTOR:
            bad.append(f"{q}: toy/paper {ratio:.2f}")
    for q in TWO_SIGMA_ROWS:
        toy, unc, paper = (_num(budget[q], k) for k in ("toy_value", "toy_unc", "paper_value"))
        print(f"{q}: toy {toy:.0f} +- {unc:.0f}, paper {paper:.0f}: {(toy - paper) / unc:+.2f} sigma")
        if abs(toy - paper) > 2 * unc:
            bad.append(f"{q}: {(toy - paper) / unc:+.2f} sigma from the paper's {paper:.0f}")
    assert not bad, "; ".join(bad)


def test_the_systematics_are_the_papers(rows):
    budget = _xxiv(rows)
    syst = _num(budget["omega_a^m systematic"], "toy_unc_full")
    total = _num(budget["total systematic"], "toy_unc_full")
    print(f"omega_a^m systematic at the paper's N {syst:.0f} (25); total systematic {total:.0f} (70)")
    assert 25 / FACTOR <= syst <= 25 * FACTOR
    assert 70 / FACTOR <= total <= 70 * FACTOR
    for ds in ("run2", "run3a", "run3b"):  # Table V: CBO handling the largest category in every dataset
        cats = {r["quantity"]: _num(r, "toy_unc") for r in rows if r["table"] == "V" and r["column"] == ds
                and r["quantity"] != "total"}
        print(ds, {k: round(v) for k, v in cats.items()})
        assert max(cats, key=cats.get) == "CBO handling", ds


def test_what_the_paper_evaluated_the_toy_evaluates(rows):
    """In each row the paper evaluated (all but the constants of Eq. 56), the toy's evaluated part
    is at least half of the row's uncertainty at the paper's statistics."""
    bad = []
    for q, r in _xxiv(rows).items():
        share = _num(r, "evaluated_share_full")
        if q in CONSTANTS or q.startswith("total") or share is None:
            continue
        print(f"{q}: evaluated sigma / sigma {share ** 0.5:.2f}")
        if share**0.5 < 0.5:
            bad.append(f"{q}: {share ** 0.5:.2f}")
    assert not bad, "; ".join(bad)


def test_every_closure_holds(paper_run):
    closure = json.loads((paper_run / "results/combined/closure.json").read_text())
    pulls = {f"{ds}/{stage}": v["pull"] for ds, stages in closure["datasets"].items()
             for stage, v in stages.items() if isinstance(v, dict) and "pull" in v}
    pulls |= {f"combined/{k}": v["pull"] for k, v in closure["combined"].items() if isinstance(v, dict) and "pull" in v}
    print({k: round(v, 2) for k, v in pulls.items()})
    assert pulls and max(abs(p) for p in pulls.values()) < 3.0
