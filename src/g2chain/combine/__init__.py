"""The combination: R'_mu per dataset and combined, a_mu, the budget, unblinding and closure."""
