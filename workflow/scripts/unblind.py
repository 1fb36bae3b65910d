"""Adapter: rule unblind -> g2chain.combine.pipeline.run_unblind (reads the hardware blinds)."""

from g2chain.combine.pipeline import run_unblind

sm = snakemake  # noqa: F821
run_unblind(sm.config, sorted(sm.config["datasets"]), list(sm.input.averages), list(sm.input.corrections),
            list(sm.input.omega_p), list(sm.input.worlds), sm.output.json, sm.output.csv, sm.output.md,
            sm.output.html)
