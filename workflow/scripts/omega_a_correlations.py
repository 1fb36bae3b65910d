"""Adapter: rule omega_a_correlations -> g2chain.omega_a.pipeline.combine_correlations."""

from g2chain.io import config_hash
from g2chain.omega_a.pipeline import combine_correlations

sm = snakemake  # noqa: F821
combine_correlations(list(sm.input), sm.output.h5, sm.output.plot, sm.output.text, config_hash(sm.config))
