"""Adapter: rule field_world -> the dataset's sealed field world (experiment.run_field_systems)."""

from g2chain.experiment.run_field_systems import dataset_field_world, write_field_world
from g2chain.io import one_line_failure

sm = snakemake  # noqa: F821
with one_line_failure(sm.log[0], f"{sm.wildcards.dataset} field world"):
    world = dataset_field_world(sm.params.config, sm.wildcards.dataset)
    write_field_world(sm.params.config, sm.wildcards.dataset, world, sm.output[0])
