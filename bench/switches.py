"""Does a call cost the host more right after a call of another kind, and by how much?

Run from the repository root (on the GPU host for the figures that matter)::

    python bench/switches.py                    # CuPy if a GPU is present, else NumPy
    python bench/switches.py --backend numpy --passes 2

This is a diagnostic benchmark, not a test: it prints tables. Calibration times each call
repeated alone in a loop; in a graph each call follows another. For a set of small,
launch-bound calls (the exact footprints calibration samples, `depthgraph.calibrate.samples`),
it times every call alone and every pair alternating (A, B, A, B, ...), the three side by side
so that the host's speed (`depthgraph.timing`) is the same for them, and prints the *extra* of
each pair: its per-pair host time less the two calls' times alone — what alternating costs
beyond repeating. Medians over ``--passes`` passes.

It then fits two models of the extras by least squares and prints how well each explains them:

* ``per call``: each call has an arrival cost ``s``, paid when it follows a different call —
  extra(A, B) = s_A + s_B;
* ``per path``: calls down one path (elementwise kernel, reduction, gather, cuBLAS, cuFFT,
  cuSOLVER, copy) share one arrival cost, paid only after a call down another path — extra(A, B)
  = s_path(A) + s_path(B) if the paths differ, else 0.

If ``per path`` explains the extras about as well as ``per call``, a model can charge a switch
per path, calibrated from a few pairs; if pairs within one path have extras as large as pairs
across paths, the cost follows the call, not the library.

``--after`` also times every call alternating with each of a few pieces of host work that are
not calls of the device (`AFTER`) — the executor's own Python on NumPy, a sweep of host memory —
and prints each call's extra after each, beside its time alone: whether what runs between a
graph's calls, rather than the call before, makes a call dearer than in calibration's loop.

On an H200 (docs/BENCHMARKS.md, thirteenth session) pairs of device calls cost only 0–12 µs more
alternated than alone, and a per-path model fits them no better than a per-call one; after the
executor's own Python the same calls cost 5–36 µs more (a ``dot`` +36 on 66 µs), about what
real graphs' groups missed. That is why calibration times calls in situ beside the executor's
Python (`depthgraph.calibrate`), not a model of switches between paths.
"""

from __future__ import annotations

import argparse
import itertools
import pathlib
import statistics
import sys
from collections.abc import Callable

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from depthgraph.calibrate import samples
from depthgraph.cli import positive_int
from depthgraph.executors import execute
from depthgraph.executors.backend import gpu_available
from depthgraph.overheads import ladder, overhead_inputs, vector_add
from depthgraph.timing import Clock

# label of a calibration sample -> the path its call goes down on CuPy
CALLS = {
    "add s=64": "elementwise", "sub s=64": "elementwise", "div s=64": "elementwise", "exp s=64": "elementwise",
    "add s=16 k=8": "elementwise", "mul s=16 k=8 shared": "elementwise", "outer s=16": "elementwise",
    "sum s=64": "reduction",
    "rows=16 width=64 sources=2 rows": "gather", "rows=16 width=64 sources=8 scattered": "gather",
    "stack s=16 k=8": "copy", "concat s=16 k=8": "copy",
    "dot s=64": "cublas", "matmul s=16": "cublas", "matmul#dot s=16": "cublas", "matmul#mm s=16": "cublas",
    "matmul s=16 k=8 shared": "cublas",
    "rfft s=64": "cufft", "irfft s=64": "cufft", "rfft s=16 k=8": "cufft",
    "solve s=16": "cusolver", "inv s=16": "cusolver",
}


def after() -> dict[str, Callable[[], object]]:
    """Host work that is no device call, each a few tens of µs on a CPU, to time calls after."""
    small, two = vector_add(64), ladder(2, 2)  # the first: calibration's in-situ neighbour
    small_inputs, two_inputs = overhead_inputs(small, np), overhead_inputs(two, np)
    swept = np.ones(2 ** 17)  # 1 MiB: a core's L2
    return {"levels run, 1 add (NumPy)": lambda: execute(small, small_inputs, executor="levels"),
            "levels run, ladder 2x2 (NumPy)": lambda: execute(two, two_inputs, executor="levels"),
            "sweep 1 MiB of host memory": lambda: np.add(swept, 1.0, out=swept)}


def host(clock: Clock, call: Callable[[], object]) -> float:
    """Host seconds per call of ``call`` (a robust median of short trials)."""
    return clock.measure(call, trials=3, min_samples=2)[0]


def fit(rows: list[list[float]], extras: list[float]) -> tuple[np.ndarray, float]:
    """Least-squares coefficients, and the RMS residual in µs (plain least squares: one column per
    call is too many for `depthgraph.cost.nnls`, which tries every subset of columns)."""
    matrix, target = np.array(rows, dtype=float), np.array(extras)
    coef, *_ = np.linalg.lstsq(matrix, target, rcond=None)
    return coef, float(np.sqrt(np.mean((matrix @ coef - target) ** 2))) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["numpy", "cupy"], default=None)
    parser.add_argument("--passes", type=positive_int, default=3)
    parser.add_argument("--after", action="store_true", help="also time each call after host work (AFTER)")
    args = parser.parse_args()
    backend = args.backend or ("cupy" if gpu_available() else "numpy")
    clock = Clock(backend)
    found = {s.label: s for s in samples(backend, max_elements=2 ** 16) if s.label in CALLS}
    labels = [label for label in CALLS if label in found]
    calls = {label: found[label].setup(clock.xp) for label in labels}
    alone: dict[str, list[float]] = {label: [] for label in labels}
    extra: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.passes):
        for a, b in itertools.combinations(labels, 2):
            ha, hb = host(clock, calls[a]), host(clock, calls[b])
            hab = host(clock, lambda a=a, b=b: (calls[a](), calls[b]()))
            alone[a].append(ha)
            alone[b].append(hb)
            extra.setdefault((a, b), []).append(hab - ha - hb)
    median = {pair: statistics.median(values) for pair, values in extra.items()}

    print(f"{clock.device}; {backend}; {args.passes} passes; host µs per call")
    print(f"  {'call':40s} {'path':12s} {'alone':>7s}")
    for label in labels:
        print(f"  {label:40s} {CALLS[label]:12s} {statistics.median(alone[label]) * 1e6:7.1f}")

    pairs = list(median)
    index = {label: i for i, label in enumerate(labels)}
    paths = sorted(set(CALLS[label] for label in labels))
    per_call, rms_call = fit([[float(l in pair) for l in labels] for pair in pairs], [median[p] for p in pairs])
    across = [p for p in pairs if CALLS[p[0]] != CALLS[p[1]]]
    within = [p for p in pairs if CALLS[p[0]] == CALLS[p[1]]]
    per_path, rms_across = fit([[float(path in (CALLS[a], CALLS[b])) for path in paths] for a, b in across],
                               [median[p] for p in across])
    rms_path = float(np.sqrt((rms_across ** 2 * len(across) + sum((median[p] * 1e6) ** 2 for p in within))
                             / len(pairs)))

    print("\nExtra of alternating each pair over the two alone (µs): pairs within a path, then across")
    for a, b in within + sorted(across, key=lambda p: -median[p]):
        model_call = (per_call[index[a]] + per_call[index[b]]) * 1e6
        model_path = 0.0 if (a, b) in within else sum(per_path[paths.index(CALLS[x])] for x in (a, b)) * 1e6
        print(f"  {a:36s} {b:36s} {median[(a, b)] * 1e6:7.1f}  per call {model_call:6.1f}  per path {model_path:6.1f}")

    print("\nArrival cost per call (µs), fitted to all pairs:")
    for label in labels:
        print(f"  {label:40s} {CALLS[label]:12s} {per_call[index[label]] * 1e6:7.1f}")
    print("\nArrival cost per path (µs), fitted to pairs across paths:")
    for path, seconds in zip(paths, per_path):
        print(f"  {path:12s} {seconds * 1e6:7.1f}")
    spread = statistics.median(abs(v - median[p]) for p, values in extra.items() for v in values) * 1e6
    print(f"\nRMS residual: per call {rms_call:.1f} µs, per path {rms_path:.1f} µs (within-path pairs "
          f"modelled 0); median spread of a pair's passes about its median {spread:.1f} µs")
    if args.after:
        _after_table(clock, labels, calls, args.passes)


def _after_table(clock: Clock, labels: list[str], calls: dict[str, Callable[[], object]], passes: int) -> None:
    works = after()
    extra: dict[tuple[str, str], list[float]] = {}
    alone: dict[str, list[float]] = {}
    for _ in range(passes):
        for label in labels:
            for name, work in works.items():
                h, w = host(clock, calls[label]), host(clock, work)
                both = host(clock, lambda c=calls[label], w=work: (w(), c()))
                alone.setdefault(label, []).append(h)
                alone.setdefault(name, []).append(w)
                extra.setdefault((label, name), []).append(both - h - w)
    print("\nExtra of each call after host work, over the two alone (µs); the work alone:",
          ", ".join(f"{name} {statistics.median(alone[name]) * 1e6:.1f}" for name in works))
    print(f"  {'call':40s} {'alone':>7s} " + " ".join(f"{name[:24]:>24s}" for name in works))
    for label in labels:
        cells = " ".join(f"{statistics.median(extra[(label, name)]) * 1e6:24.1f}" for name in works)
        print(f"  {label:40s} {statistics.median(alone[label]) * 1e6:7.1f} {cells}")


if __name__ == "__main__":
    main()
