# The combination (Sec. VIII): R'_mu per dataset and combined, the ppb budget on the blinded
# clock, the unblinding (the only analysis-side rule that reads the hardware blind) and the
# closure against the sealed truth.


rule combine:
    conda:
        "../../environment.yml"
    input:
        **combination_inputs(),
    params:
        code=code("combine.py"),
        config=lambda w: step_config(w, "combination.constants"),
        datasets=DATASETS,
    output:
        json="results/combined/R_mu_blinded.json",
        csv="results/combined/budget_blinded.csv",
        md="results/combined/budget_blinded.md",
    log:
        "logs/combined/combine.log",
    script:
        "../scripts/combine.py"


rule unblind:
    conda:
        "../../environment.yml"
    input:
        **combination_inputs(),
        worlds=expand("results/{dataset}/sealed/world.h5", dataset=DATASETS),
    params:
        code=code("unblind.py"),
        config=lambda w: step_config(w, "combination.constants"),
        datasets=DATASETS,
    output:
        json="results/combined/a_mu.json",
        csv="results/combined/budget.csv",
        md="results/combined/budget.md",
        html=report("results/combined/budget.html", caption="../report/budget.rst", category="Combination"),
    log:
        "logs/combined/unblind.log",
    script:
        "../scripts/unblind.py"


rule closure:
    conda:
        "../../environment.yml"
    input:
        a_mu="results/combined/a_mu.json",
        averages=expand("results/{dataset}/analysis/omega_a/average.json", dataset=DATASETS),
        analyses=expand("results/{dataset}/analysis/omega_a/{analysis}.json", dataset=DATASETS, analysis=ANALYSES),
        corrections=expand("results/{dataset}/analysis/beam_dynamics/corrections.json", dataset=DATASETS),
        omega_p=expand("results/{dataset}/analysis/field/omega_p.json", dataset=DATASETS),
        worlds=expand("results/{dataset}/sealed/world.h5", dataset=DATASETS),
        production_truth=expand("results/{dataset}/sealed/production_truth.h5", dataset=DATASETS),
        production_truth_json=expand("results/{dataset}/sealed/production_truth.json", dataset=DATASETS),
        beam_truth=expand("results/{dataset}/sealed/beam_truth.json", dataset=DATASETS),
    params:
        code=code("closure.py"),
        datasets=DATASETS,
    output:
        json="results/combined/closure.json",
        png=report("results/combined/closure.png", caption="../report/closure.rst", category="Combination"),
    log:
        "logs/combined/closure.log",
    script:
        "../scripts/closure.py"


rule paper_comparison:
    conda:
        "../../environment.yml"
    input:
        budget="results/combined/budget_blinded.csv",
        r_mu="results/combined/R_mu_blinded.json",
        averages=expand("results/{dataset}/analysis/omega_a/average.json", dataset=DATASETS),
        corrections=expand("results/{dataset}/analysis/beam_dynamics/corrections.json", dataset=DATASETS),
    params:
        code=code("paper_comparison.py"),
        datasets=DATASETS,
        positrons=lambda w: {ds: float(config["datasets"][ds]["positrons"]) for ds in DATASETS},
    output:
        csv="results/combined/paper_comparison.csv",
        md="results/combined/paper_comparison.md",
        png=report("results/combined/paper_comparison.png", caption="../report/paper_comparison.rst",
                   category="Combination"),
    log:
        "logs/combined/paper_comparison.log",
    script:
        "../scripts/paper_comparison.py"
