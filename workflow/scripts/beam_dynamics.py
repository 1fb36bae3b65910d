"""Adapter: rule beam_dynamics_analysis -> beam_dynamics.run_beam_dynamics.run_beam_dynamics, and its figure."""

from g2chain.beam_dynamics.run_beam_dynamics import run_beam_dynamics
from g2chain.figures.beam_dynamics import beam_dynamics_summary
from g2chain.io import one_line_failure

sm = snakemake  # noqa: F821
with one_line_failure(sm.log[0], f"{sm.wildcards.dataset} beam dynamics"):
    _, result = run_beam_dynamics(sm.params.config, sm.wildcards.dataset, sm.input.calorimeters, sm.input.trackers,
                                  sm.output.json)
    beam_dynamics_summary(result, sm.params.config["datasets"][sm.wildcards.dataset].get("label", sm.wildcards.dataset),
                          sm.output.png)
