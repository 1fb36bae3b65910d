"""Configuration loading and validation against the JSON schema (DESIGN §10).

A bad key or value stops the run before any job, with one line naming the key.
"""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import yaml


class ConfigError(ValueError):
    """A configuration value or key is invalid; the message is one line naming it."""


def _path(error: jsonschema.ValidationError) -> str:
    return ".".join(str(p) for p in error.absolute_path) or "<top level>"


def _message(error: jsonschema.ValidationError) -> str:
    if error.validator == "additionalProperties":
        patterns = [re.compile(p) for p in error.schema.get("patternProperties", {})]
        extra = sorted(
            k for k in error.instance
            if k not in error.schema.get("properties", {}) and not any(p.search(k) for p in patterns)
        )
        where = _path(error)
        return f"unknown key '{extra[0] if extra else '?'}' in {where}"
    if error.validator == "required":
        return f"{_path(error)}: {error.message}"
    return f"{_path(error)}: {error.message}"


def validate_against_schema(cfg, schema_path):
    """Validate any YAML document against a JSON schema; ``ConfigError`` with one line on the first
    error. Errors are ordered by their position in the document so the message is reproducible."""
    schema = yaml.safe_load(Path(schema_path).read_text())
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(cfg), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        # the deepest error names the key most precisely
        best = jsonschema.exceptions.best_match(errors)
        raise ConfigError(f"config error: {_message(best)}")
    return cfg


def validate_config(cfg: dict, schema_path) -> dict:
    """Validate the workflow config against its schema, then the cross-key physics checks."""
    validate_against_schema(cfg, schema_path)
    # cross-key physics checks the schema cannot express
    for name, ds in cfg["datasets"].items():
        beam = {**cfg["beam"], **ds.get("beam", {})}
        if beam["scraping_mm"] >= 45.0:
            raise ConfigError(f"config error: datasets.{name}.beam.scraping_mm: must be below the 45 mm aperture")
        det = {**cfg["detector"], **ds.get("detector", {})}
        if det["tracker_y_min"] >= det["tracker_y_max"]:
            raise ConfigError(f"config error: datasets.{name}.detector.tracker_y_min: must be below tracker_y_max")
    corr = cfg["omega_a_correlations"]["dataset"]
    if corr not in cfg["datasets"]:
        raise ConfigError(f"config error: omega_a_correlations.dataset: '{corr}' is not one of the datasets "
                          f"({', '.join(sorted(cfg['datasets']))})")
    return cfg


def load_config(path, schema_path) -> dict:
    """Read a YAML config file and validate it."""
    try:
        cfg = yaml.safe_load(Path(path).read_text())
    except FileNotFoundError:
        raise ConfigError(f"config error: {path}: file not found") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config error: {path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    return validate_config(cfg, schema_path)
