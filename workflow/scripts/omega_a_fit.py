"""Adapter: rule omega_a_fit -> omega_a.run_omega_a.run_analysis_and_systematics (one analysis of
one dataset: its fit and systematic table), and the fit's figure.

A failure (non-converged fit, bad input) is written to the log of the failing step as one line
and stops the rule; no result file is written.
"""

import sys

from g2chain.figures.omega_a import omega_a_fit
from g2chain.omega_a.run_omega_a import run_analysis_and_systematics

sm = snakemake  # noqa: F821
try:
    record, _, fits = run_analysis_and_systematics(
        sm.params.config, sm.wildcards.dataset, sm.wildcards.analysis, sm.input.calorimeters, sm.input.lost_muons,
        sm.input.groups, sm.output.result, sm.output.systematics, sm.log.fit, sm.log.systematics)
except (ValueError, RuntimeError) as exc:
    sys.exit(f"{sm.wildcards.dataset} {sm.wildcards.analysis}: {type(exc).__name__}: {exc}")
omega_a_fit(fits, record, float(sm.params.config["datasets"][sm.wildcards.dataset]["field_index"]), sm.output.plot)
