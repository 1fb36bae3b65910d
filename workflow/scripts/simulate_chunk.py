"""Adapter: rule simulate_chunk -> g2chain.experiment.run_production.write_chunk."""

from g2chain.experiment.run_production import write_chunk
from g2chain.io import one_line_failure

sm = snakemake  # noqa: F821
with one_line_failure(sm.log[0], f"{sm.wildcards.dataset} chunk {sm.wildcards.chunk}"):
    write_chunk(sm.params.config, sm.wildcards.dataset, int(sm.wildcards.chunk), sm.input.world, sm.output[0],
                log=sm.log[0])
