# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # A first hour with g2chain
#
# This is a notebook in jupytext's percent format. Open it in Jupyter with
# `jupytext --to notebook docs/tutorial.py`, or in an editor that runs `# %%` cells. You can also
# run it as a script from the project root, which is how the tests run it on the ci config.
#
# In one hour:
# 1. run the chain on the tiny ci world;
# 2. look at a wiggle, fit it, and read the residuals' FFT;
# 3. change one condition and rerun the one branch it touches;
# 4. read the uncertainty budget and the closure against the sealed truth;
# 5. put the toy beside the Run-2/3 report (PRD 110, 032009).

# %%
import json
import os
import subprocess
import sys
from pathlib import Path

import hist
import matplotlib

if "ipykernel" not in sys.modules:
    matplotlib.use("Agg")  # run as a script: draw to files
import matplotlib.pyplot as plt
import numpy as np

if Path.cwd().name == "docs":
    os.chdir("..")  # a notebook opened in docs/: everything below runs from the project root
CI = ["--configfile", "config/ci.yaml"]
OUT = Path("results/tutorial")
OUT.mkdir(parents=True, exist_ok=True)


def snakemake(*args):
    """Run Snakemake as you would in a terminal, and show its last lines."""
    run = subprocess.run([sys.executable, "-m", "snakemake", "--cores", "2", *args, *CI], capture_output=True,
                         text=True)
    print("\n".join((run.stdout + run.stderr).strip().splitlines()[-4:]))
    run.check_returncode()
    return run.stdout + run.stderr


# %% [markdown]
# ## 1. Run the chain
# The ci world is three datasets (Run-2, Run-3a, Run-3b conditions) of 2×10⁶ positrons each. Its
# field, ω_a, beam-dynamics and combination branches run to a_μ, the budget and the closure in a
# few minutes on two cores. If the run has been made before, Snakemake finds nothing to do.

# %%
snakemake("results/combined/closure.json", "results/combined/budget_blinded.md",
          "results/combined/paper_comparison.md")

# %% [markdown]
# ## 2. A wiggle, its fit and its residuals
# Every recorded histogram loads as a `hist.Hist` with named axes. The T method sums the 24
# calorimeters above an energy threshold (Sec. IV A).

# %%
from g2chain.omega_a.public import fit_public, read_public_wiggle  # noqa: E402
from g2chain.records.hists import recorded_hist  # noqa: E402

calo = recorded_hist("results/run2/experiment/calorimeters.h5", "local/calo")
wiggle = calo[{"calo": sum, "energy": slice(hist.loc(1.7), None, sum)}]
print(f"run2 (ci): {wiggle[hist.loc(30.0):].sum():.3g} positrons above 1.7 GeV after 30 us")

# %% [markdown]
# A five-parameter fit (Eq. 6) leaves the coherent betatron oscillation (CBO) in the residuals,
# and the Eq. 7 fit removes it. At the ci world's 2×10⁶ positrons the CBO is at the noise level.
# `tests/data/toy_public_wiggle.csv` is the default world's run3b calorimeter sum (10⁸ positrons),
# written in the format of the collaboration's public Run-3B file. `fit_public` fits it with the
# fitter the 19 analyses use, as `g2chain fit-public` does. There the residual FFT shows the CBO at
# f_CBO ≈ 0.37 MHz (Table II at n = 0.108).

# %%
fit = fit_public(read_public_wiggle("tests/data/toy_public_wiggle.csv"), 0.108)
rec = fit.record
print(f"R = {rec['R_ppm']:.1f} ± {rec['R_err_ppm']:.1f} ppm, chi2/ndf = {rec['chi2']:.0f}/{rec['ndf']}; "
      f"five-parameter chi2/ndf = {rec['five_parameter']['chi2']:.0f}/{rec['five_parameter']['ndf']}")

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4))
wiggle[hist.loc(30.0):hist.loc(130.0)].plot(ax=ax1)
ax1.set_title("ci run2: T method above 1.7 GeV")
for spectrum, label in ((fit.fits.spectrum5, "five-parameter fit"), (fit.fits.spectrum_full, "Eq. 7 fit")):
    ax2.plot(*spectrum, lw=0.6, label=label)
ax2.set_title("default world's run3b: residual FFT")
ax2.set_xlabel("frequency [MHz]")
ax2.set_ylabel("|FFT of pulls|")
ax2.legend()
fig.savefig(OUT / "wiggle_and_fft.png", dpi=90)

# the CBO line: the largest residual peak of the five-parameter fit, gone in the full fit
freq, amp5 = fit.fits.spectrum5
peak = freq[np.argmax(np.where(freq > 0.1, amp5, 0.0))]
print(f"largest residual line of the five-parameter fit: {peak:.3f} MHz")

# %% [markdown]
# ## 3. Change one condition, rerun one branch
# Snakemake reruns exactly what a change makes stale. Measuring the field with the trolley every
# 6 days instead of the default interval changes the field measurement and its analysis (ω̃'_p)
# and the combination. The production and the ω_a fits are left alone. The same call without
# `--config` goes back: Snakemake reruns the field branch with the ci config's interval.

# %%
before = json.loads(Path("results/run2/analysis/field/omega_p.json").read_text())
log = snakemake("results/run2/analysis/field/omega_p.json", "--config", "field={trolley_interval_days: 6}")
after = json.loads(Path("results/run2/analysis/field/omega_p.json").read_text())
jobs = {ln.split()[1].rstrip(":") for ln in log.splitlines() if ln.startswith(("rule ", "localrule "))}
print("reran:", sorted(jobs))
for name, rec in (("before", before), ("after", after)):
    print(f"{name}: {rec['trolley_runs']} trolley runs, omega~'_p = {rec['omega_p_tilde_hz']:.3f} ± "
          f"{rec['omega_p_tilde_err_hz']['total']:.3f} Hz")

# %% [markdown]
# ## 4. The budget and the closure
# `budget_blinded.md` is the Table XXIV-shaped uncertainty budget, with a_μ still blinded.
# `closure.json` compares every stage with the sealed truth as pulls: value − truth over the
# evaluated σ.

# %%
print("\n".join(Path("results/combined/budget_blinded.md").read_text().splitlines()[:25]))
closure = json.loads(Path("results/combined/closure.json").read_text())
print(f"a_mu pull {closure['combined']['a_mu']['pull']:+.2f}; {closure['summary']['n_pulls']} stage pulls, "
      f"rms {closure['summary']['std']:.2f}, largest |pull| {closure['summary']['max_abs']:.2f}")

# %% [markdown]
# ## 5. Beside the paper
# `paper_comparison.md` puts each Table XXIV row of the toy beside the report's. At ci statistics
# the statistical rows are far larger. `config/paper.yaml` makes the Run-2/3 world (README,
# "Paper scale").

# %%
print("\n".join(Path("results/combined/paper_comparison.md").read_text().splitlines()[:30]))
