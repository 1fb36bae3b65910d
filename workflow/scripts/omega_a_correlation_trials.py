"""Adapter: rule omega_a_correlation_trials -> studies.correlation_jackknife.run_jackknife_job (method
"jackknife": the delete-one samples of the job's chunks) or studies.correlation_trials.run_correlation_trials
(method "trials": independent reduced productions)."""

from g2chain.io import one_line_failure
from g2chain.studies.correlation_jackknife import run_jackknife_job
from g2chain.studies.correlation_trials import run_correlation_trials, study_method

sm = snakemake  # noqa: F821
cfg, job = sm.params.config, int(sm.wildcards.job)
with one_line_failure(sm.log[0], f"correlation trials, job {job}"):
    if study_method(cfg["omega_a_correlations"]) == "jackknife":
        run_jackknife_job(cfg, job, sm.input.groups, sm.input.total, sm.input.chunks, sm.output[0], sm.log[0])
    else:
        run_correlation_trials(cfg, job, sm.input.groups, sm.output[0], sm.log[0])
