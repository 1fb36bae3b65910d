"""File I/O with the project's contracts (DESIGN §4).

Every HDF5 dataset carries a ``units`` attribute, every file ``schema_version``, ``config_hash``
and ``code_version``. Writes go to a temporary name and are renamed, and the bytes are
reproducible (no object timestamps). Reading a missing, truncated or foreign file raises
``DataFileError`` with a one-line message naming the file.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from contextlib import contextmanager
from pathlib import Path

import h5py
import numpy as np

from . import __version__

SCHEMA_VERSION = 1


class DataFileError(RuntimeError):
    """A data file is missing, truncated, or not a g2chain file of the expected kind."""


def config_hash(config: dict) -> str:
    """Stable short hash of a configuration mapping."""
    text = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _tmp_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp{os.getpid()}")


def write_h5(path, datasets: dict, attrs: dict | None = None, kind: str = "", cfg_hash: str = ""):
    """Write ``{name: (array, units)}`` (names may contain '/') to an HDF5 file atomically.

    Scalars are stored as datasets too. ``attrs`` go on the root group; values that h5py cannot
    store natively are written as JSON strings.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_name(path)
    with h5py.File(tmp, "w", track_order=False) as f:
        f.attrs["schema_version"] = SCHEMA_VERSION
        f.attrs["code_version"] = __version__
        f.attrs["config_hash"] = cfg_hash
        f.attrs["kind"] = kind
        for key, value in (attrs or {}).items():
            if isinstance(value, (dict, list, tuple)):
                value = json.dumps(value, sort_keys=True)
            f.attrs[key] = value
        for name in sorted(datasets):
            _ensure_groups(f, name)
            array, units = datasets[name]
            array = np.asarray(array)
            big = array.ndim > 0 and array.size > 1024
            dset = f.create_dataset(
                name,
                data=array,
                compression="gzip" if big else None,
                compression_opts=1 if big else None,
                shuffle=big,
                chunks=True if big else None,
                track_times=False,
            )
            dset.attrs["units"] = units
    os.replace(tmp, path)


def _ensure_groups(f, name: str):
    """Create the parent groups of ``name`` without modification times (reproducible bytes)."""
    parts = name.split("/")[:-1]
    path = ""
    for part in parts:
        parent = f[path] if path else f
        path = f"{path}/{part}" if path else part
        if part not in parent:
            gcpl = h5py.h5p.create(h5py.h5p.GROUP_CREATE)
            gcpl.set_obj_track_times(False)
            h5py.h5g.create(parent.id, part.encode(), gcpl=gcpl)


def read_h5(path, kind: str | None = None, names=None) -> tuple[dict, dict]:
    """Read datasets (all, or ``names``) and root attributes of a g2chain HDF5 file.

    Raises ``DataFileError`` naming the file if it is missing, unreadable, foreign, of another
    ``kind``, or lacks a requested dataset.
    """
    path = Path(path)
    if not path.exists():
        raise DataFileError(f"{path}: file not found")
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise DataFileError(f"{path}: not a readable HDF5 file ({str(exc).splitlines()[0]})") from None
    with f:
        if "schema_version" not in f.attrs:
            raise DataFileError(f"{path}: not a g2chain file (no schema_version attribute)")
        if kind is not None and f.attrs.get("kind") != kind:
            raise DataFileError(f"{path}: expected a '{kind}' file, found '{f.attrs.get('kind')}'")
        attrs = {k: (v.item() if hasattr(v, "item") else v) for k, v in f.attrs.items()}
        out = {}
        wanted = _dataset_names(f) if names is None else names
        for name in wanted:
            if name not in f:
                raise DataFileError(f"{path}: missing dataset '{name}'")
            try:
                out[name] = f[name][()]
            except OSError as exc:
                raise DataFileError(f"{path}: dataset '{name}' unreadable ({exc})") from None
    return out, attrs


def _dataset_names(f) -> list:
    """Every dataset's path in an open HDF5 file, in the file's order."""
    names = []
    f.visititems(lambda n, o: names.append(n) if isinstance(o, h5py.Dataset) else None)
    return names


class H5Views(Mapping):
    """The datasets of a g2chain HDF5 file as a read-only mapping, each read when first asked for:
    an analysis that needs a few of a file's views does not decompress the others. The file is
    checked as ``read_h5`` checks it when the mapping is made; ``attrs`` holds its root attributes."""

    def __init__(self, path, kind: str | None = None):
        self.path = Path(path)
        _, self.attrs = read_h5(self.path, kind, names=[])
        with h5py.File(self.path, "r") as f:
            self._names = _dataset_names(f)
        self._read = {}

    def __getitem__(self, name):
        if name not in self._read:
            if name not in self._names:
                raise KeyError(f"{self.path}: no dataset '{name}'")
            self._read[name] = read_h5(self.path, names=[name])[0][name]
        return self._read[name]

    def __iter__(self):
        return iter(self._names)

    def __len__(self):
        return len(self._names)


def write_json(path, obj: dict):
    """Write a JSON result atomically, keys sorted so that results diff cleanly."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_name(path)
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, default=_json_default) + "\n")
    os.replace(tmp, path)


def read_json(path) -> dict:
    """Read a JSON result; a missing or malformed file raises ``DataFileError``."""
    path = Path(path)
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise DataFileError(f"{path}: file not found") from None
    except json.JSONDecodeError as exc:
        raise DataFileError(f"{path}: not valid JSON ({exc})") from None


def _json_default(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"cannot serialise {type(obj)}")


@contextmanager
def one_line_failure(log_path, what: str):
    """For the workflow's scripts: an expected failure of a step (a missing, truncated or bad
    file, a fit that does not converge, a bad value) becomes one line naming ``what`` (the dataset,
    analysis or file), written to the rule's log and shown on the terminal, instead of a
    traceback. Nothing is written to the step's outputs (every writer renames a finished file)."""
    try:
        yield
    except (OSError, KeyError, ValueError, RuntimeError) as exc:
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        line = f"{what}: {type(exc).__name__}: {message}"
        if log_path:
            Path(log_path).parent.mkdir(parents=True, exist_ok=True)
            Path(log_path).write_text(line + "\n")
        raise SystemExit(line) from None
