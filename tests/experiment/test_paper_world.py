"""The Run-2/3 world (config/paper.yaml) is sized like the experiment: the truths its production
and beam make are those of the report's tables, before any analysis (issue 22). Small samples:
the beam truth of 3e5 stored muons and a 4e5 e+ production per dataset (Table I counting) (C_e, C_p, B_K, B_Q are
means over the detected muons, known to < 1 % at that size)."""

import pytest
import yaml

from g2chain.combine.paper_comparison import paper_tables
from g2chain.experiment.world import build_conditions, build_world
from g2chain.truth.beam import beam_dynamics_truth, dataset_kappa_calo
from g2chain.truth.production import true_omega_a_m

from ..conftest import ROOT, produce
from ..helpers import config_merged

DATASETS = ("run2", "run3a", "run3b")


@pytest.fixture(scope="module")
def paper_world():
    cfg = config_merged(*(yaml.safe_load((ROOT / "config" / n).read_text()) for n in ("config.yaml", "paper.yaml")))
    out = {}
    for ds in DATASETS:
        world = build_world(cfg, ds)
        cond = build_conditions(cfg, ds, world)
        beam = beam_dynamics_truth(cond, dataset_kappa_calo(cfg, ds, cond), 300_000, cfg["seed"], ds)
        views, _ = produce(cfg, ds, positrons=4e5)
        prod = true_omega_a_m(views["truth"], world["omega_a_ref"], "T")
        out[ds] = {"C_e": prod["mean_ce_ppb"], "C_p": prod["mean_cp_ppb"], "B_K": prod["B_K_ppb"],
                   "B_Q": prod["B_Q_ppb"], "C_dd": beam["C_dd_ppb"], "C_ml": beam["C_ml_ppb"], "C_pa": beam["C_pa_ppb"]}
        print(ds, {k: round(float(v), 1) for k, v in out[ds].items()})
    return out


def test_the_corrections_the_world_makes_are_the_reports(paper_world):
    """Per dataset, C_e (Table VII combined), C_p (Table VIII), B_K (Table XX) and B_Q (Table XXI)
    within x1.5 of the report's; C_ml and C_dd (without the p-x part, which the toy does not make)
    within 2 sigma of it, as their values are within 2 sigma of zero."""
    paper = paper_tables()
    for ds, toy in paper_world.items():
        ratios = {"C_e": toy["C_e"] / paper["table_VII"]["combined"][ds][0],
                  "C_p": toy["C_p"] / paper["table_VIII"][ds][0],
                  "B_K": toy["B_K"] / paper["B_K"][ds][0], "B_Q": toy["B_Q"] / paper["B_Q"][ds][0]}
        assert all(1 / 1.5 < r < 1.5 for r in ratios.values()), (ds, ratios)
        dd_value, dd_unc = paper["table_X"]["total"][ds]
        dd_value -= paper["table_X"]["p-x"][ds][0]
        assert abs(toy["C_dd"] - dd_value) < 2 * dd_unc, (ds, toy["C_dd"], dd_value)
        ml_value, ml_unc = paper["table_XII"]["C_ml"]
        assert abs(toy["C_ml"] - ml_value) < 2 * ml_unc, (ds, toy["C_ml"])


def test_the_phase_acceptance_of_the_datasets_together_is_the_reports(paper_world):
    """C_pa: Run-2/3 together (Table XII, -27 +- 13 ppb) within x1.5. Per dataset the world does
    not follow Table XI (-50, -16, -13): Run-2's larger in-fill change of the vertical width is
    not in it (issue 22)."""
    value, _ = paper_tables()["table_XII"]["C_pa"]
    mean = sum(w["C_pa"] for w in paper_world.values()) / len(paper_world)
    assert 1 / 1.5 < mean / value < 1.5, mean
