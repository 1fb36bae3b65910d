"""Adapter: rule field_world -> the dataset's field world (experiment) and its truth (truth.field)."""

from g2chain.experiment.run_field_systems import dataset_field_world, write_field_world
from g2chain.io import one_line_failure
from g2chain.truth.field import field_truth

sm = snakemake  # noqa: F821
with one_line_failure(sm.log[0], f"{sm.wildcards.dataset} field world"):
    world = dataset_field_world(sm.params.config, sm.wildcards.dataset)
    truth = field_truth(sm.params.config, sm.wildcards.dataset, world)
    write_field_world(sm.params.config, sm.wildcards.dataset, world, truth, sm.output[0])
