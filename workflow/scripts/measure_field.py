"""Adapter: rule measure_field -> g2chain.experiment.run_field_systems.write_field_measurements."""

from g2chain.experiment.run_field_systems import write_field_measurements
from g2chain.io import one_line_failure

sm = snakemake  # noqa: F821
with one_line_failure(sm.log[0], f"{sm.wildcards.dataset} field measurements"):
    write_field_measurements(sm.params.config, sm.wildcards.dataset, sm.input.world,
                             sm.output[0])
