"""Adapter: rule world -> g2chain.experiment.run_production.write_world."""

from g2chain.experiment.run_production import write_world
from g2chain.io import one_line_failure

sm = snakemake  # noqa: F821
with one_line_failure(sm.log[0], f"{sm.wildcards.dataset} world"):
    write_world(sm.params.config, sm.wildcards.dataset, sm.output[0],
                sm.input.field_world)
