"""Executors: every one is ``run(graph, inputs, backend=..., **options) -> {output: array}``."""

from __future__ import annotations

from typing import Any, Callable

from depthgraph.errors import ParameterError
from depthgraph.execute import eager
from depthgraph.ir import Graph

EXECUTORS: dict[str, Callable[..., dict[str, Any]]] = {"eager": eager.run}


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
        ``"eager"`` (one op per call, the reference).
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
    try:
        run = EXECUTORS[executor]
    except KeyError:
        raise ParameterError(f"unknown executor {executor!r}; choose from {', '.join(EXECUTORS)}") from None
    return run(graph, inputs, backend=backend, **options)
