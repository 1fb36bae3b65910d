"""What a chunk and a dataset record: file layouts, merging, and the sealed ω_a^m truth.

Chunk files hold every view plus the truth accumulators, so they live under ``sealed/``. Merging
splits them into the experiment files (what detectors record, blinded clock, no truth) and the
sealed production truth.
"""

from __future__ import annotations

import numpy as np

from ..io import read_h5, write_h5
from . import binning as B
from .decay import michel_asymmetry
from .production import COUNTER_NAMES

PILEUP_METHODS = ("shadow_positron", "hit_level", "waveform_level")
RECONSTRUCTIONS = ("local", "global")

# (name in the chunk file, units)
CHUNK_VIEWS = {
    "calo_hist": "counts", "fine_hist": "counts", "q_calo": "GeV", "q_fine": "GeV", "q_fine2": "GeV^2",
    "pileup": "counts",
    "fast_rot": "counts", "tracker": "counts", "lost": "counts", "truth": "mixed", "truth_lost": "counts",
    "counters": "mixed", "laser_infill": "1", "laser_shortterm": "1", "laser_longterm": "1", "gain_lt": "1",
}


def write_chunk(path, views: dict, attrs: dict, cfg_hash: str):
    """Write one chunk's views (sealed: it contains truth accumulators)."""
    write_h5(path, {k: (views[k], CHUNK_VIEWS[k]) for k in CHUNK_VIEWS}, attrs, kind="chunk", cfg_hash=cfg_hash)


def read_chunks(paths) -> tuple[dict, list]:
    """Sum the additive views of several chunk files; laser long-term records stay per chunk."""
    total, longterm = None, []
    for path in paths:
        data, _ = read_h5(path, kind="chunk")
        longterm.append(data.pop("laser_longterm"))
        data.pop("gain_lt")
        if total is None:
            total = {k: v.astype(np.int64) if v.dtype == np.int32 else v.copy() for k, v in data.items()}
            n = 1
        else:
            for k, v in data.items():
                total[k] += v
            n += 1
    # laser in-fill and short-term records are means per chunk: average them
    total["laser_infill"] /= n
    total["laser_shortterm"] /= n
    return total, longterm


def experiment_datasets(total: dict, longterm: list, pedestal_noise_gev: float) -> dict:
    """The recorded (blinded-clock) views of a dataset, named as analysis code reads them.

    ``pedestal_noise_gev`` is the readout's calibration constant (rms pedestal noise per fill in one
    150 ns calorimeter bin, measured without beam), which the energy-based analysis needs for its
    bin variances.
    """
    out = {
        "energy/pedestal_noise_gev": (float(pedestal_noise_gev), "GeV"),
        "binning/energy_edges": (B.ENERGY_EDGES_GEV, "GeV"),
        "binning/time_edges": (B.time_edges(B.T_BIN_US, B.N_T), "us"),
        "binning/fine_time_edges": (B.time_edges(B.T_FINE_US, B.N_T_FINE), "us"),
        "binning/q_time_edges": (B.time_edges(B.TQ_BIN_US, B.N_TQ), "us"),
        "binning/q_fine_time_edges": (B.time_edges(B.TQ_FINE_US, B.N_TQ_FINE), "us"),
        "binning/fast_rotation_time_edges": (B.time_edges(B.T_FR_US, B.N_FR), "us"),
        "energy/q_calo": (total["q_calo"], "GeV"),
        "energy/q_sum_fine": (total["q_fine"], "GeV"),
        "energy/q_sum2_fine": (total["q_fine2"], "GeV^2"),
        "fast_rotation/signal": (total["fast_rot"], "counts"),
        "fast_rotation/calo_alignment": (B.CALO_ALIGN_US, "us"),
        "laser/infill": (total["laser_infill"], "1"),
        "laser/infill_times": (B.LASER_INFILL_TIMES_US, "us"),
        "laser/shortterm": (total["laser_shortterm"], "1"),
        "laser/shortterm_dt": (B.LASER_SHORTTERM_DT_NS, "ns"),
        "laser/longterm": (np.array(longterm), "1"),
        "fills": (total["counters"][COUNTER_NAMES.index("fills")], "1"),
    }
    for r, recon in enumerate(RECONSTRUCTIONS):
        out[f"{recon}/calo"] = (total["calo_hist"][r].astype(np.int64), "counts")
        out[f"{recon}/sum_fine"] = (total["fine_hist"][r].astype(np.int64), "counts")
    for m, method in enumerate(PILEUP_METHODS):
        out[f"pileup/{method}/doubles"] = (total["pileup"][m, 0], "counts")
        out[f"pileup/{method}/singles"] = (total["pileup"][m, 1], "counts")
        out[f"pileup/{method}/triples"] = (total["pileup"][m, 2], "counts")
        out[f"pileup/{method}/triple_pairs"] = (total["pileup"][m, 3], "counts")
        out[f"pileup/{method}/triple_singles"] = (total["pileup"][m, 4], "counts")
    return out


def tracker_datasets(total: dict) -> dict:
    """Decay-vertex histograms M^T(t, x, y) of the two tracker stations."""
    edges = np.linspace(-B.XY_TRACK_MAX_MM, B.XY_TRACK_MAX_MM, B.N_XY_TRACK + 1)
    return {
        "vertices": (total["tracker"], "counts"),
        "station_azimuth_deg": (np.array([180.0, 270.0]), "deg"),
        "time_edges": (B.time_edges(B.T_TRACK_US, B.N_T_TRACK), "us"),
        "x_edges": (edges, "mm"),
        "y_edges": (edges, "mm"),
    }


def loss_datasets(total: dict) -> dict:
    """Lost-muon triple-coincidence spectrum L(t)."""
    return {
        "triple_coincidences": (total["lost"], "counts"),
        "time_edges": (B.time_edges(B.T_BIN_US, B.N_T), "us"),
    }


# ------------------------------------------------------------------ sealed truth
def method_weights(method: str) -> np.ndarray:
    """Energy weights per recorded energy bin for the truth of an analysis method.

    T: E > 1.7 GeV, equal weights; A: the lab asymmetry A(E) for E > 1 GeV; Q: energy above the
    readout threshold (0.3 GeV).
    """
    e = B.energy_centers()
    if method == "T":
        return (e > 1.7).astype(float)
    if method == "A":
        return np.where(e > 1.0, michel_asymmetry(np.clip(e / 3.095, 0.0, 1.0)), 0.0)
    if method == "Q":
        return np.where(e > 0.3, e, 0.0)
    raise ValueError(f"unknown method '{method}'")


def true_phase(truth: np.ndarray, weights: np.ndarray):
    """Average detected spin-phase offset Phi(t) and its statistical weight per truth time bin."""
    c = np.tensordot(weights, truth[1], axes=(0, 0))
    s = np.tensordot(weights, truth[2], axes=(0, 0))
    n_w2 = np.tensordot(weights**2, truth[0], axes=(0, 0))
    phase = np.arctan2(s, c)
    info = np.where(n_w2 > 0, (c**2 + s**2) / np.where(n_w2 > 0, n_w2, 1.0), 0.0)
    return phase, info


def true_omega_a_m(truth: np.ndarray, omega_a_true: float, method: str, window=(30.1, 660.0)) -> dict:
    """The ω_a^m the wiggle of ``method`` carries over ``window``: omega_a(true) + dPhi/dt.

    Phi(t) is the detected population's mean spin-phase offset from omega_a(true) t; its slope
    over the fit window, weighted by each bin's phase information, contains every E-field, pitch,
    differential-decay, muon-loss and phase-acceptance effect the toy has.
    """
    return true_omega_a_summary(truth, omega_a_true, method_weights(method), window)


def true_omega_a_m_weighted(truth: np.ndarray, omega_a_true: float, weights, window=(30.1, 660.0)) -> float:
    """The true ω_a^m for an analysis's own energy weights (per recorded energy bin)."""
    return true_omega_a_summary(truth, omega_a_true, np.asarray(weights, dtype=float), window)["omega_a_m"]


def true_omega_a_summary(truth: np.ndarray, omega_a_true: float, w: np.ndarray, window) -> dict:
    """ω_a^m, its shift and the mean E-field and pitch terms for energy weights ``w``."""
    phase, info = true_phase(truth, w)
    t = (np.arange(truth.shape[2]) + 0.5) * B.T_TRUTH_US
    sel = (t > window[0]) & (t < window[1]) & (info > 0)
    slope, _ = np.polyfit(t[sel], np.unwrap(phase[sel]), 1, w=np.sqrt(info[sel]))
    n = np.tensordot(w, truth[0], axes=(0, 0))[sel].sum()
    ce = np.tensordot(w, truth[3], axes=(0, 0))[sel].sum() / n
    cp = np.tensordot(w, truth[4], axes=(0, 0))[sel].sum() / n
    return {"omega_a_m": omega_a_true + slope, "shift_ppb": slope / omega_a_true * 1e9,
            "mean_ce_ppb": ce * 1e9, "mean_cp_ppb": cp * 1e9, "window_us": list(window)}


def truth_datasets(total: dict, world: dict) -> tuple[dict, dict]:
    """Sealed production truth and a JSON summary with the true ω_a^m per method."""
    counters = dict(zip(COUNTER_NAMES, total["counters"].tolist(), strict=True))
    summary = {"counters": counters, "omega_a_true": world["omega_a_true"], "methods": {}}
    stored = max(counters["muons_stored"], 1.0)
    summary["stored_population"] = {
        "mean_ce_ppb": counters["sum_ce_stored"] / stored * 1e9,
        "mean_cp_ppb": counters["sum_cp_stored"] / stored * 1e9,
    }
    for method, window in (("T", (30.1, 660.0)), ("A", (30.1, 660.0)), ("Q", (30.1, 330.0))):
        summary["methods"][method] = true_omega_a_m(total["truth"], world["omega_a_true"], method, window)
    data = {
        "truth/n": (total["truth"][0], "counts"),
        "truth/a_cos": (total["truth"][1], "1"),
        "truth/a_sin": (total["truth"][2], "1"),
        "truth/sum_ce": (total["truth"][3], "1"),
        "truth/sum_cp": (total["truth"][4], "1"),
        "truth/time_edges": (B.time_edges(B.T_TRUTH_US, B.N_T_TRUTH), "us (true clock)"),
        "truth/energy_edges": (B.ENERGY_EDGES_GEV, "GeV (true energy)"),
        "lost_muons_true": (total["truth_lost"], "counts"),
        "lost_muons_true_time_edges": (B.time_edges(B.T_BIN_US, B.N_T), "us (true clock)"),
    }
    for name, value in counters.items():
        data[f"counters/{name}"] = (np.float64(value), "1")
    return data, summary


