"""The field analysis's summary figure: maps, tracking, muon weighting and transients (Sec. VI)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..field.run_field import FieldResult
from ..physics.transients import exponential_transient, quadratic_transient


def _bridge_ppb(rec: dict) -> float:
    """The Brownian-bridge entry of the tracking row of a field record (ppb)."""
    row = next(r for r in rec["uncertainty_ppb"]["rows"] if r["row"] == "tracking")
    return next(e["ppb"] for e in row["entries"] if e["source"].startswith("Brownian bridge"))


def field_summary(result: FieldResult, out_path, title: str = ""):
    """The field branch of one dataset on one page: the dipole map, the tracked moments (Fig. 24),
    the tracking offsets, the beam projections, and the two transient traces with their fits."""
    rec = result.record
    fig, ax = plt.subplots(3, 2, figsize=(13, 12))
    omega = rec["omega_p_tilde_hz"]
    fig.suptitle(f"{title}: omega~'_p = {omega:.3f} Hz "
                 f"+- {rec['uncertainty_ppb']['omega_p_evaluated']:.1f} ppb (evaluated) "
                 f"+- {rec['uncertainty_ppb']['omega_p_total']:.1f} ppb (total, without B_K, B_Q)")
    a = ax[0, 0]
    deg = np.degrees(result.phi)
    m1 = result.field_map_hz[:, 0]
    a.plot(deg, (m1 / m1.mean() - 1) * 1e6, lw=0.5)
    for yoke in range(0, 361, 30):
        a.axvline(yoke, color="0.85", lw=0.5, zorder=0)
    a.set(xlabel="azimuth [deg]", ylabel="m_1 / <m_1> - 1 [ppm]",
          title="dipole map, averaged over the trolley runs (yoke joints in grey)")

    a = ax[0, 1]
    days = result.tracked_times_s / 86400.0
    tracked = result.tracked_moments_hz
    for i, name in enumerate(["m_1 (dipole)", "m_2 (normal quad)", "m_3 (skew quad)"]):
        scale = 1.0 if i == 0 else 10.0
        a.plot(days, (tracked[:, i] - tracked[:, i].mean()) * scale / omega * 1e9, lw=0.6,
               label=name + ("" if i == 0 else " x10"))
    for r in result.trolley_times_s / 86400.0:
        a.axvline(r, color="0.8", lw=0.6, zorder=0)
    a.set(xlabel="time [days] (trolley runs in grey)", ylabel="change [ppb of omega_p]",
          title="tracked ring-averaged moments (Fig. 24)")
    a.legend(fontsize=8)

    a = ax[1, 0]
    runs = result.trolley_times_s / 86400.0
    off = result.tracking_offsets_m1_hz / omega * 1e9
    a.plot(runs[1:], off, "o-")
    rate, rate_err = rec["brownian_rate_hz_per_sqrt_s"]
    band = rate * np.sqrt(np.diff(result.trolley_times_s)) / omega * 1e9
    a.fill_between(runs[1:], -band, band, color="C0", alpha=0.15, label=f"+-M sqrt(T), M = {rate:.4f}({rate_err:.4f}) "
                   "Hz/sqrt(s)")
    a.axhline(0, color="k", lw=0.5)
    a.set(xlabel="trolley run [days]", ylabel="measured - tracked m_1 [ppb]",
          title=f"tracking offsets -> Brownian bridge: {_bridge_ppb(rec):.1f} ppb")
    a.legend(fontsize=8)

    a = ax[1, 1]
    k = np.asarray(rec["projections"])
    idx = np.arange(1, k.size + 1)
    a.bar(idx[1:], k[1:])
    kp = result.projections_of_phi
    spread = np.clip([k[1:] - kp[:, 1:].min(axis=0), kp[:, 1:].max(axis=0) - k[1:]], 0.0, None)
    a.errorbar(idx[1:], k[1:], yerr=spread, fmt="none",
               color="k", capsize=3, label="range around the ring (COD)")
    a.set(xlabel="multipole i", ylabel="k_i", title="beam projections (Eq. 42; k_1 = 1), from the trackers")
    a.set_xticks(idx[1:])
    a.legend(fontsize=8)

    for a, key, model, label in ((ax[2, 0], "kicker", exponential_transient, "B_K"),
                                 (ax[2, 1], "esq", quadratic_transient, "B_Q")):
        t = result.trace_t_us
        fit = result.trace_fits[key]
        a.plot(t, result.traces[key] * 1e9, ".", ms=1.5, color="0.6", label="magnetometer trace")
        a.plot(t, model(t, *fit["parameters"]) * 1e9, color="C3", label="fit")
        a.axvspan(30.1, 660.0, color="C0", alpha=0.06, label="omega_a fit window")
        a.set(xlabel="time in fill [us]", ylabel="local field change [ppb]",
              title=f"{key.upper() if key == 'esq' else key} transient: {label} = {fit['B'] * 1e9:.1f} "
                    f"+- {fit['B_err'] * 1e9:.1f} ppb")
        a.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)
