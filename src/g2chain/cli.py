"""Command line: ``g2chain show FILE`` prints what a result or data file holds; ``g2chain diff``
compares two budgets; ``g2chain fit-public FILE`` fits the collaboration's public wiggle.

HDF5 files: provenance (kind, schema, config hash, code version), then each dataset with its
shape, dtype, units and total. JSON results: a two-column table of the (flattened) keys.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import h5py
import numpy as np

from . import __version__
from .io import DataFileError, read_json


def _flatten(obj, prefix=""):
    if isinstance(obj, dict):
        for key, value in obj.items():
            yield from _flatten(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(obj, list) and len(obj) > 8:
        yield prefix, f"[{len(obj)} values: {obj[0]!r} ... {obj[-1]!r}]"
    else:
        yield prefix, obj


def _format_value(value) -> str:
    if isinstance(value, float):
        return f"{value:.10g}"
    return json.dumps(value) if isinstance(value, list | dict) else str(value)


def show_fit(path: Path, rec: dict) -> str:
    """An omega_a analysis result: headline, free-parameter table, corrections, plots."""
    lines = [
        f"{rec['dataset']} {rec['analysis']} ({rec['blinding']})",
        f"R = {rec['R_ppm']:.4f} +- {rec['R_err_ppm']:.4f} ppm   chi2/ndf = {rec['chi2']:.1f}/{rec['ndf']}"
        f"   p = {rec['p_value']:.3g}",
        f"five-parameter fit: R = {rec['five_parameter']['R_ppm']:.4f} +- {rec['five_parameter']['R_err_ppm']:.4f}"
        f" ppm, p = {rec['five_parameter']['p_value']:.3g}",
        f"window {rec['window_us'][0]}-{rec['window_us'][1]} us, {rec['n_bins']} bins of {rec['bin_us'] * 1e3:.1f} ns,"
        f" envelope {rec['envelope']}",
        "",
        f"{'parameter':<12} {'value':>16} {'error':>12}",
    ]
    for name in rec["free_parameters"]:
        par = rec["parameters"][name]
        lines.append(f"{name:<12} {par['value']:>16.8g} {par['error']:>12.4g}")
    for key, value in rec.get("corrections", {}).items():
        if isinstance(value, dict):
            items = ", ".join(f"{k} {_format_value(v)}" for k, v in value.items() if not isinstance(v, list))
            lines.append(f"{key}: {items}")
    plots = sorted(p.name for p in path.parent.glob(f"{path.stem}*.png"))
    if plots:
        lines.append("plots: " + ", ".join(plots))
    return "\n".join(lines)


def show_field(rec: dict) -> str:
    """A field result: omega~'_p, B_K, B_Q and the Table XXII-shaped uncertainty table (ppb)."""
    u = rec["uncertainty_ppb"]
    lines = [
        f"{rec['dataset']}: omega~'_p = {rec['omega_p_tilde_hz']:.4f} Hz",
        f"B_K = {rec['B_K_ppb']:.2f} +- {rec['B_K_err_ppb']:.2f} ppb   B_Q = {rec['B_Q_ppb']:.2f} +- "
        f"{rec['B_Q_err_ppb']:.2f} ppb (evaluated)",
        "",
        f"{'Table XXII row':<22} {'section':<8} {'evaluated':>9} {'external':>9} {'total':>7}   [ppb]",
    ]
    for row in u["rows"]:
        lines.append(f"{row['label']:<22} {row['section']:<8} {row['evaluated']:>9.2f} {row['external']:>9.2f} "
                     f"{row['total']:>7.2f}")
    lines += [f"{'uncorrelated':<31} {u['subtotal_uncorrelated']:>28.2f}",
              f"{'correlated':<31} {u['subtotal_correlated']:>28.2f}",
              f"{'total':<22} {'':<8} {u['evaluated']:>9.2f} {u['external']:>9.2f} {u['total']:>7.2f}",
              f"{'omega~p (VI B-F only)':<22} {'':<8} {u['omega_p_evaluated']:>9.2f} {'':>9} "
              f"{u['omega_p_total']:>7.2f}"]
    return "\n".join(lines)


def show_json(path: Path) -> str:
    """Two-column key/value listing of a JSON result (a parameter table for fit results, the
    uncertainty table for field results)."""
    rec = read_json(path)
    if isinstance(rec, dict) and "analysis" in rec and "parameters" in rec:
        return show_fit(path, rec)
    if isinstance(rec, dict) and "omega_p_tilde_hz" in rec and "uncertainty_ppb" in rec:
        return show_field(rec)
    rows = list(_flatten(rec))
    width = max((len(k) for k, _ in rows), default=0)
    return "\n".join(f"{k:<{width}}  {_format_value(v)}" for k, v in rows)


def show_h5(path: Path) -> str:
    """Provenance and dataset listing of a g2chain HDF5 file."""
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise DataFileError(f"{path}: not a readable HDF5 file ({str(exc).splitlines()[0]})") from None
    lines = []
    with f:
        for key in ("kind", "schema_version", "config_hash", "code_version"):
            if key in f.attrs:
                lines.append(f"{key}: {f.attrs[key]}")
        others = sorted(k for k in f.attrs if k not in ("kind", "schema_version", "config_hash", "code_version"))
        for key in others:
            value = f.attrs[key]
            lines.append(f"{key}: {value if np.ndim(value) == 0 else f'array{np.shape(value)}'}")
        rows = []

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                data = obj[()]
                total = f"{data.sum():.6g}" if np.issubdtype(data.dtype, np.number) else ""
                rows.append((name, str(obj.shape), str(obj.dtype), str(obj.attrs.get("units", "")), total))

        f.visititems(visit)
    if rows:
        widths = [max(len(r[i]) for r in rows + [("dataset", "shape", "dtype", "units", "sum")]) for i in range(5)]
        header = ("dataset", "shape", "dtype", "units", "sum")
        lines.append("")
        lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
        lines.extend("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)
    return "\n".join(lines)


def show(path: Path) -> str:
    """Text summary of a g2chain file, chosen by its suffix."""
    if not path.exists():
        raise DataFileError(f"{path}: file not found")
    if path.suffix == ".json":
        return show_json(path)
    if path.suffix in (".h5", ".hdf5"):
        return show_h5(path)
    raise DataFileError(f"{path}: don't know how to show a '{path.suffix}' file (expected .json or .h5)")


def fit_public_command(args) -> int:
    """``g2chain fit-public``: read, fit, write OUT/<stem>.json, .png (fit) and .scan.png; print
    the fit's summary. A file that is not a public wiggle, or a fit that fails, is one line."""
    from .figures.omega_a import omega_a_fit, start_time_scan_figure
    from .io import write_json
    from .omega_a.public import PublicDataError, fit_public, read_public_wiggle

    try:
        pw = read_public_wiggle(args.file)
        pf = fit_public(pw, args.field_index, (args.start, args.end), args.envelope)
    except (PublicDataError, RuntimeError, ValueError) as exc:
        print(f"g2chain: {exc}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    stem = args.out / args.file.stem
    write_json(stem.with_suffix(".json"), pf.record)
    omega_a_fit(pf.fits, pf.record, args.field_index, stem.with_suffix(".png"))
    start_time_scan_figure(pf.record["start_time"], args.file.name, stem.with_suffix(".scan.png"))
    print(show_fit(stem.with_suffix(".json"), pf.record))
    print(f"losses: {pf.record['losses']}")
    print(f"wrote {stem}.json, {stem}.png, {stem}.scan.png")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="g2chain", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"g2chain {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    p_show = sub.add_parser("show", help="print what a result (.json) or data (.h5) file holds")
    p_show.add_argument("files", nargs="+", type=Path)
    p_diff = sub.add_parser("diff", help="what moved between two budgets (budget.csv or budget_blinded.csv), ppb")
    p_diff.add_argument("before", type=Path)
    p_diff.add_argument("after", type=Path)
    p_pub = sub.add_parser("fit-public", help="fit the public calorimeter-summed wiggle (CSV or .npy) with "
                                              "g2chain's fitter: record, fit figure, start-time scan")
    p_pub.add_argument("file", type=Path)
    p_pub.add_argument("--out", type=Path, default=Path("results/public"), help="output folder (results/public)")
    p_pub.add_argument("--start", type=float, default=30.1, help="fit start time, us (30.1)")
    p_pub.add_argument("--end", type=float, default=650.0, help="fit end time, us (650, clipped to the data)")
    p_pub.add_argument("--field-index", type=float, default=0.108,
                       help="ESQ field index n, for the beam frequencies the fit seeds (0.108, Run-2/3)")
    p_pub.add_argument("--envelope", choices=("exp", "exp+C", "reciprocal"), default="exp",
                       help="CBO decoherence envelope (exp; Run-3B's analyses used exp+C)")
    args = parser.parse_args(argv)
    if args.command == "fit-public":
        return fit_public_command(args)
    if args.command == "diff":
        from .combine.budget import budget_diff, budget_diff_text

        for path in (args.before, args.after):
            if not path.is_file():
                print(f"g2chain: {path}: no such budget file", file=sys.stderr)
                return 1
        print(budget_diff_text(budget_diff(args.before.read_text(), args.after.read_text())))
        return 0
    status = 0
    for path in args.files:
        try:
            text = show(path)
        except DataFileError as exc:
            print(f"g2chain: {exc}", file=sys.stderr)
            status = 1
            continue
        if len(args.files) > 1:
            print(f"== {path}")
        print(text)
    return status


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
