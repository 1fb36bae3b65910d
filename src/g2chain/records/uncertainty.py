"""The uncertainty categories of the ω_a systematic tables and the budget (Table V, Table XXIV)."""

from __future__ import annotations

CATEGORIES = ("cbo", "pileup", "gain", "slow term", "other")
