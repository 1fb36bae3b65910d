"""The experiment's summary figure: what the detectors recorded."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..constants import E_MAX_GEV
from ..io import read_h5


def experiment_summary(calorimeters_path, trackers_path, out_path, title: str = ""):
    """One page of recorded data: wiggle, energy spectrum, fast rotation, beam profile."""
    cal, _ = read_h5(calorimeters_path, kind="calorimeters")
    trk, _ = read_h5(trackers_path, kind="trackers")
    e_edges = cal["binning/energy_edges"]
    t_edges = cal["binning/time_edges"]
    t = 0.5 * (t_edges[1:] + t_edges[:-1])
    hist = cal["local/calo"].sum(axis=0)  # [E, t]
    fig, ax = plt.subplots(2, 2, figsize=(13, 9))
    fig.suptitle(f"{title}: recorded data (blinded clock)")

    a = ax[0, 0]
    wiggle = hist[e_edges[:-1] >= 1.7].sum(axis=0)
    a.semilogy(t, np.where(wiggle > 0, wiggle, np.nan), lw=0.5)
    a.axvspan(30.1, 660.0, color="0.9", zorder=0, label="fit window 30.1-660 us")
    a.set(xlabel="time [us]", ylabel="positrons / 149.2 ns", title="wiggle, E > 1.7 GeV (local recon)")
    a.legend(loc="upper right")

    a = ax[0, 1]
    widths = np.diff(e_edges)
    t_sel = t > 30.1
    spec = hist[:, t_sel].sum(axis=1) / widths
    pu = cal["pileup/shadow_positron/doubles"][:, t_sel].sum(axis=1)
    pu_net = (pu - cal["pileup/shadow_positron/singles"][:, t_sel].sum(axis=1)) / widths
    centers = 0.5 * (e_edges[1:] + e_edges[:-1])
    a.step(centers, np.where(spec > 0, spec, np.nan), where="mid", label="local reconstruction")
    a.step(centers, np.where(pu > 0, pu / widths, np.nan), where="mid", label="shadow-window doubles")
    a.step(centers, np.where(pu_net > 0, pu_net, np.nan), where="mid", ls=":", label="doubles - singles (> 0)")
    a.axvline(E_MAX_GEV, color="k", ls="--", lw=0.8, label=f"endpoint {E_MAX_GEV:.2f} GeV")
    a.set_yscale("log")
    a.set(xlabel="energy [GeV]", ylabel="positrons / GeV", title="energy spectrum, t > 30 us")
    a.legend(fontsize=8)

    a = ax[1, 0]
    fr = cal["fast_rotation/signal"]
    fr_t = cal["binning/fast_rotation_time_edges"][:-1]
    sel = fr_t < 6.0
    a.plot(fr_t[sel], fr[sel], lw=0.6)
    a.set(xlabel="time [us] (calorimeter-aligned)", ylabel="positrons / ns",
          title="fast rotation, E > 1 GeV: the bunch debunches")

    a = ax[1, 1]
    tt = trk["time_edges"]
    sel = tt[:-1] > 30.0
    prof = trk["vertices"][0][sel].sum(axis=0)
    x_e, y_e = trk["x_edges"], trk["y_edges"]
    im = a.pcolormesh(x_e, y_e, prof.T, shading="flat")
    a.add_patch(plt.Circle((0, 0), 45.0, fill=False, color="w", ls="--"))
    a.set_aspect("equal")
    fig.colorbar(im, ax=a, label="decay vertices")
    a.set(xlabel="radial x [mm]", ylabel="vertical y [mm]", title="beam profile, tracker station 180 deg, t > 30 us")
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)
