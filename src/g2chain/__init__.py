"""g2chain: the Muon g-2 analysis chain, from detector records to a_mu, over a sealed-truth toy."""

__version__ = "0.1.0"
