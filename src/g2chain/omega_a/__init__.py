"""omega_a analysis: histograms, corrections, fits."""
