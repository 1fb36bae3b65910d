"""Adapter: rule omega_a_fit -> g2chain.omega_a.pipeline.run_analysis (one analysis of one dataset).

A failure (non-converged fit, bad input) is written to the rule's log as one line and stops the
rule; no result file is written.
"""

import sys

from g2chain.omega_a.pipeline import run_analysis

sm = snakemake  # noqa: F821
try:
    run_analysis(sm.config, sm.wildcards.dataset, sm.wildcards.analysis, sm.input.calorimeters,
                 sm.input.lost_muons, sm.input.groups, sm.output.result, sm.output.plot, sm.log[0])
except (ValueError, RuntimeError) as exc:
    message = f"{sm.wildcards.dataset} {sm.wildcards.analysis}: {type(exc).__name__}: {exc}"
    with open(sm.log[0], "w") as log:
        log.write(message + "\n")
    sys.exit(message)
