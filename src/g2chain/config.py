"""Configuration loading and validation against the JSON schema (DESIGN §10).

A bad key or value stops the run before any job, with one line naming the key.
"""

from __future__ import annotations

import copy
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


class _StrictLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (YAML keeps the last one
    silently: a second group 'III' would replace the first)."""


def _no_duplicates(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise ConfigError(f"duplicate key '{key}' (line {key_node.start_mark.line + 1})")
        seen.add(key)
    return loader.construct_mapping(node, deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _no_duplicates)


def read_yaml(path) -> dict:
    """A YAML file read strictly (no key twice); ConfigError with one line naming the file."""
    path = Path(path)
    try:
        return yaml.load(path.read_text(), Loader=_StrictLoader)  # noqa: S506 (a SafeLoader)
    except FileNotFoundError:
        raise ConfigError(f"config error: {path}: file not found") from None
    except ConfigError as exc:
        raise ConfigError(f"config error: {path}: {exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config error: {path}: not valid YAML ({str(exc).splitlines()[0]})") from None


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


_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def _subschema(schema, key):
    """The schema of ``key`` inside an object ``schema`` (properties, then patternProperties)."""
    if not isinstance(schema, dict):
        return None
    if key in schema.get("properties", {}):
        return schema["properties"][key]
    for pattern, sub in schema.get("patternProperties", {}).items():
        if re.search(pattern, str(key)):
            return sub
    extra = schema.get("additionalProperties")
    return extra if isinstance(extra, dict) else None


def _wants_number(schema) -> bool:
    """Whether a string value there should be read as a number: the schema asks for one and not
    for a string (no schema there: as before, a number)."""
    types = schema.get("type") if isinstance(schema, dict) else None
    if types is None:
        return True
    types = {types} if isinstance(types, str) else set(types)
    return bool(types & {"number", "integer"}) and "string" not in types


def typed_numbers(obj, schema=None):
    """Numbers given as strings become numbers where the schema asks for a number, recursively.
    Snakemake reads a nested ``--config field='{trolley_interval_days: 6}'`` with every value a
    string; the schema then sees what the user meant. A string the schema asks for stays a string
    (a blinding phrase "1e5")."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            obj[key] = typed_numbers(value, _subschema(schema, key))
        return obj
    if isinstance(obj, list):
        items = schema.get("items") if isinstance(schema, dict) else None
        return [typed_numbers(v, items) for v in obj]
    if isinstance(obj, str) and _NUMBER.match(obj.strip()) and _wants_number(schema):
        return int(obj) if re.fullmatch(r"[+-]?\d+", obj.strip()) else float(obj)
    return obj


def _check_field(dataset: str, common: dict, own: dict):
    """Cross-key checks of a dataset's field settings, each naming the key where it is set (the
    dataset's own ``field`` block or the common one): a plan that cannot run stops here, before a
    world with no stored muons could put a NaN into the truth."""
    field = {**common, **own}

    def fail(key, why):
        where = f"datasets.{dataset}.field.{key}" if key in own else f"field.{key}"
        raise ConfigError(f"config error: {where}: {why}")

    for key in ("m1_hz", "multipole_ratios_ppb"):
        if key not in field:
            fail(key, f"missing for dataset {dataset} (its field world)")
    every, span = field["access_interval_days"], field["dataset_days"]
    for key in ("dataset_days", "trolley_interval_days"):
        n = field[key] / every
        if abs(n - round(n)) > 1e-6 or round(n) < 1:
            fail(key, f"{field[key]} is not a whole number of access intervals ({every} days)")
    runs = round(span / every) // round(field["trolley_interval_days"] / every) + 1
    if round(span / every) % round(field["trolley_interval_days"] / every):
        fail("trolley_interval_days", f"{field['trolley_interval_days']} does not divide dataset_days ({span})")
    if runs < 3:
        fail("trolley_interval_days", f"{runs} trolley runs in {span} days; tracking offsets need at least 3")
    if field["trolley_run_hours"] > field["access_hours"]:
        fail("trolley_run_hours", f"longer than an access ({field['access_hours']} h)")
    if field["access_hours"] >= 24.0 * every:
        fail("access_hours", f"the beam would be off all the time (accesses every {every} days)")
    if any(day > span for day in field["ramp_days"]):
        fail("ramp_days", f"a ramp after the dataset's {span} days")
    if max(field["ramp_days"], default=-1.0) >= 0 and field["ramp_wait_hours"] >= 24.0 * span:
        fail("ramp_wait_hours", "no muons would be stored after the ramp")
    if "configuration" in field:  # the collimators' field must not reach a fixed-probe station
        c = field["configuration"]
        for phi in c["azimuths_deg"]:
            gap = 2.5 - abs((phi - 2.5) % 5.0 - 2.5)  # to the nearest station (every 5 degrees from 2.5)
            if gap < 4.0 * c["width_deg"]:
                fail("configuration", f"a collimator at {phi} deg is {gap:.2f} deg from a fixed-probe station, "
                                      f"within 4 widths ({c['width_deg']} deg)")
    if field["passage_window_s"] <= field["footprint_half_width_s"] + 30.0:
        fail("passage_window_s", f"must exceed footprint_half_width_s + 30 s ({field['footprint_half_width_s']} s "
                                 "replaced, 30 s of baseline each side)")


def validate_config(cfg: dict, schema_path) -> dict:
    """Validate the workflow config against its schema, then the cross-key physics checks.
    Numbers given as strings (a nested ``--config`` value) are typed first, in place."""
    typed_numbers(cfg, yaml.safe_load(Path(schema_path).read_text()))
    validate_against_schema(cfg, schema_path)
    # cross-key physics checks the schema cannot express
    for name, ds in cfg["datasets"].items():
        merged = dataset_settings(cfg, name)
        beam = merged["beam"]
        if beam["scraping_mm"] >= 45.0:
            raise ConfigError(f"config error: datasets.{name}.beam.scraping_mm: must be below the 45 mm aperture")
        det = merged["detector"]
        if det["tracker_y_min"] >= det["tracker_y_max"]:
            raise ConfigError(f"config error: datasets.{name}.detector.tracker_y_min: must be below tracker_y_max")
        _check_field(name, cfg["field"], ds.get("field", {}))
    corr = cfg["omega_a_correlations"]["dataset"]
    if corr not in cfg["datasets"]:
        raise ConfigError(f"config error: omega_a_correlations.dataset: '{corr}' is not one of the datasets "
                          f"({', '.join(sorted(cfg['datasets']))})")
    return cfg


def load_config(path, schema_path) -> dict:
    """Read a YAML config file and validate it."""
    return validate_config(read_yaml(path), schema_path)


def overlay(base: dict, over: dict) -> dict:
    """``over`` laid over ``base`` key by key, as Snakemake lays a --configfile over the default
    (nested blocks merged, other values replaced); ``base`` is updated and returned."""
    for key, value in over.items():
        base[key] = overlay(base.get(key, {}), value) if isinstance(value, dict) else value
    return base


def dataset_settings(cfg: dict, dataset: str) -> dict:
    """Beam, detector and production settings of a dataset: common blocks with its overrides."""
    ds = cfg["datasets"][dataset]
    merged = {}
    for block in ("beam", "detector", "production"):
        merged[block] = {**cfg.get(block, {}), **ds.get(block, {})}
    return merged


def field_settings(cfg: dict, dataset: str) -> dict:
    """The ``field`` block with the dataset's overrides (``external_ppb`` row by row)."""
    own = cfg["datasets"][dataset].get("field", {})
    merged = {**cfg["field"], **own}
    merged["external_ppb"] = {**cfg["field"].get("external_ppb", {}), **own.get("external_ppb", {})}
    return merged


def select(cfg: dict, *paths: str) -> dict:
    """The part of ``cfg`` at the dotted ``paths`` ("field.m1_hz", "datasets.run2"), nested as in
    ``cfg``; a path that ``cfg`` does not hold (an optional override) is left out. A workflow rule
    hands a step exactly this part, so the step can read nothing else and reruns when it changes."""
    out: dict = {}
    for path in paths:
        keys = path.split(".")
        node = cfg
        for key in keys:
            if not isinstance(node, dict) or key not in node:
                break
            node = node[key]
        else:
            dst = out
            for key in keys[:-1]:
                dst = dst.setdefault(key, {})
            dst[keys[-1]] = copy.deepcopy(node)
    return out
