"""The algorithm library: each algorithm is a graph builder written with depthgraph's public API.

>>> import algorithms
>>> spec = algorithms.get("recurrence")
>>> graph = spec.build(L=8, n=2)
>>> sorted(spec.inputs(seed=0, L=8, n=2))
['A', 'B', 'C', 'D', 'u']
"""

# Importing a module registers its algorithms; this order is the order of `names()`.
from algorithms import ssm  # noqa: I001, F401
from algorithms import conv, kernel, scan, ridge  # noqa: F401
from algorithms.registry import Algorithm, get, names
from algorithms.table import Row, complexity_rows, format_table

__all__ = ["Algorithm", "Row", "complexity_rows", "format_table", "get", "names"]
