"""omega_a systematic categories respond to the toy's effects and vanish without them."""

import copy

import pytest

from g2chain.omega_a.groups import analysis_spec, load_groups
from g2chain.omega_a.systematics import category_totals, systematic_table

from .conftest import ROOT
from .test_omega_a_closure import experiment_views

GROUPS = load_groups(ROOT / "config" / "groups.yaml", ROOT / "workflow" / "schemas" / "groups.schema.yaml")


def _table(base_cfg, **detector):
    cfg = copy.deepcopy(base_cfg)
    cfg["detector"].update(detector)
    calo, loss, _, _ = experiment_views(cfg, "run2", 2e6, 5)
    spec = analysis_spec(GROUPS, "I-T", "run2")
    table = systematic_table(calo, loss, spec, float(cfg["datasets"]["run2"]["field_index"]))
    print(table["analysis"], detector or "default", {k: round(v, 3) for k, v in category_totals(table).items()})
    return category_totals(table)


@pytest.mark.slow
def test_pileup_and_gain_systematics_follow_the_toy(base_cfg):
    default = _table(base_cfg)
    assert default["pileup"] > 0.1 and default["gain"] > 0.1  # both effects are in the toy
    assert default["other"] > 0.0  # another +-T_c/2 randomization of the same positrons moves R
    assert _table(base_cfg, resolving_time_ns=0.0)["pileup"] < 1.0  # nothing merges: no pileup
    assert _table(base_cfg, gain_in_fill=0.0, gain_short_term=0.0)["gain"] < 1.0  # no sag
