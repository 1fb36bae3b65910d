# The beam-dynamics branch (Sec. V): C_e and C_p per dataset, and the sealed expectation-level
# truth of every correction (C_ml, C_dd, C_pa included) for closure.


rule beam_truth:
    conda:
        "../../environment.yml"
    input:
        world="results/{dataset}/sealed/world.h5",
    params:
        code=code("beam_truth.py"),
        config=lambda w: step_config(w, "seed", "beam_dynamics.truth_muons", *dataset_scalars(), *dataset_blocks()),
    output:
        "results/{dataset}/sealed/beam_truth.json",
    log:
        "logs/{dataset}/beam_truth.log",
    script:
        "../scripts/beam_truth.py"


rule beam_dynamics_analysis:
    conda:
        "../../environment.yml"
    input:
        calorimeters="results/{dataset}/experiment/calorimeters.h5",
        trackers="results/{dataset}/experiment/trackers.h5",
    params:
        code=code("beam_dynamics.py"),
        config=lambda w: step_config(w, "beam_dynamics.efield", "beam_dynamics.pitch", "beam_dynamics.phase_drifts",
                                     *dataset_scalars(), "detector_model"),
    output:
        json="results/{dataset}/analysis/beam_dynamics/corrections.json",
        png=report("results/{dataset}/analysis/beam_dynamics/beam_dynamics.png",
                   caption="../report/beam_dynamics.rst", category="Beam dynamics"),
    log:
        "logs/{dataset}/beam_dynamics.log",
    script:
        "../scripts/beam_dynamics.py"


rule beam_dynamics:
    input:
        expand("results/{dataset}/analysis/beam_dynamics/corrections.json", dataset=DATASETS),


# The experiment side's expectation-level truth for closure (the analysis never reads it).
rule beam_truth_all:
    input:
        expand("results/{dataset}/sealed/beam_truth.json", dataset=DATASETS),
