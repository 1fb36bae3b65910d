"""Adapter: rules omega_a_dataset_scans (every scanned analysis of a dataset) and omega_a_scans (one
analysis asked for by name) -> g2chain.omega_a.run_omega_a.run_scans and the scans' figure; the
analyses run ``threads`` at a time in forked workers (g2chain.workers). A failure is written to the
analysis's log as one line; the others still run, then the job stops with those lines."""

import sys

from g2chain.figures.omega_a import omega_a_scans
from g2chain.omega_a.run_omega_a import run_scans
from g2chain.workers import map_forked

sm = snakemake  # noqa: F821
dataset = sm.wildcards.dataset


def listed(paths):
    """A rule's input, output or log entry as a list (one path for rule omega_a_scans)."""
    return [paths] if isinstance(paths, str) else list(paths)


results, scans, plots, logs = listed(sm.input.result), listed(sm.output.scans), listed(sm.output.plot), listed(sm.log)


def scan(i: int) -> str:
    """Analysis i of the job; '' or its failure's line."""
    name = sm.params.analyses[i]
    try:
        rec = run_scans(dataset, name, sm.input.calorimeters, sm.input.lost_muons, sm.input.groups, results[i],
                        scans[i])
    except (ValueError, RuntimeError) as exc:
        message = f"{dataset} {name} scans: {type(exc).__name__}: {exc}"
        with open(logs[i], "w") as log:
            log.write(message + "\n")
        return message
    with open(logs[i], "w") as log:
        st, pc = rec["start_time"], rec["per_calorimeter"]
        log.write(f"start-time scan: all within 2 bands {st['all_within']}, scan chi2 {st['scan_chi2']:.1f}/"
                  f"{st['scan_ndf']} (p = {st['scan_pvalue']:.3g}); per-calorimeter constant p = "
                  f"{pc['pvalue']:.3g}, slope {pc['slope']:.3g} +- {pc['slope_err']:.3g} ppm/calo\n")
    omega_a_scans(rec, plots[i])
    return ""


failures = [line for line in map_forked(scan, range(len(sm.params.analyses)), sm.threads) if line]
if failures:
    sys.exit("\n".join(failures))
