"""The eager executor: one op call per node, in topological order — the reference and oracle."""

from __future__ import annotations

from typing import Any

from depthgraph import ops
from depthgraph.executors.backend import array_module, bind_inputs, to_numpy
from depthgraph.ir import Graph


def run(graph: Graph, inputs: dict[str, Any], backend: str = "numpy", to_host: bool = False) -> dict[str, Any]:
    """Evaluate ``graph`` on ``inputs`` node by node; return ``{output name: array}``.

    Intermediates are dropped as soon as their last consumer has run, so a long chain holds
    only a few arrays at a time.

    >>> import numpy as np, depthgraph
    >>> g = depthgraph.Graph(); x = g.input("x", (3,))
    >>> _ = g.output("y", 2.0 * x + 1.0)
    >>> run(g, {"x": np.arange(3.0)})["y"]
    array([1., 3., 5.])
    """
    xp = array_module(backend)
    bound = bind_inputs(graph, inputs, xp)
    nodes = graph.nodes
    pending = {}  # node -> consumers not yet run
    for node in nodes:
        for x in node.inputs:
            pending[x] = pending.get(x, 0) + 1
    keep = set(graph.outputs.values())
    values: dict[Any, Any] = {}
    for node in nodes:
        if node.op == "input":
            values[node] = bound[node.name]
            continue
        values[node] = ops.get(node.op).impl(xp, *(values[x] for x in node.inputs), **node.kwargs)
        for x in node.inputs:
            pending[x] -= 1
            if not pending[x] and x not in keep:
                del values[x]
    out = {name: values[node] for name, node in graph.outputs.items()}
    return {name: to_numpy(v) for name, v in out.items()} if to_host else out
