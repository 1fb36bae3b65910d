"""The workflow on the tiny ci config: the ci config runs once per session (fixture ``ci_run`` of
conftest.py: everything `rule all` builds but 35 of the 36 scans), and each branch is checked on
it by a test of its own, so that one branch's failure does not hide another's."""

import subprocess
import sys

import numpy as np
import pytest

from g2chain.io import read_h5, read_json
from g2chain.truth.closure import correction_pull

from ..conftest import ROOT, copy_workflow
from ..helpers import sha256_of as _sha


def analysis_results(folder) -> list:
    """The analyses' result files of a folder ("III-RA.json"; not scans, systematics, averages)."""
    return sorted(p for p in folder.glob("*-*.json") if p.name.count(".") == 1)


def sealed_datasets(work):
    """(dataset folder, eps_hw, true_omega(record)) per dataset of a workflow run: the sealed world
    and production truth, read here only; true_omega gives the omega_a^m an analysis record's
    energy weights and window select from the truth."""
    from g2chain.truth.closure import production_truth, true_omega_a_m

    for ds_dir in sorted((work / "results").iterdir()):
        if not (ds_dir / "sealed").is_dir():
            continue
        world, _ = read_h5(ds_dir / "sealed" / "world.h5", kind="world")
        truth = production_truth(ds_dir / "sealed" / "production_truth.h5")

        def true_omega(rec, truth=truth, world=world):
            return true_omega_a_m(truth, float(world["omega_a_ref"]), rec)

        yield ds_dir, float(world["eps_hw"]), true_omega


def omega_a_closure_pulls(work) -> dict:
    """(omega_a^m measured - true) / sigma for each analysis result of a workflow run, both blinds
    removed here: the group's software offset (phrase) and the hardware blind (sealed world)."""
    from g2chain.blinding import software_offset_ppm
    from g2chain.io import read_json
    from g2chain.omega_a.groups import load_groups
    from g2chain.omega_a.wiggle_model import omega_from_r

    groups = load_groups(work / "config" / "groups.yaml", work / "workflow" / "schemas" / "groups.schema.yaml")
    pulls = {}
    for ds_dir, eps_hw, true_omega in sealed_datasets(work):
        for path in analysis_results(ds_dir / "analysis" / "omega_a"):
            rec = read_json(path)
            omega = omega_from_r(rec["R_ppm"], software_offset_ppm(groups["groups"][rec["group"]]["phrase"]))
            omega /= 1.0 + eps_hw
            pulls[f"{ds_dir.name}/{rec['analysis']}"] = (omega / true_omega(rec) - 1) * 1e6 / rec["R_err_ppm"]
    return pulls


def omega_a_average_closure(work) -> dict:
    """Per dataset, (average omega_a^m - truth) / sigma(stat + syst) of average.json, the truth
    being the equal-weight mean of the averaged analyses' true omega_a^m (each depends on the
    analysis' energy weights); the hardware blind is removed here, from the sealed world."""
    from g2chain.io import read_json

    out = {}
    for ds_dir, eps_hw, true_omega in sealed_datasets(work):
        folder = ds_dir / "analysis" / "omega_a"
        avg = read_json(folder / "average.json")
        true = float(np.mean([true_omega(read_json(folder / f"{n}.json")) for n in avg["analyses_averaged"]]))
        eq = avg["equal_weight"]
        out[ds_dir.name] = (eq["omega_a_m_rad_per_us"] / (1.0 + eps_hw) / true - 1) * 1e6 / eq["total_ppm"]
    return out


def field_closure(work) -> dict:
    """Per dataset, (omega~'_p - truth) / evaluated uncertainty and the B_K, B_Q pulls of
    omega_p.json against what the production's T-method muons experienced (sealed, read only here)."""
    from g2chain.io import read_json

    out = {}
    for ds_dir in sorted((work / "results").iterdir()):
        if not (ds_dir / "sealed" / "production_truth.json").exists():
            continue
        truth = read_json(ds_dir / "sealed" / "production_truth.json")["methods"]["T"]
        rec = read_json(ds_dir / "analysis" / "field" / "omega_p.json")
        evaluated = rec["omega_p_tilde_err_hz"]["evaluated"]
        out[ds_dir.name] = {
            "omega_p": (rec["omega_p_tilde_hz"] - truth["omega_p_tilde_hz"]) / evaluated,
            "omega_p_ppb": (rec["omega_p_tilde_hz"] / truth["omega_p_tilde_hz"] - 1) * 1e9,
            "evaluated_ppb": rec["uncertainty_ppb"]["omega_p_evaluated"],
            "B_K": (rec["B_K_ppb"] - truth["B_K_ppb"]) / rec["B_K_err_ppb"],
            "B_Q": (rec["B_Q_ppb"] - truth["B_Q_ppb"]) / rec["B_Q_err_ppb"],
        }
    return out


@pytest.mark.workflow
def test_ci_workflow_runs_and_analysis_never_reads_sealed(ci_run):
    work = ci_run
    dry = subprocess.run([sys.executable, "-m", "snakemake", "-n", "-F", "--cores", "1", "--configfile",
                          "config/ci.yaml"], cwd=work, capture_output=True, text=True, timeout=300)
    assert dry.returncode == 0, dry.stderr[-2000:]
    allowed = {"world", "simulate_chunk", "merge", "measure_field", "field_world", "beam_truth", "unblind",
               "closure"}
    rule = None
    for line in dry.stdout.splitlines():
        if line.startswith(("rule ", "localrule ")):
            rule = line.split()[1].rstrip(":")
        elif line.strip().startswith("input:") and rule not in allowed:
            assert "sealed/" not in line, f"rule {rule} reads sealed truth: {line}"


@pytest.mark.workflow
def test_experiment_branch(ci_run):
    work = ci_run
    # the ci run itself (fixture ci_run: everything `rule all` builds but 35 of the 36 scans)
    for ds in ("run2", "run3a", "run3b"):
        for name in ("calorimeters.h5", "trackers.h5", "lost_muons.h5", "summary.png"):
            assert (work / "results" / ds / "experiment" / name).stat().st_size > 0


@pytest.mark.workflow
def test_omega_a_branch(ci_run):
    work = ci_run
    # closure of every analysis of every dataset against the sealed truth (read only here)
    pulls = omega_a_closure_pulls(work)
    assert len(pulls) == 57, sorted(pulls)
    bad = {k: round(v, 2) for k, v in pulls.items() if not abs(v) < 3}
    assert not bad, bad
    # statistical errors ordered as in Table IV: A beats T in every group, Q is worse than A
    for ds in ("run2", "run3a", "run3b"):
        folder = work / "results" / ds / "analysis" / "omega_a"
        err = {p.stem: read_json(p)["R_err_ppm"] for p in analysis_results(folder)}
        for group in ("I", "II", "III", "IV", "V", "VI"):
            assert err[f"{group}-A"] < err[f"{group}-T"], (ds, group, err)
        assert err["VII-Q"] > max(err[f"{g}-A"] for g in ("I", "II", "III", "IV", "V", "VI")), (ds, err)
    assert (work / "results/run2/analysis/omega_a/I-A.scans.png").stat().st_size > 0
    # systematics, correlations and the dataset average (issue 4)
    for ds in ("run2", "run3a", "run3b"):
        for path in (work / "results" / ds / "analysis" / "omega_a").glob("*-*.syst.json"):
            assert set(read_json(path)["categories"]) == {"cbo", "pileup", "gain", "slow term", "other"}
    corr, attrs = read_h5(work / "results/combined/omega_a_correlations.h5", kind="omega_a_correlations")
    rho = corr["rho"]
    assert rho.shape == (19, 19) and np.allclose(rho, rho.T) and np.all(np.diag(rho) == 1.0)
    assert np.linalg.eigvalsh(rho).min() > -1e-10 and attrs["trials_used"] >= 7
    for ds, pull in omega_a_average_closure(work).items():
        avg = read_json(work / "results" / ds / "analysis" / "omega_a" / "average.json")
        print(f"{ds}: average closure pull {pull:+.2f}; pairs {avg['pulls']['n_pairs']}, "
              f"pull std {avg['pulls']['std']:.2f}")
        assert abs(pull) < 3, (ds, pull)
        assert avg["pulls"]["n_pairs"] == 171


@pytest.mark.workflow
def test_omega_a_names_a_negative_bin(ci_run, tmp_path):
    """Bad input reaching the analysis: a negative bin in a copy of the data is named in one line."""
    import shutil

    import h5py

    from g2chain.omega_a.histograms import HistogramError
    from g2chain.omega_a.run_omega_a import run_analysis

    work = ci_run
    bad = tmp_path / "bad_calorimeters.h5"
    shutil.copy(work / "results/run2/experiment/calorimeters.h5", bad)
    with h5py.File(bad, "r+") as f:
        f["local/sum_fine"][3, 1000] = -7
    cfg = {"datasets": {"run2": {"field_index": 0.108}}}
    with pytest.raises(HistogramError, match=r"^local/sum_fine: 1 bins are negative$"):
        run_analysis(cfg, "run2", "I-T", bad, work / "results/run2/experiment/lost_muons.h5",
                     work / "config/groups.yaml", tmp_path / "I-T.json")
    assert not (tmp_path / "I-T.json").exists()


@pytest.mark.workflow
def test_field_branch(ci_run):
    work = ci_run
    # the field branch (issue 5): closure of omega~'_p within 3x its evaluated uncertainty, B_K and
    # B_Q within 3 sigma
    for ds, pulls in field_closure(work).items():
        print(f"{ds}: field closure {pulls['omega_p_ppb']:+.1f} ppb (evaluated {pulls['evaluated_ppb']:.1f} ppb), "
              f"B_K pull {pulls['B_K']:+.2f}, B_Q pull {pulls['B_Q']:+.2f}")
        assert abs(pulls["omega_p"]) < 3 and abs(pulls["B_K"]) < 3 and abs(pulls["B_Q"]) < 3, (ds, pulls)
    from g2chain.cli import show

    table = show(work / "results/run3b/analysis/field/omega_p.json")
    assert "Transient ESQ" in table and "correlated" in table


@pytest.mark.workflow
def test_field_methods_study_reruns_only_the_field(ci_run):
    work = ci_run
    # a methods study: a new trolley interval reruns the field measurements and analysis only
    study = subprocess.run([sys.executable, "-m", "snakemake", "field", "-n", "--cores", "1", "--configfile",
                            "config/ci.yaml", "--config", "field={trolley_interval_days: 6}"], cwd=work,
                           capture_output=True, text=True, timeout=300)
    assert study.returncode == 0, study.stderr[-2000:]
    jobs = {line.split()[1].rstrip(":") for line in study.stdout.splitlines()
            if line.startswith(("rule ", "localrule "))}
    assert jobs == {"measure_field", "field_analysis", "field"}, jobs


@pytest.mark.workflow
def test_field_bad_inputs_are_handled_or_named(ci_run, tmp_path):
    """Bad field records reaching the analysis through the rule's function: a short fixed-probe
    gap and a dead trolley probe are handled (documented rules), a long gap and a time axis that
    runs backwards stop it with one line naming the problem."""
    import shutil

    import h5py
    import yaml

    from g2chain.config import overlay, validate_config
    from g2chain.field.run_field import run_field
    from g2chain.io import read_json

    work = ci_run
    cfg = overlay(yaml.safe_load((work / "config/config.yaml").read_text()),
                yaml.safe_load((work / "config/ci.yaml").read_text()))
    validate_config(cfg, work / "workflow/schemas/config.schema.yaml")
    good = work / "results/run2/experiment/field.h5"
    trackers = work / "results/run2/experiment/trackers.h5"
    nominal = read_json(work / "results/run2/analysis/field/omega_p.json")

    def analyse(edit, name):
        bad = tmp_path / f"{name}.h5"
        shutil.copy(good, bad)
        with h5py.File(bad, "r+") as f:
            edit(f)
        return run_field(cfg, "run2", bad, trackers, tmp_path / f"{name}.json")[0]

    def short_gap(f):
        f["fixed_probes/station_05"][100:103, :] = np.nan  # 30 min of one station: bridged linearly

    def dead_probe(f):
        f["trolley/readings"][2, :, 7] = np.nan  # probe 7 dead for a whole run: fitted without it

    sigma = nominal["omega_p_tilde_err_hz"]["evaluated"]
    for edit, name in ((short_gap, "short_gap"), (dead_probe, "dead_probe")):
        rec = analyse(edit, name)
        shift = rec["omega_p_tilde_hz"] - nominal["omega_p_tilde_hz"]
        assert np.isfinite(rec["omega_p_tilde_hz"]) and abs(shift) < 0.1 * sigma, (name, shift, sigma)

    def long_gap(f):
        f["fixed_probes/station_05"][100:130, :] = np.nan  # five hours

    def backwards(f):
        t = f["fixed_probes/times_s"][...]
        t[50], t[51] = t[51], t[50]
        f["fixed_probes/times_s"][...] = t

    for edit, name, message in ((long_gap, "long_gap", r"station 5: .*gap"),
                                (backwards, "backwards", r"not increasing")):
        with pytest.raises(ValueError, match=message) as err:
            analyse(edit, name)
        assert "\n" not in str(err.value)
        assert not (tmp_path / f"{name}.json").exists()


@pytest.mark.workflow
def test_beam_dynamics_branch(ci_run):
    work = ci_run
    # the beam-dynamics branch: C_p closes on the production's truth, C_dd, C_ml and C_pa on the
    # sealed expectation-level truth (pulls as the closure takes them: ``correction_pull``); C_e,
    # from three methods, on the production's truth
    for ds in ("run2", "run3a", "run3b"):
        corr = read_json(work / "results" / ds / "analysis/beam_dynamics/corrections.json")
        truth = read_json(work / "results" / ds / "sealed/production_truth.json")["methods"]["T"]
        cp = corr["corrections"]["C_p"]
        pull = (cp["value"] - truth["mean_cp_ppb"]) / np.hypot(cp["stat"], cp["syst"])
        ce = corr["corrections"]["C_e"]
        print(f"{ds}: C_p pull {pull:+.2f}; C_e {ce['value']:.0f} +- {np.hypot(ce['stat'], ce['syst']):.0f} ppb "
              f"(blinded clock), truth {truth['mean_ce_ppb']:.0f}")
        assert abs(pull) < 3, (ds, pull)
        assert set(corr["C_e"]["methods"]) == {"chi2", "fourier", "tracker"} and 0 < ce["value"] < 2000
        # C_e on the true clock (the fast-rotation methods' eps_hw slope applied) against the
        # production's detected-positron average
        eps = float(read_h5(work / "results" / ds / "sealed/world.h5", kind="world")[0]["eps_hw"])
        pull = (ce["value"] + eps * ce["dvalue_deps"] - truth["mean_ce_ppb"]) / np.hypot(ce["stat"], ce["syst"])
        print(f"{ds}: C_e pull {pull:+.2f}")
        assert abs(pull) < 3, (ds, "C_e", pull)
        bt = read_json(work / "results" / ds / "sealed/beam_truth.json")
        assert abs(bt["C_e_ppb"] / truth["mean_ce_ppb"] - 1) < 0.05, (ds, bt["C_e_ppb"])
        for name in ("C_dd", "C_ml", "C_pa"):
            c = corr["corrections"][name]
            pull = correction_pull(c, bt[f"{name}_ppb"], eps)["pull"]
            print(f"{ds}: {name} {c['value']:.0f} ppb, truth {bt[f'{name}_ppb']:.0f}, pull {pull:+.2f}")
            assert abs(pull) < 3, (ds, name, pull)
        assert (work / "results" / ds / "analysis/beam_dynamics/beam_dynamics.png").stat().st_size > 0


@pytest.mark.workflow
def test_combination_and_closure(ci_run):
    """Issue 7 on the ci run: the budget has every Table XXIV row, and the closure of every stage
    and of a_mu is within 3 sigma."""
    from g2chain.combine.budget import ROWS

    work = ci_run
    md = (work / "results/combined/budget.md").read_text()
    for q, _, _ in ROWS:
        assert f"| {q} |" in md, q
    assert "blinded clock" in (work / "results/combined/budget_blinded.md").read_text()
    rec = read_json(work / "results/combined/a_mu.json")
    assert set(rec["datasets"]) == {"run2", "run3a", "run3b"} and rec["blinded"] is False
    clo = read_json(work / "results/combined/closure.json")
    for ds, stages in clo["datasets"].items():
        print(ds, "closure:", {k: round(v["pull"], 2) for k, v in stages.items()})
        bad = {k: round(v["pull"], 2) for k, v in stages.items() if not abs(v["pull"]) < 3}
        assert not bad, (ds, bad)
    a = clo["combined"]["a_mu"]
    print(f"a_mu closure: {(a['value'] / a['truth'] - 1) * 1e9:+.0f} ppb, pull {a['pull']:+.2f} "
          f"(evaluated only {clo['combined']['a_mu_evaluated']['pull']:+.2f})")
    assert abs(a["pull"]) < 3
    assert (work / "results/combined/closure.png").stat().st_size > 0


@pytest.mark.workflow
def test_budget_regression(ci_run):
    """The ci budget matches the regression reference within its tolerances."""
    from g2chain.combine.budget import budget_values, compare_to_reference, read_reference, unguarded_entries

    work = ci_run
    # the CI regression of the budget (tests/regression/budget_ci.csv; tolerances from the seed spread)
    text = (ROOT / "tests/regression/budget_ci.csv").read_text()
    bad = compare_to_reference(read_reference(text), budget_values((work / "results/combined/budget.csv").read_text()),
                               unguarded_entries(text))
    assert not bad, "budget regression:\n" + "\n".join(bad)


@pytest.mark.workflow
def test_same_config_on_one_core_gives_the_same_bytes(ci_run, tmp_path):
    work = ci_run
    # the same config on one core, in a fresh copy, gives the same bytes
    fresh = copy_workflow(tmp_path / "again")
    again = subprocess.run([sys.executable, "-m", "snakemake", "results/run2/experiment/calorimeters.h5",
                            "--cores", "1", "--configfile", "config/ci.yaml"],
                           cwd=fresh, capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stderr[-3000:]
    calorimeters = "results/run2/experiment/calorimeters.h5"
    assert _sha(fresh / calorimeters) == _sha(work / calorimeters)
