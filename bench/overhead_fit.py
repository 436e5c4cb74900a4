"""How well the executors' fitted overheads explain the synthetic graphs they were fitted to.

Run from the repository root, on any machine (it times nothing)::

    python bench/overhead_fit.py --profile docs/benchmarks/profile.json

This is a diagnostic, not a test: it prints a table. A profile keeps the times of calibration's
overhead graphs (`depthgraph.cost.Profile.overhead_timings`: chains, ladders and fans for the
eager and levels executors and replay, chains and wide sums for each Dask scheduler); for each
graph under each executor it prints the units the overheads are counted in, the time measured at
calibration, the time predicted with the profile's fitted overheads, and their relative error —
then per executor the median and largest |error|. The overheads are a line through these
points (`depthgraph.overheads.fit_overheads`): an executor whose errors are large, or run one
way with the graph's size, pays its overhead in a way the line does not follow, and a
prediction that leans on that overhead inherits the miss. Profiles calibrated before the
timings were kept have none to show, and those that timed another set of graphs are refused (the
eleventh session added ladders to the levels executor's).
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from depthgraph.overheads import overhead_prediction, timed_overhead_graphs
from depthgraph.cost import Profile
from depthgraph.errors import DepthGraphError
from depthgraph.executors.dask import task_plan
from depthgraph.prediction import eager_units, levels_units, transferred_bytes


def units(graph, kind: str, backend: str) -> str:
    """What ``kind``'s overheads are counted in, for ``graph``."""
    if kind.startswith("dask-"):
        return f"{len(task_plan(graph, backend, 1, 0))} tasks, {transferred_bytes(graph)} B"
    return f"{len(eager_units(graph))} nodes" if kind == "eager" else f"{len(levels_units(graph))} groups"


def rows(profile: Profile, kind: str) -> list[tuple[str, float, float]]:
    """``(units, measured s, predicted s)`` for each overhead graph timed under ``kind``."""
    return [(units(graph, kind, profile.backend), measured, overhead_prediction(graph, kind, profile).seconds)
            for graph, measured in timed_overhead_graphs(kind, profile.overhead_timings[kind])]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", required=True, help="from `depthgraph calibrate`")
    args = parser.parse_args()
    profile = Profile.load(args.profile)
    kinds = [k for k in profile.overhead_timings if k != "graphs:launch"]
    print(f"{profile.device}, {profile.date}; in situ: {profile.in_situ}")
    if not kinds:
        print("this profile keeps no overhead timings (calibrated before they were kept)")
        return 0
    try:
        tables = {kind: rows(profile, kind) for kind in kinds}
    except DepthGraphError as error:
        print(f"overhead_fit: {error}")
        return 2
    summary = []
    print(f"{'executor':<20}{'graph':>4}  {'units':<24}{'measured ms':>12}{'fitted ms':>11}{'error':>8}")
    for kind in kinds:
        errors = []
        for i, (units, measured, predicted) in enumerate(tables[kind]):
            errors.append(predicted / measured - 1)
            print(f"{kind:<20}{i:>4}  {units:<24}{measured * 1e3:>12.3f}{predicted * 1e3:>11.3f}{errors[-1]:>+8.1%}")
        summary.append(f"{kind}: median |error| {statistics.median(map(abs, errors)):.1%}, "
                       f"max {max(map(abs, errors)):.1%}")
    print("\n".join(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
