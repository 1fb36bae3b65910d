"""Adapter: rule merge -> experiment.run_production.merge_dataset, and the truth's summary of it."""

from g2chain.experiment.run_production import merge_dataset, read_world
from g2chain.io import one_line_failure
from g2chain.truth.production import write_truth_summary

sm = snakemake  # noqa: F821
with one_line_failure(sm.log[0], f"{sm.wildcards.dataset} merge"):
    out = dict(sm.output.items())
    total = merge_dataset(sm.params.config, sm.wildcards.dataset, list(sm.input.chunks), out)
    write_truth_summary(out["truth_json"], sm.wildcards.dataset, total, read_world(sm.input.world))
