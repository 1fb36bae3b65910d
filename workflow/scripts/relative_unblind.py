"""Adapter: rule relative_unblind -> g2chain.omega_a.pipeline.relative_unblind."""

from g2chain.omega_a.pipeline import relative_unblind

sm = snakemake  # noqa: F821
relative_unblind(sm.wildcards.dataset, list(sm.input.results), sm.input.groups, sm.output.table, sm.output.plot)
