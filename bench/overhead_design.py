"""How well the levels executor's overhead graphs tell its overheads apart.

Run from the repository root, on any machine (NumPy)::

    python bench/overhead_design.py --calibrations 4

This is a diagnostic, not a test: it prints a table. The levels executor's overheads — per run,
direct call, group, segment and gather — are fitted as a line through the times of synthetic
graphs (`depthgraph.overheads.fit_overheads`). Two overheads whose counts keep one ratio in every
graph cannot be told apart: the fit trades one for the other, and a graph with another ratio
inherits the error. Up to the tenth session every synthetic group came with half a gather; the
eleventh added ladders of 0 and 1.5 gathers a group. For the graphs **before** (the first 19) and
**now**, it prints the design's correlation between the group and gather coefficients and each
coefficient's standard error per 1 % of timing noise; then it calibrates NumPy
``--calibrations`` times and fits each calibration's timings with both sets: the spread of each
overhead across calibrations is what the design lets noise do to it.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
from contextlib import contextmanager

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from depthgraph import overheads
from depthgraph.calibrate import calibrate
from depthgraph.cli import positive_int
from depthgraph.cost import Profile
from depthgraph.prediction import LEVELS_OVERHEADS, levels_units

BEFORE = 19  # levels overhead graphs up to the tenth session: chains, ladders of one copy, fans


@contextmanager
def levels_graphs(count: int):
    """`OVERHEAD_GRAPHS["levels"]` cut to its first ``count`` while fitting (the set then)."""
    everything = overheads.OVERHEAD_GRAPHS["levels"]
    overheads.OVERHEAD_GRAPHS["levels"] = everything[:count]
    try:
        yield
    finally:
        overheads.OVERHEAD_GRAPHS["levels"] = everything


def design(profile: Profile, count: int) -> tuple[float, np.ndarray]:
    """Correlation of the group and gather coefficients, and every coefficient's standard error
    per 1 % of noise, of the relative-error fit over the first ``count`` levels graphs."""
    rows, seconds = [], []
    for graph in overheads.OVERHEAD_GRAPHS["levels"][:count]:
        units = levels_units(graph)
        rows.append([1] + [sum(u.counts.get(name, 0) for u in units) for name in LEVELS_OVERHEADS])
        seconds.append(overheads.overhead_prediction(graph, "levels", profile).seconds)
    weighted = np.array(rows, float) / np.array(seconds)[:, None]  # as `fit_overheads` weighs them
    covariance = np.linalg.inv(weighted.T @ weighted)
    group, gather = 1 + LEVELS_OVERHEADS.index("group"), 1 + LEVELS_OVERHEADS.index("gather")
    correlation = covariance[group, gather] / np.sqrt(covariance[group, group] * covariance[gather, gather])
    return float(correlation), 0.01 * np.sqrt(np.diag(covariance))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calibrations", type=positive_int, default=4, help="NumPy calibrations to fit (default 4)")
    args = parser.parse_args()
    names = ("run", *LEVELS_OVERHEADS)
    sets = {"before": BEFORE, "now": len(overheads.OVERHEAD_GRAPHS["levels"])}
    fits: dict[str, list[dict[str, float]]] = {label: [] for label in sets}
    profiles = []
    for i in range(args.calibrations):
        profile = calibrate("numpy", only=sorted(overheads.OVERHEAD_OPS), progress=False)
        profiles.append(profile)
        for label, count in sets.items():
            timed = {**profile.overhead_timings, "levels": profile.overhead_timings["levels"][:count]}
            with levels_graphs(count):
                fits[label].append(overheads.fit_overheads(profile, timed))
        print(f"calibration {i + 1} of {args.calibrations} done", file=sys.stderr)
    print(f"levels overheads, µs: {args.calibrations} NumPy calibrations, each fitted with both sets of graphs")
    print(f"{'set':<8}{'graphs':>7}{'corr(group, gather)':>21}  " + "".join(f"{n:>18}" for n in names))
    for label, count in sets.items():
        correlation, errors = design(profiles[0], count)
        spread = [np.array([fit[f"levels:{n}"] for fit in fits[label]]) * 1e6 for n in names]
        print(f"{label:<8}{count:>7}{correlation:>21.2f}  "
              + "".join(f"{v.mean():>8.2f} ± {v.std(ddof=1) if len(v) > 1 else 0.0:<7.2f}" for v in spread))
        print(f"{'':<15}{'(standard error per 1 % noise)':>21}  " + "".join(f"{e * 1e6:>8.2f}{'':10}" for e in errors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
