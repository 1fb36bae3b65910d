"""The closure figure: every stage and a_mu against the sealed truth, as pulls."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np


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
