"""Adapter: rule omega_a_correlation_trials -> g2chain.omega_a.pipeline.run_correlation_trials."""

from g2chain.omega_a.pipeline import run_correlation_trials

sm = snakemake  # noqa: F821
run_correlation_trials(sm.config, int(sm.wildcards.job), sm.input.groups, sm.output[0], sm.log[0])
