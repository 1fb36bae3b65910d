"""The collaboration's public wiggle, fitted with g2chain's own fitter (``g2chain fit-public FILE``).

In 2026 the Muon g-2 collaboration published the calorimeter-summed Run-3B positron time spectrum
(Zenodo, DOI 10.5281/zenodo.19632588, CC BY 4.0): one histogram in 149.2 ns bins, as a CSV with
the columns ``time`` (ns), ``bin_content`` and ``bin_error``, or as a ``.npy`` array. It is a
T-method histogram summed over the 24 calorimeters, with no loss spectrum beside it and no
per-calorimeter or per-energy view. What it supports of Eq. 7: the five-parameter model, then the
CBO in N, A and phi, the vertical waist and the y oscillation (the staged fit frees them in turn
and fixes what the data do not resolve). The muon-loss term needs the loss spectrum L(t), which
the file does not give: K_loss is held at zero, and the record says so.

``time`` is taken as each bin's centre (the collaboration's outreach app evaluates its model
there); R is relative to f_ref = 0.2291 MHz on the file's own clock (g2chain adds no blind).
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..records.binning import edges_from_centres
from .analysis_fit import fit_analysis, result_record
from .groups import AnalysisSpec
from .scans import start_time_scan
from .staged_fit import AnalysisFit
from .wiggle import Wiggle

PUBLIC_TERMS = ("cbo_N", "cbo_A", "cbo_phi", "vw", "y")  # Eq. 7 terms a calorimeter sum resolves
COLUMNS = ("time", "bin_content", "bin_error")
# header names accepted for each column (case-insensitive, a unit in brackets or after _ allowed)
_ALIASES = {"time": ("time", "t"), "bin_content": ("bin_content", "content", "counts", "n"),
            "bin_error": ("bin_error", "error", "err", "sigma")}
LOSS_NOTE = ("no loss spectrum in the file: K_loss held at 0 (the Eq. 7 muon-loss term needs L(t)); "
             "a slow loss shows as a lifetime shift and a start-time dependence of R")


class PublicDataError(ValueError):
    """A file that is not a public wiggle histogram: the message names the file and what is wrong."""


@dataclass(frozen=True)
class PublicWiggle:
    """A public calorimeter-summed histogram: bin centres ``t_us`` (us), contents and their
    errors, the bin width, and where it came from (``errors_from``: "file" or "sqrt(N)")."""

    t_us: np.ndarray
    counts: np.ndarray
    errors: np.ndarray
    bin_us: float
    source: str
    errors_from: str = "file"


def _column_of(name: str) -> tuple[str, float] | None:
    """(column, factor to us for a time column) of a header name, or None."""
    m = re.fullmatch(r"\s*([a-z_]+?)(?:[ _]*[\[(]?\s*(ns|us|µs)\s*[\])]?)?\s*", name.strip().lower())
    if not m:
        return None
    base, unit = m.group(1).rstrip("_"), m.group(2)
    for column, aliases in _ALIASES.items():
        if base in aliases:
            return column, (1.0 if unit in ("us", "µs") else 1e-3)
    return None


def _read_csv(path: Path) -> tuple[dict, str]:
    lines = [ln for ln in path.read_text().splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        raise PublicDataError(f"{path}: not a public wiggle: no rows")
    dialect = csv.Sniffer().sniff(lines[0], delimiters=",;\t ")
    rows = list(csv.reader(lines, dialect, skipinitialspace=True))
    header = [c for c in rows[0] if c.strip()]
    mapped = [_column_of(h) for h in header]
    if any(m is None for m in mapped) or len({m[0] for m in mapped}) != len(mapped):
        raise PublicDataError(f"{path}: not a public wiggle: header {header} (expected the columns time [ns], "
                              f"bin_content, bin_error)")
    cols = {m[0]: i for i, m in enumerate(mapped)}
    if "time" not in cols or "bin_content" not in cols:
        raise PublicDataError(f"{path}: not a public wiggle: no {'time' if 'time' not in cols else 'bin_content'} "
                              f"column in {header}")
    try:
        table = np.array([[float(c) for c in r if c.strip()] for r in rows[1:]])
    except ValueError as exc:
        raise PublicDataError(f"{path}: not a public wiggle: {exc}") from None
    if table.ndim != 2 or table.shape[1] != len(header):
        raise PublicDataError(f"{path}: not a public wiggle: rows of unequal length")
    data = {c: table[:, i] for c, i in cols.items()}
    data["time"] = data["time"] * mapped[cols["time"]][1]
    return data, "file" if "bin_error" in cols else "sqrt(N)"


def _read_npy(path: Path) -> tuple[dict, str]:
    try:
        arr = np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise PublicDataError(f"{path}: not a readable .npy array: {exc}") from None
    if arr.dtype.names:
        found = {}
        for name in arr.dtype.names:
            col = _column_of(name)
            if col:
                found[col[0]] = arr[name].astype(float) * (col[1] if col[0] == "time" else 1.0)
        if "time" not in found or "bin_content" not in found:
            raise PublicDataError(f"{path}: not a public wiggle: fields {arr.dtype.names} (expected time [ns], "
                                  f"bin_content, bin_error)")
        return found, "file" if "bin_error" in found else "sqrt(N)"
    arr = np.asarray(arr, dtype=float)
    if arr.ndim == 2 and arr.shape[0] in (2, 3) and arr.shape[1] > 3:
        arr = arr.T
    if arr.ndim != 2 or arr.shape[1] not in (2, 3):
        raise PublicDataError(f"{path}: not a public wiggle: an array of shape {arr.shape} (expected rows of "
                              f"time [ns], bin_content[, bin_error])")
    data = {"time": arr[:, 0] * 1e-3, "bin_content": arr[:, 1]}
    if arr.shape[1] == 3:
        data["bin_error"] = arr[:, 2]
    return data, "file" if arr.shape[1] == 3 else "sqrt(N)"


def read_public_wiggle(path) -> PublicWiggle:
    """Read the public histogram from a CSV (a header naming time [ns], bin_content, bin_error in
    any order, delimited by commas, semicolons, tabs or spaces; '#' lines skipped) or a ``.npy``
    (fields of those names, or columns in that order). Without an error column the errors are
    sqrt(N). Anything else raises PublicDataError with one line."""
    path = Path(path)
    if not path.is_file():
        raise PublicDataError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".txt", ".dat"):
        data, errors_from = _read_csv(path)
    elif suffix == ".npy":
        data, errors_from = _read_npy(path)
    else:
        raise PublicDataError(f"{path}: not a public wiggle: expected a .csv or .npy file")
    t, y = data["time"], data["bin_content"]
    err = data.get("bin_error", np.sqrt(np.clip(y, 0.0, None)))
    if t.size < 100:
        raise PublicDataError(f"{path}: not a public wiggle: {t.size} bins")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(y)) and np.all(np.isfinite(err))):
        raise PublicDataError(f"{path}: not a public wiggle: non-finite values")
    widths = np.diff(t)
    if np.any(widths <= 0) or np.ptp(widths) > 1e-6 * widths.mean():
        raise PublicDataError(f"{path}: not a public wiggle: time is not equally spaced and increasing")
    if np.any(err[y > 0] <= 0):
        raise PublicDataError(f"{path}: not a public wiggle: a filled bin with an error <= 0")
    return PublicWiggle(t, y, err, float(widths.mean()), str(path), errors_from)


def public_spec(window_us: tuple, bin_us: float, envelope: str = "exp") -> AnalysisSpec:
    """The analysis a public calorimeter-summed T-method histogram supports (module docstring)."""
    return AnalysisSpec(group="public", method="T", dataset="public", recon="calorimeter sum", pileup="as published",
                        window_us=tuple(window_us), bin_us=bin_us, threshold_gev=None, threshold_search_gev=(),
                        a_method_min_gev=0.0, envelope=envelope, terms=PUBLIC_TERMS, tau="free", k_loss="fixed0",
                        cbo_drift_tau="fixed", cbo_drift_tau_us=15.0, tau_penalty_us=0.3, seed=0, delta_r_ppm=0.0)


@dataclass
class PublicFit:
    """The public histogram's fit: its record (with the start-time scan under ``start_time``;
    ``io.write_json`` writes its arrays as lists) and the staged fits (for the figure)."""

    record: dict
    fits: AnalysisFit


def fit_public(pw: PublicWiggle, field_index: float, window_us=(30.1, 650.0), envelope: str = "exp") -> PublicFit:
    """Fit the public histogram with the staged Eq. 7 fit (five parameters first, then the terms
    of PUBLIC_TERMS), K_loss held at zero, then scan the fit start time over the first 56 us.
    The window is clipped to the data."""
    half = 0.5 * pw.bin_us
    window = (max(float(window_us[0]), pw.t_us[0] - half), min(float(window_us[1]), pw.t_us[-1] + half))
    spec = public_spec(window, pw.bin_us, envelope)
    wiggle = Wiggle(pw.t_us, pw.counts.astype(float), pw.errors.astype(float) ** 2, pw.bin_us,
                    info={"source": pw.source, "errors": pw.errors_from})
    loss_edges = edges_from_centres(pw.t_us, pw.bin_us)
    no_losses = np.zeros(pw.t_us.size)
    fits = fit_analysis(wiggle, spec, field_index, loss_edges, no_losses)
    record = result_record(spec, wiggle, fits)
    record.update({"blinding": "none added by g2chain (R relative to f_ref = 0.2291 MHz on the file's clock)",
                   "losses": LOSS_NOTE, "field_index": field_index})
    starts = window[0] + np.arange(0.0, 64.0, 8.0)
    record["start_time"] = start_time_scan(pw.t_us, wiggle.y, wiggle.var, fits.full, 0.0, envelope, loss_edges,
                                           no_losses, starts, window[1])
    return PublicFit(record, fits)


def write_public_csv(path, t_us, counts, errors=None):
    """Write a histogram in the public file's CSV form (time [ns] at the bin centre, bin_content,
    bin_error; errors sqrt(N) when not given): to put a g2chain toy histogram beside the real one,
    or to test the reader."""
    counts = np.asarray(counts)
    errors = np.sqrt(np.clip(counts, 0, None)) if errors is None else np.asarray(errors)
    with open(path, "w") as f:
        f.write(",".join(COLUMNS) + "\n")
        for t, c, e in zip(np.asarray(t_us) * 1e3, counts, errors, strict=True):
            f.write(f"{t:.1f},{c:.10g},{e:.6g}\n")
