"""Beam-dynamics corrections C_e, C_p, C_ml, C_dd, C_pa (Run-2/3 report Sec. V)."""
