# omega_a analysis (Sec. IV): 19 blinded analyses per dataset and their relative unblinding.


rule omega_a_fit:
    conda:
        "../../environment.yml"
    input:
        calorimeters="results/{dataset}/experiment/calorimeters.h5",
        lost_muons="results/{dataset}/experiment/lost_muons.h5",
        groups=groups_of,
    output:
        result="results/{dataset}/analysis/omega_a/{analysis}.json",
        plot=report(
            "results/{dataset}/analysis/omega_a/{analysis}.png",
            caption="../report/omega_a_fit.rst",
            category="omega_a",
            subcategory="{dataset}",
        ),
    log:
        "logs/{dataset}/omega_a/{analysis}.log",
    resources:
        mem_mb=3000,
    script:
        "../scripts/omega_a_fit.py"


rule relative_unblind:
    conda:
        "../../environment.yml"
    input:
        results=lambda wc: expand("results/{dataset}/analysis/omega_a/{analysis}.json", dataset=wc.dataset,
                                  analysis=ANALYSES),
        groups="config/groups.yaml",
    output:
        table="results/{dataset}/analysis/omega_a/relative_unblind.json",
        plot=report("results/{dataset}/analysis/omega_a/comparison.png", caption="../report/omega_a_comparison.rst",
                    category="omega_a", subcategory="{dataset}"),
    log:
        "logs/{dataset}/omega_a/relative_unblind.log",
    script:
        "../scripts/relative_unblind.py"


rule omega_a:
    input:
        omega_a_outputs(),


rule omega_a_scans:
    conda:
        "../../environment.yml"
    input:
        calorimeters="results/{dataset}/experiment/calorimeters.h5",
        lost_muons="results/{dataset}/experiment/lost_muons.h5",
        groups=groups_of,
        result="results/{dataset}/analysis/omega_a/{analysis}.json",
    output:
        scans="results/{dataset}/analysis/omega_a/{analysis}.scans.json",
        plot=report(
            "results/{dataset}/analysis/omega_a/{analysis}.scans.png",
            caption="../report/omega_a_scans.rst",
            category="omega_a",
            subcategory="{dataset}",
        ),
    log:
        "logs/{dataset}/omega_a/{analysis}.scans.log",
    script:
        "../scripts/omega_a_scans.py"
