"""Adapter: rule relative_unblind -> omega_a.run_omega_a.relative_unblind, and the comparison plot."""

from g2chain.figures.omega_a import omega_a_comparison
from g2chain.io import one_line_failure
from g2chain.omega_a.run_omega_a import relative_unblind

sm = snakemake  # noqa: F821
with one_line_failure(sm.log[0], f"{sm.wildcards.dataset} relative unblinding"):
    table = relative_unblind(sm.wildcards.dataset, list(sm.input.results), sm.input.groups, sm.output.table)
    omega_a_comparison(table["analyses"], sm.output.plot,
                       f"{sm.wildcards.dataset}: relative unblinding of the omega_a analyses")
