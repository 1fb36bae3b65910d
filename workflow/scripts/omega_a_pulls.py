"""Adapter: rule omega_a_average -> omega_a.run_omega_a.combined_pulls, and the pull histogram."""

from g2chain.figures.omega_a import omega_a_pulls
from g2chain.io import one_line_failure
from g2chain.omega_a.run_omega_a import combined_pulls

sm = snakemake  # noqa: F821
with one_line_failure(sm.log[0], "omega_a pulls"):
    record, per = combined_pulls(list(sm.input), sm.output.pulls)
    omega_a_pulls(per, sm.output.plot, record["std_if_perfect"])
