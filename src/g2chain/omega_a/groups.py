"""The seven analysis groups (Table III) and the 19 analyses they run per dataset."""

from __future__ import annotations

from dataclasses import dataclass

from ..blinding import software_offset_ppm
from ..config import ConfigError, read_yaml, validate_against_schema
from ..records import binning
from .minimizer import RATIO_SMOOTHING_BINS

BASE_METHOD = {"T": "T", "A": "A", "Q": "Q", "RT": "T", "RA": "A", "RQ": "Q"}

# which parameters of model.PARAMS each optional term frees
TERM_PARAMS = {
    "cbo_N": ["A_cbo_N", "phi_cbo_N", "omega_cbo", "tau_cbo"],
    "cbo_A": ["A_cbo_A", "phi_cbo_A"],
    "cbo_phi": ["A_cbo_phi", "phi_cbo_phi"],
    "cbo_2": ["A_2cbo", "phi_2cbo"],
    "vw": ["A_vw", "phi_vw", "omega_vw", "tau_vw"],
    "y": ["A_y", "phi_y", "omega_y", "tau_y"],
    "vw_cbo": ["A_xy", "phi_xy"],
    "cbo_drift": ["A_drift", "tau_drift"],
    "ringing": ["A_ring", "phi_ring", "omega_ring", "tau_ring"],
}


@dataclass(frozen=True)
class AnalysisSpec:
    """Everything one of the 19 analyses needs to know about itself for one dataset."""

    group: str
    method: str  # T, A, Q, RT, RA, RQ
    dataset: str
    recon: str
    pileup: str
    window_us: tuple
    bin_us: float
    threshold_gev: float | None  # None: scanned for the best expected sigma_R (best_threshold)
    threshold_search_gev: tuple
    a_method_min_gev: float
    envelope: str
    terms: tuple
    tau: str  # free | fixed | penalized
    k_loss: str  # free | fixed0
    cbo_drift_tau: str  # free | fixed
    cbo_drift_tau_us: float
    tau_penalty_us: float
    seed: int
    delta_r_ppm: float  # the group's software blind (Eq. 5)

    @property
    def name(self) -> str:
        return f"{self.group}-{self.method}"

    @property
    def base_method(self) -> str:
        return BASE_METHOD[self.method]

    @property
    def is_ratio(self) -> bool:
        return self.method.startswith("R")

    def free_parameters(self) -> list:
        """The fit's free parameters (order of model.PARAMS)."""
        from .wiggle_model import PARAMS

        free = {"N0", "A0", "R", "phi0"}
        if self.tau == "free" or self.tau == "penalized":
            free.add("tau")
        for term in self.terms:
            free.update(TERM_PARAMS[term])
        if "cbo_N" in self.terms and self.envelope == "exp+C":
            free.add("C_cbo")
        if "cbo_drift" in self.terms and self.cbo_drift_tau == "fixed":
            free.discard("tau_drift")
        if self.k_loss == "free":
            free.add("k_loss")
        if self.is_ratio:
            free.discard("N0")  # the normalisation cancels in the ratio
        return [p for p in PARAMS if p in free]


def load_groups(path, schema_path, datasets=None) -> dict:
    """Read and validate config/groups.yaml (ConfigError with one line naming the file and key):
    the schema, no key twice, no two groups sharing a software-blind phrase or a randomization
    seed, and (given ``datasets``) every per-dataset envelope naming a dataset or a run."""
    cfg = read_yaml(path)
    validate_against_schema(cfg, schema_path)
    for field in ("phrase", "seed"):
        owner = {}
        for name, g in cfg["groups"].items():
            if g[field] in owner:
                raise ConfigError(f"config error: {path}: groups.{name}.{field}: the same as group "
                                  f"{owner[g[field]]}'s (each group needs its own {field})")
            owner[g[field]] = name
    for name, g in [("defaults", cfg["defaults"]), *((f"groups.{k}", v) for k, v in cfg["groups"].items())]:
        if "window_us" in g:
            _check_window(str(path), name, g["window_us"], float(g.get("bin_ns", cfg["defaults"]["bin_ns"])))
    if datasets is not None:
        allowed = set(datasets) | {"run2", "run3"}
        for name, g in cfg["groups"].items():
            for key in g.get("envelope", {}):
                if key not in allowed:
                    raise ConfigError(f"config error: {path}: groups.{name}.envelope.{key}: not a dataset "
                                      f"or run (datasets: {', '.join(sorted(datasets))}; runs: run2, run3)")
    return cfg


def _check_window(file: str, where: str, window, bin_ns: float):
    """A fit window must be ordered, inside the recorded time range and long enough for the
    variance smoothing of the fit (``minimizer.RATIO_SMOOTHING_BINS`` bins)."""
    lo, hi = (float(v) for v in window)
    key = f"config error: {file}: {where}.window_us: [{lo:g}, {hi:g}]"
    if not lo < hi:
        raise ConfigError(f"{key} is not ordered (start before end)")
    if lo < 0.0 or hi > binning.T_END_US:
        raise ConfigError(f"{key} is outside the recorded 0-{binning.T_END_US:.1f} us")
    need = RATIO_SMOOTHING_BINS * bin_ns * 1e-3
    if hi - lo < need:
        raise ConfigError(f"{key} spans {hi - lo:.1f} us; the fit's variance smoothing needs at least {need:.1f} us "
                          f"({RATIO_SMOOTHING_BINS} bins of {bin_ns:g} ns)")


def analysis_names(groups_cfg: dict) -> list:
    """'<group>-<method>' for every analysis, in Table III order."""
    return [f"{g}-{m}" for g, spec in groups_cfg["groups"].items() for m in spec["methods"]]


def analysis_spec(groups_cfg: dict, name: str, dataset: str) -> AnalysisSpec:
    """Resolve one analysis for one dataset (dataset-dependent choices of Table III applied)."""
    try:
        group, method = name.split("-", 1)
    except ValueError:
        raise ConfigError(f"analysis '{name}': expected '<group>-<method>', e.g. III-RA") from None
    groups = groups_cfg["groups"]
    if group not in groups:
        raise ConfigError(f"analysis '{name}': unknown group '{group}' (groups: {', '.join(groups)})")
    g = groups[group]
    if method not in g["methods"]:
        raise ConfigError(f"analysis '{name}': group {group} has no method '{method}' (methods: "
                          f"{', '.join(g['methods'])})")
    d = groups_cfg["defaults"]
    run = "run2" if dataset.startswith("run2") else "run3"
    envelope = g["envelope"].get(dataset, g["envelope"].get(run, "exp"))
    ratio = method.startswith("R")
    terms = tuple(g.get("ratio_terms", g["terms"])) if ratio else tuple(g["terms"])
    return AnalysisSpec(
        group=group, method=method, dataset=dataset, recon=g["recon"], pileup=g["pileup"],
        window_us=tuple(g.get("window_us", d["window_us"])), bin_us=float(g.get("bin_ns", d["bin_ns"])) * 1e-3,
        threshold_gev=_threshold(g.get("threshold_gev", d["threshold_gev"])),
        threshold_search_gev=tuple(d.get("threshold_search_gev", (1.0, 2.6))),
        a_method_min_gev=float(g.get("a_method_min_gev", d["a_method_min_gev"])),
        envelope=envelope, terms=terms,
        tau="fixed" if ratio else g["tau"],
        k_loss="fixed0" if ratio else g["k_loss"][run],
        cbo_drift_tau=g.get("cbo_drift_tau", "free"), cbo_drift_tau_us=float(d["cbo_drift_tau_us"]),
        tau_penalty_us=float(d["tau_penalty_us"]), seed=int(g["seed"]),
        delta_r_ppm=software_offset_ppm(g["phrase"]),
    )


def _threshold(value):
    return None if value == "auto" else float(value)
