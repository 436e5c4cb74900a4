"""Does the host's speed drift while a machine runs, and does a whole run follow the host's reference?

Run from the repository root::

    python bench/host_speed.py                          # NumPy, 20 s
    python bench/host_speed.py --backend cupy --seconds 40

This is a benchmark, not a test: it prints a table. For ``--seconds`` it repeats, in turn, the
host's reference (`depthgraph.timing.Clock.reference`), a pure-Python loop and one levels run of
each workload (small, host-bound sizes), pausing now and then so that the machine idles as a
user's would. It then cuts the run into ``--chunks`` chunks of time and prints each chunk's
median of every column **relative to that column's overall median**, then the correlation of
the columns' log chunk-medians. If the host ran at one speed, every ratio would be ~1.00; if
every host-bound quantity follows one host speed, the columns move together (correlation near 1)
and scaling a profile by one measure of it (`depthgraph.cost.Profile.at_host_speed`) is sound; the
last line, each column's spread (90th over 10th percentile of single timings), says how much a
measurement taken at one moment can differ from one taken at another.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import algorithms
import depthgraph
from depthgraph.timing import Clock

WORKLOADS = {"recurrence": {"L": 64, "n": 16}, "ridge-sherman-morrison": {"T": 32, "d": 16},
             "kernel-doubling": {"L": 1024, "n": 16}}


def python_loop() -> None:
    total = 0
    for i in range(20_000):
        total += i


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="numpy", choices=("numpy", "cupy"))
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--chunks", type=int, default=10)
    args = parser.parse_args()
    if not args.seconds > 0 or args.chunks < 2:
        parser.error(f"need --seconds > 0 and --chunks >= 2, got {args.seconds} and {args.chunks}")
    clock = Clock(args.backend)

    def timed(call) -> float:
        start = time.perf_counter()
        call()
        clock.sync()
        return time.perf_counter() - start

    runs = {}
    for name, sizes in WORKLOADS.items():
        spec = algorithms.get(name)
        params = spec.params(**sizes)
        graph = spec.build(**params)
        inputs = {k: clock.xp.asarray(v) for k, v in spec.inputs(seed=0, **params).items()}
        runs[name] = lambda g=graph, i=inputs: depthgraph.execute(g, i, executor="levels", backend=args.backend)
        runs[name]()
    columns = ["reference", "python", *runs]
    rows = []
    end = time.perf_counter() + args.seconds
    while time.perf_counter() < end:
        rows.append([clock.reference(), timed(python_loop), *(timed(run) for run in runs.values())])
        if len(rows) % 50 == 0:
            time.sleep(0.3)
    table = np.array(rows)
    median = np.median(table, axis=0)
    chunks = np.array([np.median(chunk, axis=0) for chunk in np.array_split(table, args.chunks)])
    print(f"{clock.device}: {len(table)} rounds in {args.seconds:g} s; overall medians (ms): "
          + ", ".join(f"{c} {m * 1e3:.3f}" for c, m in zip(columns, median)))
    print("chunk medians / overall median")
    print("  " + "".join(f"{c[:14]:>16}" for c in columns))
    for chunk in chunks / median:
        print("  " + "".join(f"{v:>16.2f}" for v in chunk))
    print("correlation of log chunk-medians")
    for name, row in zip(columns, np.corrcoef(np.log(chunks).T)):
        print(f"  {name[:14]:<16}" + "".join(f"{v:>8.2f}" for v in row))
    spread = np.percentile(table, 90, axis=0) / np.percentile(table, 10, axis=0)
    print("p90/p10 of single timings: " + ", ".join(f"{c} {s:.2f}" for c, s in zip(columns, spread)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
