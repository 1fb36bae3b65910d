"""Adapter: rule measure_field -> g2chain.experiment.run_field_systems.write_field_measurements."""

from g2chain.experiment.run_field_systems import write_field_measurements

write_field_measurements(snakemake.params.config, snakemake.wildcards.dataset, snakemake.input.world,  # noqa: F821
                         snakemake.output[0])  # noqa: F821
