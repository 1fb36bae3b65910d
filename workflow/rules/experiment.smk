# The toy experiment: sealed worlds (field, then the rest), chunked production, merge into what the
# detectors record; the field systems' records.


rule field_world:
    conda:
        "../../environment.yml"
    params:
        code=code("field_world.py"),
        config=lambda w: step_config(w, *FIELD_WORLD_CONFIG),
    output:
        "results/{dataset}/sealed/field_world.h5",
    log:
        "logs/{dataset}/field_world.log",
    script:
        "../scripts/field_world.py"


rule measure_field:
    conda:
        "../../environment.yml"
    input:
        world="results/{dataset}/sealed/field_world.h5",
    params:
        code=code("measure_field.py"),
        config=lambda w: step_config(w, *MEASURE_FIELD_CONFIG),
    output:
        "results/{dataset}/experiment/field.h5",
    log:
        "logs/{dataset}/measure_field.log",
    script:
        "../scripts/measure_field.py"


rule world:
    conda:
        "../../environment.yml"
    input:
        field_world="results/{dataset}/sealed/field_world.h5",
    params:
        code=code("world.py"),
        config=lambda w: step_config(w, *WORLD_CONFIG),
    output:
        "results/{dataset}/sealed/world.h5",
    log:
        "logs/{dataset}/world.log",
    script:
        "../scripts/world.py"


rule simulate_chunk:
    conda:
        "../../environment.yml"
    input:
        world="results/{dataset}/sealed/world.h5",
    params:
        code=code("simulate_chunk.py"),
        config=lambda w: step_config(w, *WORLD_CONFIG),
    output:
        temp("results/{dataset}/sealed/chunks/chunk_{chunk}.h5"),
    log:
        "logs/{dataset}/simulate_chunk_{chunk}.log",
    resources:
        mem_mb=2000,
    script:
        "../scripts/simulate_chunk.py"


rule merge:
    conda:
        "../../environment.yml"
    input:
        chunks=chunk_files,
        world="results/{dataset}/sealed/world.h5",
    params:
        code=code("merge.py"),
        config=lambda w: step_config(w, *dataset_blocks(detector=["pedestal_noise_gev"])),
    output:
        calorimeters="results/{dataset}/experiment/calorimeters.h5",
        trackers="results/{dataset}/experiment/trackers.h5",
        lost_muons="results/{dataset}/experiment/lost_muons.h5",
        truth="results/{dataset}/sealed/production_truth.h5",
        truth_json="results/{dataset}/sealed/production_truth.json",
    log:
        "logs/{dataset}/merge.log",
    resources:
        mem_mb=4000,
    script:
        "../scripts/merge.py"


rule summary_plot:
    conda:
        "../../environment.yml"
    input:
        calorimeters="results/{dataset}/experiment/calorimeters.h5",
        trackers="results/{dataset}/experiment/trackers.h5",
    params:
        code=code("summary_plot.py"),
    output:
        report("results/{dataset}/experiment/summary.png", caption="../report/summary.rst", category="Experiment"),
    log:
        "logs/{dataset}/summary_plot.log",
    script:
        "../scripts/summary_plot.py"


rule experiment:
    input:
        experiment_outputs(),
