"""The recorded views and the analyses' histograms as ``hist.Hist`` objects (scikit-hep), with
named axes whose labels carry their units, for slicing, rebinning and plotting with the tools a
physicist already uses:

    from g2chain.records.hists import recorded_hist
    h = recorded_hist("results/run2/experiment/calorimeters.h5", "local/calo")
    h[{"calo": sum, "energy": slice(hist.loc(1.7), None, sum)}].plot()   # the T-method wiggle
    h[:, :, hist.loc(30.0):hist.loc(60.0):hist.rebin(8)]                # 30-60 us, 1.19 us bins

``hist`` is an optional dependency (``pip install 'g2chain[hist]'``). The axes are read from the
file itself: every view's bin edges are datasets beside it (DESIGN §5), and their ``units``
attributes label the axes. The time axes are on the clock the file was written on (the blinded
clock for the experiment's files).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from ..constants import N_CALOS


@dataclass(frozen=True)
class AxisSpec:
    """One axis of a recorded view: its name, what it is, and the dataset of its bin edges in the
    same file (None for an integer index axis of ``size`` bins, e.g. the calorimeter number)."""

    name: str
    label: str
    edges: str | None = None
    size: int = 0


@dataclass(frozen=True)
class ViewSpec:
    """A recorded view (dataset pattern in a file of ``kind``), its axes outermost first and what a
    bin holds: "counts" (Int64 storage), "sum" (Double: an energy sum), or "weighted" (Weight: the
    sum with its variance from the dataset ``variance``)."""

    kind: str
    pattern: str
    axes: tuple[AxisSpec, ...]
    content: str = "counts"
    variance: str | None = None


_CALO = AxisSpec("calo", "calorimeter", size=N_CALOS)
_ENERGY = AxisSpec("energy", "energy", "binning/energy_edges")
_T = AxisSpec("t", "time", "binning/time_edges")
VIEWS = (
    ViewSpec("calorimeters", "*/calo", (_CALO, _ENERGY, _T)),
    ViewSpec("calorimeters", "*/sum_fine", (_ENERGY, AxisSpec("t", "time", "binning/fine_time_edges"))),
    ViewSpec("calorimeters", "pileup/*/*", (_ENERGY, _T)),
    ViewSpec("calorimeters", "fast_rotation/signal", (AxisSpec("t", "time", "binning/fast_rotation_time_edges"),)),
    ViewSpec("calorimeters", "energy/q_calo", (_CALO, AxisSpec("t", "time", "binning/q_time_edges")), "sum"),
    ViewSpec("calorimeters", "energy/q_sum_fine", (AxisSpec("t", "time", "binning/q_fine_time_edges"),), "weighted",
             variance="energy/q_sum2_fine"),
    ViewSpec("trackers", "vertices", (AxisSpec("station", "tracker station", size=2),
                                      AxisSpec("t", "time", "time_edges"), AxisSpec("x", "radial vertex x", "x_edges"),
                                      AxisSpec("y", "vertical vertex y", "y_edges"))),
    ViewSpec("lost_muons", "triple_coincidences", (AxisSpec("t", "time", "time_edges"),)),
)


def _hist():
    try:
        import hist
    except ImportError:
        raise ImportError("g2chain.records.hists needs the optional dependency hist: "
                          "pip install 'g2chain[hist]'") from None
    return hist


def _units(dset) -> str:
    units = dset.attrs.get("units", "")
    return units.decode() if isinstance(units, bytes) else str(units)


def _spec_of(kind: str, view: str) -> ViewSpec | None:
    for spec in VIEWS:
        if spec.kind == kind and fnmatch.fnmatchcase(view, spec.pattern):
            return spec
    return None


def recorded_views(path) -> list[str]:
    """The datasets of a g2chain experiment file that ``recorded_hist`` loads."""
    with h5py.File(path, "r") as f:
        kind = str(f.attrs.get("kind", ""))
        names = []
        f.visititems(lambda n, d: names.append(n) if isinstance(d, h5py.Dataset) and _spec_of(kind, n) else None)
    return sorted(names)


def axis_from_edges(edges, name: str, label: str):
    """A ``hist`` axis on the bin edges (Regular when they are equally spaced to 1e-9 of a bin,
    as every time axis here is; Variable otherwise, as the energy axis). The edges are rounded to
    1e-9 of their unit (GeV, us, mm: far below any bin here), so that ``hist.loc(1.7)`` finds the
    bin starting at 1.7 GeV, which a file's 17 x 0.1 = 1.7000000000000002 would miss."""
    hist = _hist()
    edges = np.round(np.asarray(edges, dtype=float), 9)
    widths = np.diff(edges)
    if np.allclose(widths, widths[0], rtol=0.0, atol=1e-9 * abs(widths[0])):
        return hist.axis.Regular(len(widths), edges[0], edges[-1], name=name, label=label, underflow=False,
                                 overflow=False)
    return hist.axis.Variable(edges, name=name, label=label, underflow=False, overflow=False)


def histogram(axes, values, variances=None, storage: str | None = None):
    """A ``hist.Hist`` on ``axes`` filled with ``values`` (and ``variances``: Weight storage).
    ``storage``: "counts" (Int64), "sum" (Double) or None (Weight with variances, else Double)."""
    hist = _hist()
    if variances is not None:
        store = hist.storage.Weight()
    elif storage == "counts":
        store = hist.storage.Int64()
    else:
        store = hist.storage.Double()
    h = hist.Hist(*axes, storage=store)
    values = np.asarray(values)
    if values.shape != h.axes.size:
        raise ValueError(f"values of shape {values.shape} on axes of {h.axes.size} bins")
    if variances is not None:
        h[...] = np.stack([values, np.asarray(variances)], axis=-1)
    else:
        h[...] = values
    return h


def recorded_hist(path, view: str):
    """The recorded view ``view`` of the g2chain file ``path`` as a ``hist.Hist``: named axes
    (``calo``, ``energy``, ``t``, ``station``, ``x``, ``y``) labelled with their units, Int64
    counts, Double energy sums, or (``energy/q_sum_fine``) the energy sum with its variance Σ E²."""
    path = Path(path)
    with h5py.File(path, "r") as f:
        kind, clock = str(f.attrs.get("kind", "")), str(f.attrs.get("clock", ""))
        spec = _spec_of(kind, view)
        if spec is None or view not in f or not isinstance(f[view], h5py.Dataset):
            raise ValueError(f"{path}: '{view}' is not a recorded histogram of this {kind or 'unknown'} file "
                             f"(these are: {', '.join(recorded_views(path)) or 'none'})")
        axes = []
        for ax in spec.axes:
            if ax.edges is None:
                axes.append(_hist().axis.Integer(0, ax.size, name=ax.name, label=ax.label, underflow=False,
                                                 overflow=False))
            else:
                units = _units(f[ax.edges])
                label = f"{ax.label} ({clock} clock)" if ax.name == "t" and clock else ax.label
                axes.append(axis_from_edges(f[ax.edges][()], ax.name, f"{label} [{units}]" if units else label))
        values = f[view][()]
        variances = f[spec.variance][()] if spec.variance else None
    return histogram(axes, values, variances, spec.content)
