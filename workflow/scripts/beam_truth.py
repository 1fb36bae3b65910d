"""Adapter: rule beam_truth -> g2chain.experiment.beam_truth.write_beam_truth."""

from g2chain.experiment.beam_truth import write_beam_truth

write_beam_truth(snakemake.config, snakemake.wildcards.dataset, snakemake.input.world, snakemake.output[0])  # noqa: F821
