"""The code hash a rule reruns on: it follows the imports, function-level ones included."""

from g2chain import provenance

from ..helpers import package_tree

FILES = {
    "__init__.py": "", "io.py": "",
    "physics/__init__.py": "", "physics/ring.py": "from ..io import x\n",
    "omega_a/__init__.py": "", "omega_a/fit.py": "def f():\n    from ..physics import ring\n",
    "field/__init__.py": "", "field/maps.py": "from ..io import y\n",
}


def test_the_hash_follows_the_imports(tmp_path):
    one = package_tree(tmp_path / "one", FILES)
    base = {m: provenance.code_hash([m], one) for m in ("g2chain.omega_a.fit", "g2chain.field.maps")}
    assert provenance.closure(provenance.import_graph(one), ["g2chain.omega_a.fit"]) == {
        "g2chain", "g2chain.omega_a", "g2chain.omega_a.fit", "g2chain.physics", "g2chain.physics.ring", "g2chain.io"}
    # a change below the fit (through a function-level import) changes its hash, not the field's
    two = package_tree(tmp_path / "two", {**FILES, "physics/ring.py": "from ..io import x\nC = 1\n"})
    assert provenance.code_hash(["g2chain.omega_a.fit"], two) != base["g2chain.omega_a.fit"]
    assert provenance.code_hash(["g2chain.field.maps"], two) == base["g2chain.field.maps"]
    # the hash is of the code, not of where it lies
    three = package_tree(tmp_path / "three", FILES)
    assert provenance.code_hash(["g2chain.omega_a.fit"], three) == base["g2chain.omega_a.fit"]


def test_a_script_hashes_what_it_imports(tmp_path):
    src = package_tree(tmp_path / "src", FILES)
    script = tmp_path / "omega_a_fit.py"
    script.write_text("from g2chain.omega_a.fit import f\n")
    assert provenance.script_code_hash(script, src) == provenance.code_hash(["g2chain.omega_a.fit"], src)
