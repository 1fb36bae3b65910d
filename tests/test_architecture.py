"""The code's shape matches the data's (docs/architecture.md): shared physics, records and the
core at the bottom; the toy (experiment) and the three analysis branches beside each other; truth
apart; studies above both. Every import of every module is read with ``ast``, function-level
imports included, and checked against the layers and for cycles."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from g2chain.provenance import import_graph, imports_of

from .helpers import package_tree

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
SCRIPTS = ROOT / "workflow" / "scripts"

CORE = {"g2chain", "g2chain.constants", "g2chain.units", "g2chain.io", "g2chain.config", "g2chain.blinding",
        "g2chain.progress", "g2chain.seeds", "g2chain.numerics", "g2chain.provenance",
        "g2chain.workers"}
BRANCHES = ("omega_a", "field", "beam_dynamics")

# What each layer may import besides the core (and itself). Whatever is not listed is refused.
ALLOWED = {
    "physics": {"physics"},
    "records": {"physics", "records"},
    "experiment": {"physics", "records", "experiment"},
    **{b: {"physics", "records", b} for b in BRANCHES},
    "truth": {"physics", "records", "experiment", "truth"},
    "studies": {"physics", "records", "experiment", *BRANCHES, "truth", "studies"},
    "combine": {"records", "combine"},
    "figures": {"physics", "records", *BRANCHES, "combine", "figures"},
    "cli": {"physics", "records", *BRANCHES, "combine", "figures"},
}
# Truths that are still computed with an analysis definition. Each is listed here so that it is
# seen, and so that no new one comes in unnoticed; issue 21 makes these truths the production's own.
KNOWN_TRUTH_SHARING = {
    ("g2chain.truth.beam", "g2chain.beam_dynamics.differential_decay"),  # t_method_radial_slope
}
# The workflow's adapters that may import truth: the rules that write or read sealed/ (DESIGN §2).
TRUTH_ADAPTERS = {"field_world", "world", "merge", "beam_truth", "unblind", "closure"}
STUDY_ADAPTERS = {"omega_a_correlation_trials", "omega_a_correlation_chunks", "omega_a_correlation_total"}


def layer(module: str) -> str:
    """The layer of a g2chain module name."""
    if module in CORE:
        return "core"
    part = module.split(".")[1]
    return part if part in ALLOWED else f"unknown:{part}"


def layer_violations(graph: dict) -> list:
    bad = []
    for mod, targets in graph.items():
        here = layer(mod)
        for t in sorted(targets):
            there = layer(t)
            if here == "core":
                ok = there == "core"
            elif here.startswith("unknown"):
                ok = False
            else:
                ok = there == "core" or there in ALLOWED[here] or (mod, t) in KNOWN_TRUTH_SHARING
            if not ok:
                bad.append(f"{mod} ({here}) imports {t} ({there})")
    return bad


def cycles(graph: dict) -> list:
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in graph:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def script_violations(scripts: Path, known: set) -> list:
    """Workflow adapters that import truth or studies without being one of their rules."""
    bad = []
    for p in sorted(scripts.glob("*.py")):
        for t in sorted(imports_of(p, f"workflow.scripts.{p.stem}", known)):
            if (layer(t) == "truth" and p.stem not in TRUTH_ADAPTERS) or \
                    (layer(t) == "studies" and p.stem not in STUDY_ADAPTERS):
                bad.append(f"workflow/scripts/{p.name} imports {t}")
    return bad


def test_layers():
    assert layer_violations(import_graph(SRC)) == []


def test_no_import_cycles():
    assert cycles(import_graph(SRC)) == []


def test_only_sealed_rules_import_truth():
    assert script_violations(SCRIPTS, set(import_graph(SRC))) == []


def test_no_snakemake_in_the_library():
    for p in SRC.rglob("*.py"):
        tree = ast.parse(p.read_text())
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert not any(str(n).split(".")[0] == "snakemake" for n in names), p


CLEAN = {
    "__init__.py": "",
    "io.py": "",
    "physics/__init__.py": "",
    "physics/ring.py": "from ..io import x\n",
    "experiment/__init__.py": "",
    "experiment/world.py": "from ..physics.ring import beam_frequencies\n",
    "omega_a/__init__.py": "",
    "omega_a/fit.py": "from ..physics import ring\n",
    "truth/__init__.py": "",
    "truth/closure.py": "from ..experiment import world\n",
}


def test_the_clean_toy_tree_passes(tmp_path):
    graph = import_graph(package_tree(tmp_path, CLEAN))
    assert graph["g2chain.omega_a.fit"] == {"g2chain.physics.ring"}
    assert layer_violations(graph) == [] and cycles(graph) == []


@pytest.mark.parametrize("bad, expect", [
    # an analysis reaching into the toy, inside a function
    ({"omega_a/fit.py": "def f():\n    from ..experiment.world import build_world\n"},
     "g2chain.omega_a.fit (omega_a) imports g2chain.experiment.world"),
    # the toy using an analysis estimator
    ({"field/__init__.py": "", "field/tracking.py": "",
      "experiment/world.py": "from g2chain.field import tracking\n"},
     "g2chain.experiment.world (experiment) imports g2chain.field.tracking"),
    # one branch importing another
    ({"field/__init__.py": "", "field/tracking.py": "import g2chain.omega_a.fit\n"},
     "g2chain.field.tracking (field) imports g2chain.omega_a.fit"),
    # an analysis reading the truth
    ({"omega_a/fit.py": "from ..truth.closure import closure\n"},
     "g2chain.omega_a.fit (omega_a) imports g2chain.truth.closure"),
    # the experiment reading the truth
    ({"experiment/world.py": "from ..truth import closure\n"},
     "g2chain.experiment.world (experiment) imports g2chain.truth.closure"),
])
def test_a_bad_import_is_caught(tmp_path, bad, expect):
    graph = import_graph(package_tree(tmp_path, {**CLEAN, **bad}))
    assert expect in " | ".join(layer_violations(graph))


def test_a_cycle_is_caught(tmp_path):
    graph = import_graph(package_tree(tmp_path, {**CLEAN, "omega_a/model.py": "from .fit import chi2\n",
                                          "omega_a/fit.py": "def g():\n    from . import model\n"}))
    assert cycles(graph) == [["g2chain.omega_a.fit", "g2chain.omega_a.model"]]


def test_a_bad_adapter_is_caught(tmp_path):
    (tmp_path / "omega_a_fit.py").write_text("from g2chain.truth.closure import closure\n")
    (tmp_path / "closure.py").write_text("from g2chain.truth.closure import closure\n")
    assert script_violations(tmp_path, {"g2chain.truth.closure"}) == [
        "workflow/scripts/omega_a_fit.py imports g2chain.truth.closure"]


def test_every_module_imports():
    """Every module of the library imports (a moved name is caught here, not in a workflow job)."""
    import importlib

    for module in sorted(import_graph(SRC)):
        importlib.import_module(module)


def test_no_analysis_code_can_build_the_sealed_world():
    """Issue 21 scope 4: whatever an analysis branch, the combination, the figures or the command
    line imports, directly or through others, never reaches the code that builds a world (a_mu, the
    blinds, the field the muons sample) or runs the production. Only the studies may, on worlds
    of their own (``studies.correlation_trials.study_world``)."""
    graph = import_graph(SRC)
    sealed = {"g2chain.experiment.world", "g2chain.experiment.run_production", "g2chain.experiment.muon_field",
              "g2chain.experiment.production", "g2chain.blinding"}
    analysis = [m for m in graph if layer(m) in {*BRANCHES, "combine", "figures", "cli"}]
    assert analysis
    for mod in analysis:
        seen, todo = set(), [mod]
        while todo:
            for t in graph.get(todo.pop(), ()):
                if t not in seen:
                    seen.add(t)
                    todo.append(t)
        assert not seen & (sealed - {"g2chain.blinding"}), (mod, sorted(seen & sealed))
        # the blinding module computes offsets from phrases: the analyses may use the software
        # blind's offset (Eq. 5), never the hardware blind of a world
        path = SRC / (mod.replace(".", "/") + ".py")
        if "g2chain.blinding" in seen and path.exists():
            assert "hardware_blind" not in path.read_text(), mod
