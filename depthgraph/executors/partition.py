"""The coarse partition of a graph into tasks, and the subgraph each task runs.

The Dask executor (`depthgraph.executors.dask`) and the dask prediction
(`depthgraph.prediction`) cut a graph into **ranges of consecutive levels × blocks of
independent nodes**; each piece is rebuilt as a small `Graph` of its own (`subgraph`) and run
by one task. This module is pure graph code: it imports neither Dask nor an array library.

How the default partition is chosen
-----------------------------------
1. **Free sources are copied, not shipped.** Constants, and views whose every ancestor is an
   input or a constant, cost nothing; each task that reads one rebuilds it from the graph's
   inputs. They are never task members of their own, so they neither tie unrelated nodes into
   one block nor add edges between tasks.
2. **Level ranges.** Levels are as in `depthgraph.analyze`. Walking levels in order, the current
   range is closed *after* a level once its work reaches ``min_task_work × blocks`` (so each
   block can get about ``min_task_work``), and closed *before* a level that would join the
   range's weakly connected components into fewer than ``min(blocks, components so far)`` once
   the range already holds ``min_task_work`` of work (so a join at the top of a wide graph — a
   tree's root, a final ``stack`` — does not fuse all the independent work below it into one
   task). A graph whose total work is under ``min_task_work`` is therefore one range.
3. **Blocks.** Within a range, the sub-DAG of its (non-free) nodes splits into weakly connected
   components; they are packed into at most ``blocks`` blocks, largest work first, each into
   the least-loaded block (LPT). One task per non-empty (range, block).

The task graph is acyclic: every edge ``u → v`` of the DAG has ``level(u) ≤ level(v)`` (a node
is at least at its operands' level), so ``range(u) ≤ range(v)``. If the ranges differ, the task
edge goes to a strictly later range. If they are equal, ``u`` and ``v`` are joined by an edge of
that range's sub-DAG, hence lie in one weakly connected component, hence in one block — one task,
no task edge. Free sources give no task edges (rule 1). So task edges only go from range ``r`` to
ranges ``> r``, and a cycle is impossible.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Any

from depthgraph import ops
from depthgraph.ir import Graph, Node


def subgraph(graph: Graph, members: Sequence[Node], outputs: Sequence[Node]) -> Graph:
    """A new `Graph` computing ``outputs`` from ``members`` of ``graph``, with the public API.

    Every operand of a member that is not itself a member becomes an input named after its
    producer; each member of ``outputs`` becomes an output named after the node. Node names are
    kept, so the pieces of one graph never clash.

    >>> import depthgraph
    >>> g = depthgraph.Graph(); x = g.input("x", (3,))
    >>> y = g.output("y", depthgraph.ops.exp(x * 2.0))
    >>> sub = subgraph(g, [y], [y])
    >>> list(sub.inputs), list(sub.outputs)
    (['mul_2'], ['exp_3'])
    """
    sub = Graph()
    built: dict[Node, Node] = {}
    for node in sorted(members, key=lambda n: n.index):
        operands = []
        for x in node.inputs:
            if x not in built:
                built[x] = sub.input(x.name, x.shape, x.dtype)
            operands.append(built[x])
        built[node] = sub.apply(node.op, operands, name=node.name, **node.kwargs)
    for node in outputs:
        sub.output(node.name, built[node])
    return sub



class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[Any, Any] = {}

    def find(self, a: Any) -> Any:
        parent = self.parent
        root = a
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[a] != root:  # path compression
            parent[a], a = root, parent[a]
        return root

    def union(self, a: Any, b: Any) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        self.parent[rb] = ra
        return True


def _free_sources(nodes: list[Node], depth: dict[Node, int]) -> set[Node]:
    """Constants and views whose ancestors are all inputs or constants: copied into each task."""
    free: set[Node] = set()
    for node in nodes:
        if node.op == "const" or (
            node.op != "input" and depth[node] == 0 and all(x.op == "input" or x in free for x in node.inputs)
        ):
            free.add(node)
    return free


def _components(members: list[Node], uf: _UnionFind) -> list[list[Node]]:
    """``members`` grouped by their root in ``uf``, each group in topological order."""
    groups: dict[Node, list[Node]] = {}
    for v in sorted(members, key=lambda n: n.index):
        groups.setdefault(uf.find(v), []).append(v)
    return list(groups.values())


def _level_ranges(nodes: list[Node], level: dict[Node, int], work: dict[Node, int], blocks: int,
                  min_task_work: float) -> list[list[list[Node]]]:
    """The (non-free, non-input) ``nodes`` cut into ranges of consecutive levels (module doc,
    rule 2); each range as its weakly connected components."""
    by_level: list[list[Node]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for node in nodes:
        by_level[level[node]].append(node)
    ranges: list[list[list[Node]]] = []
    current: list[Node] = []
    uf, count, range_work = _UnionFind(), 0, 0  # uf.parent holds exactly the current range's nodes
    for layer in by_level:
        if not layer:
            continue
        # Trial: how many components would the range have with this level? The old components'
        # roots and the new nodes are distinct elements; each successful union removes one.
        trial, merges = _UnionFind(), 0
        for v in layer:
            for u in v.inputs:
                if u in uf.parent:
                    merges += trial.union(v, uf.find(u))
                elif u in work and level[u] == level[v]:  # a view of a node of this level
                    merges += trial.union(v, u)
        if current and range_work >= min_task_work and count + len(layer) - merges < min(blocks, count):
            ranges.append(_components(current, uf))
            current, uf, count, range_work = [], _UnionFind(), 0, 0
        for v in layer:  # layer is in topological order: a same-level operand comes first
            uf.find(v)
            count += 1
            for u in v.inputs:
                if u in uf.parent and u is not v:
                    count -= uf.union(u, v)
            range_work += work[v]
        current.extend(layer)
        if range_work >= min_task_work * blocks:
            ranges.append(_components(current, uf))
            current, uf, count, range_work = [], _UnionFind(), 0, 0
    if current:
        ranges.append(_components(current, uf))
    return ranges


def _pack(components: list[list[Node]], work: dict[Node, int], blocks: int) -> list[list[Node]]:
    """Components into at most ``blocks`` blocks: largest work first, each to the least loaded."""
    weights = [sum(work[n] for n in c) for c in components]
    order = sorted(range(len(components)), key=lambda i: (-weights[i], components[i][0].index))
    packed: list[list[Node]] = [[] for _ in range(min(blocks, len(components)))]
    heap = [(0, b) for b in range(len(packed))]  # (load, block): the least loaded on top
    for i in order:
        load, b = heapq.heappop(heap)
        packed[b].extend(components[i])
        heapq.heappush(heap, (load + weights[i], b))
    return [sorted(block, key=lambda n: n.index) for block in packed]


def partition_nodes(graph: Graph, blocks: int, min_task_work: float) -> list[list[list[Node]]]:
    """The default partition: ``[range][block] -> member nodes`` (module doc, rules 1–3).

    Free sources and inputs are in no block.

    >>> import depthgraph
    >>> g = depthgraph.Graph(); x = g.input("x", (4,))
    >>> for i in range(4):
    ...     _ = g.output(f"y{i}", depthgraph.ops.exp(x * float(i)))
    >>> [[len(block) for block in blocks] for blocks in partition_nodes(g, blocks=2, min_task_work=10**6)]
    [[4, 4]]
    """
    nodes = graph.nodes
    work: dict[Node, int] = {}
    depth: dict[Node, int] = {}
    level: dict[Node, int] = {}  # as `depthgraph.analyze` defines it
    for node in nodes:
        work[node], depth[node] = ops.cost(node)
        level[node] = max((level[x] for x in node.inputs), default=0) + (depth[node] > 0)
    free = _free_sources(nodes, depth)
    candidates = [n for n in nodes if n.op != "input" and n not in free]
    work = {n: work[n] for n in candidates}
    return [_pack(components, work, blocks)
            for components in _level_ranges(candidates, level, work, blocks, min_task_work)]
