"""The exception hierarchy: every problem depthgraph reports is a `DepthGraphError`.

Catching `DepthGraphError` catches all of them; the subclasses say which kind of problem it
is, and each message names the op, node, shape or parameter at fault.
"""


class DepthGraphError(Exception):
    """Base class of every error depthgraph raises on purpose."""


class ShapeError(DepthGraphError):
    """An op was given operands whose shapes (or dtypes) it cannot combine."""


class CycleError(DepthGraphError):
    """A graph description contains a cycle; the message names the nodes on it."""


class UnknownOpError(DepthGraphError):
    """A node names an op that is not in the op registry."""


class InputError(DepthGraphError):
    """Execution was given a missing, extra, or wrong-shaped input."""


class GraphError(DepthGraphError):
    """A graph is misused: duplicate names, nodes of two graphs mixed, no outputs declared."""


class ParameterError(DepthGraphError):
    """A parameter is out of range or of the wrong kind (``L < 1``, an unknown executor, ...)."""


class GraphvizUnavailable(ParameterError):
    """pygraphviz is installed but Graphviz's system libraries (GLib, X11 client) cannot be loaded."""


class ProfileError(DepthGraphError):
    """A cost profile is unreadable, of another version, or lacks a model the prediction needs."""


class OutputError(DepthGraphError):
    """A file to be written cannot be: its folder cannot be made, it is a folder, or the folder is read-only."""
