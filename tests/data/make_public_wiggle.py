"""Write a toy histogram in the format of the collaboration's public Run-3B wiggle (CSV columns
time [ns] at the bin centre, bin_content, bin_error; 149.2 ns bins), from a g2chain calorimeter
file: the local reconstruction summed over the 24 calorimeters above 1.7 GeV, no pileup or gain
correction (a calorimeter sum as the public file is). tests/data/toy_public_wiggle.csv was made
from the default config's run3b (session 24):

    python tests/data/make_public_wiggle.py results/run3b/experiment/calorimeters.h5 tests/data/toy_public_wiggle.csv
"""

import sys

import hist

from g2chain.omega_a.public import write_public_csv
from g2chain.records.hists import recorded_hist


def toy_public_histogram(calorimeters, threshold_gev: float = 1.7):
    """(bin centres in us, counts) of the calorimeter sum above the threshold."""
    h = recorded_hist(calorimeters, "local/calo")
    wiggle = h[{"calo": sum, "energy": slice(hist.loc(threshold_gev), None, sum)}]
    return wiggle.axes["t"].centers, wiggle.values()


if __name__ == "__main__":
    write_public_csv(sys.argv[2], *toy_public_histogram(sys.argv[1]))
