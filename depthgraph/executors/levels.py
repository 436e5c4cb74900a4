"""The levels executor: each level's ops of one kind run as one batched call.

Executed op by op, a DAG costs one kernel launch per node, so runtime follows work; executed
level by level with the nodes of a level batched, it costs a few launches per level, so
runtime follows depth (DESIGN.md, "Execution"). This module compiles a graph once into a
`Schedule` and runs the schedule on NumPy or CuPy.

**Groups.** The compute nodes of one level are independent (an edge between two compute nodes
always raises the level). Those that share (op, operand shapes, operand dtypes, attrs — and
any operand four or more times the size of the result, such as the matrix of a matvec) form a
group, and the group runs as one call of the op's batched form (`depthgraph.ops.Op.batched`)
on its operands stacked along a new leading axis. A group's k results live in one array, its
*slab*, of shape (k, *result shape).

**Gathers.** Stacking a group's operands is planned once, at compile time, as index arithmetic:
every value is a row of a slab or — for a view (slice, reshape, transpose), which is never
run — a fixed set of flat positions in its root slab, obtained by applying the view to an array
of indices. An operand shared by the whole group is passed once with a leading axis of 1 (the
batched op broadcasts it); a run of consecutive rows of one slab, or equally spaced blocks of it,
is a free view; anything else is one copy, however many slabs it reads
(`depthgraph.executors.gathers`).

**Memory.** A slab is dropped after the last group that reads it, unless it holds an output.
`Schedule.peak_bytes` predicts the largest total of live slabs and gathered temporaries.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from depthgraph import ops
from depthgraph.errors import ParameterError
from depthgraph.executors import gathers
from depthgraph.executors.backend import array_module, bind_inputs, to_numpy
from depthgraph.ir import Graph, Node


@dataclass(frozen=True)
class Gather:
    """How one operand of a group is assembled from slabs.

    Its values, by source slab: ``segments``, each ``(slab, "rows", row indices)`` (a slice, or
    an array), ``(slab, "flat", flat positions)`` (a slice, or an array) for views of a slab, or
    ``(slab, "blocks", (start, step, k))`` for k equally spaced blocks. One segment that is a
    slice or blocks is a free view of its slab; anything else is one `copy`. ``shared`` marks an
    operand that is one value for the whole group (leading axis 1).
    """

    shape: tuple[int, ...]
    segments: tuple[tuple[int, str, Any], ...]
    count: int  # values gathered (1 if shared)
    shared: bool = False
    copy: gathers.Copy | None = None  # None: a free view

    @property
    def free(self) -> bool:
        return self.copy is None

    @property
    def launches(self) -> int:
        """Kernels this gather costs on CuPy (none for a view)."""
        return 0 if self.copy is None else self.copy.launches

    def nbytes(self, itemsize: int) -> int:
        """Bytes of the temporary it makes (0 for a free view)."""
        return 0 if self.copy is None else self.copy.elements * itemsize


def _is_view(kind: str, index: Any) -> bool:
    """Whether a gather segment is a view of its slab (a slice or strided blocks): no kernel."""
    return kind == "blocks" or isinstance(index, slice)


def _starts(kind: str, index: Any, member: int, count: int) -> np.ndarray:
    """A segment's values as `depthgraph.executors.gathers.plan` takes them: the first flat
    position of each (count,) if each is consecutive in its slab, else all of them (count, member)."""
    if kind == "blocks":
        start, step, _ = index
        return start + step * np.arange(count, dtype=np.int64)
    if isinstance(index, slice):  # consecutive rows, or consecutive values in the flat slab
        step = (index.step or 1) * member if kind == "rows" else member
        return index.start * (member if kind == "rows" else 1) + step * np.arange(count, dtype=np.int64)
    return index * member if kind == "rows" else index.reshape(count, member)


@dataclass(frozen=True)
class Group:
    """Nodes of one level and kind, run as one batched call that writes slab ``slab``."""

    op: str
    level: int
    nodes: tuple[Node, ...]
    operands: tuple[Gather, ...]
    slab: int
    frees: tuple[int, ...]  # slabs last read here
    packed: int = 0  # m > 0: the one operand gathers all k·m operands, for the op's ``packed`` form
    direct: tuple | None = None  # one node whose operands are views: read them and call the op itself

    @property
    def launches(self) -> int:
        """Kernel launches: the batched call plus the gathers that copy."""
        return 1 + sum(g.launches for g in self.operands)

    def __repr__(self) -> str:
        return f"<Group level {self.level}: {self.op} ×{len(self.nodes)}, {self.launches} launches>"


@dataclass(frozen=True)
class Schedule:
    """A compiled plan: which groups run, level by level, and how their operands are gathered.

    ``levels[i]`` lists the indices into ``groups`` of level i + 1 (level 0 holds only inputs
    and constants, which run nothing).
    """

    groups: tuple[Group, ...]
    levels: tuple[tuple[int, ...], ...]
    inputs: tuple[tuple[int, str], ...]  # (slab, input name)
    constants: tuple[tuple[int, np.ndarray], ...]  # (slab, its constants stacked on the host)
    outputs: tuple[tuple[str, Gather], ...]  # (output name, how to read it at the end)
    slab_bytes: tuple[int, ...]
    peak_bytes: int
    _device: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def launches(self) -> int:
        """Total kernel launches of one run (batched calls and gathers)."""
        return sum(g.launches for g in self.groups)

    def summary(self) -> str:
        """One line per level: its groups, their sizes and launches."""
        lines = [f"{len(self.groups)} groups in {len(self.levels)} levels, {self.launches} launches, "
                 f"predicted peak {self.peak_bytes:,} bytes"]
        for i, level in enumerate(self.levels, start=1):
            parts = ", ".join(f"{self.groups[g].op}×{len(self.groups[g].nodes)}" for g in level)
            lines.append(f"  level {i}: {parts}")
        return "\n".join(lines)

    def device_index(self, xp: Any, array: np.ndarray) -> Any:
        """``array`` on ``xp``'s device, transferred once per schedule and backend."""
        key = (xp.__name__, id(array))
        if key not in self._device:
            self._device[key] = (xp.asarray(array), array)  # keep the host array alive for its id
        return self._device[key][0]


_SCHEDULES: weakref.WeakKeyDictionary[Graph, tuple[tuple[int, int], Schedule]] = weakref.WeakKeyDictionary()


def schedule(graph: Graph) -> Schedule:
    """The levels executor's plan for ``graph``, compiled once and reused while the graph is unchanged.

    >>> import depthgraph
    >>> g = depthgraph.Graph()
    >>> xs = [g.input(f"x{i}", (4,)) for i in range(4)]
    >>> _ = g.output("y", depthgraph.ops.stack([depthgraph.ops.exp(x) for x in xs]))
    >>> s = schedule(g)
    >>> [(grp.op, len(grp.nodes)) for grp in s.groups]
    [('exp', 4), ('stack', 1)]
    """
    key = (len(graph), len(graph.outputs))
    cached = _SCHEDULES.get(graph)
    if cached is None or cached[0] != key:
        cached = (key, _compile(graph))
        _SCHEDULES[graph] = cached
    return cached[1]


def _compile(graph: Graph) -> Schedule:
    nodes = graph.nodes
    level: dict[Node, int] = {}
    slab_of: dict[Node, tuple[int, int]] = {}  # computed or source node -> (slab, row)
    flat: dict[Node, tuple[int, np.ndarray]] = {}  # view -> (root slab, flat positions)
    ranges: set[Node] = set()  # views whose positions are consecutive (cheap to index further)
    slab_shapes: list[tuple[int, tuple[int, ...], str]] = []  # (rows, member shape, dtype)
    inputs, constants, views, by_key = [], {}, [], {}

    def new_slab(rows: int, node: Node) -> int:
        slab_shapes.append((rows, node.shape, node.dtype))
        return len(slab_shapes) - 1

    for node in nodes:
        depth = ops.cost(node)[1]
        level[node] = max((level[x] for x in node.inputs), default=0) + (depth > 0)
        if node.op == "input":
            slab_of[node] = (new_slab(1, node), 0)
            inputs.append((slab_of[node][0], node.name))
        elif node.op == "const":
            constants.setdefault((node.shape, node.dtype), []).append(node)
        elif depth == 0:  # a view: never run; resolved into positions of its root slab below
            views.append(node)
        else:
            key = (level[node], node.op, tuple(x.shape for x in node.inputs), tuple(x.dtype for x in node.inputs),
                   node.attrs)
            by_key.setdefault(key, []).append(node)
    by_key = {key: members for base, nodes in by_key.items() for key, members in _split_by_shared(base, nodes).items()}
    const_slabs = []
    for members in constants.values():
        slab = new_slab(len(members), members[0])
        slab_of.update({m: (slab, row) for row, m in enumerate(members)})
        const_slabs.append((slab, np.stack([ops.get("const").impl(np, **m.kwargs) for m in members])))

    # Groups in level order: a group's operands come from earlier levels, so they are placed
    # when it is planned. A view takes its operand's level, so it resolves (by applying the view
    # to an array of positions) once every group of its level has a slab; views of views follow
    # their operands, being later in topological order at the same level.
    views.sort(key=level.__getitem__)
    view_at = 0

    def resolve_views_below(lv: int | float) -> None:
        nonlocal view_at
        while view_at < len(views) and level[views[view_at]] < lv:
            view = views[view_at]
            operand = view.inputs[0]
            slab, positions = _positions(operand, slab_of, flat)
            positions = _view_positions(view, positions, operand not in flat or operand in ranges)
            flat[view] = (slab, positions)
            if positions.size and np.array_equal(positions.reshape(-1), np.arange(positions.flat[0], positions.flat[0] + positions.size)):
                ranges.add(view)
            view_at += 1

    groups_raw = []
    for key in sorted(by_key, key=lambda k: k[0]):
        members = by_key[key]
        resolve_views_below(key[0])
        arity = len(members[0].inputs)
        if ops.get(key[1]).packed and len(set(key[2])) == 1:
            operands = (_gather([x for m in members for x in m.inputs], slab_of, flat, may_share=False),)
        else:
            operands = tuple(_gather([m.inputs[j] for m in members], slab_of, flat) for j in range(arity))
            arity = 0
        slab = new_slab(len(members), members[0])
        slab_of.update({m: (slab, row) for row, m in enumerate(members)})
        groups_raw.append((key[0], key[1], tuple(members), operands, slab, arity))
    resolve_views_below(float("inf"))

    outputs = tuple((name, _gather([node], slab_of, flat)) for name, node in graph.outputs.items())
    kept = {slab for _, gather in outputs for slab, _, _ in gather.segments}
    last_read: dict[int, int] = {}
    for i, (_, _, _, operands, _, _) in enumerate(groups_raw):
        for gather in operands:
            for slab, _, _ in gather.segments:
                last_read[slab] = i
    frees: dict[int, list[int]] = {}
    for slab, i in last_read.items():
        if slab not in kept:
            frees.setdefault(i, []).append(slab)
    groups = tuple(Group(op, lv, members, operands, slab, tuple(frees.get(i, ())), packed,
                         _direct(operands) if len(members) == 1 and not packed else None)
                   for i, (lv, op, members, operands, slab, packed) in enumerate(groups_raw))
    levels: dict[int, list[int]] = {}
    for i, group in enumerate(groups):
        levels.setdefault(group.level, []).append(i)
    slab_bytes = tuple(rows * ops.size(shape) * np.dtype(dtype).itemsize for rows, shape, dtype in slab_shapes)
    return Schedule(groups, tuple(tuple(levels[lv]) for lv in sorted(levels)), tuple(inputs), tuple(const_slabs),
                    outputs, slab_bytes, _peak_bytes(groups, slab_bytes, last_read, kept, slab_shapes))


def _split_by_shared(key: tuple, nodes: list[Node]) -> dict[tuple, list[Node]]:
    """``nodes`` of one group key, split by the large operands that several of them share.

    An operand much larger than the result (a matrix applied to vectors) would be copied once
    per member if stacked; nodes that share one are grouped apart, so that it is passed once
    and broadcast (several channels' A^m: one group, one GEMM, per channel). An operand read by
    one node only splits nothing: k systems with k matrices stay one batched solve.
    """
    readers: dict[tuple[int, Node], int] = {}
    for node in nodes:
        for j, x in enumerate(node.inputs):
            if ops.size(x.shape) >= 4 * ops.size(node.shape):
                readers[j, x] = readers.get((j, x), 0) + 1
    split: dict[tuple, list[Node]] = {}
    for node in nodes:
        shared = tuple(x.index if readers.get((j, x), 0) > 1 else -1 for j, x in enumerate(node.inputs))
        split.setdefault(key + (shared,), []).append(node)
    return split


def _positions(node: Node, slab_of: dict, flat: dict) -> tuple[int, np.ndarray]:
    """``node``'s value as (root slab, flat positions in that slab), shaped like the node."""
    if node in flat:
        return flat[node]
    slab, row = slab_of[node]
    n = ops.size(node.shape)
    return slab, np.arange(row * n, (row + 1) * n, dtype=np.int64).reshape(node.shape)


def _view_positions(view: Node, positions: np.ndarray, consecutive: bool) -> np.ndarray:
    """The positions a view selects from its operand's ``positions``.

    Basic indexing of ``consecutive`` positions (a slab row: the common ``u[k]``) is computed
    from the block's start and strides, in time proportional to the result, not the operand.
    """
    if view.op != "getitem" or not consecutive or not positions.size:
        return np.array(ops.get(view.op).impl(np, positions, **view.kwargs), order="C")  # keeps 0-d 0-d
    start = int(positions.flat[0])
    shape = positions.shape
    strides = [ops.size(shape[i + 1:]) for i in range(len(shape))]
    index = list(ops.decode_index(view.kwargs["index"]))
    if Ellipsis in index:
        at = index.index(Ellipsis)
        consumed = sum(item is not None for item in index) - 1
        index[at:at + 1] = [slice(None)] * (len(shape) - consumed)
    index += [slice(None)] * (len(shape) - sum(item is not None for item in index))
    offset, axes, axis = start, [], 0
    for item in index:
        if item is None:
            axes.append(np.zeros(1, np.int64))
            continue
        if isinstance(item, slice):
            axes.append(np.arange(*item.indices(shape[axis]), dtype=np.int64) * strides[axis])
        else:
            offset += (item % shape[axis]) * strides[axis]
        axis += 1
    out = np.array(offset, dtype=np.int64)
    for a in axes:
        out = out[..., None] + a
    return out


def _step(values: np.ndarray) -> int | None:
    """The common difference of an arithmetic progression (1 for a single value), else None."""
    if len(values) < 2:
        return 1
    steps = np.diff(values)
    return int(steps[0]) if steps[0] > 0 and (steps == steps[0]).all() else None


def _gather(values: list[Node], slab_of: dict, flat: dict, may_share: bool = True) -> Gather:
    shape = values[0].shape
    shared = may_share and all(v is values[0] for v in values)
    values = values[:1] if shared else values
    segments: dict[int, tuple[list[int], list[Node]]] = {}  # slab -> (member indices, values)
    for i, v in enumerate(values):
        slab = slab_of[v][0] if v in slab_of else flat[v][0]
        segments.setdefault(slab, ([], []))[0].append(i)
        segments[slab][1].append(v)
    planned = []
    for slab, (_, members) in segments.items():
        if all(v in slab_of for v in members):
            rows = np.array([slab_of[v][1] for v in members], dtype=np.int64)
            step = _step(rows)
            # rows in arithmetic progression (every row, every other row, …) are a free strided slice
            planned.append((slab, "rows", slice(int(rows[0]), int(rows[0]) + step * len(rows), step) if step else rows))
            continue
        block = ops.size(shape)
        positions = np.stack([_positions(v, slab_of, flat)[1].reshape(-1) for v in members])
        blocks = block and np.array_equal(positions, positions[:, :1] + np.arange(block))
        step = _step(positions[:, 0]) if blocks else None
        if step is not None and (step == block or len(members) == 1):  # consecutive blocks: one flat slice
            planned.append((slab, "flat", slice(int(positions[0, 0]), int(positions[0, 0]) + positions.size)))
        elif step is not None:  # equally spaced blocks: one strided view
            planned.append((slab, "blocks", (int(positions[0, 0]), step, len(members))))
        else:
            planned.append((slab, "flat", positions.reshape(-1)))
    copy = None
    if (len(planned) > 1 or not _is_view(*planned[0][1:])) and ops.size(shape):
        member = ops.size(shape)
        dtypes = {v.dtype for v in values}
        copy = gathers.plan(member, [(slab, np.array(indices), _starts(kind, index, member, len(indices)))
                                     for (slab, kind, index), (indices, _) in zip(planned, segments.values())],
                            np.result_type(*dtypes).name if len(dtypes) > 1 else None)
    return Gather(shape, tuple(planned), len(values), shared, copy)


def _peak_bytes(groups: tuple[Group, ...], slab_bytes: tuple[int, ...], last_read: dict, kept: set,
                slab_shapes: list) -> int:
    """Largest total of live slabs plus the running group's gathered operands."""
    made_by = {g.slab: i for i, g in enumerate(groups)}
    live = sum(b for s, b in enumerate(slab_bytes) if s not in made_by)  # inputs and constants
    peak = live
    for i, group in enumerate(groups):
        itemsize = np.dtype(slab_shapes[group.slab][2]).itemsize
        temporaries = sum(g.nbytes(itemsize) for g in group.operands)
        live += slab_bytes[group.slab]
        peak = max(peak, live + temporaries)
        live -= sum(slab_bytes[s] for s in group.frees)
    return peak


def _direct(operands: tuple[Gather, ...]) -> tuple | None:
    """For a one-node group: how to read each operand as a plain view, or None if one needs a copy."""
    entries = []
    for gather in operands:
        (slab, kind, index), = gather.segments
        if not isinstance(index, slice):
            return None
        entries.append((slab, kind, index.start, index.stop, gather.shape))
    return tuple(entries)


def _read(entry: tuple, slabs: list) -> Any:
    """One operand of a one-node group: a row of its slab, or a run of its flat elements."""
    slab, kind, start, stop, shape = entry
    return slabs[slab][start] if kind == "rows" else slabs[slab].reshape(-1)[start:stop].reshape(shape)


def _fetch(gather: Gather, slabs: list, xp: Any) -> Any:
    shape = (gather.count,) + gather.shape
    if not ops.size(gather.shape):  # empty values: nothing to read, and no size to infer rows from
        # values from slabs of several dtypes promote, as a copy of them does (`gathers.plan`)
        return xp.empty(shape, dtype=np.result_type(*(slabs[slab].dtype for slab, *_ in gather.segments)))
    if gather.copy is not None:
        return gather.copy.run(xp, slabs).reshape(shape)
    (slab, kind, index), = gather.segments
    if kind == "blocks":  # k equally spaced blocks of the flat slab: a strided view
        start, step, k = index
        source = slabs[slab].reshape(-1)
        return xp.lib.stride_tricks.as_strided(source[start:], shape=(k, ops.size(gather.shape)),
                                               strides=(step * source.itemsize, source.itemsize)).reshape(shape)
    source = slabs[slab] if kind == "rows" else slabs[slab].reshape(-1)
    return source[index].reshape(shape)


def run(graph: Graph, inputs: dict[str, Any], backend: str = "numpy", to_host: bool = False,
        cuda_graph: bool = False) -> dict[str, Any]:
    """Evaluate ``graph`` level by level, each group of like nodes as one batched call.

    Parameters
    ----------
    graph, inputs, backend, to_host
        As for `depthgraph.execute`.
    cuda_graph : bool
        CuPy only: record the schedule into CUDA graphs on the first call for inputs of these
        shapes and dtypes, and replay them on this and later calls (see
        `depthgraph.executors.cuda_graphs`): about a microsecond of launch per kernel instead
        of tens of microseconds of Python and CuPy per call. Groups whose calls cannot be
        captured (cuBLAS, cuSOLVER under CuPy) run between the graphs.

    Examples
    --------
    >>> import numpy as np, depthgraph
    >>> g = depthgraph.Graph(); x = g.input("x", (3,))
    >>> _ = g.output("y", depthgraph.ops.stack([2.0 * x[i] for i in range(3)]))
    >>> run(g, {"x": np.arange(3.0)})["y"]
    array([0., 2., 4.])
    """
    xp = array_module(backend)
    plan = schedule(graph)
    bound = bind_inputs(graph, inputs, xp)
    if cuda_graph:
        if backend != "cupy":
            raise ParameterError(f"cuda_graph=True needs backend='cupy', not {backend!r}")
        from depthgraph.executors import cuda_graphs

        out = cuda_graphs.replay(plan, bound)
    else:
        slabs = load(plan, bound, xp)
        for group in plan.groups:
            run_group(group, slabs, plan, xp)
        out = read_outputs(plan, slabs, xp)
    return {name: to_numpy(v) for name, v in out.items()} if to_host else out


def load(plan: Schedule, bound: dict[str, Any], xp: Any) -> list[Any]:
    """The slab list at the start of a run: inputs and constants placed, every other slab empty."""
    slabs: list[Any] = [None] * len(plan.slab_bytes)
    for slab, name in plan.inputs:
        slabs[slab] = xp.ascontiguousarray(bound[name][None])  # [None] first: ascontiguousarray makes 0-d 1-d
    for slab, stacked in plan.constants:
        slabs[slab] = plan.device_index(xp, stacked)
    return slabs


def compute(group: Group, slabs: Any, plan: Schedule, xp: Any) -> Any:
    """Run one group on ``slabs`` (a list, or a mapping of the slabs it reads) and return its slab."""
    op, k = ops.get(group.op), len(group.nodes)
    if group.direct is not None:  # one node, operands free views: no stacking (chains are all such)
        return op.impl(xp, *(_read(entry, slabs) for entry in group.direct), **group.nodes[0].kwargs)[None]
    if group.packed:
        (gather,) = group.operands
        packed = _fetch(gather, slabs, xp).reshape((k, group.packed) + gather.shape)
        out = op.packed(xp, packed, **group.nodes[0].kwargs)
    else:
        out = op.batched(xp, *(_fetch(g, slabs, xp) for g in group.operands), **group.nodes[0].kwargs)
    if out.shape[0] != k:  # every operand was shared: k copies of one value
        out = xp.broadcast_to(out, (k,) + out.shape[1:])
    return xp.ascontiguousarray(out)


def run_group(group: Group, slabs: list[Any], plan: Schedule, xp: Any) -> None:
    """Compute one group's slab into ``slabs`` and drop the slabs it read last."""
    slabs[group.slab] = compute(group, slabs, plan, xp)
    for slab in group.frees:
        slabs[slab] = None


def read_outputs(plan: Schedule, slabs: list[Any], xp: Any) -> dict[str, Any]:
    """Each declared output, read from its slab at the end of a run."""
    return {name: _fetch(gather, slabs, xp)[0] for name, gather in plan.outputs}
