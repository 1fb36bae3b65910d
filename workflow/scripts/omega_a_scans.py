"""Adapter: rule omega_a_scans -> g2chain.omega_a.run_omega_a.run_scans (one analysis of one dataset)."""

import sys

from g2chain.figures.omega_a import omega_a_scans
from g2chain.omega_a.run_omega_a import run_scans

sm = snakemake  # noqa: F821
try:
    rec = run_scans(sm.wildcards.dataset, sm.wildcards.analysis, sm.input.calorimeters, sm.input.lost_muons,
                    sm.input.groups, sm.input.result, sm.output.scans)
except (ValueError, RuntimeError) as exc:
    message = f"{sm.wildcards.dataset} {sm.wildcards.analysis} scans: {type(exc).__name__}: {exc}"
    with open(sm.log[0], "w") as log:
        log.write(message + "\n")
    sys.exit(message)
with open(sm.log[0], "w") as log:
    st, pc = rec["start_time"], rec["per_calorimeter"]
    log.write(f"start-time scan: all within 2 bands {st['all_within']}, scan chi2 {st['scan_chi2']:.1f}/"
              f"{st['scan_ndf']} (p = {st['scan_pvalue']:.3g}); per-calorimeter constant p = "
              f"{pc['pvalue']:.3g}, slope {pc['slope']:.3g} +- {pc['slope_err']:.3g} ppm/calo\n")
omega_a_scans(rec, sm.output.plot)
