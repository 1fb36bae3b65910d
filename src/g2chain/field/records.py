"""What the field systems recorded (experiment/field.h5), read back into the analysis' data
structure. The layout is written by ``experiment.field_pipeline.write_field_measurements``."""

from __future__ import annotations

import numpy as np

from ..io import read_h5
from .analysis import FieldMeasurements


def read_field_measurements(path):
    """(FieldMeasurements, transient traces dict) from experiment/field.h5."""
    d, _ = read_h5(path, kind="field")
    n_st = len(d["fixed_probes/station_probes"])
    passages = [np.asarray(d[f"fixed_probes/passages_{s:02d}"]) for s in range(n_st)]
    k_runs = len(d["trolley/times_s"])
    meas = FieldMeasurements(
        np.asarray(d["trolley/times_s"]), list(np.asarray(d["trolley/readings"])),
        np.asarray(d["calibration/trolley"]), np.asarray(d["calibration/probe"]),
        np.asarray(d["fixed_probes/times_s"]), [np.asarray(d[f"fixed_probes/station_{s:02d}"]) for s in range(n_st)],
        np.asarray(d["fixed_probes/station_probes"]), np.asarray(d["fixed_probes/station_azimuth_rad"]),
        np.asarray(d["fixed_probes/passage_times_s"]), np.asarray(d["fixed_probes/passage_window_times_s"]),
        [[passages[s][k] for s in range(n_st)] for k in range(k_runs)],
        np.asarray(d["run/muon_rate"]), np.asarray(d["run/ramp_times_s"]), float(d["trolley/run_s"]),
        np.asarray(d["trolley/temperature_c"]))
    traces = {k.split("/", 1)[1]: d[k] for k in d if k.startswith("transients/")}
    traces["azimuth_rad"] = np.asarray(d["trolley/azimuth_rad"])
    return meas, traces
