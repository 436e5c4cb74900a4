"""The Dask executor: a graph becomes a Dask task graph, run by any Dask scheduler.

A Dask task costs 0.1–6 ms (DESIGN.md, "Execution"), while one array op costs 1–30 µs, so one
task per op (``partition="op"``, kept for teaching and tests) is dominated by scheduling. The
default ``partition="levels"`` cuts the DAG into coarse tasks: **ranges of consecutive levels ×
blocks of independent nodes**, each task running its piece of the DAG — rebuilt as a small
`Graph` of its own — with the levels executor on the worker that runs it (on the CuPy backend,
on that worker's current device: dask-cuda gives each worker one GPU).

How the default partition is chosen: `depthgraph.executors.partition` (free sources copied
into each task that reads them, level ranges closed by work and by joins, components packed
into blocks), which also shows the task graph is acyclic.

A task returns ``{node name: array}`` for its members read by later tasks or declared as
outputs; a downstream task takes the whole upstream dicts and picks what it needs (no getter
tasks, which would cost as much as a task each). Each graph output has a small getter task.
The partition and its subgraphs are built once per graph and options and reused by later calls.

With a ``distributed.Client``, `run` first scatters each input to the worker that will run
the first block reading it (block b → worker b mod W; the scheduler places a task where its
dependencies are, so this spreads the blocks of a range over the workers), and later ranges
follow their data. No worker restrictions are set.
"""

from __future__ import annotations

import operator
import os
import sys
import uuid
import weakref
from collections.abc import Hashable
from dataclasses import dataclass, field, replace
from typing import Any

from depthgraph import ops
from depthgraph.errors import ParameterError
from depthgraph.executors.backend import array_module, bind_inputs, to_numpy
from depthgraph.executors.partition import partition_nodes, subgraph
from depthgraph.ir import Graph, Node

PARTITIONS = ("levels", "op")
SCHEDULERS = ("sync", "threads")

# The executor each coarse task runs its subgraph with.
TASK_EXECUTOR = "levels"

# Default ``min_task_work`` per backend, in work units (elements / multiply-adds, as in
# `depthgraph.ops.cost`): about a millisecond of compute — the size of a distributed task's
# overhead — for NumPy on one core (~10^9 simple ops/s) and for a GPU (~10^12).
MIN_TASK_WORK = {"numpy": 2_000_000, "cupy": 2_000_000_000}

Key = Hashable


# ------------------------------------------------------------------ task functions


@dataclass(frozen=True)
class _OpTask:
    """One node's op, for ``partition="op"``: ``task(*operand arrays) -> array``."""

    op: str
    attrs: tuple
    backend: str

    def __call__(self, *arrays: Any) -> Any:
        return ops.get(self.op).impl(array_module(self.backend), *arrays, **dict(self.attrs))


@dataclass(frozen=True)
class _SubgraphTask:
    """A coarse task: run ``graph`` (a piece of the DAG) on arrays picked from its arguments.

    ``sources`` holds, per input of ``graph``, ``(input name, argument position, pick)``: the
    argument is an array (a graph input) when ``pick`` is None, else an upstream task's dict,
    from which ``pick`` is taken.
    """

    graph: Graph | None
    sources: tuple[tuple[str, int, str | None], ...]
    backend: str
    token: str = field(default_factory=lambda: uuid.uuid4().hex)

    def __call__(self, *args: Any) -> dict[str, Any]:
        from depthgraph.executors import execute

        inputs = {name: args[i] if pick is None else args[i][pick] for name, i, pick in self.sources}
        graph = self.graph if self.graph is not None else _REGISTERED[self.token]
        return execute(graph, inputs, executor=TASK_EXECUTOR, backend=self.backend)


# Subgraphs sent to the workers of a distributed cluster once, by token: a task then carries only
# its token, and the worker runs the same Graph object every time, so the levels executor's
# compiled plan for it is reused. (Shipping each task's Graph on every run cost seconds.)
_REGISTERED: dict[str, Graph] = {}
_SENT: dict[str, set[str]] = {}  # client id -> tokens its workers hold


def _register(graphs: dict[str, Graph]) -> None:
    """Run on every worker: keep the subgraphs, keyed by token."""
    _REGISTERED.update(graphs)


def _by_token(client: Any, dsk: dict) -> dict:
    """``dsk`` with each coarse task's Graph replaced by its token, sending unsent graphs first."""
    tasks = {k: t for k, t in dsk.items() if isinstance(t, tuple) and t and isinstance(t[0], _SubgraphTask)}
    sent = _SENT.setdefault(client.id, set())
    fresh = {t[0].token: t[0].graph for t in tasks.values() if t[0].token not in sent}
    if fresh:
        client.run(_register, fresh)
        sent.update(fresh)
    return {**dsk, **{k: (replace(t[0], graph=None), *t[1:]) for k, t in tasks.items()}}


# ------------------------------------------------------------------ the Dask graph


def _check_options(partition: str, blocks: Any, min_task_work: Any) -> None:
    if partition not in PARTITIONS:
        raise ParameterError(f"unknown partition {partition!r}; choose from {', '.join(PARTITIONS)}")
    if blocks is not None and (isinstance(blocks, bool) or not isinstance(blocks, int) or blocks < 1):
        raise ParameterError(f"blocks must be an int >= 1 (or None for one per worker), got {blocks!r}")
    if min_task_work is not None and (isinstance(min_task_work, bool) or not isinstance(min_task_work, (int, float))
                                      or min_task_work < 0):
        raise ParameterError(f"min_task_work must be a number >= 0 (or None for the backend's default), "
                             f"got {min_task_work!r}")


def to_dask(graph: Graph, inputs: dict[str, Any], partition: str = "levels", backend: str = "numpy",
            blocks: int | None = None, min_task_work: int | None = None) -> tuple[dict[Key, Any], dict[str, Key]]:
    """A Dask task graph computing ``graph``'s outputs on ``inputs``, and the key of each output.

    Parameters
    ----------
    graph : Graph
        The graph to run.
    inputs : dict of str to array or distributed.Future
        One array per declared input; checked and put on ``backend`` (`bind_inputs`) and held
        in the task graph as data. A ``distributed.Future`` (from `scatter_inputs`) is an input
        already on a cluster's workers: it enters the graph as is and is checked by the task
        that reads it.
    partition : str
        ``"levels"`` (default): coarse tasks, ranges of levels × blocks of independent nodes,
        each running its piece with the levels executor (`depthgraph.executors.partition`). ``"op"``: one task per
        node, for teaching and tests.
    backend : str
        ``"numpy"`` or ``"cupy"``; a task computes on its worker's current device.
    blocks : int, optional
        At most this many tasks per level range; default ``os.cpu_count()`` (`run` passes the
        number of workers of a ``distributed.Client``).
    min_task_work : int, optional
        Work (`depthgraph.ops.cost` units) a task should carry to make its overhead small;
        default `MIN_TASK_WORK` of the backend.

    Returns
    -------
    dsk : dict
        Dask's classic graph spec: key -> ``(callable, *args)`` task or data. Keys are tuples
        ``(name unique to this call and kind, kind, ...)`` with kind ``"input"`` (data),
        ``"node"`` (``partition="op"``), ``"task"`` (``range, block``), ``"free"`` or ``"output"``.
    output_keys : dict of str to key
        Graph output name -> the key whose value is that output's array.

    Raises
    ------
    ParameterError
        For an unknown partition, ``blocks < 1`` or ``min_task_work < 0``.
    InputError
        For inputs that don't match the graph's declared inputs.

    Examples
    --------
    >>> import numpy as np, dask, depthgraph
    >>> g = depthgraph.Graph(); x = g.input("x", (3,))
    >>> _ = g.output("y", depthgraph.ops.exp(2.0 * x) + 1.0)
    >>> dsk, keys = to_dask(g, {"x": np.zeros(3)}, partition="op")
    >>> len(dsk)  # x, the constants 2.0 and 1.0, mul, exp, add
    6
    >>> dask.get(dsk, keys["y"])
    array([2., 2., 2.])
    >>> dsk, keys = to_dask(g, {"x": np.zeros(3)})  # x, one coarse task, one output getter
    >>> len(dsk), dask.get(dsk, keys["y"])
    (3, array([2., 2., 2.]))
    """
    _check_options(partition, blocks, min_task_work)
    xp = array_module(backend)
    resident = {name: value for name, value in inputs.items() if _is_future(value)}
    bound = {**bind_inputs(graph, {k: v for k, v in inputs.items() if k not in resident}, xp, elsewhere=resident),
             **resident}
    token = uuid.uuid4().hex[:12]

    def key(suffix: tuple) -> Key:
        # ("depthgraph-task-<token>", "task", range, block): unique to this call, and one Dask
        # task group per kind, so that the scheduler's duration estimates for coarse tasks are
        # not diluted by the instant input and getter keys (which made it keep every task on
        # the worker holding the inputs).
        return (f"depthgraph-{suffix[0]}-{token}", *suffix)

    dsk: dict[Key, Any] = {key(("input", name)): value for name, value in bound.items()}
    input_key = {graph.inputs[name]: key(("input", name)) for name in bound}
    if partition == "op":
        node_key = dict(input_key)
        for node in graph.nodes:
            if node.op != "input":
                node_key[node] = k = key(("node", node.name))
                dsk[k] = (_OpTask(node.op, node.attrs, backend), *(node_key[x] for x in node.inputs))
        return dsk, {name: node_key[node] for name, node in graph.outputs.items()}
    if blocks is None:
        blocks = os.cpu_count() or 1
    if min_task_work is None:
        min_task_work = MIN_TASK_WORK[backend]
    tasks, outputs = _template(graph, backend, blocks, min_task_work)
    for suffix, function, args, extra in tasks:
        dsk[key(suffix)] = (function, *map(key, args), *extra)
    return dsk, {name: key(suffix) for name, suffix in outputs.items()}


def task_plan(graph: Graph, backend: str = "numpy", blocks: int | None = None,
              min_task_work: float | None = None) -> list[tuple[tuple, Graph | None, tuple[tuple, ...]]]:
    """The coarse tasks `to_dask` makes of ``graph``, for a cost model to schedule without running them.

    Returns, in an order where every task follows its upstream tasks, ``(key suffix, subgraph
    the task runs — None for an output getter, upstream task suffixes)``; options as `to_dask`.

    >>> import depthgraph
    >>> g = depthgraph.Graph(); x = g.input("x", (3,))
    >>> _ = g.output("y", depthgraph.ops.exp(x))
    >>> [(suffix, upstream) for suffix, _, upstream in task_plan(g)]
    [(('task', 0, 0), ()), (('output', 'y'), (('task', 0, 0),))]
    """
    _check_options("levels", blocks, min_task_work)
    blocks = blocks or os.cpu_count() or 1
    min_task_work = MIN_TASK_WORK[backend] if min_task_work is None else min_task_work
    tasks, _ = _template(graph, backend, blocks, min_task_work)
    return [(suffix, function.graph if isinstance(function, _SubgraphTask) else None,
             tuple(a for a in args if a[0] != "input")) for suffix, function, args, _ in tasks]


# graph -> {(structure, options): template}. The partition and its subgraphs are built once per
# graph shape and options, so repeated runs skip that work and the levels executor can reuse the
# plans it compiles for each subgraph. Keys are made unique per `to_dask` call from the template.
_TEMPLATES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

_Template = tuple[list[tuple[tuple, Any, tuple[tuple, ...], tuple]], dict[str, tuple]]


def _template(graph: Graph, backend: str, blocks: int, min_task_work: float) -> _Template:
    """The coarse tasks of ``graph`` with keys as suffixes, made a call's own by `to_dask`, cached per graph."""
    structure = (len(graph), tuple((name, node.index) for name, node in graph.outputs.items()),
                 backend, blocks, min_task_work)
    cache = _TEMPLATES.setdefault(graph, {})
    if structure not in cache:
        cache.clear()  # the graph grew, or other options: keep one template per graph
        cache[structure] = _coarse(graph, backend, partition_nodes(graph, blocks, min_task_work))
    return cache[structure]


def _coarse(graph: Graph, backend: str, ranges: list[list[list[Node]]]) -> _Template:
    """One `_SubgraphTask` per (range, block), and one getter per output, keyed by suffixes:
    ``("input", name)``, ``("task", range, block)``, ``("free",)``, ``("output", name)``."""
    input_key = {node: ("input", name) for name, node in graph.inputs.items()}
    owner: dict[Node, tuple] = {}
    for r, blocks in enumerate(ranges):
        for b, members in enumerate(blocks):
            for node in members:
                owner[node] = ("task", r, b)
    # Which members each task must return: those read by another task, and graph outputs.
    wanted: dict[tuple, set[Node]] = {}
    for node in graph.nodes:
        for x in node.inputs:
            if x in owner and owner.get(node) != owner[x]:
                wanted.setdefault(owner[x], set()).add(x)
    for node in graph.outputs.values():
        if node in owner:
            wanted.setdefault(owner[node], set()).add(node)
    # Outputs that are free sources are computed by one extra task.
    free_outputs = list(dict.fromkeys(n for n in graph.outputs.values() if n not in owner and n not in input_key))
    pieces = [(("task", r, b), members) for r, blocks in enumerate(ranges) for b, members in enumerate(blocks)]
    if free_outputs:
        pieces.append((("free",), free_outputs))
        wanted[("free",)] = set(free_outputs)
    tasks = []
    for key, members in pieces:
        inside = set(members)
        # Operands neither owned by a task nor inputs are free sources: copy them (and theirs) in.
        stack = [x for n in members for x in n.inputs if x not in inside and x not in owner and x not in input_key]
        while stack:
            x = stack.pop()
            if x not in inside:
                inside.add(x)
                stack.extend(y for y in x.inputs if y not in inside and y not in input_key)
        sub = subgraph(graph, list(inside), sorted(wanted.get(key, ()), key=lambda n: n.index))
        position: dict[tuple, int] = {}  # upstream key -> argument position
        sources = []
        for name in sub.inputs:
            producer = graph.node(name)
            upstream = input_key.get(producer) or owner[producer]
            sources.append((name, position.setdefault(upstream, len(position)),
                            None if producer in input_key else name))
        tasks.append((key, _SubgraphTask(sub, tuple(sources), backend), tuple(position), ()))
    outputs: dict[str, tuple] = {}
    for name, node in graph.outputs.items():
        if node in input_key:
            outputs[name] = input_key[node]
        else:
            outputs[name] = ("output", name)
            tasks.append((("output", name), operator.getitem, (owner.get(node, ("free",)),), (node.name,)))
    return tasks, outputs


# ------------------------------------------------------------------ running


def _is_client(scheduler: Any) -> bool:
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - distributed is a dependency
        return False
    return isinstance(scheduler, Client)


def _is_future(value: Any) -> bool:
    """Whether ``value`` is a ``distributed.Future`` (there is none unless distributed is imported)."""
    distributed = sys.modules.get("distributed")
    return distributed is not None and isinstance(value, distributed.Future)


def scatter_inputs(client: Any, graph: Graph, inputs: dict[str, Any], backend: str = "numpy",
                   blocks: int | None = None, min_task_work: int | None = None) -> dict[str, Any]:
    """Put ``inputs`` on ``client``'s workers once, each where `run` would send it; return futures.

    Passing the futures to ``execute(graph, futures, executor="dask", scheduler=client)``
    again and again keeps the data on the cluster: no run sends it from the client. Each input
    goes to the workers whose blocks read it (see `run`); ``backend``, ``blocks`` (default: the
    number of workers) and ``min_task_work`` must be those of the runs for the placement to match.

    Examples
    --------
    >>> import numpy as np, depthgraph, distributed
    >>> from depthgraph.executors.dask import scatter_inputs
    >>> g = depthgraph.Graph(); x = g.input("x", (2,)); _ = g.output("y", x + x)
    >>> with distributed.Client(processes=False, n_workers=1, dashboard_address=None) as client:
    ...     futures = scatter_inputs(client, g, {"x": np.ones(2)})
    ...     depthgraph.execute(g, futures, executor="dask", scheduler=client)["y"]
    array([2., 2.])
    """
    blocks = max(len(client.nthreads()), 1) if blocks is None else blocks
    dsk, _ = to_dask(graph, inputs, backend=backend, blocks=blocks, min_task_work=min_task_work)
    return {key[2]: future for key, future in _place_inputs(client, dsk).items()}


def _place_inputs(client: Any, dsk: dict) -> dict:
    """Futures for the inputs of ``dsk``, each scattered to the workers whose tasks read it.

    The scheduler places a task on the workers that hold its dependencies, so where the inputs
    lie decides where the work goes: all on one worker would keep every task there. Block ``b``
    of the coarse partition is given to worker ``b mod W`` (`run` asks for as many blocks as
    there are workers), and an input goes to the workers of the blocks that read it — a
    channel's inputs to one worker, an input every block reads to every worker. Inputs no block
    reads (``partition="op"``, or an output that is an input) go to every worker.
    """
    inputs = {k: v for k, v in dsk.items() if k[1] == "input" and not _is_future(v)}
    # `Client.nthreads` asks the scheduler each time; `scheduler_info()["workers"]` can come back
    # empty when the client's periodic refresh (totals only) lands between its fetch and return.
    workers = sorted(client.nthreads())
    if not workers:
        raise ParameterError("the Dask cluster has no workers to place the inputs on")
    readers: dict[Key, set[str]] = {}
    for k, task in dsk.items():
        if k[1] == "task" and isinstance(task, tuple):
            for arg in task[1:]:
                if arg in inputs:
                    readers.setdefault(arg, set()).add(workers[k[3] % len(workers)])
    by_workers: dict[tuple[str, ...], dict[Key, Any]] = {}
    for k, value in inputs.items():
        by_workers.setdefault(tuple(sorted(readers.get(k, workers))), {})[k] = value
    placed: dict[Key, Any] = {}
    for where, data in by_workers.items():
        placed.update(client.scatter(data, workers=list(where), broadcast=len(where) > 1))
    return placed


def run(graph: Graph, inputs: dict[str, Any], backend: str = "numpy", to_host: bool = False,
        scheduler: Any = "threads", partition: str = "levels", blocks: int | None = None,
        min_task_work: int | None = None) -> dict[str, Any]:
    """Run ``graph`` as a Dask graph (`to_dask`) on ``scheduler``; return ``{output name: array}``.

    Parameters
    ----------
    graph, inputs, backend, to_host
        As for every executor (`depthgraph.execute`).
    scheduler : str or distributed.Client
        ``"sync"`` (`dask.local.get_sync`, one thread, for debugging), ``"threads"``
        (`dask.threaded.get`), or a ``distributed.Client`` — a LocalCluster, dask-cuda's
        LocalCUDACluster (one worker per GPU), or a client of any cluster's scheduler. The
        scheduler spreads independent tasks over the workers.
    partition, blocks, min_task_work
        As for `to_dask`; with a Client, ``blocks`` defaults to its number of workers.

    Examples
    --------
    >>> import numpy as np, depthgraph
    >>> g = depthgraph.Graph(); A = g.input("A", (2, 2)); x = g.input("x", (2,))
    >>> _ = g.output("y", A @ (A @ x))
    >>> run(g, {"A": 2 * np.eye(2), "x": np.ones(2)}, scheduler="sync")["y"]
    array([4., 4.])
    """
    client = None
    if isinstance(scheduler, str) and scheduler in SCHEDULERS:
        import dask.local
        import dask.threaded

        get = dask.local.get_sync if scheduler == "sync" else dask.threaded.get
    elif _is_client(scheduler):
        client = scheduler
        get = client.get
    else:
        raise ParameterError(f"unknown scheduler {scheduler!r}; choose from {', '.join(SCHEDULERS)} "
                             f"or a distributed.Client")
    _check_options(partition, blocks, min_task_work)
    if client is None and any(_is_future(value) for value in inputs.values()):
        raise ParameterError("inputs held on a cluster (distributed Futures) need scheduler=<that cluster's Client>")
    if blocks is None and client is not None:
        blocks = max(len(client.nthreads()), 1)
    dsk, output_keys = to_dask(graph, inputs, partition=partition, backend=backend, blocks=blocks,
                               min_task_work=min_task_work)
    if client is not None:
        dsk.update(_place_inputs(client, dsk))
        dsk = _by_token(client, dsk)
    names = list(output_keys)
    values = get(dsk, [output_keys[name] for name in names])
    out = dict(zip(names, values))
    return {name: to_numpy(v) for name, v in out.items()} if to_host else out
