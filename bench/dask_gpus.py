"""Throughput of a wide workload on one GPU and on two, through dask-cuda (a benchmark, not a test).

    python bench/dask_gpus.py [--algorithm kernel-doubling] [--channels 64] [--L 2048] [--n 1024]

Builds one graph of C independent channels of an algorithm (`Graph.embed`), runs it with the
dask executor on a `dask_cuda.LocalCUDACluster` of one worker and then of two (one per GPU),
and prints the median wall time of whole runs and the throughput ratio, two ways: inputs sent
from the client on every run, and inputs put on the workers once (`scatter_inputs`, each where
its tasks run) and passed as futures. Outputs are gathered back to the client in both. Every
run's outputs are checked against NumPy float64 first.
Cluster code stays under ``if __name__ == "__main__"``: dask-cuda spawns worker processes.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

import algorithms
import depthgraph
from depthgraph.cli import positive_int


def wide_workload(name: str, channels: int, params: dict) -> tuple[depthgraph.Graph, dict, dict]:
    """One graph of ``channels`` independent copies of algorithm ``name``, its inputs, and one
    channel's graph and inputs (for the float64 check)."""
    spec = algorithms.get(name)
    one = spec.build(**params)
    wide = depthgraph.Graph()
    inputs = {}
    for c in range(channels):
        for out, node in wide.embed(one, f"c{c}/").items():
            wide.output(f"c{c}/{out}", node)
        inputs.update({f"c{c}/{k}": v for k, v in spec.inputs(seed=c, **params).items()})
    return wide, inputs, {"graph": one, "inputs": spec.inputs(seed=0, **params)}


def timed_runs(graph, inputs, client, repeat: int, check) -> list[float]:
    out = depthgraph.execute(graph, inputs, executor="dask", backend="cupy", scheduler=client, to_host=True)
    check(out)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        depthgraph.execute(graph, inputs, executor="dask", backend="cupy", scheduler=client, to_host=True)
        times.append(time.perf_counter() - start)
    return times


def profile(graph, inputs, client) -> None:
    """One more run under cProfile: the client-side functions that took longest (cumulative)."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    depthgraph.execute(graph, inputs, executor="dask", backend="cupy", scheduler=client, to_host=True)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(12)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--algorithm", default="kernel-doubling")
    parser.add_argument("--channels", type=positive_int, default=64)
    parser.add_argument("--L", type=positive_int, default=2048)
    parser.add_argument("--n", type=positive_int, default=1024)
    parser.add_argument("--repeat", type=positive_int, default=5)
    parser.add_argument("--gpus", type=positive_int, nargs="+", default=[1, 2])
    parser.add_argument("--profile", action="store_true",
                        help="also print where the client's time goes in one more run (cProfile, top 12)")
    args = parser.parse_args()

    import cupy
    from dask_cuda import LocalCUDACluster
    from distributed import Client, wait

    from depthgraph.executors.dask import scatter_inputs

    params = {"L": args.L, "n": args.n}
    graph, inputs, first = wide_workload(args.algorithm, args.channels, params)
    reference = depthgraph.execute(first["graph"], first["inputs"])

    def check(out: dict) -> None:
        for name, ref in reference.items():
            err = np.linalg.norm(out[f"c0/{name}"] - ref) / np.linalg.norm(ref)
            assert err <= 1e-10, f"channel 0 output {name}: relative error {err:.2e} against NumPy float64"

    device = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    print(f"# {args.algorithm} × {args.channels} channels, {params}; {len(graph.nodes):,} nodes; {device}; "
          f"{time.strftime('%Y-%m-%d')}")
    medians = {}
    for gpus in args.gpus:
        with LocalCUDACluster(n_workers=gpus, CUDA_VISIBLE_DEVICES=",".join(map(str, range(gpus)))) as cluster, \
                Client(cluster) as client:
            runs = {"inputs sent each run": timed_runs(graph, inputs, client, args.repeat, check)}
            start = time.perf_counter()
            resident = scatter_inputs(client, graph, inputs, backend="cupy")
            wait(list(resident.values()))
            scatter_s = time.perf_counter() - start
            runs["inputs resident"] = timed_runs(graph, resident, client, args.repeat, check)
            if args.profile:
                profile(graph, resident, client)
        for mode, times in runs.items():
            medians[mode, gpus] = statistics.median(times)
            print(f"{gpus} GPU(s), {mode}: median {medians[mode, gpus] * 1e3:.1f} ms over {args.repeat} runs "
                  f"(min {min(times) * 1e3:.1f}, max {max(times) * 1e3:.1f}); "
                  f"{args.channels / medians[mode, gpus]:.1f} channels/s")
        print(f"{gpus} GPU(s): scattering the inputs once took {scatter_s * 1e3:.1f} ms")
    for mode in ("inputs sent each run", "inputs resident"):
        if (mode, 1) in medians and (mode, 2) in medians:
            print(f"throughput, 2 GPUs / 1 GPU, {mode}: {medians[mode, 1] / medians[mode, 2]:.2f}×")


if __name__ == "__main__":
    main()
