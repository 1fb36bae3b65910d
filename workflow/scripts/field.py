"""Adapter: rule field_analysis -> g2chain.field.pipeline.run_field."""

from g2chain.field.pipeline import run_field

run_field(snakemake.config, snakemake.wildcards.dataset, snakemake.input.field, snakemake.input.trackers,  # noqa: F821
          snakemake.output.json, snakemake.output.png)  # noqa: F821
