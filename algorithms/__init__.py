"""The algorithm library: each algorithm is a graph builder written with depthgraph's public API.

>>> import algorithms
>>> spec = algorithms.get("recurrence")
>>> graph = spec.build(L=8, n=2)
>>> sorted(spec.inputs(seed=0, L=8, n=2))
['A', 'B', 'C', 'D', 'u']
"""

from algorithms import ssm  # noqa: F401  (registers its algorithms)
from algorithms.registry import Algorithm, get, names

__all__ = ["Algorithm", "get", "names"]
