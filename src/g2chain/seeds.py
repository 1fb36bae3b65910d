"""Stable seeds (DESIGN §4): every random stream is SeedSequence(seed, spawn_key=(dataset, ...))."""

from __future__ import annotations

import zlib


def dataset_key(dataset: str) -> int:
    """Stable integer for a dataset name (adding datasets never changes another's stream)."""
    return zlib.crc32(dataset.encode())
