"""depthgraph: write an algorithm once as a DAG of array ops; read off its work and depth; run it.

>>> import numpy as np, depthgraph
>>> g = depthgraph.Graph()
>>> x = g.input("x", (8,))
>>> _ = g.output("total", depthgraph.ops.sum(x))
>>> a = depthgraph.analyze(g)
>>> a.work, a.span, a.steps
(8, 3, 1)
>>> depthgraph.execute(g, {"x": np.ones(8)})["total"]
np.float64(8.0)
"""

from depthgraph import ops
from depthgraph.analysis import Analysis, analyze, to_networkx
from depthgraph.cost import Profile
from depthgraph.drawing import render
from depthgraph.errors import (
    CycleError,
    DepthGraphError,
    GraphError,
    InputError,
    OutputError,
    ParameterError,
    ProfileError,
    ShapeError,
    UnknownOpError,
)
from depthgraph.executors import execute, to_dask
from depthgraph.executors.levels import Schedule, schedule
from depthgraph.ir import Graph, Node
from depthgraph.prediction import Prediction, predict

__version__ = "0.1.0"

__all__ = [
    "Analysis", "CycleError", "DepthGraphError", "Graph", "GraphError", "InputError", "Node", "OutputError",
    "ParameterError", "Prediction", "Profile", "ProfileError", "Schedule", "ShapeError", "UnknownOpError", "analyze", "execute", "ops", "predict", "render", "schedule", "to_dask",
    "to_networkx",
]
