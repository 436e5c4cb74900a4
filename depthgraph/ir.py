"""The graph IR: immutable `Node`s built symbolically into a `Graph`.

A node is an op name, an ordered tuple of input nodes, a shape, a dtype, fixed attributes and a
stable name. Nodes are only ever created by `Graph.apply` (operators and `depthgraph.ops`
functions call it), which checks shapes through the op registry before the node exists, and
appends it to the graph. Creation order is therefore a topological order, and every traversal
here is a loop over that order, never a recursion: a chain of 10^6 nodes is fine.
"""

from __future__ import annotations

import json
import numbers
from dataclasses import dataclass, field
from typing import Any, Iterable

import networkx as nx
import numpy as np

from depthgraph import ops
from depthgraph.errors import CycleError, GraphError, ShapeError

JSON_FORMAT = "depthgraph-graph"
JSON_VERSION = 1


@dataclass(frozen=True, eq=False, slots=True)
class Node:
    """One op application. Immutable; compared and hashed by identity.

    Build nodes with `Graph.input`, `Graph.constant`, the operators ``@ + - * / ** [] .T``
    and unary ``-``, or the functions of `depthgraph.ops`.

    >>> g = Graph()
    >>> a = g.input("a", (2, 3))
    >>> (a.T @ a).shape, (a.T @ a).op
    ((3, 3), 'matmul')
    """

    graph: Graph = field(repr=False)
    index: int = field(repr=False)
    name: str
    op: str
    inputs: tuple[Node, ...] = field(repr=False)
    shape: tuple[int, ...]
    dtype: str
    attrs: tuple[tuple[str, Any], ...] = field(repr=False)

    # Make NumPy defer to our reflected operators: ``np.float64(2) * node`` builds a node.
    __array_ufunc__ = None

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def kwargs(self) -> dict[str, Any]:
        """The attributes as a fresh dict (the node itself keeps an immutable tuple)."""
        return dict(self.attrs)

    @property
    def T(self) -> Node:  # noqa: N802  (NumPy's name)
        return ops.transpose(self)

    def __add__(self, other: Any) -> Node:
        return self.graph.binary("add", self, other)

    def __radd__(self, other: Any) -> Node:
        return self.graph.binary("add", other, self)

    def __sub__(self, other: Any) -> Node:
        return self.graph.binary("sub", self, other)

    def __rsub__(self, other: Any) -> Node:
        return self.graph.binary("sub", other, self)

    def __mul__(self, other: Any) -> Node:
        return self.graph.binary("mul", self, other)

    def __rmul__(self, other: Any) -> Node:
        return self.graph.binary("mul", other, self)

    def __truediv__(self, other: Any) -> Node:
        return self.graph.binary("div", self, other)

    def __rtruediv__(self, other: Any) -> Node:
        return self.graph.binary("div", other, self)

    def __matmul__(self, other: Any) -> Node:
        return self.graph.binary("matmul", self, other)

    def __rmatmul__(self, other: Any) -> Node:
        return self.graph.binary("matmul", other, self)

    def __neg__(self) -> Node:
        return self.graph.apply("neg", [self])

    def __pow__(self, exponent: Any) -> Node:
        if isinstance(exponent, bool) or not isinstance(exponent, numbers.Real):
            raise ShapeError(f"pow: the exponent must be a real scalar, got {type(exponent).__name__}")
        return self.graph.apply("pow", [self], exponent=exponent.item() if hasattr(exponent, "item") else exponent)

    def __getitem__(self, index: Any) -> Node:
        return self.graph.apply("getitem", [self], index=ops.encode_index(index))

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a scalar node")
        return self.shape[0]

    def __iter__(self):  # without this, Python would iterate through __getitem__ forever
        return (self[i] for i in range(len(self)))


def _freeze(value: Any) -> Any:
    """Attribute values as immutable, JSON-friendly data: lists become tuples, NumPy scalars Python's."""
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, np.generic):
        return value.item()
    return value


class Graph:
    """A DAG of array ops with named inputs and named outputs.

    >>> g = Graph()
    >>> x = g.input("x", (4,))
    >>> y = g.output("y", ops.sum(x * x))
    >>> [n.name for n in g.nodes]
    ['x', 'mul_1', 'sum_2']
    """

    def __init__(self) -> None:
        self._nodes: list[Node] = []
        self._by_name: dict[str, Node] = {}
        self.inputs: dict[str, Node] = {}
        self.outputs: dict[str, Node] = {}
        self._live: tuple[tuple[int, int], list[Node]] | None = None

    # ------------------------------------------------------------ building

    def apply(self, op: str, inputs: Iterable[Node], name: str | None = None, **attrs: Any) -> Node:
        """Create the node ``op(*inputs)`` after checking shapes with the op's registry entry."""
        spec = ops.get(op)
        inputs = tuple(inputs)
        for x in inputs:
            if not isinstance(x, Node) or x.graph is not self:
                what = "a node of another graph" if isinstance(x, Node) else type(x).__name__
                raise GraphError(f"{op}: operand is {what}; all operands must be nodes of this graph")
        if spec.arity is not None and len(inputs) != spec.arity:
            raise ShapeError(f"{op}: takes {spec.arity} operands, got {len(inputs)}")
        if spec.arity is None and not inputs:
            raise ShapeError(f"{op}: needs at least one operand")
        frozen = tuple(sorted((k, _freeze(v)) for k, v in attrs.items())) if attrs else ()
        kw = dict(frozen) if attrs else attrs
        in_shapes = tuple(x.shape for x in inputs)
        shape = tuple(spec.shape(in_shapes, kw))
        dtype = spec.dtype(tuple(x.dtype for x in inputs), kw)
        index = len(self._nodes)
        if name is None:
            name = f"{op}_{index}"
            while name in self._by_name:  # only if a user chose a name of this form
                name += "'"
        elif name in self._by_name:
            raise GraphError(f"name {name!r} is already used by another node")
        node = Node(self, index, name, op, inputs, shape, dtype, frozen)
        self._nodes.append(node)
        self._by_name[name] = node
        return node

    def input(self, name: str, shape: Iterable[int], dtype: str = "float64") -> Node:
        """Declare a named input of a fixed shape and dtype.

        >>> Graph().input("A", (3, 3)).shape
        (3, 3)
        """
        shape = tuple(shape)
        if not all(isinstance(d, (int, np.integer)) and not isinstance(d, bool) and d >= 0 for d in shape):
            raise ShapeError(f"input {name!r}: shape {shape} must be non-negative ints")
        node = self.apply("input", (), name=name, shape=tuple(int(d) for d in shape), dtype=_dtype_name(dtype))
        self.inputs[name] = node
        return node

    def constant(self, value: Any, dtype: str | None = None, name: str | None = None) -> Node:
        """A constant array (kept in the graph, so it appears in JSON); real dtypes only.

        >>> Graph().constant([[1.0, 0.0], [0.0, 1.0]]).shape
        (2, 2)
        """
        array = np.asarray(value, dtype=None if dtype is None else _dtype_name(dtype))
        if array.dtype.kind not in "biuf":
            raise ShapeError(f"const: only real or integer constants are supported, got dtype {array.dtype}")
        return self.apply("const", (), name=name, value=_freeze(array.tolist()), shape=array.shape,
                          dtype=array.dtype.name)

    def binary(self, op: str, a: Any, b: Any) -> Node:
        """``op(a, b)`` where one side may be a Python or NumPy scalar or array (made a constant).

        A Python scalar is weak, as in NumPy: ``x32 * 2.0`` stays float32, ``int * 0.5`` is float64.
        """
        a = a if isinstance(a, Node) else self._lift(a, b)
        b = b if isinstance(b, Node) else self._lift(b, a)
        return self.apply(op, [a, b])

    def _lift(self, value: Any, like: Node) -> Node:
        # NumPy's rule for Python scalars (NEP 50): they are "weak", so float32 * 2.0 stays
        # float32, while int64 * 0.5 becomes float64 (the scalar is never truncated).
        weak = isinstance(value, (int, float)) and not isinstance(value, bool)
        return self.constant(value, dtype=np.result_type(np.dtype(like.dtype), value).name if weak else None)

    def output(self, name: str, node: Node) -> Node:
        """Declare ``node`` as the output called ``name``; returns the node."""
        if not isinstance(node, Node) or node.graph is not self:
            raise GraphError(f"output {name!r}: expected a node of this graph, got {type(node).__name__}")
        if name in self.outputs:
            raise GraphError(f"output name {name!r} is declared twice")
        self.outputs[name] = node
        return node

    # ------------------------------------------------------------ reading

    def node(self, name: str) -> Node:
        """The node called ``name``."""
        try:
            return self._by_name[name]
        except KeyError:
            raise GraphError(f"no node called {name!r}") from None

    @property
    def all_nodes(self) -> tuple[Node, ...]:
        """Every node ever created in this graph, in creation (topological) order."""
        return tuple(self._nodes)

    @property
    def nodes(self) -> list[Node]:
        """The nodes that matter, in topological order: all inputs and every node an output needs.

        Nodes no output depends on are left out of analysis and execution, as a compiler drops
        dead code. Raises `GraphError` if no output is declared.
        """
        if not self.outputs:
            raise GraphError("the graph has no outputs; declare one with graph.output(name, node)")
        key = (len(self._nodes), len(self.outputs))
        if self._live is None or self._live[0] != key:
            needed = bytearray(len(self._nodes))
            for node in self.outputs.values():
                needed[node.index] = 1
            for node in self.inputs.values():
                needed[node.index] = 1
            for node in reversed(self._nodes):  # reverse topological: consumers before producers
                if needed[node.index]:
                    for x in node.inputs:
                        needed[x.index] = 1
            self._live = (key, [n for n in self._nodes if needed[n.index]])
        return list(self._live[1])

    def __len__(self) -> int:
        return len(self._nodes)

    def __repr__(self) -> str:
        return f"<Graph: {len(self._nodes)} nodes, inputs {list(self.inputs)}, outputs {list(self.outputs)}>"

    def _repr_svg_(self) -> str | None:
        """The drawing a notebook shows inline (`depthgraph.render`); none until an output is declared.

        >>> g = Graph(); x = g.input("x", (3,)); _ = g.output("y", -x)
        >>> g._repr_svg_().lstrip().startswith("<?xml")
        True
        """
        if not self.outputs:
            return None
        from depthgraph.drawing import to_agraph  # drawing imports this module, and pygraphviz

        return to_agraph(self).draw(format="svg", prog="dot").decode()

    def embed(self, other: Graph, prefix: str) -> dict[str, Node]:
        """Copy ``other`` into this graph, every name prefixed; return its outputs' new nodes.

        ``other``'s inputs become inputs of this graph (``prefix + name``), so embedding one
        algorithm k times with k prefixes builds k independent channels in one graph.

        >>> one = Graph(); x = one.input("x", (2,)); _ = one.output("y", -x)
        >>> wide = Graph()
        >>> ys = [wide.embed(one, f"c{i}/")["y"] for i in range(3)]
        >>> list(wide.inputs), [y.name for y in ys]
        (['c0/x', 'c1/x', 'c2/x'], ['c0/neg_1', 'c1/neg_1', 'c2/neg_1'])
        """
        new = self._copy_nodes(other, prefix)
        return {name: new[node] for name, node in other.outputs.items()}

    def _copy_nodes(self, other: Graph, prefix: str, float_dtype: str | None = None) -> dict[Node, Node]:
        """Rebuild every node of ``other`` here (names prefixed; float sources in ``float_dtype``)."""
        new: dict[Node, Node] = {}
        for node in other._nodes:
            kw = node.kwargs
            if float_dtype and node.op in ("input", "const") and np.dtype(node.dtype).kind == "f":
                kw["dtype"] = float_dtype
            if node.op == "input":
                new[node] = self.input(prefix + node.name, node.shape, kw["dtype"])
            else:
                new[node] = self.apply(node.op, [new[x] for x in node.inputs], name=prefix + node.name, **kw)
        return new

    def astype(self, dtype: str) -> Graph:
        """A copy in which every floating-point input and constant has ``dtype``.

        Every other node is rebuilt with the same op, attributes and name, so its dtype follows
        NumPy's promotion (an FFT of float32 data is complex64).

        >>> g = Graph(); x = g.input("x", (3,))
        >>> _ = g.output("y", 2.0 * x)
        >>> g.astype("float32").outputs["y"].dtype
        'float32'
        """
        copy = Graph()
        new = copy._copy_nodes(self, "", _dtype_name(dtype))
        for name, node in self.outputs.items():
            copy.output(name, new[node])
        return copy

    # ------------------------------------------------------------ serialization

    def to_json(self, indent: int | None = None) -> str:
        """The whole graph as JSON; `Graph.from_json` reads it back exactly.

        >>> g = Graph(); x = g.input("x", (2,)); _ = g.output("y", -x)
        >>> Graph.from_json(g.to_json()).to_json() == g.to_json()
        True
        """
        nodes = [
            {"name": n.name, "op": n.op, "inputs": [x.name for x in n.inputs], "shape": list(n.shape),
             "dtype": n.dtype, "attrs": dict(n.attrs)}
            for n in self._nodes
        ]
        outputs = {name: node.name for name, node in self.outputs.items()}
        doc = {"format": JSON_FORMAT, "version": JSON_VERSION, "nodes": nodes, "outputs": outputs}
        return json.dumps(doc, indent=indent)

    @classmethod
    def from_json(cls, text: str) -> Graph:
        """Rebuild a graph written by `to_json`, re-checking every shape.

        Nodes may be listed in any order; a cycle raises `CycleError` naming it, an unknown op
        `UnknownOpError`, a reference to a missing node `GraphError`.
        """
        try:
            doc = json.loads(text)
            entries, outputs = doc["nodes"], doc["outputs"]
        except (ValueError, KeyError, TypeError) as exc:
            raise GraphError(f"not a depthgraph graph document: {exc}") from None
        if doc.get("format") != JSON_FORMAT or doc.get("version") != JSON_VERSION:
            raise GraphError(f"unsupported graph document format {doc.get('format')!r} version {doc.get('version')!r}")
        by_name = {e["name"]: e for e in entries}
        position = {name: i for i, name in enumerate(by_name)}
        deps = nx.DiGraph()
        deps.add_nodes_from(by_name)
        for e in entries:
            for x in e["inputs"]:
                if x not in by_name:
                    raise GraphError(f"node {e['name']!r} reads {x!r}, which is not in the document")
                deps.add_edge(x, e["name"])
        if not nx.is_directed_acyclic_graph(deps):
            cycle = [u for u, _ in nx.find_cycle(deps)]
            raise CycleError("cycle: " + " -> ".join(cycle + cycle[:1]))
        g = cls()
        for name in nx.lexicographical_topological_sort(deps, key=position.__getitem__):
            e = by_name[name]
            attrs = e["attrs"]
            if e["op"] == "input":
                node = g.input(name, attrs["shape"], attrs["dtype"])
            else:
                node = g.apply(e["op"], [g._by_name[x] for x in e["inputs"]], name=name, **attrs)
            if list(node.shape) != list(e["shape"]) or node.dtype != e["dtype"]:
                raise ShapeError(
                    f"{e['op']} {name!r}: document says shape {tuple(e['shape'])} {e['dtype']}, "
                    f"its operands give {node.shape} {node.dtype}"
                )
        for out, name in outputs.items():
            g.output(out, g.node(name))
        return g


def _dtype_name(dtype: Any) -> str:
    try:
        return np.dtype(dtype).name
    except TypeError:
        raise ShapeError(f"unknown dtype {dtype!r}") from None
