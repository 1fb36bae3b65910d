"""Adapter: rule world -> g2chain.experiment.run_production.write_world."""

from g2chain.experiment.run_production import write_world

write_world(snakemake.params.config, snakemake.wildcards.dataset, snakemake.output[0],  # noqa: F821
            snakemake.input.field_world)  # noqa: F821
