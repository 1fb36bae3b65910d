"""Plots a physicist looks at: one function per figure, files in, PNG out."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .constants import E_MAX_GEV  # noqa: E402
from .io import read_h5  # noqa: E402


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


def omega_a_fit(fits: dict, record: dict, field_index: float, out_path):
    """One analysis on one page: the wiggle (or ratio) with its fit, pulls, and the residual
    spectra of the five-parameter and the full fit with the Table II frequencies marked."""
    from .experiment.beam import beam_frequencies

    t, y, model, sigma = fits["t"], fits["y"], fits["model"], fits["sigma"]
    fig, axes = plt.subplots(2, 2, figsize=(13, 8))
    ax = axes[0, 0]
    ratio = record["method"].startswith("R")
    if ratio:
        ax.plot(t, y, ".", ms=1.5, color="0.4", label="data")
        ax.plot(t, model, "-", lw=0.6, color="C3", label="fit")
        ax.set_xlim(t[0], t[0] + 60)
        ax.set_ylabel("R(t)")
    else:
        ax.semilogy(t, np.where(y > 0, y, np.nan), ".", ms=1.5, color="0.4", label="data")
        ax.semilogy(t, model, "-", lw=0.6, color="C3", label="fit")
        ax.set_ylim(bottom=0.5 * max(np.min(model), 1e-3))
        ax.set_ylabel("counts / bin" if record["method"] != "Q" else "energy / bin [GeV]")
    ax.set_xlabel("time [us] (blinded clock)")
    ax.set_title(f"{record['dataset']} {record['analysis']}: R = {record['R_ppm']:.3f} +- {record['R_err_ppm']:.3f} ppm"
                 " (blinded)")
    ax.legend(loc="upper right")
    threshold = record.get("corrections", {}).get("threshold")
    if threshold:
        ax.text(0.02, 0.03, f"E > {threshold['chosen_gev']:.1f} GeV: best expected sigma_R of the threshold scan",
                transform=ax.transAxes, fontsize=8)
    ax = axes[0, 1]
    pull = (y - model) / sigma
    ax.plot(t, pull, ".", ms=1, color="0.3")
    ax.axhline(0, color="C3", lw=0.8)
    ax.set_xlabel("time [us]")
    ax.set_ylabel("(data - fit) / sigma")
    ax.set_title(f"chi2/ndf = {record['chi2']:.0f}/{record['ndf']}, p = {record['p_value']:.3g}")
    nominal = beam_frequencies(field_index)
    lines = {"f_CBO": nominal["omega_cbo"], "f_VW": nominal["omega_vw"], "f_y": nominal["omega_y"],
             "f_a": 1.4394}
    for ax, key, title in ((axes[1, 0], "spectrum5", "five-parameter fit"), (axes[1, 1], "spectrum_full", "full fit")):
        freq, amp = fits[key]
        ax.plot(freq, amp, lw=0.6)
        ax.set_xlim(0, 3.35)
        ax.set_xlabel("frequency [MHz]")
        ax.set_ylabel("|FFT of pulls|")
        ax.set_title(f"residual spectrum, {title}")
        top = amp[(freq > 0.05)].max() if amp.size else 1
        for label, w in lines.items():
            f = w / (2 * np.pi)
            ax.axvline(f, color="C1", lw=0.5, ls="--")
            ax.text(f, top, label, rotation=90, va="top", ha="right", fontsize=7, color="C1")
        f_cbo, f_a = nominal["omega_cbo"] / (2 * np.pi), 1.4394 / (2 * np.pi)
        for f in (f_a - f_cbo, f_a + f_cbo, 2 * f_cbo):
            ax.axvline(f, color="C2", lw=0.5, ls=":")
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)


def omega_a_comparison(records: list, out_path, title: str = ""):
    """Fig. 8 analogue: the 19 relatively unblinded R values with their statistical errors."""
    fig, ax = plt.subplots(figsize=(8, 7))
    names = [r["analysis"] for r in records]
    vals = np.array([r["R_relative_ppm"] for r in records])
    errs = np.array([r["R_err_ppm"] for r in records])
    ypos = np.arange(len(records))[::-1]
    ax.errorbar(vals, ypos, xerr=errs, fmt="o", ms=4, capsize=2)
    ax.set_yticks(ypos, names)
    ref = np.mean(vals)
    ax.axvline(ref, color="0.6", lw=0.8, ls="--", label=f"mean {ref:.3f} ppm")
    ax.set_xlabel("R - Delta R [ppm] (software blinds removed; hardware blind kept)")
    ax.set_title(title or "relative unblinding")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)


def omega_a_scans(record: dict, out_path):
    """Fig. 10/11 analogues: R vs fit start time with the allowed band, R per calorimeter with the
    constant and line fits, R per energy bin."""
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6))
    st = record["start_time"]
    ax = axes[0]
    start, d_r, band = np.array(st["start"]), np.array(st["dR"], float), np.array(st["band"], float)
    ax.fill_between(start, -band, band, color="C0", alpha=0.2, label="allowed 1 sigma")
    ax.fill_between(start, -2 * band, 2 * band, color="C0", alpha=0.1, label="allowed 2 sigma")
    ax.plot(start, d_r, "o-", ms=3, color="C3", label="R(t_s) - R(t_0)")
    ax.axhline(0, color="0.5", lw=0.6)
    ax.set_xlabel("fit start time [us]")
    ax.set_ylabel("Delta R [ppm]")
    scan_p = st.get("scan_pvalue")
    ax.set_title(f"{record['dataset']} {record['analysis']}: start-time scan"
                 + (f" (chi2 {st['scan_chi2']:.1f}/{st['scan_ndf']}, p {scan_p:.2g})" if scan_p is not None else ""))
    ax.legend(fontsize=7)
    pc = record["per_calorimeter"]
    ax = axes[1]
    calo, r, err = np.array(pc["calo"]), np.array(pc["R"], float), np.array(pc["R_err"], float)
    ax.errorbar(calo, r, yerr=err, fmt="o", ms=3, capsize=2)
    ax.axhline(pc["mean"], color="C3", lw=0.8, label=f"constant: chi2/ndf {pc['chi2']:.1f}/{pc['ndf']}, "
               f"p {pc['pvalue']:.2g}")
    ax.plot(calo, pc["intercept"] + pc["slope"] * calo, "--", color="C2", lw=0.8,
            label=f"slope {pc['slope']:.3g} +- {pc['slope_err']:.2g} ppm/calo")
    ax.set_xlabel("calorimeter")
    ax.set_ylabel("R [ppm] (blinded)")
    ax.set_title("per-calorimeter scan")
    ax.legend(fontsize=7)
    es = record["energy"]
    ax = axes[2]
    e, r, err = np.array(es["energy"]), np.array(es["R"], float), np.array(es["R_err"], float)
    ok = np.isfinite(r) & np.isfinite(err)
    weak = np.zeros(e.size, bool)
    weak[es.get("weak_asymmetry", [])] = True
    ax.errorbar(e[ok & ~weak], r[ok & ~weak], yerr=err[ok & ~weak], fmt="o", ms=3, capsize=2)
    if np.any(ok & weak):
        ax.errorbar(e[ok & weak], r[ok & weak], yerr=err[ok & weak], fmt="o", ms=3, capsize=2, color="0.7",
                    label="|A| < 10 sigma: not in the constant")
    # near the asymmetry's zero crossing R has errors of hundreds of ppm: scale to the informative bins
    sharp = ok & ~weak & (err < 3 * np.median(err[ok])) if np.any(ok) else ok
    if np.any(sharp):
        span = float(np.max(np.abs(r[sharp] - es["mean"]) + 1.5 * err[sharp]))
        ax.set_ylim(es["mean"] - 1.2 * span, es["mean"] + 1.2 * span)
    ax.axhline(es["mean"], color="C3", lw=0.8, label=f"constant: chi2/ndf {es['chi2']:.1f}/{es['ndf']}, "
               f"p {es['pvalue']:.2g}")
    ax.set_xlabel("energy [GeV]")
    ax.set_ylabel("R [ppm] (blinded)")
    ax.set_title("energy-binned scan")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)


def omega_a_correlations(rho, names, paper_rho, paper_labels, out_path, subtitle: str = ""):
    """Table XXVII analogue: the trials' correlation matrix beside the paper's, same colour scale."""
    fig, axes = plt.subplots(1, 2, figsize=(15, 6.4), layout="constrained")
    lo = float(min(np.min(rho), np.min(paper_rho)))
    for ax, m, labels, title in ((axes[0], rho, names, f"g2chain trials ({subtitle})"),
                                 (axes[1], paper_rho, paper_labels, "Run-2/3 report, Table XXVII")):
        im = ax.imshow(m, vmin=lo, vmax=1.0, cmap="viridis")
        ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        ax.set_title(title, fontsize=10)
    fig.colorbar(im, ax=axes, shrink=0.9, label="correlation coefficient")
    fig.suptitle("omega_a analysis-to-analysis statistical correlations (methods in blocks T, A, RT, RA, Q, RQ)")
    fig.savefig(out_path, dpi=110)
    plt.close(fig)


def omega_a_average(record: dict, out_path):
    """Dataset average: the analyses with stat and total errors, both averages, and the pulls of
    all pairs (Fig. 9 analogue) with a unit normal for comparison."""
    fig, (ax, axp) = plt.subplots(1, 2, figsize=(13, 6.5), gridspec_kw={"width_ratios": [1.2, 1]})
    names = list(record["analyses"])
    a = record["analyses"]
    y = np.array([a[n]["R_relative_ppm"] for n in names])
    stat = np.array([a[n]["stat_ppm"] for n in names])
    syst = np.array([np.sqrt(sum(v**2 for v in a[n]["syst_ppm"].values())) for n in names])
    pos = np.arange(len(names))[::-1]
    chosen = set(record["analyses_averaged"])
    colors = ["C3" if n in chosen else "C0" for n in names]
    ax.errorbar(y, pos, xerr=np.hypot(stat, syst), fmt="none", ecolor="0.6", capsize=3)
    ax.scatter(y, pos, c=colors, s=18, zorder=3)
    eq, blue = record["equal_weight"], record["blue"]
    ax.axvspan(eq["R_ppm"] - eq["total_ppm"], eq["R_ppm"] + eq["total_ppm"], color="C3", alpha=0.15,
               label=f"equal weight {eq['R_ppm']:.3f} +- {eq['total_ppm']:.3f} ppm")
    ax.axvline(blue["R_ppm"], color="C2", ls="--", label=f"BLUE {blue['R_ppm']:.3f} +- {blue['total_ppm']:.3f} ppm")
    ax.set_yticks(pos, names, fontsize=8)
    ax.set_xlabel("R - Delta R [ppm] (hardware blind kept); red: averaged")
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title(f"{record['dataset']}: omega_a analyses and their average")
    _pull_histogram(axp, {record["dataset"]: np.array(list(record["pulls"]["pairs"].values()))})
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)


def _pull_histogram(ax, pulls_by_dataset: dict):
    """Stacked histogram of pair pulls (one colour per dataset) with the unit normal."""
    edges = np.linspace(-4, 4, 33)
    allp = np.concatenate(list(pulls_by_dataset.values()))
    ax.hist([np.clip(p, -3.99, 3.99) for p in pulls_by_dataset.values()], bins=edges, stacked=True,
            histtype="stepfilled", alpha=0.6, label=[f"{d} pairs" for d in pulls_by_dataset])
    xs = np.linspace(-4, 4, 200)
    ax.plot(xs, allp.size * (edges[1] - edges[0]) * np.exp(-xs**2 / 2) / np.sqrt(2 * np.pi), "k-", lw=1,
            label="unit normal")
    ax.set_xlabel("(y_i - y_j) / sigma_ij")
    ax.set_title(f"{allp.size} pairs: mean {allp.mean():+.2f}, std {allp.std(ddof=1):.2f}")
    ax.legend(fontsize=8)


def omega_a_pulls(pulls_by_dataset: dict, out_path, reference: dict | None = None):
    """Fig. 9 analogue: the pulls of all analysis pairs of all datasets, and the spread a perfect
    experiment with the same covariances would give."""
    fig, ax = plt.subplots(figsize=(7.5, 5))
    _pull_histogram(ax, pulls_by_dataset)
    ax.set_title("omega_a analysis pairs, all datasets\n" + ax.get_title(), fontsize=10)
    if reference:
        lo, hi = reference["interval_68"]
        ax.text(0.02, 0.97, f"std if perfect: {reference['median']:.2f} (68 %: {lo:.2f}-{hi:.2f})",
                transform=ax.transAxes, va="top", fontsize=8)
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)


def _bridge_ppb(result: dict) -> float:
    """The Brownian-bridge entry of the tracking row of a field result (ppb)."""
    row = next(r for r in result["uncertainty_ppb"]["rows"] if r["row"] == "tracking")
    return next(e["ppb"] for e in row["entries"] if e["source"].startswith("Brownian bridge"))


def field_summary(result: dict, out_path, title: str = ""):
    """The field branch of one dataset on one page: the dipole map, the tracked moments (Fig. 24),
    the tracking offsets, the beam projections, and the two transient traces with their fits."""
    from .field.transients import exponential_transient, quadratic_transient

    fig, ax = plt.subplots(3, 2, figsize=(13, 12))
    omega = result["omega_p_tilde_hz"]
    fig.suptitle(f"{title}: omega~'_p = {omega:.3f} Hz "
                 f"+- {result['uncertainty_ppb']['omega_p_evaluated']:.1f} ppb (evaluated) "
                 f"+- {result['uncertainty_ppb']['omega_p_total']:.1f} ppb (total, without B_K, B_Q)")
    a = ax[0, 0]
    deg = np.degrees(result["_phi"])
    m1 = result["_map"][:, 0]
    a.plot(deg, (m1 / m1.mean() - 1) * 1e6, lw=0.5)
    for yoke in range(0, 361, 30):
        a.axvline(yoke, color="0.85", lw=0.5, zorder=0)
    a.set(xlabel="azimuth [deg]", ylabel="m_1 / <m_1> - 1 [ppm]",
          title="dipole map, averaged over the trolley runs (yoke joints in grey)")

    a = ax[0, 1]
    days = result["_times_s"] / 86400.0
    tracked = result["_tracked"]
    for i, name in enumerate(["m_1 (dipole)", "m_2 (normal quad)", "m_3 (skew quad)"]):
        scale = 1.0 if i == 0 else 10.0
        a.plot(days, (tracked[:, i] - tracked[:, i].mean()) * scale / omega * 1e9, lw=0.6,
               label=name + ("" if i == 0 else " x10"))
    for r in result["_runs_s"] / 86400.0:
        a.axvline(r, color="0.8", lw=0.6, zorder=0)
    a.set(xlabel="time [days] (trolley runs in grey)", ylabel="change [ppb of omega_p]",
          title="tracked ring-averaged moments (Fig. 24)")
    a.legend(fontsize=8)

    a = ax[1, 0]
    runs = result["_runs_s"] / 86400.0
    off = result["_offsets_m1_hz"] / omega * 1e9
    a.plot(runs[1:], off, "o-")
    rate, rate_err = result["brownian_rate_hz_per_sqrt_s"]
    band = rate * np.sqrt(np.diff(result["_runs_s"])) / omega * 1e9
    a.fill_between(runs[1:], -band, band, color="C0", alpha=0.15, label=f"+-M sqrt(T), M = {rate:.4f}({rate_err:.4f}) "
                   "Hz/sqrt(s)")
    a.axhline(0, color="k", lw=0.5)
    a.set(xlabel="trolley run [days]", ylabel="measured - tracked m_1 [ppb]",
          title=f"tracking offsets -> Brownian bridge: {_bridge_ppb(result):.1f} ppb")
    a.legend(fontsize=8)

    a = ax[1, 1]
    k = np.asarray(result["projections"])
    idx = np.arange(1, k.size + 1)
    a.bar(idx[1:], k[1:])
    kp = result["_k_phi"]
    spread = np.clip([k[1:] - kp[:, 1:].min(axis=0), kp[:, 1:].max(axis=0) - k[1:]], 0.0, None)
    a.errorbar(idx[1:], k[1:], yerr=spread, fmt="none",
               color="k", capsize=3, label="range around the ring (COD)")
    a.set(xlabel="multipole i", ylabel="k_i", title="beam projections (Eq. 42; k_1 = 1), from the trackers")
    a.set_xticks(idx[1:])
    a.legend(fontsize=8)

    for a, key, model, label in ((ax[2, 0], "kicker", exponential_transient, "B_K"),
                                 (ax[2, 1], "esq", quadratic_transient, "B_Q")):
        t = result["_t_us"]
        fit = result[f"_{key}_fit"]
        a.plot(t, result[f"_{key}"] * 1e9, ".", ms=1.5, color="0.6", label="magnetometer trace")
        a.plot(t, model(t, *fit["parameters"]) * 1e9, color="C3", label="fit")
        a.axvspan(30.1, 660.0, color="C0", alpha=0.06, label="omega_a fit window")
        a.set(xlabel="time in fill [us]", ylabel="local field change [ppb]",
              title=f"{key.upper() if key == 'esq' else key} transient: {label} = {fit['B'] * 1e9:.1f} "
                    f"+- {fit['B_err'] * 1e9:.1f} ppb")
        a.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)


def beam_dynamics_summary(result: dict, title: str, out_path):
    """C_e and C_p of one dataset on one page: the fast-rotation ratio (early and late), the x_e
    distributions of the two C_e methods (Fig. 13), the fitted momentum-injection-time joint
    distribution (Fig. 14), C_e per method (Fig. 15), the vertical amplitude distribution; the
    trackers' mean radius with its fitted drift (C_ml), phi_pa(t) (Fig. 21) and the three phase-drift
    corrections with their parts."""
    ce, cp = result["C_e"], result["C_p"]
    fit, four = ce["_fit"], ce["_fourier"]
    t, ratio = ce["_ratio"]
    tracker = ce.get("_tracker")
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
    amp, w = cp["_amplitudes_mm"], cp["_amplitude_weights"]
    a.step(amp, w / w.sum(), where="mid")
    a.set(xlabel="vertical betatron amplitude [mm]", ylabel="fraction",
          title=f"amplitude distribution (method 2): C_p {cp['method2_ppb']:.1f}, method 1 {cp['method1_ppb']:.1f} ppb")
    if "C_ml" in result:
        _phase_drift_panels(ax[2], result)
    if tracker:
        _spectrometric_panels(ax[3], tracker, fit)
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)


def _spectrometric_panels(ax, tracker: dict, chi2_fit: dict):
    """The trackers' C_e method: the radial mean and width against time with the Eq. 17 phase
    model, and the x_e distribution the paper's two-state reading of Eq. 18 gives."""
    from .beam_dynamics.spectrometric import moment_model, state_bins

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


def _phase_drift_panels(ax, result: dict):
    ml, pa, dd = result["C_ml"], result["C_pa"], result["C_dd"]
    d = ml["_drift"]
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
    t, phi = pa["_t_us"], pa["_phi_pa"]
    early = t < 400.0
    t, phi = t[early], phi[early]
    fp = pa["_phi_fit"]
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


def closure_pulls(record: dict, out_path):
    """The closure at a glance: each stage's pull (value - truth) / sigma per dataset, with R'_mu
    and a_mu combined, against the +-1 and +-3 sigma bands."""
    sets = list(record["datasets"])
    stages = list(record["datasets"][sets[0]])
    fig, ax = plt.subplots(figsize=(9, 0.42 * (len(stages) + 3) + 1.5))
    ax.axvspan(-1, 1, color="0.9")
    for x in (-3, 3):
        ax.axvline(x, color="0.6", ls="--", lw=0.8)
    ax.axvline(0, color="0.4", lw=0.8)
    for k, ds in enumerate(sets):
        y = np.arange(len(stages)) + 0.2 * (k - 1)
        ax.plot([record["datasets"][ds][s]["pull"] for s in stages], y, "o", ms=5, label=ds)
    comb = record["combined"]
    names = ["R_mu", "a_mu", "a_mu_evaluated"]
    labels = ["R'_mu combined", "a_mu (sigma total)", "a_mu (sigma evaluated)"]
    yc = len(stages) + np.arange(len(names))
    ax.plot([comb[n]["pull"] for n in names], yc, "D", color="k", label="combined")
    ax.set_yticks(list(range(len(stages))) + list(yc), stages + labels)
    ax.invert_yaxis()
    ax.set_xlim(-4, 4)
    a = comb["a_mu"]
    ax.set(xlabel="pull (value - truth) / sigma",
           title=f"closure against the sealed truth: a_mu pull {a['pull']:+.2f} "
                 f"({(a['value'] / a['truth'] - 1) * 1e9:+.0f} ppb)")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)
