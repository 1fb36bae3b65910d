"""What a chunk and a dataset record: file layouts and merging.

Chunk files hold every view plus the truth accumulators, so they live under ``sealed/``. Merging
splits them into the experiment files (what detectors record, blinded clock, no truth) and the
sealed production truth.
"""

from __future__ import annotations

import numpy as np

from ..io import read_h5, write_h5
from . import binning

COUNTER_NAMES = [
    "fills", "muons_injected", "muons_stored", "muons_scraped", "muons_lost_slow", "muons_decayed",
    "positrons_accepted", "hits_above_1gev", "variates_uniform", "variates_normal",
    "variates_exponential", "sum_ce_stored", "sum_cp_stored", "merged_local", "merged_global",
    "tracker_vertices", "positrons_counted",
]

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
        "binning/energy_edges": (binning.ENERGY_EDGES_GEV, "GeV"),
        "binning/time_edges": (binning.time_edges(binning.T_BIN_US, binning.N_T), "us"),
        "binning/fine_time_edges": (binning.time_edges(binning.T_FINE_US, binning.N_T_FINE), "us"),
        "binning/q_time_edges": (binning.time_edges(binning.TQ_BIN_US, binning.N_TQ), "us"),
        "binning/q_fine_time_edges": (binning.time_edges(binning.TQ_FINE_US, binning.N_TQ_FINE), "us"),
        "binning/fast_rotation_time_edges": (binning.time_edges(binning.T_FR_US, binning.N_FR), "us"),
        "energy/q_calo": (total["q_calo"], "GeV"),
        "energy/q_sum_fine": (total["q_fine"], "GeV"),
        "energy/q_sum2_fine": (total["q_fine2"], "GeV^2"),
        "fast_rotation/signal": (total.get("fast_rot"), "counts"),
        "fast_rotation/calo_alignment": (binning.CALO_ALIGN_US, "us"),
        "laser/infill": (total["laser_infill"], "1"),
        "laser/infill_times": (binning.LASER_INFILL_TIMES_US, "us"),
        "laser/shortterm": (total["laser_shortterm"], "1"),
        "laser/shortterm_dt": (binning.LASER_SHORTTERM_DT_NS, "ns"),
        "laser/longterm": (np.array(longterm), "1"),
        "fills": (total["counters"][COUNTER_NAMES.index("fills")], "1"),
    }
    if "fast_rot" not in total:  # (a study that only fits omega_a keeps neither this nor calo_hist)
        del out["fast_rotation/signal"]
    for r, recon in enumerate(RECONSTRUCTIONS):
        if "calo_hist" in total:
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
    edges = np.linspace(-binning.XY_TRACK_MAX_MM, binning.XY_TRACK_MAX_MM, binning.N_XY_TRACK + 1)
    return {
        "vertices": (total["tracker"], "counts"),
        "station_azimuth_deg": (np.array([180.0, 270.0]), "deg"),
        "time_edges": (binning.time_edges(binning.T_TRACK_US, binning.N_T_TRACK), "us"),
        "x_edges": (edges, "mm"),
        "y_edges": (edges, "mm"),
    }


def loss_datasets(total: dict) -> dict:
    """Lost-muon triple-coincidence spectrum L(t)."""
    return {
        "triple_coincidences": (total["lost"], "counts"),
        "time_edges": (binning.time_edges(binning.T_BIN_US, binning.N_T), "us"),
    }


# the production's truth accumulators, row by row, per [true energy, true time] bin: sums over the
# detected positrons of 1, A cos and A sin of the detected spin-phase offset from omega_ref t, the
# E-field and pitch terms, B / f_ref - 1 of the field on the muon's orbit, and the phases the
# kicker and ESQ transients added (experiment.production._accumulate_truth)
TRUTH_ROWS = {"n": "counts", "a_cos": "1", "a_sin": "1", "sum_ce": "1", "sum_cp": "1", "sum_field": "1",
              "sum_phase_kicker": "rad", "sum_phase_esq": "rad"}


def truth_datasets(total: dict) -> dict:
    """The sealed production truth (sealed/truth.h5): the truth accumulators per [energy, time]
    bin on the true clock, the true lost-muon spectrum and the production's counters."""
    counters = dict(zip(COUNTER_NAMES, total["counters"].tolist(), strict=True))
    data = {f"truth/{name}": (total["truth"][row], unit) for row, (name, unit) in enumerate(TRUTH_ROWS.items())}
    data.update({
        "truth/time_edges": (binning.time_edges(binning.T_TRUTH_US, binning.N_T_TRUTH), "us (true clock)"),
        "truth/energy_edges": (binning.ENERGY_EDGES_GEV, "GeV (true energy)"),
        "lost_muons_true": (total["truth_lost"], "counts"),
        "lost_muons_true_time_edges": (binning.time_edges(binning.T_BIN_US, binning.N_T), "us (true clock)"),
    })
    for name, value in counters.items():
        data[f"counters/{name}"] = (np.float64(value), "1")
    return data
