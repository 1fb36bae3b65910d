"""Adapter: rule summary_plot -> g2chain.plots.experiment_summary."""

from g2chain.plots import experiment_summary

sm = snakemake  # noqa: F821
experiment_summary(sm.input.calorimeters, sm.input.trackers, sm.output[0], title=sm.wildcards.dataset)
