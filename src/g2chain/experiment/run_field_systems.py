"""File-level steps of the toy's field systems: the sealed field world (rule ``field_world``) and
what the NMR and magnetometer systems record (rule ``measure_field``). The field's truths
(omega~'_p, B_K, B_Q) are what the production's muons experience in this world
(``truth.production``).

The ``field`` config block holds three kinds of keys: the world (the magnet, its drifts and
ramps, the beam-synchronous transients, the collimators' field: ``WORLD_KEYS``), the measurements (trolley plan, probe
noise, fixed-probe sampling, traces: ``MEASUREMENT_KEYS``) and the analysis (everything else).
A dataset's own ``field`` block overrides the common one. Changing a measurement key leaves the
world, its truth and the muon production untouched: the rules' params are split the same way.
"""

from __future__ import annotations

import numpy as np

from ..config import field_settings
from ..io import config_hash, read_h5, write_h5
from ..physics.transients import esq_vibration, exponential_transient
from ..seeds import dataset_key
from . import field_measurements
from .field_world import FieldWorld, build_field_world
from .muon_field import with_kick

WORLD_KEYS = (
    "m1_hz", "multipole_ratios_ppb", "azimuths", "dipole_profile_ppm_rms", "multipole_azimuthal_ppb_rms",
    "dataset_days", "access_interval_days", "access_hours", "time_step_s", "daily_cycle_ppm",
    "tracked_walk_hz_per_sqrt_s", "untracked_rate_hz_per_sqrt_s", "ramp_days", "ramp_amplitude_ppb",
    "ramp_tau_hours", "ramp_wait_hours", "kicker", "esq", "configuration",
)
# the trolley's own properties (true probe offsets, temperature coefficient) belong to the
# instrument: they change what is measured, not the field the muons see
MEASUREMENT_KEYS = (
    "probe_offsets_hz_rms", "trolley_temperature_coeff_hz_per_c", "trolley_interval_days", "trolley_run_hours",
    "trolley_noise_hz", "trolley_temperature_rms_c", "trolley_temperature_offset_c",
    "calibration_swaps", "fixed_probe_noise_hz",
    "footprint_hz", "footprint_width_s", "passage_window_s", "passage_sample_s", "trace", "configuration_probe",
)
# spawn keys of the field's random streams (DESIGN §4), far from the production's chunk numbers
_WORLD_STREAM, _MEASUREMENT_STREAM, _PROBE_STREAM = 1_000_001, 1_000_002, 1_000_003


def world_settings(cfg: dict, dataset: str) -> dict:
    """The world part of the dataset's field settings (what the truth depends on)."""
    s = field_settings(cfg, dataset)
    return {k: s[k] for k in WORLD_KEYS if k in s}  # configuration is optional


def measurement_settings(cfg: dict, dataset: str) -> dict:
    """The measurement part of the dataset's field settings."""
    s = field_settings(cfg, dataset)
    return {k: s[k] for k in MEASUREMENT_KEYS if k in s}  # configuration_probe is optional


def dataset_field_world(cfg: dict, dataset: str) -> FieldWorld:
    """The dataset's field world, deterministic in (seed, dataset)."""
    s = field_settings(cfg, dataset)
    seq = np.random.SeedSequence(int(cfg["seed"]), spawn_key=(dataset_key(dataset), _WORLD_STREAM))
    return build_field_world(s, float(s["m1_hz"]), s["multipole_ratios_ppb"], seq)


def true_probe_offsets(cfg: dict, dataset: str) -> np.ndarray:
    """The 17 trolley probes' true calibration offsets (Hz): one trolley for every dataset, so
    one set of offsets (Table XXVIII-like spread)."""
    rng = np.random.default_rng(np.random.SeedSequence(int(cfg["seed"]), spawn_key=(_PROBE_STREAM,)))
    return rng.normal(0.0, float(field_settings(cfg, dataset)["probe_offsets_hz_rms"]), 17)


_WORLD_ARRAYS = {"phi": "rad", "static": "Hz", "t_s": "s", "station_phi": "rad", "drift": "Hz", "untracked": "Hz",
                 "ramp_s": "s", "ramp_profile": "Hz", "access_s": "s", "muon_rate": "1"}


def write_field_world(cfg: dict, dataset: str, world: FieldWorld, path):
    """Sealed field world: the world's arrays (``dataset_field_world``)."""
    data = {f"world/{k}": (getattr(world, k), u) for k, u in _WORLD_ARRAYS.items()}
    data["world/ramp_tau_s"] = (np.float64(world.ramp_tau_s), "s")
    if world.collimator_phi.size:  # only a world with collimators writes them
        data["world/collimator_phi"] = (world.collimator_phi, "rad")
        data["world/collimator_hz"] = (world.collimator_hz, "Hz")
        data["world/collimator_width_rad"] = (np.float64(world.collimator_width_rad), "rad")
    write_h5(path, data, {"dataset": dataset}, kind="field_world", cfg_hash=config_hash(cfg))


def read_field_world(path) -> FieldWorld:
    """The FieldWorld of a sealed field-world file."""
    data, _ = read_h5(path, kind="field_world")
    w = {k.split("/", 1)[1]: v for k, v in data.items() if k.startswith("world/")}
    collimators = {}
    if "collimator_phi" in w:
        collimators = {"collimator_phi": np.asarray(w["collimator_phi"]),
                       "collimator_hz": np.asarray(w["collimator_hz"]),
                       "collimator_width_rad": float(w["collimator_width_rad"])}
    return FieldWorld(**{k: np.asarray(w[k]) for k in _WORLD_ARRAYS}, ramp_tau_s=float(w["ramp_tau_s"]), **collimators)


def _trace(t_us, local, noise, rng):
    return local + rng.normal(0.0, noise, size=t_us.size)


def transient_traces(settings: dict, rng) -> dict:
    """Magnetometer traces over the fill (fractional field, noise per sample from ``trace``):
    at a kicker (eddy currents) and at an ESQ (plate vibrations). With ``trace.kicker_pulses``
    M > 1 the kicker campaign records M pulses (``kicker_pulses``, and their mean as ``kicker``),
    each eddy current's amplitude off the mean by ``kicker.pulse_rms`` (relative, Gaussian). The
    muons average the pulses of ~10^9 fills, and the kicker's shift is linear in the amplitude, so
    the production's transient is the mean one."""
    tr, kick, esq = settings["trace"], settings["kicker"], settings["esq"]
    t = np.arange(0.0, float(tr["length_us"]), float(tr["spacing_us"]))
    kicker = exponential_transient(t, 1e-9 * float(kick["amplitude_ppb"]), float(kick["tau_us"]))
    quad = esq_vibration(t, 1e-9 * float(esq["amplitude_ppb"]), float(esq["tau_us"]), 1e-6 * float(esq["frequency_hz"]),
                         float(esq["phase_rad"]))
    noise = 1e-9 * float(tr["kicker_noise_ppb"])
    pulses = int(tr.get("kicker_pulses", 1))
    if pulses == 1:
        out = {"t_us": t, "kicker": _trace(t, kicker, noise, rng)}
    else:
        scale = 1.0 + float(kick.get("pulse_rms", 0.0)) * rng.standard_normal(pulses)
        each = np.stack([_trace(t, k * kicker, noise, rng) for k in scale])
        out = {"t_us": t, "kicker": each.mean(axis=0), "kicker_pulses": each}
    out["esq"] = _trace(t, quad, 1e-9 * float(tr["esq_noise_ppb"]), rng)
    return out


def world_field_settings(cfg: dict, dataset: str) -> dict:
    """The dataset's field block as the world has it: its transients at the dataset's kick
    (``muon_field.with_kick``), for the production's muons and the magnetometer traces alike."""
    return with_kick(field_settings(cfg, dataset), cfg["datasets"][dataset]["kicker_kV"])


def write_field_measurements(cfg: dict, dataset: str, world_path, path):
    """experiment/field.h5: every record of the dataset's field systems (raw frequencies in Hz,
    times in s on the run clock, traces as fractional field over the fill in us)."""
    world = read_field_world(world_path)
    s = field_settings(cfg, dataset)
    offsets = true_probe_offsets(cfg, dataset)  # the instrument's truth, drawn where it is used
    rng = np.random.default_rng(np.random.SeedSequence(int(cfg["seed"]), spawn_key=(dataset_key(dataset),
                                                                                      _MEASUREMENT_STREAM)))
    meas = field_measurements.measure_field(world, s, offsets, rng)
    traces = transient_traces(world_field_settings(cfg, dataset), rng)
    data = {
        "trolley/times_s": (meas.trolley_times_s, "s"),
        "trolley/azimuth_rad": (world.phi, "rad"),
        "trolley/readings": (np.stack(meas.trolley_readings), "Hz"),
        "trolley/run_s": (np.float64(meas.trolley_run_s), "s"),
        "trolley/temperature_c": (meas.trolley_temperature_c, "degC relative to the calibration campaign"),
        "calibration/trolley": (meas.calib_trolley, "Hz"),
        "calibration/probe": (meas.calib_probe, "Hz"),
        "fixed_probes/times_s": (meas.fp_times_s, "s"),
        "fixed_probes/station_probes": (meas.station_probes, "1"),
        "fixed_probes/station_azimuth_rad": (meas.station_phi, "rad"),
        "fixed_probes/passage_times_s": (meas.passage_times_s, "s"),
        "fixed_probes/passage_window_times_s": (meas.passage_window_times_s, "s"),
        "run/muon_rate": (meas.muon_rate, "1"),
        "run/ramp_times_s": (meas.ramp_times_s, "s"),
        "transients/t_us": (traces["t_us"], "us"),
        "transients/kicker": (traces["kicker"], "1"),
        "transients/esq": (traces["esq"], "1"),
        **({"transients/kicker_pulses": (traces["kicker_pulses"], "1")} if "kicker_pulses" in traces else {}),
        "transients/kicker_noise": (np.float64(1e-9 * float(s["trace"]["kicker_noise_ppb"])), "1"),
        "transients/esq_noise": (np.float64(1e-9 * float(s["trace"]["esq_noise_ppb"])), "1"),
    }
    if meas.configuration is not None:
        data.update(meas.configuration.records())
    for st, readings in enumerate(meas.fp_readings):
        data[f"fixed_probes/station_{st:02d}"] = (readings, "Hz")
        data[f"fixed_probes/passages_{st:02d}"] = (np.stack([meas.passage_readings[k][st]
                                                             for k in range(meas.trolley_times_s.size)]), "Hz")
    write_h5(path, data, {"dataset": dataset}, kind="field", cfg_hash=config_hash(cfg))
