"""Executors: every one is ``run(graph, inputs, backend=..., **options) -> {output: array}``."""

from __future__ import annotations

from typing import Any

import importlib

from depthgraph.errors import ParameterError
from depthgraph.ir import Graph

# executor name -> module whose ``run(graph, inputs, backend=..., **options)`` executes a graph.
# Imported on first use: the dask executor pulls in dask and distributed.
EXECUTORS: dict[str, str] = {
    "eager": "depthgraph.executors.eager",
    "levels": "depthgraph.executors.levels",
    "dask": "depthgraph.executors.dask",
}


def execute(graph: Graph, inputs: dict[str, Any], executor: str = "eager", backend: str = "numpy",
            **options: Any) -> dict[str, Any]:
    """Run ``graph`` on ``inputs`` with the named executor and array backend.

    Parameters
    ----------
    graph : Graph
        The graph; its declared outputs are computed.
    inputs : dict of str to array
        One array per declared input (NumPy or CuPy), of the declared shape.
    executor : str
        ``"eager"`` (one op per call, the reference), ``"levels"`` (each level's ops of one kind
        as one batched call; see `depthgraph.schedule`) or ``"dask"`` (a Dask graph run by
        ``scheduler=`` "sync", "threads" or a ``distributed.Client``).
    backend : str
        ``"numpy"`` or ``"cupy"``.
    **options
        Passed to the executor, e.g. ``to_host=True`` to get NumPy arrays back.

    Returns
    -------
    dict of str to array

    Examples
    --------
    >>> import numpy as np, depthgraph
    >>> g = depthgraph.Graph(); A = g.input("A", (2, 2)); x = g.input("x", (2,))
    >>> _ = g.output("y", A @ x)
    >>> execute(g, {"A": np.eye(2), "x": np.array([3.0, 4.0])})["y"]
    array([3., 4.])
    """
    if executor not in EXECUTORS:
        raise ParameterError(f"unknown executor {executor!r}; choose from {', '.join(EXECUTORS)}")
    return importlib.import_module(EXECUTORS[executor]).run(graph, inputs, backend=backend, **options)


def to_dask(graph: Graph, inputs: dict[str, Any], partition: str = "levels", backend: str = "numpy",
            blocks: int | None = None, min_task_work: int | None = None) -> tuple[dict, dict[str, Any]]:
    """A Dask task graph for ``graph`` on ``inputs`` and the key of each output.

    See `depthgraph.executors.dask.to_dask` (this wrapper imports dask only when called).

    >>> import numpy as np, dask, depthgraph
    >>> g = depthgraph.Graph(); x = g.input("x", (2,)); _ = g.output("y", x + x)
    >>> dsk, keys = depthgraph.to_dask(g, {"x": np.ones(2)})
    >>> dask.get(dsk, keys["y"])
    array([2., 2.])
    """
    from depthgraph.executors import dask as dask_executor

    return dask_executor.to_dask(graph, inputs, partition=partition, backend=backend, blocks=blocks,
                                 min_task_work=min_task_work)
