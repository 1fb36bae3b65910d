"""Adapter: rule closure -> truth.closure.run_closure (reads the sealed truth), and its figure."""

from g2chain.figures.closure import closure_pulls
from g2chain.io import one_line_failure
from g2chain.truth.closure import run_closure

sm = snakemake  # noqa: F821
with one_line_failure(sm.log[0], "closure"):
    closure_pulls(run_closure(list(sm.params.datasets), sm.input, sm.output.json), sm.output.png)
