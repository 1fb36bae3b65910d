"""Render the workflow's rule graph by branch: docs/img/rulegraph.png (the README's chain diagram).

    python docs/img/rulegraph.py            # needs graphviz's `dot` (Debian: apt-get install graphviz)

Snakemake's own --rulegraph, without the `all` node, with the rules grouped into the physics
branches and the correlation study, and the rules that read sealed/ or whose adapters import the
truth layer (docs/architecture.md) drawn dashed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# branch -> (title, colour, rules); every rule of the workflow must be in exactly one (main() checks)
BRANCHES = {
    "experiment": ("experiment: the toy and its sealed truth", "#e8f0fb",
                   ["field_world", "world", "simulate_chunk", "merge", "measure_field", "beam_truth", "summary_plot"]),
    "omega_a": ("omega_a: 19 analyses, systematics, correlations, average (Sec. IV)", "#eaf7ee",
                ["omega_a_dataset_fits", "omega_a_dataset_scans", "relative_unblind", "omega_a_correlations",
                 "omega_a_dataset_average", "omega_a_average"]),
    "studies": ("studies: the correlation study on its own world", "#eef3f5",
                ["omega_a_correlation_chunks", "omega_a_correlation_total", "omega_a_correlation_trials"]),
    "field": ("field: omega~'_p, B_K, B_Q (Sec. VI)", "#fdf3e3", ["field_analysis"]),
    "beam_dynamics": ("beam dynamics: C_e, C_p, C_ml, C_dd, C_pa (Sec. V)", "#fbeaea", ["beam_dynamics_analysis"]),
    "combination": ("combination: R'_mu, a_mu, budget (Sec. VIII)", "#f1ecfa",
                    ["combine", "unblind", "closure", "paper_comparison"]),
}
# rules whose adapters import the truth layer or that read sealed/
READS_TRUTH = {"field_world", "world", "simulate_chunk", "merge", "measure_field", "beam_truth", "unblind", "closure"}


def rule_graph(cwd=ROOT) -> tuple[dict, list]:
    """({node id: rule}, [(from rule, to rule)]) of `snakemake --rulegraph` on the ci config."""
    dot = subprocess.run([sys.executable, "-m", "snakemake", "--rulegraph", "--configfile", "config/ci.yaml"],
                         cwd=cwd, capture_output=True, text=True, check=True).stdout
    nodes = dict(re.findall(r'^\s*(\d+)\[label = "([^"]+)"', dot, flags=re.M))
    edges = [(nodes[a], nodes[b]) for a, b in re.findall(r"^\s*(\d+) -> (\d+)", dot, flags=re.M)]
    return nodes, edges


def branch_dot(nodes: dict, edges: list) -> str:
    """The graph in dot, one cluster per branch, without `all`."""
    lines = ["digraph g2chain {", '  graph [rankdir=TB, fontname="sans", fontsize=11, nodesep=0.25, ranksep=0.35];',
             '  node [shape=box, style="rounded,filled", fillcolor=white, fontname="sans", fontsize=10];',
             "  edge [color=grey40];"]
    for key, (title, colour, rules) in BRANCHES.items():
        lines.append(f'  subgraph cluster_{key} {{ label="{title}"; style=filled; color="{colour}";')
        for r in rules:
            if r in nodes.values():
                style = ', style="rounded,dashed,filled"' if r in READS_TRUTH else ""
                lines.append(f'    "{r}" [label="{r}"{style}];')
        lines.append("  }")
    lines += [f'  "{a}" -> "{b}";' for a, b in edges if "all" not in (a, b)]
    lines.append('  legend [shape=plaintext, style="", label="dashed: reads sealed/ or imports truth/"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def main():
    nodes, edges = rule_graph()
    assigned = [r for _, _, rules in BRANCHES.values() for r in rules]
    twice = {r for r in assigned if assigned.count(r) > 1}
    if twice:
        sys.exit(f"rules in more than one branch in {__file__}: {', '.join(sorted(twice))}")
    missing = set(nodes.values()) - {"all"} - set(assigned)
    if missing:
        sys.exit(f"rules not assigned to a branch in {__file__}: {', '.join(sorted(missing))}")
    out = Path(__file__).with_suffix(".png")
    subprocess.run(["dot", "-Tpng", "-Gdpi=100", "-o", str(out)], input=branch_dot(nodes, edges), text=True,
                   check=True)
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
