"""Adapter: rule measure_field -> g2chain.experiment.field_pipeline.write_field_measurements."""

from g2chain.experiment.field_pipeline import write_field_measurements

write_field_measurements(snakemake.params.config, snakemake.wildcards.dataset, snakemake.input.world,  # noqa: F821
                         snakemake.output[0])  # noqa: F821
