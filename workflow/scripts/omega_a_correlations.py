"""Adapter: rule omega_a_correlations -> omega_a.run_omega_a.combine_correlations, and the heat map
beside the paper's Table XXVII."""

from g2chain.figures.omega_a import omega_a_correlations
from g2chain.io import config_hash, one_line_failure
from g2chain.omega_a.correlations import paper_correlations
from g2chain.omega_a.run_omega_a import combine_correlations, sample_name

sm = snakemake  # noqa: F821
with one_line_failure(sm.log[0], "omega_a correlations"):
    corr = combine_correlations(list(sm.input), sm.output.h5, sm.output.text, config_hash(sm.params.config))
    paper_labels, paper_rho = paper_correlations()
    omega_a_correlations(corr["rho"], corr["analyses"], paper_rho, paper_labels, sm.output.plot,
                         f"{corr['attrs']['dataset']} conditions, {corr['trials_used']} "
                         f"{sample_name(corr['attrs'])} x "
                         f"{corr['attrs']['positrons_per_trial']:.1e} e+")
