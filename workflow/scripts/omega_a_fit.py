"""Adapter: rules omega_a_dataset_fits (every analysis of a dataset) and omega_a_fit (one analysis
asked for by name) -> omega_a.run_omega_a.run_analysis_and_systematics (an analysis's fit and its
systematic table), and the fit's figure; the analyses run ``threads`` at a time in forked workers
(g2chain.workers).

A failure (non-converged fit, bad input) is written to the log of the failing step as one line;
the other analyses still run, then the job stops with those lines and writes no result.
"""

import sys

from g2chain.figures.omega_a import omega_a_fit
from g2chain.omega_a.run_omega_a import run_analysis_and_systematics
from g2chain.workers import map_forked

sm = snakemake  # noqa: F821
dataset, cfg = sm.wildcards.dataset, sm.params.config


def listed(paths):
    """A rule's output or log entry as a list (one path for rule omega_a_fit)."""
    return [paths] if isinstance(paths, str) else list(paths)


result, plot, systematics = listed(sm.output.result), listed(sm.output.plot), listed(sm.output.systematics)
log_fit, log_syst = listed(sm.log.fit), listed(sm.log.systematics)


def fit(i: int) -> str:
    """Analysis i of the job; '' or its failure's line."""
    name = sm.params.analyses[i]
    try:
        record, _, fits = run_analysis_and_systematics(cfg, dataset, name, sm.input.calorimeters, sm.input.lost_muons,
                                                       sm.input.groups, result[i], systematics[i], log_fit[i],
                                                       log_syst[i])
    except (ValueError, RuntimeError) as exc:
        return f"{dataset} {name}: {type(exc).__name__}: {exc}"
    omega_a_fit(fits, record, float(cfg["datasets"][dataset]["field_index"]), plot[i])
    return ""


failures = [line for line in map_forked(fit, range(len(sm.params.analyses)), sm.threads) if line]
if failures:
    sys.exit("\n".join(failures))
