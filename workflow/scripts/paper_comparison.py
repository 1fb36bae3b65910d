"""Adapter: rule paper_comparison -> combine.paper_comparison (the toy's budget beside the Run-2/3
report's tables) and its figure."""

from pathlib import Path

from g2chain.combine import paper_comparison as pc
from g2chain.figures.paper_comparison import budget_beside_paper
from g2chain.io import one_line_failure

sm = snakemake  # noqa: F821
with one_line_failure(sm.log[0], "paper_comparison"):
    rows = pc.comparison_from_files(list(sm.params.datasets), sm.input.budget, sm.input.averages,
                                    sm.input.corrections, positrons=sm.params.positrons, r_mu_path=sm.input.r_mu)
    Path(sm.output.csv).write_text(pc.comparison_csv(rows))
    Path(sm.output.md).write_text(pc.comparison_markdown(rows, pc.comparison_header(sm.params.positrons)))
    budget_beside_paper(rows, sm.output.png, "the toy's budget (blinded clock) beside the Run-2/3 report's")
