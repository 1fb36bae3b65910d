"""Adapter: rule omega_a_fit -> g2chain.omega_a.analysis (one analysis of one dataset)."""

from g2chain.omega_a.pipeline import run_analysis

sm = snakemake  # noqa: F821
run_analysis(sm.config, sm.wildcards.dataset, sm.wildcards.analysis, sm.input.calorimeters, sm.input.lost_muons,
             sm.input.groups, sm.output.result, sm.output.plot, sm.log[0])
