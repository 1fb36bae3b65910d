"""The field block of the config: a trolley plan that cannot be run is one line naming the key,
and numbers of a nested command-line value come out typed."""

import copy

import pytest

from g2chain.config import ConfigError, validate_config

from ..conftest import SCHEMA
from ..helpers import field_config as _cfg


@pytest.mark.parametrize("field, message", [
    ({"trolley_interval_days": 5.0}, r"field\.trolley_interval_days: 5\.0 is not a whole number of access"),
    ({"trolley_interval_days": 4.5, "dataset_days": 24.0}, r"trolley_interval_days: 4\.5 does not divide dataset_days"),
    ({"trolley_run_hours": 3.0}, r"trolley_run_hours: longer than an access"),
    ({"dataset_days": 25.0}, r"dataset_days: 25\.0 is not a whole number"),
    ({"trolley_interval_days": 24.0}, r"field\.trolley_interval_days: 2 trolley runs in 24\.0 days"),
    ({"access_hours": 40.0}, r"field\.access_hours: the beam would be off all the time"),
    ({"ramp_days": [0.0, 30.0]}, r"field\.ramp_days: a ramp after the dataset"),
    ({"passage_window_s": 120.0}, r"field\.passage_window_s: must exceed"),
    ({"configuration": {"azimuths_deg": [35.0, 101.5], "amplitude_ppb": -1.0, "width_deg": 0.5}},
     r"field\.configuration: a collimator at 101\.5 deg is 1\.00 deg from a fixed-probe station"),
])
def test_a_trolley_plan_that_cannot_be_run_is_one_line(base_cfg, field, message):
    with pytest.raises(ConfigError, match=message) as err:
        _cfg(base_cfg, **field)
    assert "\n" not in str(err.value)


def test_numbers_from_a_nested_command_line_value_are_typed(base_cfg):
    cfg = copy.deepcopy(base_cfg)
    cfg["field"]["trolley_interval_days"] = "6"  # what snakemake --config field='{...}' delivers
    cfg["field"]["kicker"]["tau_us"] = "8.0e+1"
    validate_config(cfg, SCHEMA)
    assert cfg["field"]["trolley_interval_days"] == 6 and cfg["field"]["kicker"]["tau_us"] == 80.0
    assert cfg["datasets"]["run2"]["label"] == "Run-2"


def test_a_string_the_schema_asks_for_stays_a_string(base_cfg):
    """A blinding phrase that looks like a number ("1e5", from the command line or a file) is a
    phrase: it used to be turned into a number and then rejected."""
    cfg = copy.deepcopy(base_cfg)
    cfg["blinding"]["hardware_phrase"] = "1e5"
    cfg["datasets"]["run2"]["label"] = "2023"
    validate_config(cfg, SCHEMA)
    assert cfg["blinding"]["hardware_phrase"] == "1e5" and cfg["datasets"]["run2"]["label"] == "2023"
