"""Predicted runtime of a graph under an executor, from a calibrated `depthgraph.cost.Profile`.

Each executor's run is a sequence of *units* — a node (eager), a group (levels), a task (dask) —
and each unit a sequence of calls with known work and bytes (`depthgraph.cost`). Prediction
walks two timelines, as the hardware does: the host spends each call's host time (plus the
executor's Python overhead per unit) and queues the call's device work, which starts when both
the call is queued and the device is free. A run ends when both timelines do. On a synchronous
backend (NumPy) there is one timeline.

- eager: one unit per node, in topological order — Σ node costs;
- levels: one unit per group of the compiled `depthgraph.schedule` — Σ over levels and groups;
- levels with ``cuda_graph=True``: the same groups replayed from CUDA graphs
  (`depthgraph.executors.cuda_graphs`): a captured group's calls cost the device their time
  measured inside a graph and the host nothing; each graph costs the host one launch; groups
  that cannot be captured run between graphs as the levels executor runs them;
- dask: list scheduling of the coarse tasks (`depthgraph.executors.dask.task_plan`) on P
  workers, each task paying the scheduler's per-task overhead and then its piece of the graph as
  the levels executor runs it: a *burdened span*, as Cilkscale reports.

Every unit's share of the total is split into **launch** time (latencies and overheads: what
depth costs) and **throughput** time (per-work and per-byte terms: what work costs).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from depthgraph import ops
from depthgraph.analysis import analyze
from depthgraph.cost import Profile
from depthgraph.errors import ParameterError
from depthgraph.executors.cuda_graphs import captures
from depthgraph.executors.dask import task_plan
from depthgraph.executors.levels import Gather, Group, schedule
from depthgraph.ir import Graph, Node

EXECUTORS = ("eager", "levels", "dask")
LEVELS_OVERHEADS = ("direct", "group", "segment", "gather")


def impl_form(node: Node) -> str:
    """The call kind of ``node``'s op called on its own: ``"impl"``, but ``"dot"`` for a matrix
    product with one element out — (1, n)·(n, 1), a row times a vector — which CuPy computes by
    another path than other products (on an H100 host about twice the host time of a
    matrix-vector product, and two kernels).

    >>> import depthgraph
    >>> g = depthgraph.Graph(); A, x = g.input("A", (4, 4)), g.input("x", (4, 1))
    >>> impl_form(A @ x), impl_form(x.T @ x)
    ('impl', 'dot')
    """
    return "dot" if node.op == "matmul" and ops.size(node.shape) == 1 else "impl"


@dataclass(frozen=True)
class Call:
    """One call an executor makes: ``op`` in ``form`` (see `depthgraph.cost`), its work, bytes and
    steps (the op's span: a batch's members run side by side; 1 for a copy), and an op's
    footprint — the bytes one member moves (a batched call's member, else the node) — which
    picks the profile's band (`depthgraph.cost.Profile.call`); None for a copy."""

    op: str
    form: str
    work: int
    nbytes: int
    steps: int = 1
    footprint: int | None = None


@dataclass(frozen=True)
class Unit:
    """What an executor does in one step of its loop: a node, a group or a task."""

    label: str
    level: int
    calls: tuple[Call, ...]
    counts: dict[str, int]  # executor overheads it pays: {"group": 1, "segment": 3}; names as in a Profile


@dataclass(frozen=True)
class Part:
    """One unit's share of the predicted total: ``seconds = launch + throughput``."""

    label: str
    level: int
    seconds: float
    launch: float
    throughput: float


@dataclass(frozen=True)
class Prediction:
    """Predicted seconds of one run, with the share of every unit (``parts``) and the run's own overhead."""

    executor: str
    seconds: float
    parts: tuple[Part, ...]
    run_overhead: float
    workers: int = 1

    @property
    def launch(self) -> float:
        """Seconds the model attributes to latencies and overheads (what depth costs)."""
        return self.run_overhead + sum(p.launch for p in self.parts)

    @property
    def throughput(self) -> float:
        """Seconds the model attributes to work and bytes."""
        return sum(p.throughput for p in self.parts)

    def by_level(self) -> dict[int, float]:
        """Predicted seconds per level (per level range for dask)."""
        out: dict[int, float] = {}
        for p in self.parts:
            out[p.level] = out.get(p.level, 0.0) + p.seconds
        return out


# ------------------------------------------------------------------ the calls of each executor


def eager_units(graph: Graph) -> list[Unit]:
    """One unit per non-input node, each one ``impl`` call (a view costs host time only)."""
    level = {name: i for i, names in enumerate(analyze(graph).levels) for name in names}
    units = []
    for node in graph.nodes:
        if node.op != "input":
            work, steps = ops.cost(node)
            nbytes = ops.bytes_moved(node)
            call = Call(node.op, impl_form(node), work, nbytes, steps, nbytes)
            units.append(Unit(node.name, level[node.name], (call,), {"node": 1}))
    return units


def _gather_calls(gather: Gather, itemsize: int) -> list[Call]:
    """The copy `depthgraph.executors.levels` makes to assemble one operand (none for a view): one
    ``gather:copy`` call, its steps the slabs it reads (`depthgraph.executors.gathers`)."""
    copy = gather.copy
    return [] if copy is None else [Call("gather", "copy", 0, copy.nbytes(itemsize), len(copy.sources))]


def group_calls(group: Group) -> tuple[Call, ...]:
    """The calls the levels executor makes for one group: its gathers, then the batched call."""
    first = group.nodes[0]
    member_work, steps = ops.cost(first)
    work = member_work * len(group.nodes)
    if group.direct is not None:
        nbytes = ops.bytes_moved(first)
        return (Call(group.op, impl_form(first), work, nbytes, steps, nbytes),)
    sources = first.inputs if not group.packed else first.inputs[:1]  # packed: one gather of all operands
    calls, nbytes = [], ops.size(first.shape) * np.dtype(first.dtype).itemsize * len(group.nodes)
    for gather, source in zip(group.operands, sources):
        itemsize = np.dtype(source.dtype).itemsize
        calls += _gather_calls(gather, itemsize)
        nbytes += gather.count * ops.size(gather.shape) * itemsize
    form = "packed" if group.packed else "shared" if any(g.shared for g in group.operands) else "batched"
    return (*calls, Call(group.op, form, work, nbytes, steps, ops.bytes_moved(first)))


def group_counts(group: Group) -> dict[str, int]:
    """The levels executor's Python work for a group: a one-node direct call, or a batched group,
    the segments (slices, views or takes) its operands are assembled from, and its gather calls."""
    if group.direct is not None:
        return {"direct": 1}
    return {"group": 1, "segment": sum(len(g.segments) for g in group.operands),
            "gather": sum(len(_gather_calls(g, 1)) for g in group.operands)}


def levels_units(graph: Graph) -> list[Unit]:
    """One unit per group of ``graph``'s levels schedule."""
    plan = schedule(graph)
    return [Unit(f"{g.op}×{len(g.nodes)}", g.level, group_calls(g), group_counts(g)) for g in plan.groups]


# ------------------------------------------------------------------ two timelines


class _Timeline:
    """A host and a device clock; ``run`` advances them by a unit and returns its `Part`."""

    def __init__(self, profile: Profile, start: float = 0.0) -> None:
        self.profile, self.host, self.device = profile, start, start

    @property
    def end(self) -> float:
        return max(self.host, self.device)

    def run(self, unit: Unit, overheads: dict[str, float], replayed: bool = False) -> Part:
        """``replayed``: the unit's calls are replayed from a CUDA graph (`depthgraph.cost.Profile.call`),
        each also paying ``overheads["kernel"]`` on the device (see `_replay`)."""
        before = self.end
        self.host += sum(overheads[name] * count for name, count in unit.counts.items())
        gap = overheads["kernel"] if replayed else 0.0
        throughput = 0.0
        for call in unit.calls:
            model = self.profile.call(call.op, call.form, call.footprint, replayed=replayed)
            host_latency, host_throughput = model.host.split(call.work, call.nbytes, call.steps)
            self.host += host_latency + host_throughput
            if self.profile.synchronous:
                throughput += host_throughput
                continue
            device_latency, device_throughput = model.device.split(call.work, call.nbytes, call.steps)
            self.device = max(self.device, self.host) + gap + device_latency + device_throughput
            throughput += device_throughput
        seconds = self.end - before
        throughput = min(throughput, seconds)
        return Part(unit.label, unit.level, seconds, seconds - throughput, throughput)


def _overheads(profile: Profile, executor: str, kinds: tuple[str, ...]) -> dict[str, float]:
    return {kind: profile.overhead(f"{executor}:{kind}") for kind in kinds}


def _sequence(units: list[Unit], profile: Profile, executor: str) -> Prediction:
    overheads = _overheads(profile, executor, ("node",) if executor == "eager" else LEVELS_OVERHEADS)
    line = _Timeline(profile)
    parts = tuple(line.run(unit, overheads) for unit in units)
    run_overhead = profile.overhead(f"{executor}:run")
    return Prediction(executor, line.end + run_overhead, parts, run_overhead)


def _value_bytes(nodes: Iterable[Node]) -> int:
    """Bytes of ``nodes``' values."""
    return sum(ops.size(n.shape) * np.dtype(n.dtype).itemsize for n in nodes)


def _copy(nodes: Iterable[Node]) -> Call:
    """Replay's copy of ``nodes``' values (stacked, as in a slab) into or out of a recorded buffer."""
    return Call("copyto", "buffer", 0, 2 * _value_bytes(nodes))


def _copies(label: str, level: int, nodes: Iterable[Node]) -> Unit:
    """Replay's copies of the inputs into their recorded buffers, or of the outputs out of theirs."""
    return Unit(label, level, tuple(_copy([n]) for n in nodes), {})


def _replay(graph: Graph, profile: Profile) -> Prediction:
    """The levels executor replaying CUDA graphs: maximal runs of captured groups each one graph
    launch, the other groups run between graphs (and their results copied into the recording).

    Calibration times each call replayed back to back with copies of itself; in a real graph
    each kernel follows a different one, which costs the device more per kernel (``graphs:kernel``,
    fitted with the replay's own cost on synthetic graphs of alternating ops).
    """
    profile.replayed_calls  # noqa: B018 — a clear error first if the profile has no CUDA-graph models
    plan = schedule(graph)
    overheads = {**_overheads(profile, "levels", LEVELS_OVERHEADS),
                 **_overheads(profile, "graphs", ("launch", "kernel"))}
    line = _Timeline(profile)
    parts = [line.run(_copies("inputs", 0, graph.inputs.values()), overheads)]
    capturing = False
    for group in plan.groups:
        calls = group_calls(group)
        captured = captures(group) and all(profile.replays(call.op) for call in calls)
        if captured:
            counts = {} if capturing else {"launch": 1}
        else:
            counts = group_counts(group)
            calls += (_copy(group.nodes),)  # its result copied into the slab the recording reads
        parts.append(line.run(Unit(f"{group.op}×{len(group.nodes)}", group.level, calls, counts), overheads, captured))
        capturing = captured
    last = len(plan.levels) + 1
    reads = tuple(call for name, gather in plan.outputs
                  for call in _gather_calls(gather, np.dtype(graph.outputs[name].dtype).itemsize))
    parts.append(line.run(Unit("outputs", last, reads, {} if capturing else {"launch": 1}), overheads, True))
    parts.append(line.run(_copies("output copies", last, graph.outputs.values()), overheads))
    run_overhead = profile.overhead("graphs:run")
    return Prediction("levels", line.end + run_overhead, tuple(parts), run_overhead)


def transferred_bytes(graph: Graph) -> int:
    """Bytes of ``graph``'s inputs and outputs: what a Dask cluster is sent and sends back on
    every run given the inputs as arrays (not futures from
    `depthgraph.executors.dask.scatter_inputs`), at the profile's ``dask-<scheduler>:byte``.

    >>> import depthgraph
    >>> g = depthgraph.Graph(); _ = g.output("y", g.input("x", (10,)) * 2.0)
    >>> transferred_bytes(g)  # 10 float64 in, 10 out
    160
    """
    return _value_bytes((*graph.inputs.values(), *graph.outputs.values()))


def _dask(graph: Graph, profile: Profile, workers: int, scheduler: str, blocks: int | None,
          min_task_work: float | None) -> Prediction:
    """List scheduling of the coarse tasks: each goes, in order, to the worker free first, after
    the inputs are sent (`transferred_bytes`: a cluster serialises and copies them, a
    single-machine scheduler passes them by reference and costs ~0 per byte)."""
    # A task pays the scheduler's overhead, then runs its piece with the levels executor.
    overheads = {**_overheads(profile, "levels", (*LEVELS_OVERHEADS, "run")),
                 "task": profile.overhead(f"dask-{scheduler}:task")}
    per_run = profile.overhead(f"dask-{scheduler}:run")
    transfer = profile.overhead(f"dask-{scheduler}:byte") * transferred_bytes(graph)
    lines = [_Timeline(profile, transfer) for _ in range(workers)]  # the tasks start once the inputs are there
    parts = [Part("inputs and outputs sent", -1, transfer, 0.0, transfer)]
    finish: dict[tuple, float] = {}
    if blocks is None and scheduler == "distributed":
        blocks = workers  # as `depthgraph.execute` does with a Client; else to_dask's default
    for suffix, piece, upstream in task_plan(graph, profile.backend, blocks, min_task_work):
        ready = max((finish[u] for u in upstream), default=0.0)
        line = min(lines, key=lambda t: max(t.host, ready))
        line.host = max(line.host, ready)
        units = levels_units(piece) if piece is not None else []
        level = suffix[1] if suffix[0] == "task" else -1
        start = line.end
        start_task = Unit(str(suffix), level, (), {"task": 1, "run": piece is not None})  # a getter runs no graph
        task_parts = [line.run(u, overheads) for u in [start_task, *units]]
        parts.append(Part(" ".join(map(str, suffix)), level, line.end - start,
                          sum(p.launch for p in task_parts), sum(p.throughput for p in task_parts)))
        finish[suffix] = line.end
    return Prediction("dask", max(finish.values(), default=transfer) + per_run, tuple(parts), per_run, workers)


def predict(graph: Graph, executor: str = "levels", profile: Profile | None = None, workers: int = 1,
            scheduler: str = "threads", blocks: int | None = None, min_task_work: float | None = None,
            cuda_graph: bool = False) -> Prediction:
    """Predict one run of ``graph`` under ``executor`` on the device ``profile`` was calibrated on.

    Parameters
    ----------
    graph : Graph
    executor : {"eager", "levels", "dask"}
    profile : Profile
        From ``depthgraph calibrate`` (`depthgraph.cost.Profile.load`).
    workers : int
        Dask workers (P) the coarse tasks are list-scheduled on.
    scheduler : str
        Which calibrated Dask overheads to use: ``"threads"``, ``"sync"`` or ``"distributed"``.
    blocks, min_task_work
        The Dask partition's options, with the executor's defaults (``blocks``: P for the
        distributed scheduler, else `depthgraph.to_dask`'s). The threads scheduler is predicted on
        P workers too (default 1: on one GPU, or NumPy under the GIL, its threads serialise).
    cuda_graph : bool
        The levels executor replaying CUDA graphs (``execute(..., executor="levels",
        cuda_graph=True)``); needs a profile calibrated on CuPy by this version.

    Returns
    -------
    Prediction
        Total seconds, each unit's share (`Prediction.parts`; `Prediction.by_level`), and the
        split into launch and throughput time.

    Examples
    --------
    A made-up profile: every call costs the host 10 µs, plus 1 ns per unit of work.

    >>> import depthgraph
    >>> from depthgraph.cost import CallModel, Linear, Profile
    >>> calls = {f"{op}:impl": CallModel(Linear(10e-6, 1e-9)) for op in ("mul", "sum")}
    >>> p = Profile("numpy", "made up", {}, "", calls, {"eager:node": 0.0, "eager:run": 0.0})
    >>> g = depthgraph.Graph(); x = g.input("x", (1000,))
    >>> _ = g.output("s", depthgraph.ops.sum(x * x))
    >>> round(predict(g, "eager", p).seconds * 1e6, 3)   # two calls: 2 × 10 µs + 2000 ns
    22.0
    """
    if profile is None:
        raise ParameterError("predict needs a profile: run `depthgraph calibrate` and pass Profile.load(path)")
    if executor not in EXECUTORS:
        raise ParameterError(f"unknown executor {executor!r}; choose from {', '.join(EXECUTORS)}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ParameterError(f"workers must be an int >= 1, got {workers!r}")
    if cuda_graph and executor != "levels":
        raise ParameterError(f"cuda_graph=True is an option of the levels executor, not of {executor!r}")
    if cuda_graph:
        return _replay(graph, profile)
    if executor == "dask":
        return _dask(graph, profile, workers, scheduler, blocks, min_task_work)
    return _sequence(eager_units(graph) if executor == "eager" else levels_units(graph), profile, executor)
