"""The toy experiment: a per-muon physics simulation whose truth is sealed."""
