"""Where a Dask cluster's run of a validation point spends its time, task by task, against the prediction.

Run from the repository root, on the machine the profile was calibrated on::

    python bench/dask_tasks.py --profile profile.json --cluster cuda --only kernel-doubling
    python bench/dask_tasks.py --profile profile.json --cluster local      # NumPy profile, CPU

This is a diagnostic, not a test: it prints a table. For each validation point
(`algorithms.validate.POINTS`, or those of ``--only``) it runs the graph ``--runs`` times on a
fresh one-worker cluster, as ``depthgraph validate --cluster`` does, inside
``distributed.get_task_stream``, and prints per task (a coarse task ``task <range> <block>`` or an
output getter) the median seconds the worker spent computing it, beside the task's part of the
prediction (`depthgraph.predict(..., "dask", scheduler="distributed")`): the per-task overhead
and, as "piece", the rest — its piece of the graph run by the levels executor. Then the run's
median wall time beside the prediction, and the part of the wall that no task's compute explains
(scheduling, sending the inputs, the client's round trips). A CuPy task returns before its
kernels finish, so its compute time is its host time; the device's time shows in whichever later
step waits for it. Predictions are the profile's as calibrated (not rescaled to the host's speed
now).
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import depthgraph
from algorithms import get
from algorithms.validate import POINTS, cluster
from depthgraph.cli import positive_int
from depthgraph.cost import Profile
from depthgraph.errors import DepthGraphError
from depthgraph.executors.backend import array_module


def task_label(key: tuple | str) -> str:
    """``"task 0 1"`` or ``"output K"`` from a task stream's key (`depthgraph.executors.dask.to_dask`'s
    keys), as `depthgraph.Prediction` labels the parts; any other key as it is.

    >>> task_label(("depthgraph-task-0a1b", "task", 0, 1)), task_label(("depthgraph-output-0a1b", "output", "K"))
    ('task 0 1', 'output K')
    """
    return " ".join(map(str, key[1:])) if isinstance(key, tuple) else str(key)


def measure(client, graph, inputs, backend: str, runs: int) -> tuple[float, dict[str, float]]:
    """Median wall seconds of a run and median compute seconds of each task (warmed up first)."""
    from distributed import get_task_stream

    def run() -> None:
        depthgraph.execute(graph, inputs, executor="dask", backend=backend, scheduler=client)

    for _ in range(3):
        run()
    walls, computes = [], {}
    with get_task_stream(client) as stream:
        for _ in range(runs):
            start = time.perf_counter()
            run()
            walls.append(time.perf_counter() - start)
    for record in stream.data:
        label = task_label(record["key"])
        seconds = sum(s["stop"] - s["start"] for s in record["startstops"] if s["action"] == "compute")
        computes.setdefault(label, []).append(seconds)
    return statistics.median(walls), {label: statistics.median(s) for label, s in computes.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", required=True, help="from `depthgraph calibrate --cluster ...`")
    parser.add_argument("--cluster", choices=("local", "cuda"), required=True)
    parser.add_argument("--only", help="comma-separated algorithm names (default every validation point)")
    parser.add_argument("--runs", type=positive_int, default=20)
    args = parser.parse_args()
    profile = Profile.load(args.profile)
    xp = array_module(profile.backend)
    points = [p for family in POINTS[profile.backend].values() for p in family]
    only = set(args.only.split(",")) if args.only else {name for name, _ in points}
    unknown = only - {name for name, _ in points}
    if unknown:
        print(f"dask_tasks: no validation point of {', '.join(sorted(unknown))} on {profile.backend}")
        return 2
    try:
        per_task = profile.overhead("dask-distributed:task")
    except DepthGraphError as error:  # a profile calibrated without --cluster
        print(f"dask_tasks: {error}")
        return 2
    client = cluster(args.cluster)
    try:
        print(f"{profile.device}; {args.cluster} cluster, {args.runs} runs a point; predictions as calibrated")
        print(f"{'point':<40}{'task':<24}{'predicted ms':>13}{'piece ms':>12}{'compute ms':>12}")
        for name, sizes in [(name, sizes) for name, sizes in points if name in only]:
            spec = get(name)
            params = spec.params(**sizes)
            graph = spec.build(**params)
            inputs = {k: xp.asarray(v) for k, v in spec.inputs(seed=0, **params).items()}
            predicted = depthgraph.predict(graph, "dask", profile, scheduler="distributed")
            wall, computes = measure(client, graph, inputs, profile.backend, args.runs)
            point = f"{name} {' '.join(f'{k}={v}' for k, v in sizes.items())}"
            for part in predicted.parts:
                measured = computes.get(part.label)
                shown = "—" if measured is None else f"{measured * 1e3:.3f}"
                piece = part.seconds - per_task if part.level >= 0 or part.label.startswith("output") else None
                piece_shown = "—" if piece is None else f"{max(piece, 0.0) * 1e3:.3f}"
                print(f"{point:<40}{part.label:<24}{part.seconds * 1e3:>13.3f}{piece_shown:>12}{shown:>12}")
            unexplained = wall - sum(computes.values())
            print(f"{point:<40}{'run (wall)':<24}{predicted.seconds * 1e3:>13.3f}{'':>12}{wall * 1e3:>12.3f}"
                  f"   not in any task's compute: {unexplained * 1e3:.3f} ms")
    finally:
        client.cluster.close()
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
