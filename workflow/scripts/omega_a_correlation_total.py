"""Adapter: rule omega_a_correlation_total -> studies.correlation_jackknife.sum_chunks."""

from g2chain.io import one_line_failure
from g2chain.studies.correlation_jackknife import sum_chunks

sm = snakemake  # noqa: F821
with one_line_failure(sm.log[0], "correlation study total"):
    sum_chunks(list(sm.input), sm.output[0])
