"""Systematic uncertainties of one omega_a analysis (Run-2/3 report Sec. IV H, Table V).

Each source is evaluated the way the paper's groups did: change one correction by its own
measured uncertainty (or make the other reasonable choice), rebuild and refit the analysis, and
take the shift of R. A source moved both ways contributes half the spread of the two shifts;
sources inside a category add linearly, categories in quadrature.

Evaluated so far: gain (in-fill and short-term amplitudes by +-1 sigma of their laser fits),
pileup (normalisation by +-1 sigma of its above-endpoint fit) and, under "other", the
randomization seed (spread over four other seeds). To come (issue 4): CBO envelope families and
drift time constant, pileup time shift and unseen pileup, residual slow term and the k_loss >= 0
shift, loss-spectrum shape, ratio weighting.
"""

from __future__ import annotations

import math

import numpy as np

from .analysis import NOMINAL, Variation, build_wiggle, fit_analysis
from .groups import AnalysisSpec

# category -> source -> two variations that bracket it (contribution: half their spread), or
# several alternatives of equal standing (contribution: the standard deviation of R over them
# and the nominal)
SOURCES = {
    "gain": {
        "in-fill amplitude": (Variation(infill_sigma=+1.0), Variation(infill_sigma=-1.0)),
        "short-term amplitude": (Variation(shortterm_sigma=+1.0), Variation(shortterm_sigma=-1.0)),
    },
    "pileup": {
        "normalisation": (Variation(pileup_sigma=+1.0), Variation(pileup_sigma=-1.0)),
    },
    "other": {
        "randomization seed": tuple(Variation(seed_offset=k) for k in range(1, 5)),
    },
}


def refit(calo: dict, loss: dict, spec: AnalysisSpec, field_index: float, variation: Variation = NOMINAL,
          reuse=None):
    """The full fit of ``spec`` rebuilt with ``variation``; with ``reuse`` (the nominal FitResult)
    the event-based fits keep its free parameters and start from it (ratio fits re-stage)."""
    wiggle = build_wiggle(calo, spec, variation=variation)
    kwargs = {} if spec.is_ratio or reuse is None else {"reuse": reuse}
    return fit_analysis(wiggle, spec, field_index, loss["time_edges"], loss["triple_coincidences"], **kwargs)["full"]


def systematic_table(calo: dict, loss: dict, spec: AnalysisSpec, field_index: float, nominal=None,
                     sources: dict | None = None) -> dict:
    """Per category: each source's shifts (ppb) and contribution, the category total (linear
    sum), and the quadrature total over categories. ``nominal``: the analysis' full FitResult
    (else it is refitted here); every variation is fitted with its parameter set."""
    sources = SOURCES if sources is None else sources
    nominal = refit(calo, loss, spec, field_index) if nominal is None else nominal
    # the baseline is the nominal refitted the way the variations are (same start, same
    # variances update), so that a variation that changes nothing shifts R by exactly zero
    r0 = float(refit(calo, loss, spec, field_index, NOMINAL, nominal).values["R"])
    table = {"analysis": spec.name, "dataset": spec.dataset, "R_nominal_ppm": r0, "categories": {}}
    total2 = 0.0
    for category, entries in sources.items():
        rows, category_total = {}, 0.0
        for source, variations in entries.items():
            shifts = [1e3 * (refit(calo, loss, spec, field_index, v, nominal).values["R"] - r0) for v in variations]
            if len(shifts) == 2:
                contribution = 0.5 * abs(shifts[0] - shifts[1])
                rows[source] = {"shift_up_ppb": shifts[0], "shift_down_ppb": shifts[1], "ppb": contribution}
            else:
                contribution = float(np.std([0.0, *shifts], ddof=1))
                rows[source] = {"shifts_ppb": shifts, "ppb": contribution}
            category_total += contribution
        table["categories"][category] = {"sources": rows, "ppb": category_total}
        total2 += category_total**2
    table["total_ppb"] = math.sqrt(total2)
    return table


def category_totals(table: dict) -> dict:
    """{category: ppb} of a systematic table."""
    return {k: float(v["ppb"]) for k, v in table["categories"].items()}

