"""Cosine and sine of a phase given in turns, for the production kernel.

Betatron and spin phases reach 10^4 rad by the end of a fill; libm's cos/sin then take their
slower reduction path and cost ~30 ns a pair. Here the phase arrives in turns, so the reduction
is exact (drop the integer part), and a degree-16 Taylor polynomial on [-pi/4, pi/4] is accurate
to 4e-16. Branch-free quadrant selection: decay phases are random, a branch would mispredict.
"""

from __future__ import annotations

import math

from numba import njit

_TWO_PI = 2.0 * math.pi


@njit(inline="always", cache=True, fastmath=True)
def cos_sin_turns(r):
    """(cos 2 pi r, sin 2 pi r) for any finite r."""
    r = r - math.floor(r + 0.5)  # [-1/2, 1/2] turns: exact in binary floating point
    q = math.floor(4.0 * r + 0.5)  # quadrant, -2..2
    z = (r - 0.25 * q) * _TWO_PI  # [-pi/4, pi/4]
    z2 = z * z
    s = z * (1.0 + z2 * (-1.0 / 6.0 + z2 * (1.0 / 120.0 + z2 * (-1.0 / 5040.0 + z2 * (
        1.0 / 362880.0 + z2 * (-1.0 / 39916800.0 + z2 * (1.0 / 6227020800.0 + z2 * (-1.0 / 1307674368000.0))))))))
    c = 1.0 + z2 * (-0.5 + z2 * (1.0 / 24.0 + z2 * (-1.0 / 720.0 + z2 * (1.0 / 40320.0 + z2 * (
        -1.0 / 3628800.0 + z2 * (1.0 / 479001600.0 + z2 * (-1.0 / 87178291200.0 + z2 * (1.0 / 20922789888000.0))))))))
    # rotate by q quarter turns: (c, s) -> (c, s), (-s, c), (-c, -s), (s, -c)
    iq = int(q) & 3
    odd = iq & 1
    a = s if odd else c
    b = c if odd else s
    return a * (1.0 - 2.0 * (((iq + 1) >> 1) & 1)), b * (1.0 - 2.0 * ((iq >> 1) & 1))
