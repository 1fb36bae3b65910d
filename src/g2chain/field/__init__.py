"""The magnetic-field branch (Run-2/3 report Sec. VI): multipoles, tracking, muon weighting."""
