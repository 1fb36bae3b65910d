"""The toy's Table XXIV beside the paper's: corrections with their uncertainties, and every row's
uncertainty on a log scale."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


def budget_beside_paper(rows, out_path, title: str = ""):
    """Left: each correction of Table XXIV, toy and paper, with its uncertainty. Right: every row's
    uncertainty, toy (split into evaluated and external in quadrature) and paper."""
    budget = [r for r in rows if r.table == "XXIV"]
    corr = [r for r in budget if r.paper_value is not None and r.toy_value is not None and r.quantity != "totals"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 0.38 * len(budget) + 2.2),
                                   gridspec_kw={"width_ratios": [1, 1.2]})
    y = np.arange(len(corr))
    ax1.errorbar([r.toy_value for r in corr], y - 0.12, xerr=[r.toy_unc for r in corr], fmt="o", label="toy")
    ax1.errorbar([r.paper_value for r in corr], y + 0.12, xerr=[r.paper_unc for r in corr], fmt="s", color="k",
                 label="Run-2/3 report")
    ax1.axvline(0, color="0.6", lw=0.8)
    ax1.set_yticks(y, [r.quantity for r in corr])
    ax1.invert_yaxis()
    ax1.set(xlabel="correction (ppb)", title="corrections (Table XXIV)")
    ax1.legend(fontsize=8)
    y2 = np.arange(len(budget))
    toy = np.array([np.nan if r.toy_unc is None else r.toy_unc for r in budget])
    share = np.array([np.nan if r.evaluated_share is None else r.evaluated_share for r in budget])
    paper = np.array([np.nan if r.paper_unc is None else r.paper_unc for r in budget])
    ax2.barh(y2 - 0.2, toy, height=0.4, color="C0", alpha=0.35, label="toy: total")
    ax2.barh(y2 - 0.2, toy * np.sqrt(np.nan_to_num(share)), height=0.4, color="C0", label="toy: evaluated part")
    full = np.array([np.nan if r.toy_unc_full is None else r.toy_unc_full for r in budget])
    if np.isfinite(full).any():  # the toy's uncertainty with its statistical part at Table I's positrons
        ax2.plot(full, y2 - 0.2, "D", color="C3", ms=5, label="toy at the paper's N")
    ax2.barh(y2 + 0.2, paper, height=0.4, color="k", label="Run-2/3 report")
    ax2.set_xscale("log")
    ax2.set_yticks(y2, [r.quantity for r in budget])
    ax2.invert_yaxis()
    ax2.set(xlabel="uncertainty (ppb)", title="uncertainties")
    ax2.legend(fontsize=8, loc="center right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)
