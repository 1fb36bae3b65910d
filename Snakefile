# g2chain: the Muon g-2 analysis chain over a sealed-truth toy experiment.
# `snakemake --cores all` runs everything; branch targets: experiment.

configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/experiment.smk"


rule all:
    input:
        experiment_outputs(),
        expand("results/{dataset}/experiment/summary.png", dataset=DATASETS),
    default_target: True
