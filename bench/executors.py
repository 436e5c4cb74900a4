"""Eager vs levels vs Dask vs a hand-written array baseline, for every algorithm (a benchmark, not a test).

Run from the repository root::

    python bench/executors.py                         # CuPy if it and a GPU are there, else NumPy
    python bench/executors.py --backend numpy --quick # a few minutes on a laptop CPU
    python bench/executors.py --backend cupy --repeat 7 --out results.md
    python bench/executors.py --only kernel-doubling,conv-fft

What one run prints (and writes to ``--out`` as Markdown, with device, versions and date):

* **The table.** For each algorithm at 2–3 sizes (a launch-bound small one, a medium one, a
  larger one; ``--quick`` keeps the first two): the graph's nodes, ``steps`` (ops on the longest
  path, `depthgraph.analyze`), the levels schedule's groups and kernel launches
  (`depthgraph.schedule`), then the time of one whole run with the eager, levels
  and Dask (``scheduler="threads"``, default partition) executors, on CuPy also the levels
  executor replaying CUDA graphs (``cuda_graph=True``, column "graphs"), and with a hand-written
  baseline that calls the array module directly (no depthgraph; see ``BASELINES``), and the
  ratios eager/levels and levels/baseline. A time reads ``median [min–max]`` in ms.
* **(a) Host cost of the levels executor per kernel group**, at the small size: on CuPy by
  `cupyx.profiler.benchmark`, whose CPU time is the host wall time of the call without waiting
  for the GPU, so host µs per group = CPU time / groups (target ≤ 25 µs). Eager's host µs per
  op beside it, and on CuPy the same for the levels executor with CUDA graphs. On NumPy the host time includes the arithmetic (there is no device).
* **(b) Does levels time follow depth?** Across all algorithms at the small size: Pearson r of
  levels ms against ``steps`` and against ``schedule.launches`` (and of their logarithms), and
  µs per step and per launch for each algorithm.
* **(c) Memory** (CuPy only), at the largest size: the peak of the memory pool's used bytes
  during one levels run (a `cupy.cuda.MemoryHook` adding up pool mallocs minus frees; plus the
  inputs and constants, which are resident before the run) against `Schedule.peak_bytes`.

On a small CPU VM run the NumPy backend with ``OPENBLAS_NUM_THREADS=1``: OpenBLAS's threads on
two busy cores stall in multiples of the 4 ms scheduler tick and swamp small matrix products.

Method: inputs are put on the device once; every variant's outputs are checked against NumPy
float64 eager execution before it is timed (relative error ‖got − ref‖/‖ref‖ ≤ 1e-10; a
variant that fails is reported and not timed); then 2 warm-up runs (the levels schedule is
compiled before them, and its time is the ``compile s`` column), then ``--repeat`` timed runs
(default 5), each between two device synchronisations, with the garbage collector paused.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import gc
import math
import platform
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import algorithms
import depthgraph
from depthgraph.executors.backend import gpu_available
from baselines import BASELINES

schedule = depthgraph.schedule  # the levels executor's compiled plan: .groups, .levels, .launches, .peak_bytes


def to_numpy(array: Any) -> np.ndarray:
    """A NumPy copy of a NumPy or CuPy array (CuPy arrays have ``.get()``)."""
    return array.get() if hasattr(array, "get") and not isinstance(array, np.ndarray) else np.asarray(array)

RTOL = 1e-10
WARMUP = 2
HOST_TARGET_US = 25.0

# Sizes per algorithm: small (launch-bound), medium, larger. --quick keeps the first two.
_SEQ = [{"L": 256, "n": 64}, {"L": 1024, "n": 64}, {"L": 4096, "n": 64}]
_RIDGE = [{"T": 256, "d": 64}, {"T": 1024, "d": 64}, {"T": 2048, "d": 64}]
SIZES: dict[str, list[dict[str, int]]] = {
    "recurrence": _SEQ,
    # conv-direct: every y_k is a dot of a different length, so L dots make L groups (no
    # batching) and the levels plan's gathers hold L²/2 positions per operand: kept to 2048.
    "conv-direct": [{"L": 256}, {"L": 1024}, {"L": 2048}],
    "conv-fft": [{"L": 1024}, {"L": 16384}, {"L": 1 << 20}],
    "kernel-sequential": _SEQ,
    "kernel-doubling": _SEQ,
    "kernel-diagonal": _SEQ,
    "kernel-dplr": _SEQ,
    "scan-sequential": _SEQ,
    "scan-hillis-steele": _SEQ,
    "scan-blelloch": _SEQ,
    "ssm-ltv": _SEQ,
    "ridge-sherman-morrison": _RIDGE,
    "ridge-causal-solve": _RIDGE,
    "ridge-noncausal": _RIDGE,
}


# ====================================================================== measuring


@dataclass
class Timing:
    median: float  # seconds
    low: float
    high: float

    def cell(self) -> str:
        return f"{fmt(self.median * 1e3)} [{fmt(self.low * 1e3)}–{fmt(self.high * 1e3)}]"


def fmt(x: float) -> str:
    """A number with about three significant digits, never in exponent form."""
    if math.isnan(x):
        return "nan"
    ax = abs(x)
    return f"{x:.0f}" if ax >= 100 else f"{x:.1f}" if ax >= 10 else f"{x:.2f}" if ax >= 1 else f"{x:.3f}"


def relative_error(got: Any, want: np.ndarray) -> float:
    got = np.asarray(to_numpy(got), dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        return math.inf
    if not np.all(np.isfinite(got)):
        return math.inf
    scale = np.linalg.norm(want)
    diff = np.linalg.norm(got - want)
    return float(diff / scale if scale else diff)


class Bench:
    """The backend, its synchronisation, and the report being written."""

    def __init__(self, backend: str, repeat: int):
        self.backend = backend
        self.repeat = repeat
        self.lines: list[str] = []
        if backend == "cupy":
            import cupy

            self.cupy = cupy
            self.xp = cupy
        else:
            self.cupy = None
            self.xp = np

    def sync(self) -> None:
        if self.cupy is not None:
            self.cupy.cuda.Device().synchronize()

    def say(self, line: str = "") -> None:
        print(line, flush=True)
        self.lines.append(line)

    def to_device(self, inputs: dict[str, np.ndarray]) -> dict[str, Any]:
        out = {k: self.xp.asarray(v) for k, v in inputs.items()}
        self.sync()
        return out

    def time(self, fn: Callable[[], Any]) -> Timing:
        """WARMUP runs, then ``repeat`` runs each between two synchronisations; GC paused while timing."""
        for _ in range(WARMUP):
            fn()
            self.sync()
        gc.collect()
        enabled = gc.isenabled()
        gc.disable()
        times = []
        try:
            for _ in range(self.repeat):
                self.sync()
                start = time.perf_counter()
                fn()
                self.sync()
                times.append(time.perf_counter() - start)
        finally:
            if enabled:
                gc.enable()
        return Timing(statistics.median(times), min(times), max(times))

    def check(self, fn: Callable[[], dict], reference: dict[str, np.ndarray]) -> tuple[bool, str]:
        """Run once; every reference output must come back within RTOL."""
        out = fn()
        self.sync()
        worst, where = 0.0, ""
        for name, want in reference.items():
            if name not in out:
                return False, f"output {name!r} missing"
            err = relative_error(out[name], want)
            if err > worst or not where:
                worst, where = err, name
        return worst <= RTOL, f"rel. error {worst:.1e} ({where})"

    def free(self) -> None:
        if self.cupy is not None:
            self.sync()
            self.cupy.get_default_memory_pool().free_all_blocks()


@dataclass
class Row:
    name: str
    params: dict
    size_index: int
    nodes: int = 0
    steps: int = 0
    groups: int = 0
    launches: int = 0
    compile_s: float = math.nan
    times: dict = None  # variant -> Timing
    notes: list = None


def size_label(params: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items())


def measure_case(bench: Bench, name: str, params: dict, size_index: int, dask_ok: bool) -> tuple[Row, Any]:
    """Build, check and time every variant of one (algorithm, size)."""
    spec = algorithms.get(name)
    graph = spec.build(**params)
    host_inputs = spec.inputs(seed=0, **params)
    row = Row(name, params, size_index, times={}, notes=[])
    row.nodes = len(graph.nodes)
    row.steps = depthgraph.analyze(graph).steps
    start = time.perf_counter()
    plan = schedule(graph)
    row.compile_s = time.perf_counter() - start
    row.groups, row.launches = len(plan.groups), plan.launches

    reference = depthgraph.execute(graph, host_inputs, executor="eager", backend="numpy", to_host=True)
    inputs = bench.to_device(host_inputs)
    full = spec.params(**params)

    variants: dict[str, Callable[[], dict]] = {
        "eager": lambda: depthgraph.execute(graph, inputs, executor="eager", backend=bench.backend),
        "levels": lambda: depthgraph.execute(graph, inputs, executor="levels", backend=bench.backend),
    }
    if bench.cupy is not None:  # the levels schedule replayed from CUDA graphs (recorded by the check run)
        variants["graphs"] = lambda: depthgraph.execute(graph, inputs, executor="levels", backend="cupy",
                                                        cuda_graph=True)
    if dask_ok:
        variants["dask"] = lambda: depthgraph.execute(graph, inputs, executor="dask", backend=bench.backend,
                                                      scheduler="threads")
    if name in BASELINES:
        _, make = BASELINES[name]
        variants["baseline"] = lambda: make(bench.xp, inputs, full)
    for variant, fn in variants.items():
        try:
            ok, detail = bench.check(fn, reference)
        except Exception as exc:  # noqa: BLE001 — a variant that cannot run is reported, the benchmark goes on
            ok, detail = False, f"raised {type(exc).__name__}: {exc}"
            traceback.print_exc(limit=3)
        if not ok:
            row.notes.append(f"{variant}: FAILED CHECK, not timed ({detail})")
            bench.say(f"  ! {name} [{size_label(params)}] {variant}: failed the check, not timed: {detail}")
            continue
        try:
            row.times[variant] = bench.time(fn)
        except Exception as exc:  # noqa: BLE001
            row.notes.append(f"{variant}: raised while timing ({type(exc).__name__}: {exc})")
            bench.say(f"  ! {name} [{size_label(params)}] {variant}: raised while timing: {exc}")
    shown = ", ".join(f"{v} {fmt(t.median * 1e3)} ms" for v, t in row.times.items())
    print(f"  {name:24s} {size_label(params):16s} steps {row.steps:6d} groups {row.groups:6d}: {shown}",
          flush=True)
    return row, (graph, inputs, plan)


# ---------------------------------------------------------------- (a) host cost per group


def host_cost(bench: Bench, graph, inputs, plan) -> tuple[float, ...]:
    """(levels host µs per group, levels GPU µs per group, eager host µs per op[, the same two with CUDA graphs])."""
    n_rep = max(10, bench.repeat)
    levels = lambda: depthgraph.execute(graph, inputs, executor="levels", backend=bench.backend)
    eager = lambda: depthgraph.execute(graph, inputs, executor="eager", backend=bench.backend)
    ops_run = sum(node.op != "input" for node in graph.nodes)
    groups = max(1, len(plan.groups))
    if bench.cupy is not None:
        from cupyx.profiler import benchmark

        def per_group(fn):
            result = benchmark(fn, n_repeat=n_rep, n_warmup=WARMUP)
            return (float(np.median(result.cpu_times)) / groups * 1e6,
                    float(np.median(result.gpu_times[0])) / groups * 1e6)

        eg = benchmark(eager, n_repeat=n_rep, n_warmup=WARMUP)
        graphs = lambda: depthgraph.execute(graph, inputs, executor="levels", backend="cupy", cuda_graph=True)
        return (*per_group(levels), float(np.median(eg.cpu_times)) / max(1, ops_run) * 1e6, *per_group(graphs))

    def host_median(fn):
        for _ in range(WARMUP):
            fn()
        times = []
        for _ in range(n_rep):
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        return statistics.median(times)

    return host_median(levels) / groups * 1e6, math.nan, host_median(eager) / max(1, ops_run) * 1e6, math.nan, math.nan


# ---------------------------------------------------------------- (c) memory


def peak_memory(bench: Bench, graph, inputs, plan) -> tuple[int, int]:
    """(measured peak bytes of one levels run, bytes resident before it that the prediction counts)."""
    cupy = bench.cupy

    class PoolPeak(cupy.cuda.MemoryHook):
        """Pool bytes handed out minus bytes given back while registered, and the peak of that."""

        name = "depthgraph-bench-pool-peak"

        def __init__(self):
            self.used = 0
            self.peak = 0

        def malloc_postprocess(self, **kw):
            self.used += kw.get("mem_size", 0)
            self.peak = max(self.peak, self.used)

        def free_postprocess(self, **kw):
            self.used -= kw.get("mem_size", 0)

    depthgraph.execute(graph, inputs, executor="levels", backend="cupy")  # device caches (indices, constants)
    bench.sync()
    gc.collect()
    hook = PoolPeak()
    with hook:
        out = depthgraph.execute(graph, inputs, executor="levels", backend="cupy")
        bench.sync()
        del out
    made = {g.slab for g in plan.groups}
    resident = sum(b for s, b in enumerate(plan.slab_bytes) if s not in made)  # inputs and constants
    return hook.peak + resident, resident


# ====================================================================== the report


def header(bench: Bench, args: argparse.Namespace, dask_note: str) -> None:
    now = datetime.datetime.now().astimezone()
    versions = [f"Python {platform.python_version()}", f"NumPy {np.__version__}"]
    device = f"CPU ({platform.processor() or platform.machine()}, NumPy backend)"
    if bench.cupy is not None:
        cupy = bench.cupy
        props = cupy.cuda.runtime.getDeviceProperties(0)
        name = props["name"]
        device = name.decode() if isinstance(name, bytes) else str(name)
        versions.append(f"CuPy {cupy.__version__}")
        with contextlib.suppress(Exception):
            rt = cupy.cuda.runtime.runtimeGetVersion()
            drv = cupy.cuda.runtime.driverGetVersion()
            versions.append(f"CUDA runtime {rt // 1000}.{rt % 1000 // 10}, driver {drv // 1000}.{drv % 1000 // 10}")
    try:
        import dask
        import distributed

        versions.append(f"Dask {dask.__version__}, distributed {distributed.__version__}")
    except ImportError:
        pass
    versions.append(f"depthgraph {depthgraph.__version__}")
    with contextlib.suppress(Exception):  # not a git checkout, or no git
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False,
                                cwd=Path(__file__).resolve().parents[1], timeout=5).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                               text=True, check=False, cwd=Path(__file__).resolve().parents[1], timeout=5).stdout.strip()
        if commit:
            versions.append(f"commit {commit}{' (modified)' if dirty else ''}")
    task_executor = ""
    with contextlib.suppress(Exception):
        from depthgraph.executors import dask as dask_executor

        task_executor = f"; each Dask task runs the {dask_executor.TASK_EXECUTOR} executor"
    bench.say(f"# depthgraph executors: eager vs levels vs Dask vs hand-written ({bench.backend})")
    bench.say()
    bench.say(f"- Device: **{device}**; backend `{bench.backend}`")
    bench.say(f"- Versions: {', '.join(versions)}")
    bench.say(f"- Date: {now.strftime('%Y-%m-%d %H:%M %Z')}; host {platform.node() or '?'}, {platform.system()}")
    bench.say(f"- Command: `python bench/executors.py {' '.join(sys.argv[1:])}`")
    bench.say(f"- Method: outputs checked against NumPy float64 eager (rel. error ≤ {RTOL:g}) before timing; "
              f"{WARMUP} warm-up runs; median [min–max] of {bench.repeat} runs, each between device "
              f"synchronisations; inputs already on the device; times are whole `depthgraph.execute` calls "
              f"(outputs left on the device).")
    bench.say(f"- Dask: {dask_note}{task_executor}.")
    bench.say()


def main_table(bench: Bench, rows: list[Row]) -> None:
    bench.say("## Whole runs (ms)")
    bench.say()
    bench.say("| algorithm | size | nodes | steps | groups | launches | eager ms | levels ms | graphs ms | dask ms "
              "| baseline ms | eager/levels | levels/baseline | graphs/baseline | compile s |")
    bench.say("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for r in rows:
        t = r.times

        def cell(v, t=t):
            return t[v].cell() if v in t else "—"

        speed = f"{t['eager'].median / t['levels'].median:.1f}×" if "eager" in t and "levels" in t else "—"
        ratio = f"{t['levels'].median / t['baseline'].median:.2f}" if "levels" in t and "baseline" in t else "—"
        graphs = f"{t['graphs'].median / t['baseline'].median:.2f}" if "graphs" in t and "baseline" in t else "—"
        bench.say(f"| {r.name} | {size_label(r.params)} | {r.nodes:,} | {r.steps:,} | {r.groups:,} | {r.launches:,} "
                  f"| {cell('eager')} | {cell('levels')} | {cell('graphs')} | {cell('dask')} | {cell('baseline')} "
                  f"| {speed} | {ratio} | {graphs} | {r.compile_s:.2f} |")
    bench.say()
    bench.say("Baselines (hand-written, `xp` = the array module): "
              + "; ".join(f"{n}: {d}" for n, (d, _) in BASELINES.items()) + ".")
    notes = [f"{r.name} [{size_label(r.params)}] {n}" for r in rows for n in r.notes]
    if notes:
        bench.say()
        bench.say("Variants not timed:")
        for n in notes:
            bench.say(f"- {n}")
    bench.say()


def host_section(bench: Bench, host_rows: list[tuple]) -> list[tuple[str, float]]:
    bench.say("## (a) Host cost of the levels executor per kernel group (small size)")
    bench.say()
    if bench.cupy is not None:
        bench.say("`cupyx.profiler.benchmark`: CPU time is the host wall time of one `execute(..., "
                  "executor=\"levels\")` call, not waiting for the GPU; GPU time is between CUDA events. "
                  f"Target: host ≤ {HOST_TARGET_US:g} µs per group.")
    else:
        bench.say("NumPy backend: there is no device, so host time per group includes the arithmetic "
                  f"(an upper bound on the executor's own cost). Target (for CuPy): ≤ {HOST_TARGET_US:g} µs per group.")
    bench.say()
    bench.say("| algorithm | size | groups | levels host µs/group | levels GPU µs/group | eager host µs/op "
              "| graphs host µs/group | graphs GPU µs/group | ok (best of levels, graphs) |")
    bench.say("|---|---|--:|--:|--:|--:|--:|--:|:-:|")
    results = []
    for name, params, groups, measured in host_rows:
        if isinstance(measured, str):
            bench.say(f"| {name} | {size_label(params)} | {groups:,} | failed: {measured} | | | |")
            continue
        host, gpu, eager, graphs_host, graphs_gpu = measured
        best = host if math.isnan(graphs_host) else min(host, graphs_host)
        results.append((name, best))

        def cell(x):
            return "—" if math.isnan(x) else f"{x:.1f}"

        bench.say(f"| {name} | {size_label(params)} | {groups:,} | {host:.1f} | {cell(gpu)} | {eager:.1f} "
                  f"| {cell(graphs_host)} | {cell(graphs_gpu)} | {'ok' if best <= HOST_TARGET_US else 'MISSED'} |")
    bench.say()
    return results


def correlation_section(bench: Bench, rows: list[Row]) -> tuple[float, float]:
    bench.say("## (b) Levels time against steps and launches (small size, all algorithms)")
    bench.say()
    pts = [r for r in rows if r.size_index == 0 and "levels" in r.times]
    bench.say("| algorithm | size | steps | launches | levels ms | µs per step | µs per launch |")
    bench.say("|---|---|--:|--:|--:|--:|--:|")
    for r in pts:
        ms = r.times["levels"].median * 1e3
        bench.say(f"| {r.name} | {size_label(r.params)} | {r.steps:,} | {r.launches:,} | {fmt(ms)} | "
                  f"{fmt(ms * 1e3 / max(1, r.steps))} | {fmt(ms * 1e3 / max(1, r.launches))} |")
    bench.say()
    r_steps = r_launch = math.nan
    for variant in ("levels", "graphs"):
        timed = [r for r in pts if variant in r.times]
        if len(timed) < 3:
            continue
        ms = np.array([r.times[variant].median for r in timed])
        steps = np.array([r.steps for r in timed], dtype=float)
        launches = np.array([r.launches for r in timed], dtype=float)
        by_steps = float(np.corrcoef(ms, steps)[0, 1])
        by_launches = float(np.corrcoef(ms, launches)[0, 1])
        r_lsteps = float(np.corrcoef(np.log(ms), np.log(np.maximum(steps, 1)))[0, 1])
        r_llaunch = float(np.corrcoef(np.log(ms), np.log(np.maximum(launches, 1)))[0, 1])
        slope = np.polyfit(launches, ms * 1e6, 1)
        bench.say(f"{variant}: Pearson r (ms, steps) = **{by_steps:.3f}**; r (ms, launches) = **{by_launches:.3f}** "
                  f"(n = {len(timed)} algorithms).")
        bench.say(f"On logarithms (less dominated by the largest graphs): r(log ms, log steps) = {r_lsteps:.3f}; "
                  f"r(log ms, log launches) = {r_llaunch:.3f}.")
        bench.say(f"Least-squares fit: {variant} µs ≈ {slope[0]:.1f} · launches + {slope[1]:.0f}.")
        bench.say()
        if variant == "levels":
            r_steps, r_launch = by_steps, by_launches
    if math.isnan(r_steps):
        bench.say("Too few algorithms timed at the small size for a correlation.")
        bench.say()
    return r_steps, r_launch


def memory_section(bench: Bench, memory_rows: list[tuple]) -> None:
    bench.say("## (c) Peak device memory of one levels run (largest size)")
    bench.say()
    if bench.cupy is None:
        bench.say("Skipped: the NumPy backend has no device memory pool to watch.")
        bench.say()
        return
    bench.say("Measured: the peak, during one run, of the CuPy pool's bytes handed out minus given back "
              "(a `cupy.cuda.MemoryHook`; allocations are rounded up to 512 bytes), plus the inputs and "
              "constants already resident. Predicted: `schedule(graph).peak_bytes` (live slabs plus the "
              "running group's gathered operands). Workspaces of cuBLAS/cuSOLVER/cuFFT taken from the pool "
              "count as measured; cached gather indices and FFT plans made by the warm-up do not.")
    bench.say()
    bench.say("| algorithm | size | predicted MB | measured MB | measured/predicted |")
    bench.say("|---|---|--:|--:|--:|")
    for name, params, predicted, measured in memory_rows:
        if isinstance(measured, str):
            bench.say(f"| {name} | {size_label(params)} | {predicted / 1e6:.2f} | failed: {measured} | |")
            continue
        ratio = measured / predicted if predicted else math.nan
        bench.say(f"| {name} | {size_label(params)} | {predicted / 1e6:.2f} | {measured / 1e6:.2f} | {ratio:.2f} |")
    bench.say()


def targets_section(bench: Bench, rows: list[Row], host: list[tuple[str, float]], r: tuple[float, float]) -> None:
    bench.say("## Targets (issue 4)")
    bench.say()
    for row in rows:
        if row.name == "kernel-doubling" and row.params.get("L") == 4096 and row.params.get("n") == 64:
            t = row.times
            if "eager" in t and "levels" in t:
                s = t["eager"].median / t["levels"].median
                bench.say(f"- kernel-doubling n=64, L=4096: levels {s:.1f}× faster than eager "
                          f"(target ≥ 30×): {'ok' if s >= 30 else 'MISSED'}")
            if "eager" in t and "graphs" in t:
                s = t["eager"].median / t["graphs"].median
                bench.say(f"- kernel-doubling n=64, L=4096: levels with CUDA graphs {s:.1f}× faster than eager "
                          f"(target ≥ 30×): {'ok' if s >= 30 else 'MISSED'}")
            for variant in ("levels", "graphs"):
                if variant in t and "baseline" in t:
                    q = t[variant].median / t["baseline"].median
                    bench.say(f"- kernel-doubling n=64, L=4096: {variant} / hand-written doubling = {q:.2f} "
                              f"(target ≤ 1.5): {'ok' if q <= 1.5 else 'MISSED'}")
    if host:
        worst = max(host, key=lambda x: x[1])
        missed = [n for n, v in host if v > HOST_TARGET_US]
        verdict = f"all ≤ {HOST_TARGET_US:g} µs" if not missed else f"over {HOST_TARGET_US:g} µs: {', '.join(missed)}"
        bench.say(f"- Host µs per group (the better of levels and levels with CUDA graphs): worst {worst[1]:.1f} "
                  f"({worst[0]}); {verdict}"
                  + ("" if bench.cupy is not None else " (NumPy: includes the arithmetic)"))
    bench.say(f"- Levels time vs steps: r = {r[0]:.3f}; vs launches: r = {r[1]:.3f}")
    bench.say()


# ====================================================================== main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=("cupy", "numpy"), default=None,
                        help="array backend (default: cupy if a GPU is usable, else numpy)")
    parser.add_argument("--quick", action="store_true", help="only the small and medium sizes")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per variant (≥ 5 recommended)")
    parser.add_argument("--out", type=Path, default=None, help="also write the report here (Markdown)")
    parser.add_argument("--only", default=None, help="comma-separated algorithm names")
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")

    backend = args.backend or ("cupy" if gpu_available() else "numpy")
    bench = Bench(backend, args.repeat)

    try:
        import dask  # noqa: F401
        import distributed  # noqa: F401

        dask_ok, dask_note = True, '`scheduler="threads"`, default partition'
    except ImportError as exc:
        dask_ok, dask_note = False, f"not available ({exc}); the dask column is empty"

    names = algorithms.names()
    if args.only:
        wanted = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in wanted if n not in names]
        if unknown:
            parser.error(f"unknown algorithm(s) {unknown}; choose from {names}")
        names = [n for n in names if n in wanted]

    started = time.perf_counter()
    header(bench, args, dask_note)
    print("measuring…", flush=True)
    rows: list[Row] = []
    host_rows: list[tuple] = []  # (name, params, groups, (host µs/group, GPU µs/group, eager µs/op) or error)
    memory_rows: list[tuple] = []  # (name, params, predicted bytes, measured bytes or error)
    for name in names:
        sizes = SIZES.get(name) or [dict(algorithms.get(name).defaults)]
        sizes = sizes[:2] if args.quick else sizes
        for i, params in enumerate(sizes):
            try:
                row, (graph, inputs, plan) = measure_case(bench, name, params, i, dask_ok)
            except Exception as exc:  # noqa: BLE001
                bench.say(f"  ! {name} [{size_label(params)}]: could not be measured: {type(exc).__name__}: {exc}")
                traceback.print_exc(limit=5)
                continue
            rows.append(row)
            if i == 0:
                try:
                    measured = host_cost(bench, graph, inputs, plan)
                except Exception as exc:  # noqa: BLE001
                    measured = f"{type(exc).__name__}: {exc}"
                host_rows.append((name, params, len(plan.groups), measured))
            if i == len(sizes) - 1 and bench.cupy is not None:
                try:
                    measured = peak_memory(bench, graph, inputs, plan)[0]
                except Exception as exc:  # noqa: BLE001
                    measured = f"{type(exc).__name__}: {exc}"
                memory_rows.append((name, params, plan.peak_bytes, measured))
            del graph, inputs, plan
            bench.free()

    bench.say()
    main_table(bench, rows)
    host = host_section(bench, host_rows)
    r = correlation_section(bench, rows)
    memory_section(bench, memory_rows)
    targets_section(bench, rows, host, r)
    bench.say(f"Total benchmark time: {time.perf_counter() - started:.0f} s.")
    if args.out:
        args.out.write_text("\n".join(bench.lines) + "\n")
        print(f"(report written to {args.out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
