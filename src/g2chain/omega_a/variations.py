"""Systematic variations of an analysis (Table V): what a refit changes, and how the nominal fit's
parameter set and start carry over to it."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from .groups import AnalysisSpec


@dataclass(frozen=True)
class Variation:
    """One systematic change to an analysis (Table V), relative to its nominal choices.

    Changes to the histogram: laser-measured gain amplitudes and the fitted pileup normalisation
    moved by a number of their own standard errors, the pileup estimate shifted in time or cut
    at first order, an ad-hoc gain-like slow term 1 + a exp(-t / tau_s) on the energy scale, and
    another randomization seed. Changes to the fit: another CBO envelope, the CBO-drift time
    constant held at a value, k_loss held at zero, the lost-muon spectrum tilted by a fraction
    across its span, and the ratio construction's lifetime and half period moved.
    """

    infill_sigma: float = 0.0
    shortterm_sigma: float = 0.0
    pileup_sigma: float = 0.0
    pileup_shift_ns: float = 0.0
    pileup_order: int = 2
    slow_gain: float = 0.0
    slow_tau_us: float = 60.0
    seed_offset: int = 0
    envelope: str | None = None
    tau_drift_us: float | None = None
    k_loss_zero: bool = False
    loss_tilt: float = 0.0
    ratio_tau_shift_us: float = 0.0
    ratio_period_ppm: float = 0.0

    HISTOGRAM_FIELDS = ("infill_sigma", "shortterm_sigma", "pileup_sigma", "pileup_shift_ns", "pileup_order",
                        "slow_gain", "slow_tau_us", "seed_offset")

    def histogram_key(self) -> tuple:
        """The fields that change the histogram (variations with equal keys share one)."""
        return tuple(getattr(self, f) for f in self.HISTOGRAM_FIELDS)


NOMINAL = Variation()


def tilted_losses(loss_edges, loss_counts, tilt: float) -> np.ndarray:
    """The lost-muon spectrum with its shape changed: counts x (1 + tilt (t - t_mid) / span), so
    the late end gains ``tilt`` relative to the early end (the 'loss shape' source)."""
    edges, counts = np.asarray(loss_edges, float), np.asarray(loss_counts, float)
    if not tilt:
        return counts
    tc = 0.5 * (edges[1:] + edges[:-1])
    return counts * (1.0 + tilt * (tc - 0.5 * (edges[0] + edges[-1])) / (edges[-1] - edges[0]))


def varied_fit_setup(spec: AnalysisSpec, values: dict, free: list, variation: Variation):
    """The nominal fit's spec, start values and free list changed by the fit-level fields of
    ``variation`` (envelope, CBO-drift time constant, k_loss held at zero)."""
    values, free = dict(values), list(free)
    if variation.envelope is not None and variation.envelope != spec.envelope:
        spec = dataclasses.replace(spec, envelope=variation.envelope)
        if variation.envelope == "exp+C" and "A_cbo_N" in free and "C_cbo" not in free:
            free.append("C_cbo")
            values["C_cbo"] = 0.0
        elif variation.envelope != "exp+C":
            free = [p for p in free if p != "C_cbo"]
            values["C_cbo"] = 0.0
    if variation.tau_drift_us is not None:
        # start the drift amplitude where it keeps the fitted phase excursion at the window's
        # start, A_d tau_d exp(-t0 / tau_d) (the CBO phase of Eq. 8, wiggle_model): the refit's minimum is near there
        t0, tau0, tau1 = float(spec.window_us[0]), float(values["tau_drift"]), float(variation.tau_drift_us)
        values["A_drift"] = float(values.get("A_drift", 0.0)) * (tau0 / tau1) * np.exp(t0 / tau1 - t0 / tau0)
        values["tau_drift"] = tau1
        free = [p for p in free if p != "tau_drift"]
    if variation.k_loss_zero:
        values["k_loss"] = 0.0
        free = [p for p in free if p != "k_loss"]
    return spec, values, free
