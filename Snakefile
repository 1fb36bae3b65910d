# g2chain: the Muon g-2 analysis chain over a sealed-truth toy experiment.
# `snakemake --cores all` runs everything; branch targets: experiment, omega_a, omega_a_average,
# correlations, field, beam_dynamics, combine, unblind, closure.

configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/experiment.smk"
include: "workflow/rules/omega_a.smk"
include: "workflow/rules/field.smk"
include: "workflow/rules/beam_dynamics.smk"
include: "workflow/rules/combine.smk"


rule all:
    input:
        experiment_outputs(),
        expand("results/{dataset}/experiment/summary.png", dataset=DATASETS),
        omega_a_outputs(),
        "results/combined/omega_a_pulls.json",
        expand("results/{dataset}/analysis/field/omega_p.json", dataset=DATASETS),
        expand("results/{dataset}/analysis/beam_dynamics/corrections.json", dataset=DATASETS),
        "results/combined/budget_blinded.md",
        "results/combined/a_mu.json",
        "results/combined/closure.json",
    default_target: True
