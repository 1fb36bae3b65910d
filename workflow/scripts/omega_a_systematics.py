"""Adapter: rule omega_a_systematics -> g2chain.omega_a.pipeline.run_systematics."""

import sys

from g2chain.omega_a.pipeline import run_systematics

sm = snakemake  # noqa: F821
try:
    run_systematics(sm.config, sm.wildcards.dataset, sm.wildcards.analysis, sm.input.calorimeters,
                    sm.input.lost_muons, sm.input.groups, sm.input.result, sm.output[0], sm.log[0])
except (ValueError, RuntimeError) as exc:
    message = f"{sm.wildcards.dataset} {sm.wildcards.analysis} systematics: {type(exc).__name__}: {exc}"
    with open(sm.log[0], "w") as log:
        log.write(message + "\n")
    sys.exit(message)
