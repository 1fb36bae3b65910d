"""Adapter: rule omega_a_fit -> g2chain.omega_a.pipeline.run_analysis, then run_systematics (one
analysis of one dataset: its fit, plot and systematic table).

A failure (non-converged fit, bad input) is written to the rule's log as one line and stops the
rule; no result file is written.
"""

import sys

from g2chain.omega_a.pipeline import run_analysis, run_systematics

sm = snakemake  # noqa: F821
step = "fit"
try:
    run_analysis(sm.config, sm.wildcards.dataset, sm.wildcards.analysis, sm.input.calorimeters,
                 sm.input.lost_muons, sm.input.groups, sm.output.result, sm.output.plot, sm.log.fit)
    step = "systematics"
    run_systematics(sm.config, sm.wildcards.dataset, sm.wildcards.analysis, sm.input.calorimeters,
                    sm.input.lost_muons, sm.input.groups, sm.output.result, sm.output.systematics,
                    sm.log.systematics)
except (ValueError, RuntimeError) as exc:
    label = "" if step == "fit" else " systematics"
    message = f"{sm.wildcards.dataset} {sm.wildcards.analysis}{label}: {type(exc).__name__}: {exc}"
    with open(sm.log.fit if step == "fit" else sm.log.systematics, "w") as log:
        log.write(message + "\n")
    sys.exit(message)
