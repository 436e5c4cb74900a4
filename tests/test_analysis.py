"""Analysis against hand counts: a chain, a tree of 8 leaves, a diamond, one matmul, a mixed graph."""

import networkx as nx
import pytest

import depthgraph
from depthgraph import ops


def test_chain_of_three_elementwise_ops():
    g = depthgraph.Graph()
    x = g.input("x", (4,))
    g.output("y", -ops.exp(-x))
    a = depthgraph.analyze(g)
    # three ops on 4 elements, each depth 1
    assert (a.work, a.span, a.steps) == (12, 3, 3)
    assert a.critical_path == ("x", "neg_1", "exp_2", "neg_3")
    assert a.levels == (("x",), ("neg_1",), ("exp_2",), ("neg_3",))
    assert a.widths == (1, 1, 1, 1)
    assert a.parallelism == 4.0
    assert set(a.slack.values()) == {0}


def test_balanced_binary_tree_of_eight_leaves():
    g = depthgraph.Graph()
    layer = [g.input(f"a{i}", ()) for i in range(8)]
    while len(layer) > 1:
        layer = [layer[i] + layer[i + 1] for i in range(0, len(layer), 2)]
    g.output("total", layer[0])
    a = depthgraph.analyze(g)
    # 4 + 2 + 1 scalar adds, three levels deep
    assert (a.work, a.span, a.steps) == (7, 3, 3)
    assert a.widths == (8, 4, 2, 1)
    assert a.parallelism == pytest.approx(7 / 3)
    assert a.critical_path[0] == "a0" and len(a.critical_path) == 4
    assert a.bounds(2) == (3.5, 6.5)


def test_tree_sum_op_of_eight_terms():
    g = depthgraph.Graph()
    g.output("total", ops.sum(g.input("x", (8,))))
    a = depthgraph.analyze(g)
    assert (a.work, a.span, a.steps) == (8, 3, 1)


def test_diamond():
    g = depthgraph.Graph()
    x = g.input("x", (8,))
    fast = ops.exp(x)  # work 8, depth 1
    slow = ops.sum(x)  # work 8, depth 3
    g.output("y", fast * slow)  # work 8, depth 1
    a = depthgraph.analyze(g)
    assert (a.work, a.span, a.steps) == (24, 4, 2)
    assert a.critical_path == ("x", "sum_2", "mul_3")
    assert a.levels == (("x",), ("exp_1", "sum_2"), ("mul_3",))
    assert a.earliest == {"x": 0, "exp_1": 0, "sum_2": 0, "mul_3": 3}
    assert a.latest == {"x": 0, "exp_1": 2, "sum_2": 0, "mul_3": 3}
    assert a.slack == {"x": 0, "exp_1": 2, "sum_2": 0, "mul_3": 0}


def test_one_matmul():
    g = depthgraph.Graph()
    g.output("c", g.input("a", (3, 5)) @ g.input("b", (5, 7)))
    a = depthgraph.analyze(g)
    # 3·5·7 multiply-adds; a tree over q = 5 terms is ⌈log2 5⌉ = 3 deep, plus the multiply
    assert (a.work, a.span, a.steps) == (105, 4, 1)
    assert a.bounds(1) == (105.0, 109.0)


def test_mixed_graph_with_a_free_view():
    g = depthgraph.Graph()
    A = g.input("A", (4, 4))
    x = g.input("x", (4,))
    s = A @ x  # matmul_2: work 16, depth 3
    t = x[1:3]  # getitem_3: free
    u = ops.dot(t, t)  # dot_4: work 2, depth 2
    v = s * u  # mul_5: work 4, depth 1
    g.output("y", ops.stack([v, x]))  # stack_6: work 8, depth 1
    a = depthgraph.analyze(g)
    assert (a.work, a.span, a.steps) == (30, 5, 3)
    assert a.critical_path == ("A", "matmul_2", "mul_5", "stack_6")
    assert a.levels == (("A", "x", "getitem_3"), ("matmul_2", "dot_4"), ("mul_5",), ("stack_6",))
    assert a.slack["dot_4"] == 1 and a.slack["getitem_3"] == 1


def test_dead_nodes_are_left_out():
    g = depthgraph.Graph()
    x = g.input("x", (4,))
    ops.exp(x)  # never used by an output
    g.output("y", -x)
    a = depthgraph.analyze(g)
    assert a.work == 4 and [n.name for n in g.nodes] == ["x", "neg_2"]


def test_bounds_reject_bad_processor_counts():
    g = depthgraph.Graph()
    g.output("y", -g.input("x", (2,)))
    a = depthgraph.analyze(g)
    for p in (0, -3, 2.5, True):
        with pytest.raises(depthgraph.ParameterError, match="processors"):
            a.bounds(p)


def test_to_networkx_carries_costs():
    g = depthgraph.Graph()
    A = g.input("A", (4, 4))
    y = g.output("y", A @ A)
    d = depthgraph.to_networkx(g)
    assert set(d.nodes) == {"A", y.name}
    attrs = d.nodes[y.name]
    assert (attrs["op"], attrs["shape"], attrs["dtype"], attrs["work"], attrs["depth"]) == ("matmul", (4, 4), "float64", 64, 3)
    assert attrs["bytes"] == 3 * 16 * 8  # two operands and the result, float64
    assert d.edges["A", y.name]["multiplicity"] == 2
    assert nx.is_directed_acyclic_graph(d)


def test_long_chain_needs_no_recursion():
    import sys

    old = sys.getrecursionlimit()
    g = depthgraph.Graph()
    x = g.input("x", (1,))
    for _ in range(20_000):
        x = -x
    g.output("y", x)
    sys.setrecursionlimit(150)  # anything recursive over the chain would fail now
    try:
        a = depthgraph.analyze(g)
        again = depthgraph.Graph.from_json(g.to_json())
        result = depthgraph.execute(g, {"x": [1.5]})["y"]
        nxg = depthgraph.to_networkx(g)
    finally:
        sys.setrecursionlimit(old)
    assert (a.span, a.steps, len(a.critical_path)) == (20_000, 20_000, 20_001)
    assert len(again.nodes) == 20_001 and result[0] == 1.5 and nxg.number_of_edges() == 20_000
