"""The beam-dynamics corrections as typed results (Sec. V, Tables VII-X).

Every correction is in ppb at eps_hw = 0 (the blinded clock). Its ``record`` is what
corrections.json holds for it: the value under ``<name>_ppb``, ``stat_ppb`` and ``syst_ppb``
(evaluated here), ``systematics_ppb`` (the evaluated systematic sources), ``external_ppb``
(uncertainties quoted from outside the toy: they enter the budget marked *external*, never as
evaluated) and the method details. The other fields are what the figure or a later correction
reads; they are never written.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Correction:
    """One correction of one dataset: ``name`` (C_e, C_p, C_dd, C_ml, C_pa) and its ``record``."""

    name: str
    record: dict

    @property
    def value_ppb(self) -> float:
        return self.record[f"{self.name}_ppb"]


@dataclass
class EfieldCorrection(Correction):
    """C_e (Sec. V A). The inflation convention: ``record["syst_ppb"]`` is ``record["inflation"]``
    (1.5, Sec. V A 3) times the quadrature of ``record["systematics_ppb"]``, which are the parts
    *before* the inflation; a combination must weigh the methods by those parts and inflate once.
    ``chi2_fit``: the chi^2 method's joint momentum-time fit (C_dd reads its population);
    ``fourier``: the Fourier method's distribution; ``ratio``: (t, fast-rotation ratio);
    ``profile``: (tau edges, early profile); ``tracker``: the trackers' method, once combined;
    ``model_closure``: the chi^2 method on a signal made from its own fit (``efield.ModelClosure``)."""

    chi2_fit: dict
    fourier: dict
    ratio: tuple
    profile: tuple
    tracker: dict | None = None
    model_closure: object | None = None


@dataclass
class PitchCorrection(Correction):
    """C_p (Sec. V B) with the vertical amplitude distribution of method 2 (mm, weights)."""

    amplitudes_mm: np.ndarray
    amplitude_weights: np.ndarray


@dataclass
class MuonLossCorrection(Correction):
    """C_ml (Eq. 23) with the trackers' fitted radial drift (``muon_loss.radial_drift``)."""

    drift: dict


@dataclass
class PhaseAcceptanceCorrection(Correction):
    """C_pa (Eq. 35-37) with phi_pa(t) at the times ``t_us`` and its slope fit."""

    t_us: np.ndarray
    phi_pa: np.ndarray
    phi_fit: dict


@dataclass
class BeamDynamicsResult:
    """The five corrections of one dataset."""

    C_e: EfieldCorrection
    C_p: PitchCorrection
    C_dd: Correction
    C_ml: MuonLossCorrection
    C_pa: PhaseAcceptanceCorrection

    def corrections(self) -> dict:
        """{name: Correction} in the order of Table VII-X."""
        return {c.name: c for c in (self.C_e, self.C_p, self.C_ml, self.C_dd, self.C_pa)}
