# The field branch (Sec. VI): omega~'_p, B_K, B_Q and the Table XXII-shaped uncertainty table.


rule field_analysis:
    conda:
        "../../environment.yml"
    input:
        field="results/{dataset}/experiment/field.h5",
        trackers="results/{dataset}/experiment/trackers.h5",
    params:
        code=code("field.py"),
        config=lambda w: step_config(w, *field_keys(FIELD_ANALYSIS_KEYS), "datasets.{dataset}.field_index",
                                     "datasets.{dataset}.label", "detector_model"),
    output:
        json="results/{dataset}/analysis/field/omega_p.json",
        png=report("results/{dataset}/analysis/field/field.png", caption="../report/field.rst", category="Field"),
    log:
        "logs/{dataset}/field_analysis.log",
    script:
        "../scripts/field.py"


rule field:
    input:
        expand("results/{dataset}/analysis/field/omega_p.json", dataset=DATASETS),
