"""Adapter: rule field_analysis -> field.run_field.run_field, and its figure."""

from g2chain.field.run_field import run_field
from g2chain.figures.field import field_summary
from g2chain.io import one_line_failure

sm = snakemake  # noqa: F821
with one_line_failure(sm.log[0], f"{sm.wildcards.dataset} field analysis"):
    _, result = run_field(sm.params.config, sm.wildcards.dataset, sm.input.field, sm.input.trackers, sm.output.json,
                          sm.log[0])
    ds = sm.wildcards.dataset
    field_summary(result, sm.output.png, title=sm.params.config["datasets"][ds].get("label", ds))
