"""Adapter: rule omega_a_correlation_trials -> studies.correlation_trials.run_correlation_trials."""

from g2chain.io import one_line_failure
from g2chain.studies.correlation_trials import run_correlation_trials

sm = snakemake  # noqa: F821
with one_line_failure(sm.log[0], f"correlation trials, job {sm.wildcards.job}"):
    run_correlation_trials(sm.params.config, int(sm.wildcards.job), sm.input.groups, sm.output[0], sm.log[0])
