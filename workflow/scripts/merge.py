"""Adapter: rule merge -> g2chain.experiment.pipeline.merge_dataset."""

from g2chain.experiment.pipeline import merge_dataset

sm = snakemake  # noqa: F821
merge_dataset(sm.config, sm.wildcards.dataset, list(sm.input.chunks), sm.input.world, dict(sm.output.items()))
