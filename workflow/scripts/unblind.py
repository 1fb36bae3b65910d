"""Adapter: rule unblind -> combine.run_combination.run_unblind with the hardware blinds that
truth.closure.hardware_blinds reads from the sealed worlds."""

from g2chain.combine.run_combination import run_unblind
from g2chain.io import one_line_failure
from g2chain.truth.closure import hardware_blinds

sm = snakemake  # noqa: F821
with one_line_failure(sm.log[0], "unblind"):
    run_unblind(sm.params.config, list(sm.params.datasets), list(sm.input.averages), list(sm.input.corrections),
                list(sm.input.omega_p), hardware_blinds(list(sm.input.worlds)), sm.output.json, sm.output.csv,
                sm.output.md, sm.output.html)
