"""Adapter: rule field_world -> g2chain.experiment.field_pipeline.write_field_world."""

from g2chain.experiment.field_pipeline import write_field_world

write_field_world(snakemake.config, snakemake.wildcards.dataset, snakemake.output[0])  # noqa: F821
