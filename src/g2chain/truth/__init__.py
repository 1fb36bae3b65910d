"""Truth: the only code that reads sealed/ or computes a truth (DESIGN §2-3). The analysis
branches never import it; the workflow's sealed-rule adapters and the studies do."""
