"""Systematic uncertainties of one omega_a analysis (Run-2/3 report Sec. IV H, Table V).

Each source is evaluated the way the paper's groups did: change one correction by its own
measured uncertainty (or make the other reasonable choice), rebuild and refit the analysis, and
take the shift of R. A source moved both ways contributes half the spread of the two shifts;
sources inside a category add linearly, categories in quadrature.

Evaluated so far: gain (in-fill and short-term amplitudes by +-1 sigma of their laser fits) and
pileup (normalisation by +-1 sigma of its above-endpoint fit). To come (issue 4): CBO envelope
families and drift time constant, pileup time shift and unseen pileup, residual slow term and the
k_loss >= 0 shift, loss-spectrum shape, ratio weighting, randomization seed.
"""

from __future__ import annotations

import math

from .analysis import NOMINAL, Variation, build_wiggle, fit_analysis
from .groups import AnalysisSpec

# category -> source -> the two variations that bracket it
SOURCES = {
    "gain": {
        "in-fill amplitude": (Variation(infill_sigma=+1.0), Variation(infill_sigma=-1.0)),
        "short-term amplitude": (Variation(shortterm_sigma=+1.0), Variation(shortterm_sigma=-1.0)),
    },
    "pileup": {
        "normalisation": (Variation(pileup_sigma=+1.0), Variation(pileup_sigma=-1.0)),
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
        for source, (up, down) in entries.items():
            shifts = [1e3 * (refit(calo, loss, spec, field_index, v, nominal).values["R"] - r0) for v in (up, down)]
            contribution = 0.5 * abs(shifts[0] - shifts[1])
            rows[source] = {"shift_up_ppb": shifts[0], "shift_down_ppb": shifts[1], "ppb": contribution}
            category_total += contribution
        table["categories"][category] = {"sources": rows, "ppb": category_total}
        total2 += category_total**2
    table["total_ppb"] = math.sqrt(total2)
    return table


def category_totals(table: dict) -> dict:
    """{category: ppb} of a systematic table."""
    return {k: float(v["ppb"]) for k, v in table["categories"].items()}

