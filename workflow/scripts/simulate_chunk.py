"""Adapter: rule simulate_chunk -> g2chain.experiment.run_production.write_chunk."""

from g2chain.experiment.run_production import write_chunk

sm = snakemake  # noqa: F821
write_chunk(sm.params.config, sm.wildcards.dataset, int(sm.wildcards.chunk), sm.input.world, sm.output[0],
            log=sm.log[0])
