"""Systematic uncertainties of one omega_a analysis (Run-2/3 report Sec. IV J, Table V).

Each source is evaluated the way the paper's groups did: change one correction by its own
measured uncertainty (or make the other reasonable modelling choice), rebuild and refit the
analysis with the nominal fit's parameter set, and take the shift of R. How a source turns its
shifts into a contribution depends on its kind:

* ``bracket``: moved both ways by one standard error: half the spread of the two shifts;
* ``alternatives``: other models of equal standing (CBO envelopes): the largest shift among the
  alternatives whose fit has an acceptable chi^2 (p >= ``envelope_min_pvalue``), each with the
  statistical spread of a same-data model difference taken out (``noise_subtracted`` with
  sqrt|sigma_alt^2 - sigma_nom^2|, the spread of the difference of two fits of one histogram);
* ``one-sided``: a shift needed to reach a physical condition (k_loss >= 0), scaled to the
  fitted k_loss's size with its noise taken out;
* ``drift bracket``: the CBO-drift time constant at both ends of its range with the drift
  amplitude fitted at each: half the spread, scaled like ``one-sided`` to the amplitude's
  noise-free size;
* ``truncation``: the first-to-second-order pileup shift times the second order's relative size,
  the size of the next order of the series;
* ``slow term``: an ad-hoc gain-like correction 1 + a exp(-t/tau_s) with a set by the chi^2 of
  the fit (parabola through a = -step, 0, +step), and the shift it implies, with the fit's noise
  expectation taken out of a (``noise_subtracted``): the source measures the world's slow effect,
  not the noise of the fit that finds it;
* ``statistical``: the spread over other randomization seeds, reported but not added (another
  randomization of the same positrons is a resampling: its spread is inside sigma_stat).

Sources inside a category add linearly (they may be correlated), categories in quadrature
(Sec. IV J). A source whose variation is a +-1 sigma of a fit to the data's own calibration sample
is ``statistics_limited``: each category records that part (``statistics_limited_ppb``), which
shrinks as 1/sqrt(N), so that a budget can be taken to other statistics.

The exception to the linear sum is the report's ref. [39]: the CBO decoherence-envelope and
frequency-drift contributions were shown to be independent, so sources marked ``independent``
add in quadrature to the linear sum of the rest of their category.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..records.uncertainty import CATEGORIES
from .analysis_fit import fit_analysis
from .groups import AnalysisSpec
from .pileup import second_order_fraction
from .variations import NOMINAL, Variation
from .wiggle import build_wiggle

SETTINGS_KEYS = ("envelopes", "envelope_min_pvalue", "cbo_drift_tau_us", "pileup_time_shift_ns", "slow_term_tau_us",
                 "slow_term_step", "loss_shape_tilt", "ratio_tau_shift_us", "ratio_period_ppm", "randomization_seeds")


@dataclass(frozen=True)
class Source:
    """One row of the systematic table: where it goes, how its shifts combine, what is varied."""

    category: str
    name: str
    kind: str  # bracket | alternatives | one-sided | truncation | slow term | statistical
    variations: tuple
    independent: bool = False  # uncorrelated with the category's other sources: adds in quadrature
    # its variation is +-1 sigma of a fit to the data's own calibration sample (the pileup
    # normalisation's above-endpoint fit, the laser fits of the gain): it shrinks as 1/sqrt(N)
    statistics_limited: bool = False


def _checked(settings: dict) -> dict:
    missing = [k for k in SETTINGS_KEYS if k not in settings]
    if missing:
        raise ValueError(f"omega_a_systematics: missing {', '.join(missing)}")
    return settings


def plan_sources(spec: AnalysisSpec, nominal, settings: dict) -> list[Source]:
    """The sources that apply to ``spec`` (its terms, pileup estimator, method, loss treatment);
    ``settings``: the omega_a_systematics config block."""
    s = _checked(settings)
    event_based = spec.base_method != "Q"
    rows = []
    if "cbo_N" in spec.terms:
        alts = tuple(Variation(envelope=e) for e in s["envelopes"] if e != spec.envelope)
        if alts:
            rows.append(Source("cbo", "envelope family", "alternatives", alts, independent=True))
    if "cbo_drift" in spec.terms:
        lo, hi = s["cbo_drift_tau_us"]
        rows.append(Source("cbo", "frequency-drift time constant", "drift bracket",
                           (Variation(tau_drift_us=lo), Variation(tau_drift_us=hi)), independent=True))
    if event_based and spec.pileup != "none":
        rows.append(Source("pileup", "normalisation", "bracket",
                           (Variation(pileup_sigma=+1.0), Variation(pileup_sigma=-1.0)), statistics_limited=True))
        dt = float(s["pileup_time_shift_ns"])
        rows.append(Source("pileup", "time shift", "bracket",
                           (Variation(pileup_shift_ns=+dt), Variation(pileup_shift_ns=-dt))))
        rows.append(Source("pileup", "truncation order", "truncation", (Variation(pileup_order=1),)))
    if event_based:
        rows.append(Source("gain", "in-fill amplitude", "bracket",
                           (Variation(infill_sigma=+1.0), Variation(infill_sigma=-1.0)), statistics_limited=True))
        rows.append(Source("gain", "short-term amplitude", "bracket",
                           (Variation(shortterm_sigma=+1.0), Variation(shortterm_sigma=-1.0)),
                           statistics_limited=True))
    step, tau_s = float(s["slow_term_step"]), float(s["slow_term_tau_us"])
    rows.append(Source("slow term", "ad-hoc gain-like term", "slow term",
                       (Variation(slow_gain=+step, slow_tau_us=tau_s), Variation(slow_gain=-step, slow_tau_us=tau_s))))
    if "k_loss" in nominal.free:
        if nominal.values["k_loss"] < 0:
            rows.append(Source("slow term", "k_loss >= 0", "one-sided", (Variation(k_loss_zero=True),)))
        tilt = float(s["loss_shape_tilt"])
        rows.append(Source("other", "loss-spectrum shape", "bracket",
                           (Variation(loss_tilt=+tilt), Variation(loss_tilt=-tilt))))
    if spec.is_ratio:
        dtau, dper = float(s["ratio_tau_shift_us"]), float(s["ratio_period_ppm"])
        rows.append(Source("other", "ratio lifetime", "bracket",
                           (Variation(ratio_tau_shift_us=+dtau), Variation(ratio_tau_shift_us=-dtau))))
        rows.append(Source("other", "ratio half period", "bracket",
                           (Variation(ratio_period_ppm=+dper), Variation(ratio_period_ppm=-dper))))
    if event_based and int(s["randomization_seeds"]) > 0:
        rows.append(Source("other", "randomization seed", "statistical",
                           tuple(Variation(seed_offset=k) for k in range(1, int(s["randomization_seeds"]) + 1))))
    return rows


class _Refitter:
    """Refits of one analysis with the nominal parameter set; histograms shared between
    variations that only change the fit."""

    def __init__(self, calo, loss, spec, field_index, nominal, nominal_wiggle=None):
        self.calo, self.loss, self.spec, self.field_index, self.nominal = calo, loss, spec, field_index, nominal
        self._nominal_key = NOMINAL.histogram_key()
        self._wiggles = {} if nominal_wiggle is None else {self._nominal_key: nominal_wiggle}
        self._randomized = {}  # the +-T_c/2 randomization, shared by every histogram variation
        self.n_fits = 0

    def __call__(self, variation: Variation) -> dict:
        key = variation.histogram_key()
        if key not in self._wiggles:
            # keep the nominal histogram (most variations only change the fit) and the latest other
            self._wiggles = {k: w for k, w in self._wiggles.items() if k == self._nominal_key}
            self._wiggles[key] = build_wiggle(self.calo, self.spec, variation=variation, randomized=self._randomized)
        self.n_fits += 1
        return fit_analysis(self._wiggles[key], self.spec, self.field_index, self.loss["time_edges"],
                            self.loss["triple_coincidences"], reuse=self.nominal, variation=variation)


def _pvalue(fits: dict) -> float:
    return float(fits.p_value)


def systematic_table(calo: dict, loss: dict, spec: AnalysisSpec, field_index: float, settings: dict, nominal=None,
                     sources: list[Source] | None = None, nominal_wiggle=None) -> dict:
    """Per category: each source's shifts (ppb) and contribution, the category total
    (``category_total``), and the quadrature total over categories. ``nominal``: the analysis' full FitResult
    (else it is fitted here); ``nominal_wiggle``: its histogram if already built;
    ``settings``: the omega_a_systematics config block."""
    s = _checked(settings)
    if nominal is None:
        nominal = fit_analysis(build_wiggle(calo, spec), spec, field_index, loss["time_edges"],
                               loss["triple_coincidences"]).full
    sources = plan_sources(spec, nominal, s) if sources is None else sources
    run = _Refitter(calo, loss, spec, field_index, nominal, nominal_wiggle)
    # the baseline is the nominal refitted the way the variations are (same start, same
    # variances update), so that a variation that changes nothing shifts R by exactly zero
    base = run(NOMINAL)
    r0 = float(base.full.values["R"])
    table = {"analysis": spec.name, "dataset": spec.dataset, "R_nominal_ppm": r0,
             "chi2_nominal": base.full.chi2, "p_value_nominal": _pvalue(base),
             "combination": "sources in a category add linearly, independent ones (CBO envelope, CBO drift) "
                            "in quadrature to that sum; categories in quadrature",
             "categories": {c: {"sources": {}, "ppb": 0.0} for c in CATEGORIES}}
    contributions = {c: [] for c in CATEGORIES}
    limited = dict.fromkeys(CATEGORIES, 0.0)
    for src in sources:
        fits = [run(v) for v in src.variations]
        shifts = [1e3 * (f.full.values["R"] - r0) for f in fits]
        row = {"kind": src.kind}
        if src.kind == "bracket":
            row.update(shift_up_ppb=shifts[0], shift_down_ppb=shifts[1], ppb=0.5 * abs(shifts[0] - shifts[1]))
        elif src.kind == "alternatives":
            ok = [_pvalue(f) >= s["envelope_min_pvalue"] for f in fits]
            # two fits of the same histogram differ by noise of variance ~|sigma_alt^2 - sigma_nom^2|
            # (the nested-model limit; R. Barlow, hep-ex/0207026): that part is the fit's, not the world's
            noise = [1e3 * math.sqrt(abs(f.full.errors["R"] ** 2 - base.full.errors["R"] ** 2)) for f in fits]
            bias = [noise_subtracted(d, e) for d, e in zip(shifts, noise, strict=True)]
            row["alternatives"] = {v.envelope: {"shift_ppb": d, "noise_ppb": e, "p_value": _pvalue(f), "accepted": a}
                                   for v, d, e, f, a in zip(src.variations, shifts, noise, fits, ok, strict=True)}
            row["ppb"] = max([b for b, a in zip(bias, ok, strict=True) if a], default=0.0)
        elif src.kind == "one-sided":
            # the shift is linear in the fitted k_loss it removes: scale it to k's noise-free size
            k, k_err = nominal.values["k_loss"], nominal.errors.get("k_loss")
            row.update(shift_ppb=shifts[0], ppb=abs(shifts[0]) * resolved_fraction(k, k_err))
        elif src.kind == "drift bracket":
            row.update(_drift_bracket(fits, shifts))
        elif src.kind == "truncation":
            q = _second_order_fraction(calo, spec)
            row.update(first_order_shift_ppb=shifts[0], second_order_fraction=q, ppb=q * abs(shifts[0]))
        elif src.kind == "slow term":
            row.update(_slow_term(src, fits, shifts, base.full.chi2))
        elif src.kind == "statistical":
            row.update(shifts_ppb=shifts, spread_ppb=float(np.std([0.0, *shifts], ddof=1)), ppb=0.0,
                       note="resampling of the same positrons: inside sigma_stat, not added")
        else:
            raise ValueError(f"source {src.name}: unknown kind {src.kind!r}")
        row["independent"] = src.independent
        row["statistics_limited"] = src.statistics_limited
        table["categories"][src.category]["sources"][src.name] = row
        contributions[src.category].append((row["ppb"], src.independent))
        limited[src.category] += row["ppb"] if src.statistics_limited else 0.0
    for c, rows in contributions.items():
        table["categories"][c]["ppb"] = category_total(rows)
        # the part of the category set by the data's own calibration statistics (linear, <= the total)
        table["categories"][c]["statistics_limited_ppb"] = min(limited[c], table["categories"][c]["ppb"])
    table["total_ppb"] = math.sqrt(sum(c["ppb"] ** 2 for c in table["categories"].values()))
    table["refits"] = run.n_fits
    return table


def category_total(contributions) -> float:
    """A category's systematic (ppb) from its sources' ``(ppb, independent)``: the correlated
    sources add linearly, the independent ones in quadrature to that sum (Sec. IV J, ref. [39])."""
    linear = sum(abs(p) for p, independent in contributions if not independent)
    return math.sqrt(linear**2 + sum(p**2 for p, independent in contributions if independent))


def noise_subtracted(amplitude: float, error: float | None) -> float:
    """|a| with the fit's noise taken out: sqrt(max(a^2 - sigma_a^2, 0)). A fitted amplitude
    scatters by sigma_a around the true one, so E[a^2] = a_true^2 + sigma_a^2; the systematic is
    what the world's slow effect does, not what the fit's noise does (|a| without an error: no
    noise estimate, nothing subtracted)."""
    if error is None or not math.isfinite(error):
        return abs(amplitude)
    return math.sqrt(max(amplitude**2 - error**2, 0.0))


def resolved_fraction(amplitude: float, error: float | None) -> float:
    """The share of a fitted amplitude that is the world's, not the fit's noise:
    ``noise_subtracted(a, sigma) / |a|`` (0 for an amplitude held at zero). A shift linear in the
    amplitude, scaled by it, books the noise-free effect."""
    return noise_subtracted(amplitude, error) / abs(amplitude) if amplitude else 0.0


def _slow_term(src: Source, fits, shifts, chi2_0: float) -> dict:
    """The gain-like slow term: its amplitude from the chi^2 parabola through -step, 0, +step,
    and the R shift at that amplitude with the amplitude's noise expectation subtracted (R is
    linear in a small correction)."""
    step = src.variations[0].slow_gain
    c_up, c_dn = fits[0].full.chi2, fits[1].full.chi2
    slope = (shifts[0] - shifts[1]) / (2 * step)  # ppb per unit amplitude
    curvature = (c_up + c_dn - 2 * chi2_0) / step**2
    grad = (c_up - c_dn) / (2 * step)
    # the data prefer a = -grad / curvature with error sqrt(2 / curvature). A chi^2 that does not
    # rise over +-step (curvature <= 0: the step is far inside the amplitude's noise, and the two
    # refits differ from the nominal by the minimiser's tolerance) says the data cannot see a slow
    # term of that size: nothing is booked, the limit of a small positive curvature (a_err ->
    # infinity). (Booking one step there made a sign of the minimiser's noise worth 0 or
    # |dR/da| x step: up to 335 ppb in the ci chain, in 18 of its 57 analyses.)
    if curvature <= 0:
        return {"tau_us": src.variations[0].slow_tau_us, "amplitude_best": 0.0, "amplitude_error": None,
                "dR_da_ppb": slope, "shift_at_best_ppb": 0.0, "ppb": 0.0,
                "note": "chi^2 flat over +-step: the data cannot see a slow term this size"}
    a_best = float(np.clip(-grad / curvature, -5 * step, 5 * step))
    a_err = float(1 / math.sqrt(curvature / 2))
    return {"tau_us": src.variations[0].slow_tau_us, "amplitude_best": a_best, "amplitude_error": a_err,
            "dR_da_ppb": slope, "shift_at_best_ppb": abs(slope * a_best),
            "ppb": abs(slope) * noise_subtracted(a_best, a_err)}


def _drift_bracket(fits, shifts) -> dict:
    """The CBO-frequency drift's time constant moved across its range with the drift amplitude
    fitted at each end (Sec. IV E 2: a fitted amplitude, a poorly known 10-20 us lifetime). The
    R shift between the ends is linear in the drift the data hold, so it is scaled to the fitted
    amplitude's noise-free size, as the k_loss source is, at the end where the drift is the less
    significant: a drift is booked where both ends see it, so that a world without drift books
    ~0, not the fit's noise."""
    amps = [(f.full.values.get("A_drift", 0.0), f.full.errors.get("A_drift")) for f in fits]
    fractions = [resolved_fraction(a, e) for a, e in amps]
    half = 0.5 * abs(shifts[0] - shifts[1])
    fraction = float(min(fractions))
    return {"shift_up_ppb": shifts[0], "shift_down_ppb": shifts[1], "half_spread_ppb": half,
            "amplitudes": [a for a, _ in amps], "amplitude_errors": [e for _, e in amps],
            "resolved_fraction": fraction, "ppb": half * fraction}


def _second_order_fraction(calo: dict, spec: AnalysisSpec) -> float:
    key = f"pileup/{spec.pileup}"
    return second_order_fraction(*(calo[f"{key}/{k}"] for k in ("doubles", "singles", "triples", "triple_pairs",
                                                                   "triple_singles")))


def category_totals(table: dict) -> dict:
    """{category: ppb} of a systematic table."""
    return {k: float(v["ppb"]) for k, v in table["categories"].items()}
