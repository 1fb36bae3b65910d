"""Studies simulate and analyse in one process, on worlds of their own (their own seed, a_mu and
blinds), never the sealed one: the omega_a correlation trials."""
