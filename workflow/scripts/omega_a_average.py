"""Adapter: rule omega_a_dataset_average -> g2chain.omega_a.run_omega_a.dataset_average."""

import sys

from g2chain.figures.omega_a import omega_a_average
from g2chain.omega_a.run_omega_a import dataset_average

sm = snakemake  # noqa: F821
try:
    record = dataset_average(sm.params.config, sm.wildcards.dataset, list(sm.input.results), list(sm.input.systematics),
                             sm.input.correlations, sm.input.groups, sm.output.average)
except ValueError as exc:
    message = f"{sm.wildcards.dataset} average: {exc}"
    with open(sm.log[0], "w") as log:
        log.write(message + "\n")
    sys.exit(message)
omega_a_average(record, sm.output.plot)
