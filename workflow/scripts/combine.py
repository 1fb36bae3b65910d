"""Adapter: rule combine -> g2chain.combine.run_combination.run_combine."""

from g2chain.combine.run_combination import run_combine
from g2chain.io import one_line_failure

sm = snakemake  # noqa: F821
with one_line_failure(sm.log[0], "combine"):
    run_combine(sm.params.config, list(sm.params.datasets), list(sm.input.averages), list(sm.input.corrections),
                list(sm.input.omega_p), sm.output.json, sm.output.csv, sm.output.md)
