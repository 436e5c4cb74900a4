"""Does a run's time, timed round robin, depend on its place in the round?

Run from the repository root::

    python bench/walls_order.py                          # NumPy
    python bench/walls_order.py --backend cupy --seconds 15

This is a benchmark, not a test: it prints a table. Calibration and validation time many runs
together, round robin (`depthgraph.timing.Clock.walls`), so that each is timed across the same
phases of the host's speed. That holds only if a run's time does not depend on which runs come
before and after it. This times the levels executor's overhead graphs (`depthgraph.overheads`:
chains, ladders with 0, 1 and 2 copies per step, fans) round robin in their own order, reversed,
and rotated by half, ``--seconds`` each, and prints each graph's median in every order relative
to its median over the orders. On the twelfth session's H200 the ladder with two copies per step
(last in the list) took ~18 % longer in calibration's round robin than its groups did probed
one by one (`bench/prediction_gaps.py --synthetic`), while the other ladders matched: ratios far
from 1.00 here would say the order, not the graph, set part of what was fitted. They were not
(every graph within 8.5 %, the orders shifting all graphs together: docs/BENCHMARKS.md, twelfth
session).
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from depthgraph.executors.levels import schedule
from depthgraph.overheads import OVERHEAD_GRAPHS, overhead_run
from depthgraph.timing import Clock


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numpy", choices=("numpy", "cupy"))
    parser.add_argument("--seconds", type=float, default=5.0, help="round robin per order, at least")
    args = parser.parse_args()
    if not args.seconds > 0:
        parser.error(f"--seconds must be > 0, got {args.seconds}")
    clock = Clock(args.backend)
    graphs = OVERHEAD_GRAPHS["levels"]
    runs = [overhead_run(graph, args.backend, executor="levels") for graph in graphs]
    n = len(runs)
    orders = {"own": list(range(n)), "reversed": list(range(n))[::-1], "rotated": [(i + n // 2) % n for i in range(n)]}
    medians = {}
    for name, order in orders.items():
        walls = clock.walls([runs[i] for i in order], min_rounds=7, min_seconds=args.seconds)
        medians[name] = np.empty(n)
        medians[name][order] = [seconds for seconds, _ in walls]
    overall = np.median(np.stack(list(medians.values())), axis=0)
    print(f"{clock.device}; {n} levels overhead graphs, each order round robin for {args.seconds:g} s or more")
    print(f"  {'graph':>5} {'groups':>7} {'median ms':>10}" + "".join(f"{name:>10}" for name in orders))
    for i, graph in enumerate(graphs):
        print(f"  {i:>5} {len(schedule(graph).groups):>7} {overall[i] * 1e3:>10.3f}"
              + "".join(f"{medians[name][i] / overall[i]:>10.2f}" for name in orders))
    spread = max(float(np.max(np.abs(medians[name] / overall - 1))) for name in orders)
    print(f"largest departure of one order from the median over orders: {spread:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
