"""Adapter: rule beam_truth -> truth.beam.write_beam_truth."""

from g2chain.truth.beam import write_beam_truth

sm = snakemake  # noqa: F821
write_beam_truth(sm.params.config, sm.wildcards.dataset, sm.input.world, sm.output[0])
