"""Adapter: rule summary_plot -> figures.experiment.experiment_summary."""

from g2chain.figures.experiment import experiment_summary
from g2chain.io import one_line_failure

sm = snakemake  # noqa: F821
with one_line_failure(sm.log[0], f"{sm.wildcards.dataset} summary plot"):
    experiment_summary(sm.input.calorimeters, sm.input.trackers, sm.output[0], title=sm.wildcards.dataset)
