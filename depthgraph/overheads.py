"""Executor overheads: the small synthetic graphs calibration times, and the overheads fitted to them.

The executors' overheads (Python per node, group, task and run; a Dask cluster's cost per byte of
inputs sent and outputs sent back, from one wide sum at three sizes) are fitted from small synthetic
graphs — chains, ladders and fans, never the algorithms that `validate` checks — as the part of
their measured time that the call models (`depthgraph.calibrate`) do not explain; the graphs are
timed as `validate` times its points, all together round robin (`depthgraph.timing.Clock.walls`),
and scaled to the profile's reference host speed. A graph launch's host cost is timed alone; the
rest of a replay's own cost (events, stream switches) is fitted like the others. The profile
keeps the graphs' times (`fit_overheads` fits them again; ``bench/overhead_fit.py`` shows how
well the fit explains them).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from depthgraph import ops
from depthgraph.cost import Profile, nnls
from depthgraph.errors import ParameterError
from depthgraph.executors import execute
from depthgraph.executors.backend import array_module
from depthgraph.executors.dask import task_plan
from depthgraph.ir import Graph, Node
from depthgraph.prediction import LEVELS_OVERHEADS, Prediction, eager_units, levels_units, predict, transferred_bytes
from depthgraph.timing import Clock

# Real graphs interleave calls, and on a GPU host a call right after a different one costs more
# than the same call repeated in a loop: on the lent H100 VMs 10-25 µs more per CuPy call, most
# after a call down another path (an elementwise op after a cuBLAS product: docs/BENCHMARKS.md).
# So the synthetic graphs alternate the two paths every algorithm family calls most, an
# elementwise op and a matrix product; on inputs of ones and an identity matrix ``M`` their values
# stay 1 or 2 (+1, ·M, −1, ·M).
CYCLE = ("add", "matmul", "sub", "matmul")


def _step(g: Graph, i: int, x: Node, y: Node, m: Node) -> Node:
    op = CYCLE[i % len(CYCLE)]
    return g.apply(op, [x, m] if op == "matmul" else [x, y])


def _chain(length: int) -> Graph:
    """x ← x ∘ y, ``length`` times: one direct group (levels) or one node (eager) per step."""
    g = Graph()
    x, y, m = g.input("x", (64,)), g.input("y", (64,)), g.input("M", (64, 64))
    for i in range(length):
        x = _step(g, i, x, y, m)
    g.output("x", x)
    return g


def ladder(width: int, length: int, copies: int = 1) -> Graph:
    """``width`` rows, each step combining every row with a row of Y (or with M): one group per
    step, with ``copies`` of its operands read as a rotation of their slab's rows, each a copying
    gather: 0 (row j with Y's row j: free views), 1 (with Y's row j + 1), or 2 (row j + 1 with Y's
    row j + 1; on a product step, row j + 1 with M, one copy).

    >>> from depthgraph.executors.levels import schedule
    >>> [sum(g.copy is not None for group in schedule(ladder(4, 4, c)).groups for g in group.operands)
    ...  for c in (0, 1, 2)]
    [0, 2, 6]
    """
    # Ladders of 0, 1 and 2 copies set gathers per group apart (0, 0.5 and 1.5 over a cycle),
    # without which a gather's overhead and a group's trade against each other in the fit: with
    # only 0.5 the two were correlated −0.92 and H200 profiles fitted a gather at 3.4 to 8.0 µs
    # (docs/BENCHMARKS.md, eleventh session).
    g = Graph()
    rows_in, y, m = g.input("X", (width, 64)), g.input("Y", (width, 64)), g.input("M", (64, 64))
    rows = [rows_in[i] for i in range(width)]
    row_shift, y_shift = int(copies == 2), int(copies >= 1)
    for i in range(length):
        rows = [_step(g, i, rows[(j + row_shift) % width], y[(j + y_shift) % width], m) for j in range(width)]
    g.output("X", ops.stack(rows))
    return g


def _independent_chains(width: int, length: int) -> Graph:
    """``width`` chains that never meet. As calibration runs them (``blocks=1``, no minimum task
    work) each level is one Dask task holding a node of every chain, so the tasks form one chain
    of ``length`` dependent tasks whatever the width (and an output getter per chain)."""
    g = Graph()
    x, y, m = g.input("x", (width, 64)), g.input("y", (64,)), g.input("M", (64, 64))
    for j in range(width):
        row = x[j]
        for i in range(length):
            row = _step(g, i, row, y, m)
        g.output(f"x{j}", row)
    return g


def _fan(width: int, length: int) -> Graph:
    """``width`` separate inputs, each row combined with its own input (or M) every step: a group
    per step whose operand is assembled from ``width`` slabs (segments), as a doubling step's are."""
    g = Graph()
    xs = [g.input(f"x{i}", (64,)) for i in range(width)]
    m = g.input("M", (64, 64))
    rows = list(xs)
    for i in range(length):
        rows = [_step(g, i, row, x, m) for row, x in zip(rows, xs)]
    g.output("X", ops.stack(rows))
    return g


def vector_add(elements: int) -> Graph:
    """z = x + y on vectors of ``elements``. Wide, it is one Dask task whose inputs a cluster is
    sent every run (and whose output it sends back), so the cluster's cost per byte moved can be
    fitted; small, run on NumPy, it is the executor's own Python that calibration times calls
    beside in situ (`depthgraph.calibrate`).

    >>> g = vector_add(64)
    >>> sorted(g.inputs), [n.op for n in g.nodes]
    (['x', 'y'], ['input', 'input', 'add'])
    """
    g = Graph()
    g.output("z", g.input("x", (elements,)) + g.input("y", (elements,)))
    return g


OVERHEAD_ROUNDS, OVERHEAD_SECONDS = 7, 10.0  # round robin: at least this many rounds over this many seconds
OVERHEAD_OPS = {*CYCLE, "getitem", "stack"}  # what the graphs below are made of: always calibrated
OVERHEAD_GRAPHS = {
    # Lengths from 1: a small graph's time is mostly the per-run overhead, which fits the intercept.
    "eager": [_chain(n) for n in (1, 4, 50, 200, 800)] + [ladder(16, n) for n in (1, 20, 80)],
    "levels": [_chain(n) for n in (1, 4, 50, 200, 800)] + [ladder(16, n) for n in (1, 4, 50, 200, 800)]
    + [_fan(w, n) for w in (2, 8, 32) for n in (1, 20, 100)]
    + [ladder(16, n, copies) for copies in (0, 2) for n in (4, 50, 200)],
    "dask": [_independent_chains(1, 1)] + [_independent_chains(4, n) for n in (5, 20, 60)]
    + [vector_add(2 ** i) for i in (16, 19, 22)],
}


# What validation times beside its points, round robin, for the host's speed then (`host_speed`):
# the levels executor's overhead graphs, host-bound on any device, whose times the profile's
# overheads were fitted to.
SPEED_GRAPHS = tuple(OVERHEAD_GRAPHS["levels"])


def overhead_inputs(graph: Graph, xp: Any) -> dict[str, Any]:
    """Inputs of a synthetic overhead graph as arrays of module ``xp``: ones, and an identity ``M``.

    >>> import numpy as np
    >>> inputs = overhead_inputs(ladder(2, 1), np)
    >>> sorted(inputs), float(inputs["M"].trace()), float(inputs["Y"].min())
    (['M', 'X', 'Y'], 64.0, 1.0)
    """
    # Ones and an identity M keep every value 1 or 2 (`CYCLE`): anything else grows or shrinks
    # step by step (and infinities can run at other speeds); these graphs time the executors'
    # overheads, not the arithmetic.
    return {name: xp.eye(node.shape[0]) if name == "M" else xp.ones(node.shape) for name, node in graph.inputs.items()}


def overhead_run(graph: Graph, backend: str, **options: Any) -> Callable[[], Any]:
    """A no-argument run of a synthetic overhead graph by `depthgraph.execute` with ``options``."""
    inputs = overhead_inputs(graph, array_module(backend))
    return lambda: execute(graph, inputs, backend=backend, **options)


def host_speed(profile: Profile, seconds: Sequence[float]) -> float:
    """How many times slower the host runs than when ``profile`` was calibrated, from the levels
    executor's ``seconds`` for each of `SPEED_GRAPHS` timed now: the median of measured over
    predicted. Their time is nearly all host time, and the profile was fitted to it, so the ratio
    is about 1 at calibration's speed and follows the host's Python and launches as they run now
    (on the lent H100s it moved from 1.27 to 0.74 within five minutes, as the reference call loop
    of `depthgraph.timing` moved from 1.21 to 0.82); `depthgraph.cost.Profile.at_host_speed` applies it.

    >>> from depthgraph.prediction import predict
    >>> from depthgraph.calibrate import calibrate
    >>> p = calibrate("numpy", only=["add"], max_elements=1024, progress=False, trials=3, min_samples=2, seconds=0)
    >>> predicted = [predict(graph, "levels", p).seconds for graph in SPEED_GRAPHS]
    >>> round(host_speed(p, [1.5 * s for s in predicted]), 9)  # every graph 1.5 times its prediction
    1.5
    """
    if len(seconds) != len(SPEED_GRAPHS):
        raise ParameterError(f"host_speed needs one time per speed graph ({len(SPEED_GRAPHS)}), got {len(seconds)}")
    return float(np.median([measured / predict(graph, "levels", profile).seconds
                            for graph, measured in zip(SPEED_GRAPHS, seconds)]))


def _fit_overheads(executor: str, names: tuple[str, ...], rows: list[tuple[list[float], float, float]]) -> dict:
    """``{executor:name: seconds}`` from (unit counts, measured, predicted without overheads) rows."""
    counts = np.array([[1.0, *c] for c, _, _ in rows])
    measured = np.array([m for _, m, _ in rows])
    residual = measured - np.array([p for _, _, p in rows])
    coef = nnls(counts / measured[:, None], residual / measured)
    return {f"{executor}:{name}": float(c) for name, c in zip(("run",) + names, coef)}


def timing_kinds(gpu: bool, client: Any = None) -> list[tuple[str, dict[str, Any]]]:
    """``(kind, options of depthgraph.execute)`` for each way calibration times the overhead graphs:
    eager, levels, replayed on a GPU, and Dask on each scheduler (``client``'s cluster too), one
    task per level — as `overhead_prediction` predicts them.

    >>> [kind for kind, _ in timing_kinds(gpu=False)]
    ['eager', 'levels', 'dask-sync', 'dask-threads']
    """
    schedulers = [("sync", "sync"), ("threads", "threads")] + ([("distributed", client)] if client else [])
    kinds = [("eager", {"executor": "eager"}), ("levels", {"executor": "levels"})]
    kinds += [("graphs", {"executor": "levels", "cuda_graph": True})] if gpu else []
    return kinds + [(f"dask-{name}", {"executor": "dask", "scheduler": scheduler, "blocks": 1, "min_task_work": 0})
                    for name, scheduler in schedulers]


def time_overhead_graphs(profile: Profile, clock: Clock, client: Any, seconds: float,
                         progress: Callable[[str], None]) -> dict[str, tuple[float, ...]]:
    """Seconds of every overhead graph under every executor (`fit_overheads` says which), timed
    round robin (`Clock.walls`: all across the same phases of the host's speed, as validation
    times its points) and taken to the profile's reference host speed; a replay is device-bound,
    so it is taken as measured. On a GPU also ``"graphs:launch"``: one graph launch's host
    seconds, timed alone."""
    runs = [(kind, graph, options) for kind, options in timing_kinds(clock.gpu, client)
            for graph in overhead_graphs(kind)]

    walls = clock.walls([overhead_run(graph, profile.backend, **options) for _, graph, options in runs],
                        OVERHEAD_ROUNDS, seconds, progress=progress)
    timed: dict[str, list[float]] = {}
    for (kind, _, options), (wall, reference) in zip(runs, walls):
        timed.setdefault(kind, []).append(wall if options.get("cuda_graph") else
                                          wall * profile.host_reference / reference)
    if clock.gpu:
        timed["graphs:launch"] = [clock.launch_seconds() * profile.host_reference / clock.reference()]
    return {kind: tuple(times) for kind, times in timed.items()}


def overhead_graphs(kind: str) -> list[Graph]:
    """The overhead graphs timed under ``kind`` (a key of `Profile.overhead_timings`).

    >>> overhead_graphs("graphs") is OVERHEAD_GRAPHS["levels"]
    True
    """
    return OVERHEAD_GRAPHS["dask" if kind.startswith("dask-") else "levels" if kind == "graphs" else kind]


def timed_overhead_graphs(kind: str, times: Sequence[float]) -> list[tuple[Graph, float]]:
    """Each of `overhead_graphs` ``(kind)`` with its time in ``times`` (as `Profile.overhead_timings`
    keeps them); a `ParameterError` if ``times`` were taken of another set of graphs, as a profile
    calibrated before the set changed.

    >>> timed_overhead_graphs("levels", [0.1])
    Traceback (most recent call last):
    ...
    depthgraph.errors.ParameterError: 1 times of the 'levels' overhead graphs, but this version has 25: calibrate again
    """
    graphs = overhead_graphs(kind)
    if len(times) != len(graphs):
        raise ParameterError(f"{len(times)} times of the {kind!r} overhead graphs, but this version has "
                             f"{len(graphs)}: calibrate again")
    return list(zip(graphs, times))


def overhead_prediction(graph: Graph, kind: str, profile: Profile) -> Prediction:
    """``profile``'s prediction of overhead graph ``graph`` run as calibration runs it under
    ``kind``: by that executor, replayed (``"graphs"``), or by Dask on scheduler ``<s>``
    (``"dask-<s>"``) with one task per level.

    >>> from depthgraph.calibrate import calibrate
    >>> p = calibrate("numpy", only=["add"], max_elements=1024, progress=False, trials=3, min_samples=2, seconds=0)
    >>> graph = overhead_graphs("dask-sync")[0]
    >>> overhead_prediction(graph, "dask-sync", p) == predict(graph, "dask", p, scheduler="sync", blocks=1,
    ...                                                       min_task_work=0)
    True
    """
    if kind.startswith("dask-"):
        return predict(graph, "dask", profile, scheduler=kind.removeprefix("dask-"), blocks=1, min_task_work=0)
    return predict(graph, "levels" if kind == "graphs" else kind, profile, cuda_graph=kind == "graphs")


def fit_overheads(profile: Profile, timed: dict[str, Sequence[float]]) -> dict[str, float]:
    """The executors' overheads (`Profile`), fitted as the part of each overhead graph's time
    ``timed`` that ``profile``'s call models do not explain.

    ``timed`` holds, in the order of `OVERHEAD_GRAPHS`, seconds at the profile's host speed:
    ``"eager"`` and ``"levels"`` (their graphs run by that executor), ``"dask-<scheduler>"`` (the
    dask graphs, one task per level: ``blocks=1, min_task_work=0``), and on a GPU ``"graphs"``
    (the levels graphs replayed) with ``"graphs:launch"`` (one launch's host seconds). A profile
    keeps what it was fitted to (`Profile.overhead_timings`), so its overheads can be fitted
    again without the device.

    >>> from depthgraph.calibrate import calibrate
    >>> p = calibrate("numpy", only=["add"], max_elements=1024, progress=False, trials=3, min_samples=2, seconds=0)
    >>> fit_overheads(p, p.overhead_timings) == p.overheads
    True
    """
    missing = [kind for kind in ("eager", "levels") if kind not in timed]
    if missing:  # a profile calibrated before its overhead graphs' times were kept
        raise ParameterError(f"no times of the {' and '.join(map(repr, missing))} overhead graphs: calibrate again")
    zero = {"eager:node": 0.0, "eager:run": 0.0, "levels:run": 0.0, **{f"levels:{n}": 0.0 for n in LEVELS_OVERHEADS}}
    bare = dataclasses.replace(profile, overheads=zero)
    found: dict[str, float] = {}
    for executor, names in (("eager", ("node",)), ("levels", LEVELS_OVERHEADS)):
        rows = []
        for graph, measured in timed_overhead_graphs(executor, timed[executor]):
            units = eager_units(graph) if executor == "eager" else levels_units(graph)
            counts = [sum(u.counts.get(name, 0) for u in units) for name in names]
            rows.append((counts, measured, overhead_prediction(graph, executor, bare).seconds))
        found.update(_fit_overheads(executor, names, rows))
    if "graphs" in timed:  # CUDA-graph replay: a launch timed alone, the rest of a replay's own cost fitted
        found["graphs:launch"] = timed["graphs:launch"][0]
        bare = dataclasses.replace(profile, overheads={**zero, **found, "graphs:run": 0.0, "graphs:kernel": 0.0})
        rows = []
        for graph, measured in timed_overhead_graphs("graphs", timed["graphs"]):
            calls = sum(len(unit.calls) for unit in levels_units(graph))  # each replayed: a kernel or none
            rows.append(([calls], measured, overhead_prediction(graph, "graphs", bare).seconds))
        found.update(_fit_overheads("graphs", ("kernel",), rows))
    bare = dataclasses.replace(profile, overheads={**zero, **found})
    for kind in [kind for kind in timed if kind.startswith("dask-")]:
        rows = []
        bare_dask = dataclasses.replace(bare, overheads={**bare.overheads, f"{kind}:task": 0.0,
                                                         f"{kind}:run": 0.0, f"{kind}:byte": 0.0})
        for graph, measured in timed_overhead_graphs(kind, timed[kind]):
            tasks = len(task_plan(graph, profile.backend, 1, 0))  # incl. output getters: tasks too
            rows.append(([tasks, transferred_bytes(graph)], measured,
                         overhead_prediction(graph, kind, bare_dask).seconds))
        found.update(_fit_overheads(kind, ("task", "byte"), rows))
    return found
