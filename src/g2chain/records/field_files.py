"""What the field systems recorded (experiment/field.h5), read back into the analysis' data
structure (``FieldMeasurements``). The layout is written by
``experiment.run_field_systems.write_field_measurements``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..io import read_h5


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
        np.asarray(d["trolley/temperature_c"]),
        ConfigurationProbes(*(np.asarray(d[f"configuration/{k}"]) for k in ConfigurationProbes.FIELDS))
        if "configuration/step_hz" in d else None)
    traces = {k.split("/", 1)[1]: d[k] for k in d if k.startswith("transients/")}
    traces["azimuth_rad"] = np.asarray(d["trolley/azimuth_rad"])
    return meas, traces


@dataclass
class ConfigurationProbes:
    """The local probes at the collimators (Sec. VI D, delta^config): each reads the field with its
    collimator in minus out, averaged over the configuration changes it saw. Azimuths in rad, steps
    and their standard errors in Hz."""

    FIELDS = ("collimator_azimuth_rad", "probe_azimuth_rad", "step_hz", "step_err_hz")
    collimator_azimuth_rad: np.ndarray  # (C,) where the collimators are (the ring's layout)
    probe_azimuth_rad: np.ndarray       # (C,) where each one's local probe sits
    step_hz: np.ndarray                 # (C,) the probe's reading, collimator in minus out
    step_err_hz: np.ndarray             # (C,) its standard error

    def records(self) -> dict:
        """The experiment/field.h5 entries (name -> (array, unit)) under ``configuration/``."""
        units = {"collimator_azimuth_rad": "rad", "probe_azimuth_rad": "rad", "step_hz": "Hz", "step_err_hz": "Hz"}
        return {f"configuration/{k}": (getattr(self, k), units[k]) for k in self.FIELDS}


@dataclass
class FieldMeasurements:
    """What the field systems recorded for one dataset (see experiment.field_measurements)."""

    trolley_times_s: np.ndarray      # (K,) run times
    trolley_readings: list           # K x [azimuths x 17]
    calib_trolley: np.ndarray        # (17, swaps)
    calib_probe: np.ndarray          # (17, swaps)
    fp_times_s: np.ndarray           # (T,)
    fp_readings: list                # S x [T x probes]
    station_probes: np.ndarray       # (S,) 4 or 6
    station_phi: np.ndarray          # (S,)
    passage_times_s: np.ndarray      # (K, S) footprint-window centres (from the trolley position)
    passage_window_times_s: np.ndarray  # (K, S, n)
    passage_readings: list           # K x S x [n x probes]
    muon_rate: np.ndarray            # (T,) stored-muon rate on the fp time grid (the run schedule)
    ramp_times_s: np.ndarray         # (R,) magnet ramps (the logbook)
    trolley_run_s: float             # duration of one trolley run around the ring
    trolley_temperature_c: np.ndarray | None = None  # (K,) trolley temperature per run minus the calibration's
    configuration: ConfigurationProbes | None = None  # the collimators' local probes, where the world has them
