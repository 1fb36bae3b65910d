"""Adapter: rule summary_plot -> figures.experiment.experiment_summary."""

from g2chain.figures.experiment import experiment_summary

sm = snakemake  # noqa: F821
experiment_summary(sm.input.calorimeters, sm.input.trackers, sm.output[0], title=sm.wildcards.dataset)
