# omega_a analysis (Sec. IV): 19 blinded analyses per dataset and their relative unblinding.


# One job fits an analysis and then builds its systematic table (Table V categories), which
# refits that nominal: one process instead of two saves the job start-up. A dataset's 19 analyses
# run in one job (omega_a_dataset_fits), `threads` at a time in forked workers that share one
# start-up (~1.7 s a job, as long as a ci fit itself; g2chain.workers). omega_a_fit makes an
# analysis outside the groups' list (another group or method asked for by name), alone.
ruleorder: omega_a_dataset_fits > omega_a_fit
ruleorder: omega_a_dataset_scans > omega_a_scans


rule omega_a_dataset_fits:
    conda:
        "../../environment.yml"
    input:
        calorimeters="results/{dataset}/experiment/calorimeters.h5",
        lost_muons="results/{dataset}/experiment/lost_muons.h5",
        groups="config/groups.yaml",
    params:
        code=code("omega_a_fit.py"),
        config=lambda w: step_config(w, "datasets.{dataset}.field_index", "omega_a_systematics"),
        analyses=ANALYSES,
    output:
        **fit_outputs(ANALYSES),
    log:
        **fit_logs(ANALYSES),
    threads: 4
    resources:
        mem_mb=lambda wildcards, threads: 1500 * threads,
    script:
        "../scripts/omega_a_fit.py"


rule omega_a_fit:
    conda:
        "../../environment.yml"
    input:
        calorimeters="results/{dataset}/experiment/calorimeters.h5",
        lost_muons="results/{dataset}/experiment/lost_muons.h5",
        groups=groups_of,
    params:
        code=code("omega_a_fit.py"),
        config=lambda w: step_config(w, "datasets.{dataset}.field_index", "omega_a_systematics"),
        analyses=lambda w: [w.analysis],
    output:
        **fit_outputs("{analysis}"),
    log:
        **fit_logs("{analysis}"),
    resources:
        mem_mb=1500,
    script:
        "../scripts/omega_a_fit.py"


rule relative_unblind:
    conda:
        "../../environment.yml"
    input:
        results=lambda wc: expand("results/{dataset}/analysis/omega_a/{analysis}.json", dataset=wc.dataset,
                                  analysis=ANALYSES),
        groups="config/groups.yaml",
    params:
        code=code("relative_unblind.py"),
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


rule omega_a_dataset_scans:
    conda:
        "../../environment.yml"
    input:
        calorimeters="results/{dataset}/experiment/calorimeters.h5",
        lost_muons="results/{dataset}/experiment/lost_muons.h5",
        groups="config/groups.yaml",
        result=expand("results/{{dataset}}/analysis/omega_a/{analysis}.json", analysis=SCANNED),
    params:
        code=code("omega_a_scans.py"),
        analyses=SCANNED,
    output:
        **scan_outputs(SCANNED),
    log:
        expand("logs/{{dataset}}/omega_a/{analysis}.scans.log", analysis=SCANNED),
    threads: 4
    resources:
        mem_mb=lambda wildcards, threads: 1500 * threads,
    script:
        "../scripts/omega_a_scans.py"


rule omega_a_scans:
    conda:
        "../../environment.yml"
    input:
        calorimeters="results/{dataset}/experiment/calorimeters.h5",
        lost_muons="results/{dataset}/experiment/lost_muons.h5",
        groups=groups_of,
        result="results/{dataset}/analysis/omega_a/{analysis}.json",
    params:
        code=code("omega_a_scans.py"),
        analyses=lambda w: [w.analysis],
    output:
        **scan_outputs("{analysis}"),
    log:
        "logs/{dataset}/omega_a/{analysis}.scans.log",
    script:
        "../scripts/omega_a_scans.py"


# The correlation study (Table XXVII) on a world of its own. method "jackknife" (default): one
# study production in `trials` chunks (jobs of trials_per_job), summed, then every analysis on each
# delete-one sample; "trials": independent reduced productions, each analysed by all 19.
rule omega_a_correlation_chunks:
    conda:
        "../../environment.yml"
    input:
        groups="config/groups.yaml",
    params:
        code=code("omega_a_correlation_chunks.py"),
        config=lambda w: step_config(w, *CORRELATION_STUDY_CONFIG),
    output:
        temp("results/combined/omega_a_correlation_study/chunks_{job}.npz"),
    log:
        "logs/combined/omega_a_correlation_study/chunks_{job}.log",
    resources:
        mem_mb=2000,
    script:
        "../scripts/omega_a_correlation_chunks.py"


rule omega_a_correlation_total:
    conda:
        "../../environment.yml"
    input:
        expand("results/combined/omega_a_correlation_study/chunks_{job}.npz",
               job=range(correlation_jobs(config["omega_a_correlations"]))),
    params:
        code=code("omega_a_correlation_total.py"),
    output:
        temp("results/combined/omega_a_correlation_study/total.npz"),
    log:
        "logs/combined/omega_a_correlation_study/total.log",
    resources:
        mem_mb=2000,
    script:
        "../scripts/omega_a_correlation_total.py"


rule omega_a_correlation_trials:
    conda:
        "../../environment.yml"
    input:
        unpack(correlation_study_inputs),
        groups="config/groups.yaml",
    params:
        code=code("omega_a_correlation_trials.py"),
        config=lambda w: step_config(w, *CORRELATION_STUDY_CONFIG),
    output:
        "results/combined/omega_a_correlation_trials/job_{job}.json",
    log:
        "logs/combined/omega_a_correlation_trials/job_{job}.log",
    resources:
        mem_mb=2000,
    script:
        "../scripts/omega_a_correlation_trials.py"


rule omega_a_correlations:
    conda:
        "../../environment.yml"
    input:
        expand("results/combined/omega_a_correlation_trials/job_{job}.json",
               job=range(correlation_jobs(config["omega_a_correlations"]))),
    params:
        code=code("omega_a_correlations.py"),
        config=lambda w: step_config(w, "omega_a_correlations"),
    output:
        h5="results/combined/omega_a_correlations.h5",
        text="results/combined/omega_a_correlations.txt",
        plot=report("results/combined/omega_a_correlations.png", caption="../report/omega_a_correlations.rst",
                    category="omega_a", subcategory="combined"),
    log:
        "logs/combined/omega_a_correlations.log",
    script:
        "../scripts/omega_a_correlations.py"


rule correlations:
    input:
        rules.omega_a_correlations.output,


rule omega_a_dataset_average:
    conda:
        "../../environment.yml"
    input:
        results=lambda wc: expand("results/{dataset}/analysis/omega_a/{analysis}.json", dataset=wc.dataset,
                                  analysis=ANALYSES),
        systematics=lambda wc: expand("results/{dataset}/analysis/omega_a/{analysis}.syst.json",
                                      dataset=wc.dataset, analysis=ANALYSES),
        correlations="results/combined/omega_a_correlations.h5",
        groups="config/groups.yaml",
    params:
        code=code("omega_a_average.py"),
        config=lambda w: step_config(w, "omega_a_average"),
    output:
        average="results/{dataset}/analysis/omega_a/average.json",
        plot=report("results/{dataset}/analysis/omega_a/average.png", caption="../report/omega_a_average.rst",
                    category="omega_a", subcategory="{dataset}"),
    log:
        "logs/{dataset}/omega_a/average.log",
    script:
        "../scripts/omega_a_average.py"


rule omega_a_average:
    conda:
        "../../environment.yml"
    input:
        expand("results/{dataset}/analysis/omega_a/average.json", dataset=DATASETS),
    params:
        code=code("omega_a_pulls.py"),
    output:
        pulls="results/combined/omega_a_pulls.json",
        plot=report("results/combined/omega_a_pulls.png", caption="../report/omega_a_pulls.rst", category="omega_a",
                    subcategory="combined"),
    log:
        "logs/combined/omega_a_pulls.log",
    script:
        "../scripts/omega_a_pulls.py"
