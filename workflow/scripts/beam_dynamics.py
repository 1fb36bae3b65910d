"""Adapter: rule beam_dynamics_analysis -> g2chain.beam_dynamics.pipeline.run_beam_dynamics."""

from g2chain.beam_dynamics.pipeline import run_beam_dynamics

run_beam_dynamics(snakemake.config, snakemake.wildcards.dataset, snakemake.input.calorimeters,  # noqa: F821
                  snakemake.input.trackers, snakemake.output.json, snakemake.output.png)  # noqa: F821
