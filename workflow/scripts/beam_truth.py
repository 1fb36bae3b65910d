"""Adapter: rule beam_truth -> truth.beam.write_beam_truth."""

from g2chain.io import one_line_failure
from g2chain.truth.beam import write_beam_truth

sm = snakemake  # noqa: F821
with one_line_failure(sm.log[0], f"{sm.wildcards.dataset} beam truth"):
    write_beam_truth(sm.params.config, sm.wildcards.dataset, sm.input.world, sm.output[0])
