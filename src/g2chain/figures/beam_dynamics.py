"""The beam-dynamics summary figure: C_e, C_p, C_ml, C_dd, C_pa and their inputs (Sec. V)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..beam_dynamics.corrections import BeamDynamicsResult
from ..beam_dynamics.spectrometric import moment_model, state_bins


def beam_dynamics_summary(result: BeamDynamicsResult, title: str, out_path):
    """C_e and C_p of one dataset on one page: the fast-rotation ratio (early and late), the x_e
    distributions of the two C_e methods (Fig. 13), the fitted momentum-injection-time joint
    distribution (Fig. 14), C_e per method (Fig. 15), the vertical amplitude distribution; the
    trackers' mean radius with its fitted drift (C_ml), phi_pa(t) (Fig. 21) and the three phase-drift
    corrections with their parts."""
    ce, cp = result.C_e.record, result.C_p.record
    fit, four = result.C_e.chi2_fit, result.C_e.fourier
    t, ratio = result.C_e.ratio
    tracker = result.C_e.tracker
    fig, ax = plt.subplots(4 if tracker else 3, 3, figsize=(16, 17.3 if tracker else 13))
    fig.suptitle(f"{title}: C_e = {ce['C_e_ppb']:.0f} +- {ce['stat_ppb']:.0f} (stat) +- {ce['syst_ppb']:.0f} (syst) ppb"
                 f" (blinded clock),  C_p = {cp['C_p_ppb']:.1f} +- {cp['stat_ppb']:.1f} +- {cp['syst_ppb']:.1f} ppb")
    for a, (lo, hi) in zip(ax[0, :2], ((0.0, 6.0), (40.0, 46.0)), strict=True):
        s = (t > lo) & (t < hi)
        a.plot(t[s], ratio[s], lw=0.4)
        a.set(xlabel="time [us]", ylabel="counts / revolution average",
              title=f"fast-rotation signal, {lo:.0f}-{hi:.0f} us")
    a = ax[0, 2]
    x = fit["x_mm"]
    width = x[1] - x[0]
    a.step(x, fit["rho"].sum(1) / width, where="mid",
           label=f"chi^2 method ({ce['methods']['chi2']['C_e_ppb']:.0f} ppb)")
    step = np.abs(np.diff(four["x_mm"])).mean()
    a.plot(four["x_mm"], four["rho"] / step, lw=0.8,
           label=f"Fourier, raw ({ce['methods']['fourier']['raw_ppb']:.0f} ppb)")
    a.set(xlabel="equilibrium radius x_e [mm]", ylabel="density [1/mm]", xlim=(-45, 45),
          title="radial (momentum) distribution (Fig. 13)")
    a.legend(fontsize=8)
    a = ax[1, 0]
    tau = fit["tau_us"] * 1e3
    rho = fit["rho"]
    a.pcolormesh(fit["tau_edges_us"] * 1e3, fit["x_edges_mm"], rho, shading="flat", cmap="viridis")
    cond = (rho * x[:, None]).sum(0) / np.maximum(rho.sum(0), 1e-300)
    a.plot(tau, cond, color="w", lw=1, label=f"<x_e | tau>, kappa = {fit['kappa']:.2e} /(mm ns)")
    a.set(xlabel="injection time tau [ns]", ylabel="x_e [mm]", ylim=(-30, 40),
          title="joint distribution, chi^2 method (Fig. 14)")
    a.legend(fontsize=8, loc="lower right")
    a = ax[1, 1]
    m = ce["methods"]
    # the chi^2 and Fourier methods (stat errors), their fast-rotation combination and the trackers
    # (with the total uncertainties the final average weighs them by, Table VII), and that average
    rows = [("chi^2", m["chi2"]["C_e_ppb"], m["chi2"]["stat_ppb"]),
            ("Fourier (corrected)", m["fourier"]["C_e_ppb"], m["fourier"]["stat_ppb"])]
    if "method_sigma_ppb" in ce:
        sig = ce["method_sigma_ppb"]
        rows.append(("fast rotation", ce["fast_rotation"]["C_e_ppb"], sig["fast rotation"]))
        rows.append(("trackers (Eq. 18)", m["tracker"]["C_e_ppb"], sig["tracker"]))
    rows.append(("combined", ce["C_e_ppb"], float(np.hypot(ce["stat_ppb"], ce["syst_ppb"]))))
    a.errorbar(range(len(rows)), [r[1] for r in rows], yerr=[r[2] for r in rows], fmt="o", capsize=4)
    a.plot([1], [m["fourier"]["raw_ppb"]], "x", color="0.5", label="Fourier before the correlation correction")
    a.set_xticks(range(len(rows)), [r[0] for r in rows], fontsize=8)
    a.set(ylabel="C_e [ppb] (blinded clock)", title="C_e per method (Fig. 15)")
    a.legend(fontsize=8)
    a = ax[1, 2]
    amp, w = result.C_p.amplitudes_mm, result.C_p.amplitude_weights
    a.step(amp, w / w.sum(), where="mid")
    a.set(xlabel="vertical betatron amplitude [mm]", ylabel="fraction",
          title=f"amplitude distribution (method 2): C_p {cp['method2_ppb']:.1f}, method 1 {cp['method1_ppb']:.1f} ppb")
    _phase_drift_panels(ax[2], result)
    if tracker:
        _spectrometric_panels(ax[3], tracker, fit)
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)


def _spectrometric_panels(ax, tracker: dict, chi2_fit: dict):
    """The trackers' C_e method: the radial mean and width against time with the Eq. 17 phase
    model, and the x_e distribution the paper's two-state reading of Eq. 18 gives."""
    ser, fit = tracker["series"], tracker["fit"]
    t = ser["t_us"]
    w = tracker["_model_args"]
    for a, k, lab in ((ax[0], 0, "mean radius <x> [mm]"), (ax[1], 1, "radial variance [mm^2]")):
        for s, col in ((0, "C0"), (1, "C1")):
            y = (ser["mean"], ser["var"])[k][s]
            e = (ser["err"]["mean"], ser["err"]["var"])[k][s]
            a.errorbar(t, y, yerr=e, fmt=".", ms=3, color=col, label=f"station {s + 1}")
            model = moment_model(fit["theta"], t, np.full(t.size, s), *w)[k]
            a.plot(t, model, "-", lw=0.8, color=col)
        a.set(xlabel="time [us]", ylabel=lab, xlim=(t[0], t[0] + 12.0),
              title="trackers: Eq. 17 at every betatron phase (lines: fit)")
        a.legend(fontsize=8)
    a = ax[2]
    p = fit["params"]
    x_i = p["mean_xe"] + p["A"]
    for s in range(ser["n"].shape[0]):
        near_f = state_bins(ser, fit, s)[1]
        h = ser["hx"][s][near_f].sum(0)
        xe = 0.5 * (x_i + ser["x_mm"])  # Eq. 18: x_e = (x_i + x_f) / 2
        a.step(xe, h / h.sum() / (xe[1] - xe[0]), where="mid", label=f"station {s + 1}: (x_i + x_f)/2")
    x = chi2_fit["x_mm"]
    a.step(x, chi2_fit["rho"].sum(1) / (x[1] - x[0]), where="mid", color="k", lw=0.8, label="fast rotation, chi^2")
    a.set(xlabel="equilibrium radius x_e [mm]", ylabel="density [1/mm]", xlim=(-30, 40),
          title=f"x_e from the trackers: rms {tracker['rms_xe_mm']:.2f} mm, C_e {tracker['C_e'] * 1e9:.0f} ppb")
    a.legend(fontsize=8)


def _coarse(t, y, w, k: int = 20):
    n = t.size // k * k
    ws = w[:n].reshape(-1, k)
    return (t[:n].reshape(-1, k) * ws).sum(1) / ws.sum(1), (y[:n].reshape(-1, k) * ws).sum(1) / ws.sum(1)


def _phase_drift_panels(ax, result: BeamDynamicsResult):
    ml, pa, dd = result.C_ml.record, result.C_pa.record, result.C_dd.record
    d = result.C_ml.drift
    a = ax[0]
    early = d["t_us"] < 400.0  # where the points are not noise
    tc, xc = _coarse(d["t_us"][early], d["mean_x_mm"][early], d["counts"][early])
    a.plot(tc, xc, ".", ms=3, label="trackers, one CBO period averaged (12 us bins)")
    f = d["fit"]
    te = d["t_us"][early]
    a.plot(te, f["offset"] + f["slope"] * (te - f["t_mean"]), "r-",
           label=f"drift {f['slope'] * 1e3:.2f} +- {f['slope_err'] * 1e3:.2f} um/us "
                 f"(differential decay {ml['drift_dd_mm_per_us'] * 1e3:.2f})")
    a.set(xlabel="time [us] (blinded clock)", ylabel="<x> [mm]", xlim=(30, 400),
          title=f"mean decay radius: C_ml = {ml['C_ml_ppb']:.0f} ppb")
    a.legend(fontsize=8)
    a = ax[1]
    t, phi = result.C_pa.t_us, result.C_pa.phi_pa
    early = t < 400.0
    t, phi = t[early], phi[early]
    fp = result.C_pa.phi_fit
    w = np.exp(-t / 64.4)
    tc, pc = _coarse(t, phi, w)
    a.plot(tc, pc * 1e3, ".", ms=3, label="Eq. 37 on M^T(x, y, t)")
    a.plot(t, (fp["offset"] + fp["slope"] * (t - fp["t_mean"])) * 1e3, "r-", label="constant-phase fit sees this slope")
    a.set(xlabel="time [us] (blinded clock)", ylabel="phi_pa [mrad]", xlim=(30, 400),
          title=f"phase acceptance (Fig. 21): C_pa = {pa['C_pa_ppb']:.0f} ppb")
    a.legend(fontsize=8)
    a = ax[2]
    names = ["C_dd beamline", "C_dd p-t0", "C_dd p-x (ext)", "C_dd", "C_ml", "C_pa"]
    vals = [dd["parts_ppb"]["beamline"], dd["parts_ppb"]["p_t0"], dd["parts_ppb"]["p_x"], dd["C_dd_ppb"],
            ml["C_ml_ppb"], pa["C_pa_ppb"]]

    def total(r):
        return float(np.sqrt(r["stat_ppb"] ** 2 + r["syst_ppb"] ** 2
                             + sum(v**2 for v in r.get("external_ppb", {}).values())))

    errs = [0, 0, dd["external_ppb"]["p-x (Eq. 32)"], total(dd), total(ml), total(pa)]
    a.errorbar(vals, range(len(vals)), xerr=errs, fmt="o", capsize=4)
    a.axvline(0, color="0.7", lw=0.8)
    a.set_yticks(range(len(vals)), names)
    a.set(xlabel="correction [ppb]", title="phase-drift corrections (Tables X, XI, Eq. 24)")
