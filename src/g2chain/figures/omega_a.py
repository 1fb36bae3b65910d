"""ω_a figures: a fit and its residuals (Figs. 6-7), scans (Figs. 10-11), the relative unblinding
(Fig. 8), correlations (Table XXVII), the dataset average and the pairwise pulls (Fig. 9)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from ..omega_a.staged_fit import AnalysisFit
from ..physics.ring import beam_frequencies


def omega_a_fit(fits: AnalysisFit, record: dict, field_index: float, out_path):
    """One analysis on one page: the wiggle (or ratio) with its fit, pulls, and the residual
    spectra of the five-parameter and the full fit with the Table II frequencies marked."""
    t, y, model, sigma = fits.t, fits.y, fits.model, fits.sigma
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
    blinded = not record.get("blinding", "").startswith("none")  # g2chain fit-public adds no blind
    ax.set_xlabel("time [us] (blinded clock)" if blinded else "time [us]")
    ax.set_title(f"{record['dataset']} {record['analysis']}: R = {record['R_ppm']:.3f} +- {record['R_err_ppm']:.3f} ppm"
                 + (" (blinded)" if blinded else ""))
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
        freq, amp = getattr(fits, key)
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


def _start_time_panel(ax, st: dict, title: str):
    """R against the fit start time with the band the nested fits allow (Fig. 10)."""
    start, d_r, band = np.array(st["start"]), np.array(st["dR"], float), np.array(st["band"], float)
    ax.fill_between(start, -band, band, color="C0", alpha=0.2, label="allowed 1 sigma")
    ax.fill_between(start, -2 * band, 2 * band, color="C0", alpha=0.1, label="allowed 2 sigma")
    ax.plot(start, d_r, "o-", ms=3, color="C3", label="R(t_s) - R(t_0)")
    ax.axhline(0, color="0.5", lw=0.6)
    ax.set_xlabel("fit start time [us]")
    ax.set_ylabel("Delta R [ppm]")
    scan_p = st.get("scan_pvalue")
    ax.set_title(f"{title}: start-time scan"
                 + (f" (chi2 {st['scan_chi2']:.1f}/{st['scan_ndf']}, p {scan_p:.2g})" if scan_p is not None else ""))
    ax.legend(fontsize=7)


def start_time_scan_figure(st: dict, title: str, out_path):
    """The start-time scan alone (``g2chain fit-public``: a calorimeter sum has no per-calorimeter
    or per-energy view to scan)."""
    fig, ax = plt.subplots(figsize=(6.5, 4.6))
    _start_time_panel(ax, st, title)
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)


def omega_a_scans(record: dict, out_path):
    """Fig. 10/11 analogues: R vs fit start time with the allowed band, R per calorimeter with the
    constant and line fits, R per energy bin."""
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6))
    _start_time_panel(axes[0], record["start_time"], f"{record['dataset']} {record['analysis']}")
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
