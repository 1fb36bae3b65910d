"""Adapter: rule omega_a_average -> g2chain.omega_a.pipeline.combined_pulls."""

from g2chain.omega_a.pipeline import combined_pulls

sm = snakemake  # noqa: F821
combined_pulls(list(sm.input), sm.output.pulls, sm.output.plot)
