"""The field instruments as built: where the trolley's and the fixed-probe stations' probes sit,
and which multipoles a station resolves (Sec. VI C-D)."""

from __future__ import annotations

import numpy as np

from ..physics.multipoles import multipole_basis


def trolley_probe_positions() -> np.ndarray:
    """(x, y) in mm of the 17 trolley probes: one at the centre, 4 on a 17.5 mm circle, 12 on a
    35 mm circle every 30 degrees. With the outer ring at multiples of 30 degrees, cos 6 theta
    (i = 12) is resolved and sin 6 theta vanishes at every outer probe: that degeneracy is why
    the expansion stops at N_max = 12 (Sec. VI D)."""
    inner = np.deg2rad(np.arange(4) * 90.0)
    outer = np.deg2rad(np.arange(12) * 30.0)
    r = np.concatenate([[0.0], np.full(4, 17.5), np.full(12, 35.0)])
    th = np.concatenate([[0.0], inner, outer])
    return np.column_stack([r * np.cos(th), r * np.sin(th)])


PROBE_Y_MM = 77.0


STATION_MOMENTS = {6: (0, 1, 2, 3, 4), 4: (0, 1, 2, 4)}  # indices i-1 of the moments a station resolves


def station_probe_positions(n_probes: int) -> np.ndarray:
    """(x, y) in mm of a station's probes: three or two radial positions, above and below."""
    if n_probes not in STATION_MOMENTS:
        raise ValueError(f"n_probes: stations have 4 or 6 probes, not {n_probes}")
    xs = (-30.0, 0.0, 30.0) if n_probes == 6 else (-30.0, 30.0)
    return np.array([(x, y) for y in (PROBE_Y_MM, -PROBE_Y_MM) for x in xs])


def station_design(n_probes: int) -> np.ndarray:
    """[probes x 12] trolley-basis functions at the probes; the station resolves the columns
    STATION_MOMENTS[n_probes]."""
    xy = station_probe_positions(n_probes)
    return multipole_basis(xy[:, 0], xy[:, 1], 12).T
