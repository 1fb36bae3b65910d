"""Adapter: rule closure -> g2chain.combine.pipeline.run_closure (reads the sealed truth)."""

from g2chain.combine.pipeline import run_closure

sm = snakemake  # noqa: F821
run_closure(sorted(sm.config["datasets"]), sm.input, sm.output.json, sm.output.png)
