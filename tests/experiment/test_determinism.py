"""Seeds (DESIGN §4): the same config gives the same bytes; the chunking changes the random
stream, not the physics."""

import numpy as np

from g2chain.experiment.run_production import write_chunk, write_world

from ..conftest import produce
from ..helpers import sha256_of as _sha


def test_same_config_same_bytes(tmp_path, base_cfg):
    cfg = {**base_cfg, "datasets": {"run2": {**base_cfg["datasets"]["run2"], "positrons": 2e4, "chunks": 2}}}
    from g2chain.experiment.run_field_systems import dataset_field_world, write_field_world

    write_field_world(cfg, "run2", dataset_field_world(cfg, "run2"), tmp_path / "field_world.h5")
    write_world(cfg, "run2", tmp_path / "world.h5", tmp_path / "field_world.h5")
    for name in ("a", "b"):
        write_chunk(cfg, "run2", 1, tmp_path / "world.h5", tmp_path / f"{name}.h5")
    assert _sha(tmp_path / "a.h5") == _sha(tmp_path / "b.h5")


def test_chunking_changes_stream_not_physics(base_cfg):
    one, _ = produce(base_cfg, positrons=4e5, chunk=0, n_chunks=1)
    halves = [produce(base_cfg, positrons=2e5, chunk=c, n_chunks=2)[0] for c in (0, 1)]
    assert not np.array_equal(one["calo_hist"], halves[0]["calo_hist"])
    a = one["calo_hist"][0].sum(axis=(0, 2)).astype(float)
    b = sum(h["calo_hist"][0].sum(axis=(0, 2)) for h in halves).astype(float)
    ok = (a + b) > 50
    chi2 = np.sum((a[ok] - b[ok]) ** 2 / (a[ok] + b[ok]))
    assert chi2 < ok.sum() + 5 * np.sqrt(2 * ok.sum())
