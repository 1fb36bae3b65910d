"""Adapter: rule field_analysis -> g2chain.field.pipeline.run_field."""

from g2chain.field.pipeline import run_field

sm = snakemake  # noqa: F821
run_field(sm.config, sm.wildcards.dataset, sm.input.field, sm.input.trackers, sm.output.json, sm.output.png,
          sm.log[0])
