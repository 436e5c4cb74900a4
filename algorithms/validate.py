"""Predicted vs measured runtime for every algorithm family — the project's headline check.

Each point is an (algorithm, sizes) pair; each family has sizes from launch-bound (small
operands: runtime is the number of levels times a launch) to throughput-bound (operands large
enough that the device's bandwidth or arithmetic dominates). For each point and executor the
job measures (warm-up, synchronise, median of repeats), predicts with `depthgraph.predict` and a
profile from ``depthgraph calibrate`` — which only ever timed microbenchmarks and synthetic
graphs, never these — and reports the relative error.

The host's speed changes in phases seconds long while a machine runs (`depthgraph.timing`), so
all points are timed together, round robin over 45 s or more (`depthgraph.timing.Clock.walls`):
each is timed across the same phases, at the host's median speed over them. Between calibration
and validation the host's speed moves too (on the lent H100s by 1.7× within five minutes), so
the synthetic graphs of `depthgraph.overheads.SPEED_GRAPHS` — never these points — are timed in
the same rounds, and the host's speed measured by them against the profile
(`depthgraph.overheads.host_speed`). The prediction judged is the profile's at that speed
(`depthgraph.cost.Profile.at_host_speed`); the profile's as calibrated is reported beside it.
"""

from __future__ import annotations

import csv
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import depthgraph
from algorithms.registry import get
from depthgraph.overheads import SPEED_GRAPHS, host_speed, overhead_run
from depthgraph.cost import Profile
from depthgraph.files import writable_path
from depthgraph.timing import Clock

# family -> [(algorithm, sizes)], per backend. GPU sizes reach hundreds of MB per level; CPU ones
# stay within a few seconds per point on a laptop core.
POINTS = {
    "cupy": {
        "ssm": [("recurrence", {"L": 256, "n": n}) for n in (16, 512, 4096)],
        "conv": [("conv-fft", {"L": L}) for L in (2 ** 10, 2 ** 18, 2 ** 23)],
        "kernel": [("kernel-doubling", {"L": 4096, "n": n}) for n in (16, 64, 512)]
        + [("kernel-diagonal", {"L": 4096, "n": n}) for n in (64, 2048)],
        "scan": [("scan-blelloch", {"L": 1024, "n": n}) for n in (16, 4096, 16384)]
        + [("ssm-ltv", {"L": 1024, "n": n}) for n in (16, 4096)],
        "ridge": [("ridge-sherman-morrison", {"T": 256, "d": d}) for d in (16, 256, 2048)]
        + [("ridge-causal-solve", {"T": 256, "d": d}) for d in (16, 256)],
    },
    "numpy": {
        "ssm": [("recurrence", {"L": 128, "n": n}) for n in (4, 128, 1024)],
        "conv": [("conv-fft", {"L": L}) for L in (2 ** 8, 2 ** 14, 2 ** 20)],
        "kernel": [("kernel-doubling", {"L": 1024, "n": n}) for n in (4, 32, 128)],
        "scan": [("scan-blelloch", {"L": 256, "n": n}) for n in (4, 1024, 16384)],
        "ridge": [("ridge-sherman-morrison", {"T": 128, "d": d}) for d in (4, 128, 512)],
    },
}
QUICK = {"ssm": [("recurrence", {"L": 8, "n": 2})], "conv": [("conv-fft", {"L": 16})],
         "kernel": [("kernel-doubling", {"L": 8, "n": 2})], "scan": [("scan-blelloch", {"L": 8, "n": 2})],
         "ridge": [("ridge-sherman-morrison", {"T": 8, "d": 2})]}

# What each validated executor name runs: (executor, options of `depthgraph.execute` and `predict`).
EXECUTORS = {"levels": ("levels", {}), "graphs": ("levels", {"cuda_graph": True}), "eager": ("eager", {}),
             "dask": ("dask", {})}

COLUMNS = ("family", "algorithm", "sizes", "executor", "nodes", "steps", "predicted_s", "measured_s",
           "rel_error", "launch_s", "throughput_s", "host_speed", "predicted_as_calibrated_s", "speed_graphs_s")


@dataclass(frozen=True)
class Result:
    """One (point, executor): predicted and measured seconds and the model's launch/throughput split.

    ``host_speed``: how many times slower the host ran while measuring than at calibration (1.3:
    1.3× slower; `depthgraph.overheads.host_speed`); ``predicted_s`` (and its launch/throughput
    split) is the profile's prediction at that speed, ``predicted_as_calibrated_s`` the profile's own.
    ``speed_graphs_s``: the seconds of each of `depthgraph.overheads.SPEED_GRAPHS`, timed in the
    same rounds, that ``host_speed`` was measured from (the CSV keeps them, space-separated, so
    that another profile's speed at the time can be measured too: ``bench/repredict.py``).
    """

    family: str
    algorithm: str
    sizes: str
    executor: str
    nodes: int
    steps: int
    predicted_s: float
    measured_s: float
    launch_s: float
    throughput_s: float
    host_speed: float
    predicted_as_calibrated_s: float
    speed_graphs_s: tuple[float, ...] = ()

    @property
    def rel_error(self) -> float:
        """(predicted − measured) / measured."""
        return (self.predicted_s - self.measured_s) / self.measured_s


ROUNDS, SECONDS = 25, 45.0  # timing: at least this many rounds over at least this many seconds (`Clock.walls`)


def validate(profile: Profile, executors: Sequence[str] = ("levels",), points: dict | None = None,
             scheduler: Any = "threads", workers: int = 1, progress: Callable[[str], None] = lambda step: None,
             label: str | None = None, rounds: int = ROUNDS, seconds: float = SECONDS) -> list[Result]:
    """Predict and measure every point under every executor; see the module doc.

    ``executors`` are names of `EXECUTORS` (``"graphs"``: levels replaying CUDA graphs, CuPy only).
    ``scheduler`` is the Dask scheduler for ``"dask"`` (a string, or a ``distributed.Client``:
    its overheads are the profile's ``dask-distributed`` ones), ``workers`` the P it is predicted for.
    Every (point, executor) is timed round robin with all the others and the speed graphs,
    ``rounds`` rounds over at least ``seconds`` (`depthgraph.timing.Clock.walls`): all are timed
    across the same phases of the host's speed. ``progress(step)`` follows the warm-ups and
    rounds; ``label`` names the executor in the results (default: the executor's name).

    >>> from depthgraph.calibrate import calibrate
    >>> used = {node.op for node in get("recurrence").build(L=8, n=2).nodes} - {"input"}
    >>> profile = calibrate("numpy", only=used, max_elements=4096, progress=False, trials=3, min_samples=2,
    ...                     seconds=0)
    >>> rows = validate(profile, points={"ssm": [("recurrence", {"L": 8, "n": 2})]}, rounds=3, seconds=0.0)
    >>> [(r.algorithm, r.executor, r.predicted_s > 0, r.measured_s > 0) for r in rows]
    [('recurrence', 'levels', True, True)]
    """
    clock = Clock(profile.backend)
    scheduler_name = scheduler if isinstance(scheduler, str) else "distributed"  # whose overheads to use
    cases, runs = [], []
    for family, sizes_of in (points or POINTS[profile.backend]).items():
        for name, sizes in sizes_of:
            spec = get(name)
            params = spec.params(**sizes)
            graph = spec.build(**params)
            inputs = {k: clock.xp.asarray(v) for k, v in spec.inputs(seed=0, **params).items()}
            steps = depthgraph.analyze(graph).steps
            for executor in executors:
                run_by, options = EXECUTORS[executor]
                run_options = {**options, "scheduler": scheduler} if run_by == "dask" else options

                def predict(p: Profile, g: depthgraph.Graph = graph, e: str = run_by, o: dict = options
                            ) -> depthgraph.Prediction:
                    return depthgraph.predict(g, e, p, workers=workers, scheduler=scheduler_name, **o)

                # predicted before anything is timed: a profile lacking a model fails in seconds, not minutes
                cases.append((family, name, " ".join(f"{k}={v}" for k, v in sizes.items()), executor, graph, steps,
                              predict, predict(profile).seconds))
                runs.append(lambda g=graph, i=inputs, e=run_by, o=run_options: depthgraph.execute(
                    g, i, executor=e, backend=profile.backend, **o))
    runs += [overhead_run(graph, profile.backend, executor="levels") for graph in SPEED_GRAPHS]
    timed = [wall for wall, _ in clock.walls(runs, rounds, seconds, progress=progress)]
    speed_graphs_s = tuple(timed[len(cases):])
    speed = host_speed(profile, speed_graphs_s)
    at_speed = profile.at_host_speed(speed)
    results = []
    for (family, name, sizes_text, executor, graph, steps, predict, as_calibrated), measured in zip(cases, timed):
        predicted = predict(at_speed)
        results.append(Result(family, name, sizes_text, label or executor, len(graph.nodes), steps,
                              predicted.seconds, measured, predicted.launch, predicted.throughput, speed,
                              as_calibrated, speed_graphs_s))
    return results


def write_csv(results: Sequence[Result], path: str | Path) -> None:
    """One row per result, columns `COLUMNS` (what `depthgraph.plots` reads)."""
    with open(path, "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows({**asdict(r), "rel_error": r.rel_error,
                          "speed_graphs_s": " ".join(map(repr, r.speed_graphs_s))} for r in results)


def summary(results: Sequence[Result]) -> str:
    """A table of every point (``host``: the host's speed while measured, `Result.host_speed`), then
    per executor the median and largest |error| — also of the profile's prediction as calibrated —
    and per family the share of predicted time the model puts on launches (depth) vs
    throughput (work), and the range of its signed errors under each executor."""
    header = (f"{'algorithm':<24}{'sizes':<18}{'executor':<11}{'steps':>7}{'predicted ms':>14}{'measured ms':>13}"
              f"{'error':>8}{'launch':>8}{'host':>6}")
    lines = [header]
    for r in results:
        lines.append(f"{r.algorithm:<24}{r.sizes:<18}{r.executor:<11}{r.steps:>7}{r.predicted_s * 1e3:>14.3f}"
                     f"{r.measured_s * 1e3:>13.3f}{r.rel_error:>+8.1%}{r.launch_s / r.predicted_s:>8.0%}"
                     f"{r.host_speed:>6.2f}")
    for executor in dict.fromkeys(r.executor for r in results):
        mine = [r for r in results if r.executor == executor]
        errors = [abs(r.rel_error) for r in mine]
        calibrated = [abs(r.predicted_as_calibrated_s / r.measured_s - 1) for r in mine]
        lines.append(f"{executor}: {len(errors)} points, median |error| {statistics.median(errors):.1%}, "
                     f"max {max(errors):.1%} (as calibrated, not at the host's speed: median "
                     f"{statistics.median(calibrated):.1%}, max {max(calibrated):.1%})")
    for family in dict.fromkeys(r.family for r in results):
        mine = [r for r in results if r.family == family]
        launch = sum(r.launch_s for r in mine) / sum(r.predicted_s for r in mine)
        # signed: a family missed one way at every size is a cost the model lacks, not noise
        signed: dict[str, list[float]] = {}
        for r in mine:
            signed.setdefault(r.executor, []).append(r.rel_error)
        ranges = ", ".join(f"{executor} {min(e):+.0%} … {max(e):+.0%}" for executor, e in signed.items())
        lines.append(f"{family}: the model attributes {launch:.0%} of predicted time to launches, "
                     f"{1 - launch:.0%} to throughput; errors {ranges}")
    return "\n".join(lines)


def cluster(kind: str) -> Any:
    """A ``distributed.Client`` of a fresh one-worker cluster: ``"local"`` (CPU) or ``"cuda"`` (one GPU,
    dask-cuda). Worker processes are spawned: call it under ``if __name__ == "__main__"``."""
    from distributed import Client

    if kind == "cuda":
        from dask_cuda import LocalCUDACluster

        return Client(LocalCUDACluster(n_workers=1))
    from distributed import LocalCluster

    return Client(LocalCluster(n_workers=1, threads_per_worker=1, processes=True))


def job(out_dir: str | Path, profile: Profile | None = None, backend: str = "numpy",
        executors: Sequence[str] = ("levels", "eager", "dask"), cluster_kind: str | None = None,
        quick: bool = False, progress: bool = True, only: Sequence[str] | None = None,
        in_situ: bool | None = None) -> list[Result]:
    """Calibrate (unless given a profile), validate, and write ``profile.json``, ``validation.csv``,
    ``validation.png`` and ``validation.txt`` into ``out_dir``: what ``depthgraph validate`` runs.

    ``"dask"`` runs on the threads scheduler; with ``cluster_kind`` (``"local"`` or ``"cuda"``) dask
    also runs on a one-worker cluster of that kind. ``only``: algorithm names, a subset of `POINTS`
    (default all). ``in_situ``: calibrate calls in situ (`depthgraph.calibrate.calibrate`; None: the backend's default).
    The profile is written once calibrated and the results after each validation pass (the
    executors, then the cluster), so a run stopped partway keeps what it finished.
    """
    from tqdm import tqdm

    out = Path(out_dir)
    writable_path(out / "validation.csv", "validation results")  # the folder made, or a clear error before any timing
    client = cluster(cluster_kind) if cluster_kind else None
    try:
        if profile is None:
            profile = calibrate_profile(backend, client, quick, progress, in_situ)
        profile.save(out / "profile.json")
        points = QUICK if quick else POINTS[profile.backend]
        if only:
            points = {f: [c for c in cases if c[0] in only] for f, cases in points.items()}
        timing = {"rounds": 3, "seconds": 0.0} if quick else {"rounds": ROUNDS, "seconds": SECONDS}
        jobs = bool(executors) + (client is not None)  # validate calls, each also warming the speed graphs
        runs = sum(len(cases) for cases in points.values()) * (len(executors) + (client is not None))
        with tqdm(total=runs + (len(SPEED_GRAPHS) + timing["rounds"]) * jobs, disable=not progress,
                  desc="validating", leave=False) as bar:
            def step(label: str) -> None:
                bar.set_postfix_str(label, refresh=False)
                bar.update()

            results: list[Result] = []
            if executors:
                results += validate(profile, executors, points, progress=step, **timing)
                write_results(results, out, profile)
            if client is not None:
                results += validate(profile, ("dask",), points, scheduler=client, progress=step,
                                    label=f"dask-{cluster_kind}", **timing)
                write_results(results, out, profile)
    finally:
        if client is not None:
            client.cluster.close()
            client.close()
    return results


def write_results(results: Sequence[Result], out: Path, profile: Profile) -> None:
    """``validation.csv``, ``validation.txt`` (the profile's device, date and versions, then
    `summary`) and ``validation.png`` of ``results`` in ``out``."""
    from depthgraph.plots import predicted_vs_measured

    write_csv(results, out / "validation.csv")
    text = summary(results)
    (out / "validation.txt").write_text(f"{profile.device}, {profile.date}, {profile.versions}\n{text}\n")
    predicted_vs_measured(out / "validation.csv", out / "validation.png")


def calibrate_profile(backend: str, client: Any, quick: bool, progress: bool, in_situ: bool | None = None
                      ) -> Profile:
    """A fresh profile of ``backend`` (and of ``client``'s per-task overhead); ``quick``: small sizes
    only; ``in_situ``: calls timed in situ (None: the backend's default)."""
    from depthgraph.calibrate import calibrate
    from depthgraph.overheads import OVERHEAD_SECONDS

    return calibrate(backend, max_elements=2 ** 12 if quick else None, client=client, progress=progress,
                     trials=3 if quick else 7, min_samples=2 if quick else 5,
                     seconds=0.0 if quick else OVERHEAD_SECONDS, in_situ=in_situ)
