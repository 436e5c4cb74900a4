"""The IR: operators, shapes, immutability, names, errors, and the JSON round trip."""

import dataclasses
import json

import numpy as np
import pytest

import depthgraph
from depthgraph import ops


@pytest.fixture
def g():
    return depthgraph.Graph()


def test_operators_build_the_right_ops_and_shapes(g):
    a = g.input("a", (2, 3))
    b = g.input("b", (3, 4))
    v = g.input("v", (3,))
    cases = {
        "matmul": (a @ b, (2, 4)),
        "add": (a + v, (2, 3)),
        "sub": (v - a, (2, 3)),
        "mul": (a * 2.0, (2, 3)),
        "div": (1.0 / v, (3,)),
        "neg": (-a, (2, 3)),
        "pow": (a**2, (2, 3)),
        "getitem": (a[1, ::2], (2,)),
        "transpose": (a.T, (3, 2)),
    }
    for op, (node, shape) in cases.items():
        assert (node.op, node.shape) == (op, shape)
    assert (a @ v).shape == (2,) and (v @ b).shape == (4,) and (v @ v).shape == ()


def test_inputs_are_ordered_and_names_are_stable(g):
    a, b = g.input("a", (2,)), g.input("b", (2,))
    d1, d2 = a - b, b - a
    assert d1.inputs == (a, b) and d2.inputs == (b, a)
    assert (d1.name, d2.name) == ("sub_2", "sub_3")
    assert g.node("sub_2") is d1
    named = ops.exp(a, name="e")
    assert named.name == "e" and g.node("e") is named


def test_nodes_are_immutable(g):
    x = g.input("x", (2,))
    with pytest.raises(dataclasses.FrozenInstanceError):
        x.shape = (3,)
    with pytest.raises((AttributeError, TypeError)):  # slotted: no new attributes either
        x.anything = 1
    assert isinstance(x.kwargs, dict) and isinstance(x.attrs, tuple)


def test_scalars_keep_the_node_dtype(g):
    x = g.input("x", (2,), dtype="float32")
    assert (x * 2.0).dtype == "float32" and (2 * x).dtype == "float32"
    assert (x + g.input("y", (2,))).dtype == "float64"
    assert (np.float64(2.0) * x).op == "mul"  # NumPy scalars defer to the node


def test_broadcasting_rules(g):
    assert (g.input("a", (4, 1, 3)) + g.input("b", (5, 1))).shape == (4, 5, 3)


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda g: g.input("a", (3, 4)) @ g.input("b", (5, 6)), r"matmul: inner dimensions differ in \(3, 4\) @ \(5, 6\)"),
        (lambda g: g.input("a", (3,)) + g.input("b", (4,)), r"add: shapes \(3,\) and \(4,\) do not broadcast"),
        (lambda g: ops.concat([g.input("a", (2, 3)), g.input("b", (2, 4))]), r"concat: shapes \(2, 3\) and \(2, 4\) differ off axis 0"),
        (lambda g: ops.stack([g.input("a", (2,)), g.input("b", (3,))]), r"stack: operands differ in shape, \(2,\) and \(3,\)"),
        (lambda g: ops.reshape(g.input("a", (2, 3)), (4,)), r"reshape: cannot reshape \(2, 3\) into \(4,\)"),
        (lambda g: ops.solve(g.input("a", (2, 3)), g.input("b", (2,))), r"solve: needs a square matrix .* \(2, 3\)"),
        (lambda g: ops.inv(g.input("a", (3,))), r"inv: needs a square matrix .* \(3,\)"),
        (lambda g: ops.dot(g.input("a", (3,)), g.input("b", (4,))), r"dot: needs two vectors of one length, got shapes \(3,\) and \(4,\)"),
        (lambda g: g.input("a", (3,))[5], r"getitem: index \(5,\) on shape \(3,\)"),
        (lambda g: g.input("a", (3,))[[0, 1]], r"getitem: only basic indexing"),
        (lambda g: ops.sum(g.input("a", (3,)), axis=2), r"sum: axis 2 is out of range"),
        (lambda g: g.input("a", (3,)) ** g.input("b", (3,)), r"pow: the exponent must be a real scalar"),
        (lambda g: g.input("a", (-1,)), r"input 'a': shape \(-1,\) must be non-negative ints"),
        (lambda g: g.input("a", (2,), dtype="nonsense"), r"unknown dtype 'nonsense'"),
    ],
)
def test_shape_errors_name_the_op_and_shapes(g, build, message):
    with pytest.raises(depthgraph.ShapeError, match=message):
        build(g)


def test_unknown_op(g):
    with pytest.raises(depthgraph.UnknownOpError, match="unknown op 'frobnicate'; known ops: abs, add"):
        g.apply("frobnicate", [g.input("x", (2,))])


def test_graph_errors(g):
    x = g.input("x", (2,))
    with pytest.raises(depthgraph.GraphError, match="name 'x' is already used"):
        g.input("x", (2,))
    with pytest.raises(depthgraph.GraphError, match="operand is a node of another graph"):
        x + depthgraph.Graph().input("y", (2,))
    with pytest.raises(depthgraph.GraphError, match="the graph has no outputs"):
        depthgraph.analyze(g)
    g.output("y", -x)
    with pytest.raises(depthgraph.GraphError, match="output name 'y' is declared twice"):
        g.output("y", x)
    with pytest.raises(depthgraph.GraphError, match="no node called 'zzz'"):
        g.node("zzz")
    assert all(issubclass(e, depthgraph.DepthGraphError) for e in (
        depthgraph.ShapeError, depthgraph.CycleError, depthgraph.UnknownOpError, depthgraph.InputError,
        depthgraph.GraphError, depthgraph.ParameterError))


def _doc(nodes, outputs):
    return json.dumps({"format": "depthgraph-graph", "version": 1, "nodes": nodes, "outputs": outputs})


def _entry(name, op, inputs, shape=(2,), attrs=None):
    return {"name": name, "op": op, "inputs": inputs, "shape": list(shape), "dtype": "float64", "attrs": attrs or {}}


def test_cycle_in_a_document_is_named():
    nodes = [
        _entry("x", "input", [], attrs={"shape": [2], "dtype": "float64"}),
        _entry("p", "add", ["x", "q"]),
        _entry("q", "neg", ["p"]),
    ]
    with pytest.raises(depthgraph.CycleError, match=r"cycle: (p -> q -> p|q -> p -> q)"):
        depthgraph.Graph.from_json(_doc(nodes, {"y": "q"}))


def test_bad_documents():
    x = _entry("x", "input", [], attrs={"shape": [2], "dtype": "float64"})
    with pytest.raises(depthgraph.UnknownOpError, match="'twirl'"):
        depthgraph.Graph.from_json(_doc([x, _entry("t", "twirl", ["x"])], {"y": "t"}))
    with pytest.raises(depthgraph.GraphError, match="node 'n' reads 'ghost'"):
        depthgraph.Graph.from_json(_doc([x, _entry("n", "neg", ["ghost"])], {"y": "n"}))
    with pytest.raises(depthgraph.ShapeError, match=r"document says shape \(3,\)"):
        depthgraph.Graph.from_json(_doc([x, _entry("n", "neg", ["x"], shape=(3,))], {"y": "n"}))
    with pytest.raises(depthgraph.GraphError, match="not a depthgraph graph document"):
        depthgraph.Graph.from_json("{}")


def test_json_round_trip_of_every_attribute_kind(g):
    a = g.input("a", (4, 4), dtype="float32")
    b = g.constant([[1.0, 2.0], [3.0, 0.1]])
    parts = [a[1:3, ::2], a[None, ..., 0][0, :2], ops.reshape(a, (2, -1))[:, :2], b]
    y = ops.concat([ops.sum(a, axis=(0, 1)) * parts[0], parts[1] ** 0.5 + parts[3], parts[2]], axis=0)
    g.output("y", ops.irfft(ops.rfft(y, n=6), n=6))
    g.output("a_again", a)
    text = g.to_json()
    again = depthgraph.Graph.from_json(text)
    assert again.to_json() == text
    assert list(again.inputs) == ["a"] and list(again.outputs) == ["y", "a_again"]
    data = {"a": np.arange(16, dtype=np.float32).reshape(4, 4)}
    for name, value in depthgraph.execute(g, data).items():
        np.testing.assert_array_equal(depthgraph.execute(again, data)[name], value)


def test_embed_builds_independent_channels_and_astype_changes_float_sources():
    one = depthgraph.Graph()
    x = one.input("x", (3,))
    k = one.input("k", (3,), dtype="int8")  # int8 + float32 stays float32 under NumPy promotion
    one.output("y", ops.sum(x * 0.5 + k))
    wide = depthgraph.Graph()
    for c in range(3):
        wide.output(f"y{c}", wide.embed(one, f"c{c}/")["y"])
    assert list(wide.inputs) == ["c0/x", "c0/k", "c1/x", "c1/k", "c2/x", "c2/k"]
    a1, a3 = depthgraph.analyze(one), depthgraph.analyze(wide)
    assert (a3.work, a3.span) == (3 * a1.work, a1.span)  # three channels side by side
    data = {f"c{c}/{n}": v for c in range(3) for n, v in (("x", np.arange(3.0) + c), ("k", np.arange(3, dtype=np.int8)))}
    out = depthgraph.execute(wide, data)
    assert [float(out[f"y{c}"]) for c in range(3)] == [0.5 * (3 + 3 * c) + 3 for c in range(3)]
    narrow = one.astype("float32")
    assert [n.dtype for n in narrow.inputs.values()] == ["float32", "int8"]
    assert narrow.outputs["y"].dtype == "float32" and one.outputs["y"].dtype == "float64"
