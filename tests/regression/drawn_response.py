"""Coverage of C_p's systematic error through the analysis's own response, over many drawn worlds.

    python tests/regression/drawn_response.py [--results results] [--dataset run2] [--worlds 300]
        [--closures DIR]

C_p's error is almost all systematic (the trackers' vertical efficiency, their resolution, the
calorimeters' acceptance), so the ci chain over nine drawn worlds (``make_budget_reference.py
--draw-worlds``) tests it with nine draws only: a narrow sample of draws shows as a pull spread
far below 1 whether the error is honest or not. This script asks the question for many draws at
once: on one ci run's tracker data it reruns the pitch analysis with each drawn world's
detector (``studies.world_draws``) in place of the analysis's model; the difference over the
quoted total error is the pull that world would give if the analysis were otherwise exact.
Prints the mean and standard deviation of those predicted pulls. With ``--closures`` (a
``--keep`` directory of a drawn sweep) it also prints, per kept seed, the predicted pull beside
the pulls the chain measured in that seed's own world, which checks the response itself.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from g2chain.beam_dynamics.pitch import pitch_analysis, pitch_from_histogram  # noqa: E402
from g2chain.beam_dynamics.run_beam_dynamics import read_trackers  # noqa: E402
from g2chain.records.trackers import vertices_in_window  # noqa: E402
from g2chain.studies.world_draws import drawn_world  # noqa: E402
from tests.helpers import ci_config  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--results", type=Path, default=ROOT / "results", help="a ci run's results directory")
    ap.add_argument("--dataset", default="run2")
    ap.add_argument("--worlds", type=int, default=300, help="drawn worlds (seeds 1000 ...)")
    ap.add_argument("--closures", type=Path, help="a drawn sweep's --keep directory (seed_N_closure.json)")
    args = ap.parse_args()
    cfg = ci_config()
    det, p = cfg["detector_model"], cfg["beam_dynamics"]["pitch"]
    n = float(cfg["datasets"][args.dataset]["field_index"])
    vertices, x_edges, y_edges, t_edges = read_trackers(args.results / args.dataset / "experiment" / "trackers.h5")
    acceptance = {"radial": det["acceptance_radial"], "vertical_quadratic": det["acceptance_vertical_quadratic"]}
    quoted = pitch_analysis(vertices, x_edges, y_edges, t_edges, tuple(p["window_us"]), n, det["tracker_resolution_mm"],
                            det["tracker_vertical_falloff"], acceptance, p["variations"],
                            n_boot=int(p["replicas"])).record
    h = vertices_in_window(vertices, t_edges, tuple(p["window_us"]))

    def c_p(d: dict) -> float:
        acc = {"radial": d["acceptance_radial"], "vertical_quadratic": d["acceptance_vertical_quadratic"]}
        return pitch_from_histogram(h, x_edges, y_edges, n, d["tracker_resolution_mm"], d["tracker_vertical_falloff"],
                                    acc)["C_p"]

    nominal = c_p(det)

    base = yaml.safe_load((ROOT / "config" / "config.yaml").read_text())  # as make_budget_reference draws

    def predicted(seed: int) -> float:
        return (nominal - c_p(drawn_world(base, seed)["detector"])) / quoted["total_ppb"]

    print(f"C_p ({args.dataset}) {nominal:.1f} ppb, quoted total {quoted['total_ppb']:.1f} ppb "
          f"(stat {quoted['stat_ppb']:.1f})")
    if args.closures is not None:
        for path in sorted(args.closures.glob("seed_*_closure.json")):
            seed = int(path.name.split("_")[1])
            measured = json.loads(path.read_text())["datasets"]
            print(f"  seed {seed}: predicted {predicted(seed):+.2f}, measured "
                  + " ".join(f"{ds} {m['C_p']['pull']:+.2f}" for ds, m in measured.items()))
    pulls = np.array([predicted(s) for s in range(1000, 1000 + args.worlds)])
    print(f"{args.worlds} drawn worlds through the response: predicted pull mean {pulls.mean():+.2f}, "
          f"std {pulls.std(ddof=1):.2f} (with the statistical part, std "
          f"{np.hypot(pulls.std(ddof=1), quoted['stat_ppb'] / quoted['total_ppb']):.2f})")


if __name__ == "__main__":
    main()
