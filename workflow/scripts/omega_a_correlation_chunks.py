"""Adapter: rule omega_a_correlation_chunks -> studies.correlation_jackknife.write_study_chunks."""

from g2chain.io import one_line_failure
from g2chain.studies.correlation_jackknife import write_study_chunks

sm = snakemake  # noqa: F821
with one_line_failure(sm.log[0], f"correlation study chunks, job {sm.wildcards.job}"):
    write_study_chunks(sm.params.config, int(sm.wildcards.job), sm.input.groups, sm.output[0], sm.log[0])
