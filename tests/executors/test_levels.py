"""The levels executor's plan: groups, gathers, launches, freeing and predicted memory, by hand."""

import numpy as np
import pytest

import algorithms
import depthgraph
from depthgraph import ops
from depthgraph.executors.levels import schedule


def test_independent_nodes_of_a_level_form_one_group():
    g = depthgraph.Graph()
    xs = [g.input(f"x{i}", (4,)) for i in range(4)]
    g.output("y", ops.stack([ops.exp(x) for x in xs]))
    s = schedule(g)
    assert [(grp.op, len(grp.nodes), grp.level) for grp in s.groups] == [("exp", 4, 1), ("stack", 1, 2)]
    # the exp operand: four input slabs, each a free slice, joined by one concatenate
    assert [grp.launches for grp in s.groups] == [2, 1] and s.launches == 3
    data = {f"x{i}": np.arange(4.0) + i for i in range(4)}
    np.testing.assert_array_equal(depthgraph.execute(g, data, executor="levels")["y"], np.exp(np.arange(4.0) + np.arange(4.0)[:, None]))


def test_views_are_folded_into_gathers_and_shared_operands_broadcast():
    g = depthgraph.Graph()
    u = g.input("u", (6,))
    two = g.constant(2.0)
    g.output("y", ops.stack([u[k] * two for k in range(6)]))
    s = schedule(g)
    assert [(grp.op, len(grp.nodes)) for grp in s.groups] == [("mul", 6), ("stack", 1)]
    mul = s.groups[0]
    views, constant = mul.operands
    assert views.free and not views.shared  # u[0] … u[5] are consecutive: a free slice of u
    assert constant.shared and constant.free  # one constant node for all six: a slice of 1, broadcast
    assert mul.launches == 1
    out = depthgraph.execute(g, {"u": np.arange(6.0)}, executor="levels")["y"]
    np.testing.assert_array_equal(out, 2.0 * np.arange(6.0))


def test_scattered_operands_are_one_copy_from_both_slabs():
    g = depthgraph.Graph()
    u = g.input("u", (4,))
    v = g.input("v", (4,))
    # operands alternate between u and v: v[0], v[2] are equally spaced (a view of v), u[2], u[0]
    # run backwards; together one copy, each value a run of one element, in the stack's order
    g.output("y", ops.stack([ops.exp(u[3 - k] if k % 2 else v[k]) for k in range(4)]))
    grp = schedule(g).groups[0]
    assert grp.op == "exp" and len(grp.nodes) == 4
    gather = grp.operands[0]
    assert [kind for _, kind, _ in gather.segments] == ["blocks", "flat"] and gather.launches == 1
    (v_slab, _, _), (u_slab, _, _) = gather.segments
    assert gather.copy.sources == (v_slab, u_slab) and gather.copy.block == 1
    # (source, position, destination row): v[0] → 0, v[2] → 2, u[2] → 1, u[0] → 3
    assert gather.copy.entries.tolist() == [[0, 0, 1, 1], [0, 2, 2, 0], [0, 2, 1, 3]]
    u0, v0 = np.arange(4.0), 10 + np.arange(4.0)
    expected = np.exp([v0[0], u0[2], v0[2], u0[0]])
    np.testing.assert_allclose(depthgraph.execute(g, {"u": u0, "v": v0}, executor="levels")["y"], expected)


def test_chain_frees_each_slab_after_its_reader_and_predicts_peak():
    g = depthgraph.Graph()
    x = g.input("x", (1000,))
    g.output("y", ops.exp(ops.exp(ops.exp(x))))
    s = schedule(g)
    assert [grp.frees for grp in s.groups] == [(0,), (1,), (2,)]  # input, then each result, freed by its reader
    # live at most: one operand and one result of 1000 float64 (8000 bytes each)
    assert s.peak_bytes == 16_000


def test_schedule_is_compiled_once_and_recompiled_when_the_graph_grows():
    g = depthgraph.Graph()
    x = g.input("x", (2,))
    g.output("y", -x)
    first = schedule(g)
    assert schedule(g) is first
    g.output("z", ops.exp(x))
    assert schedule(g) is not first and len(schedule(g).groups) == 2


def test_levels_match_the_analysis_steps():
    for name, params in [("kernel-doubling", {"L": 64, "n": 8}), ("scan-blelloch", {"L": 64, "n": 4}),
                         ("recurrence", {"L": 16, "n": 4})]:
        graph = algorithms.get(name).build(**params)
        assert len(schedule(graph).levels) == depthgraph.analyze(graph).steps, name


def test_to_host_and_batched_matmul_forms():
    g = depthgraph.Graph()
    A = g.input("A", (3, 3))
    vs = [g.input(f"v{i}", (3,)) for i in range(3)]
    g.output("mv", ops.stack([A @ v for v in vs]))  # shared matrix, stacked vectors
    g.output("vm", ops.stack([v @ A for v in vs]))
    g.output("dots", ops.stack([ops.dot(v, v) for v in vs]))
    rng = np.random.default_rng(0)
    data = {"A": rng.standard_normal((3, 3)), **{f"v{i}": rng.standard_normal(3) for i in range(3)}}
    out = depthgraph.execute(g, data, executor="levels", to_host=True)
    V = np.stack([data[f"v{i}"] for i in range(3)])
    np.testing.assert_allclose(out["mv"], V @ data["A"].T, rtol=1e-14)
    np.testing.assert_allclose(out["vm"], V @ data["A"], rtol=1e-14)
    np.testing.assert_allclose(out["dots"], (V * V).sum(axis=1), rtol=1e-14)


@pytest.mark.parametrize("row_shape", [(3,), (1, 3), (2, 3)])
def test_rows_times_a_shared_matrix_are_one_product(row_shape):
    # k rows (or k small matrices) times one matrix, as kernel-doubling's C·A^m: the batched call
    # multiplies the rows stacked by the matrix once; each result is its own row's product.
    g = depthgraph.Graph()
    A = g.input("A", (3, 4))
    rows = [g.input(f"r{i}", row_shape) for i in range(5)]
    g.output("y", ops.stack([r @ A for r in rows]))
    (group, _) = depthgraph.schedule(g).groups
    assert len(group.nodes) == 5 and group.operands[1].shared
    rng = np.random.default_rng(1)
    data = {"A": rng.standard_normal((3, 4)), **{f"r{i}": rng.standard_normal(row_shape) for i in range(5)}}
    out = depthgraph.execute(g, data, executor="levels", to_host=True)
    np.testing.assert_allclose(out["y"], np.stack([data[f"r{i}"] @ data["A"] for i in range(5)]), rtol=1e-14)


def test_one_node_groups_call_the_op_on_views():
    # a chain of one-node groups reading a row and an input view: each runs the op directly
    g = depthgraph.Graph()
    u = g.input("u", (5, 3))
    h = u[0]
    for t in range(1, 5):
        h = h * 0.5 + u[t]
    g.output("h", h)
    s = schedule(g)
    assert all(len(grp.nodes) == 1 for grp in s.groups)
    assert all(grp.direct is not None for grp in s.groups)
    data = np.arange(15.0).reshape(5, 3)
    expected = data[0]
    for t in range(1, 5):
        expected = expected * 0.5 + data[t]
    np.testing.assert_allclose(depthgraph.execute(g, {"u": data}, executor="levels")["h"], expected, rtol=1e-15)


def test_a_scalar_input_read_twice_and_stacked():
    # Found by hypothesis: a 0-d input's slab became 2-D (ascontiguousarray makes 0-d arrays 1-d),
    # so a stack gathering it beside a computed scalar failed to concatenate.
    g = depthgraph.Graph()
    x = g.input("x", ())
    y = x + 2.0
    g.output("s", ops.stack([y, y, x]))
    out = depthgraph.execute(g, {"x": np.array(0.5)}, executor="levels")["s"]
    np.testing.assert_array_equal(out, [2.5, 2.5, 0.5])


def test_cuda_graph_replay_needs_the_cupy_backend():
    g = depthgraph.Graph()
    x = g.input("x", (2,))
    g.output("y", x + x)
    with pytest.raises(depthgraph.errors.ParameterError, match="cuda_graph=True needs backend='cupy'"):
        depthgraph.execute(g, {"x": np.ones(2)}, executor="levels", cuda_graph=True)


def test_large_operands_split_groups_only_when_shared():
    g = depthgraph.Graph()
    # two channels, each applying its own matrix to three vectors: one group (one GEMM) per channel
    matrices = [g.input(f"A{c}", (8, 8)) for c in range(2)]
    products = [matrices[c] @ g.input(f"v{c}{j}", (8,)) for c in range(2) for j in range(3)]
    # four systems, each with its own matrix: one batched solve, not four
    solves = [ops.solve(g.input(f"M{i}", (8, 8)), g.input(f"b{i}", (8,))) for i in range(4)]
    g.output("p", ops.stack(products))
    g.output("s", ops.stack(solves))
    sizes = sorted((grp.op, len(grp.nodes)) for grp in schedule(g).groups if grp.op != "stack")
    assert sizes == [("matmul", 3), ("matmul", 3), ("solve", 4)]
    rng = np.random.default_rng(0)
    inputs = {name: rng.standard_normal(node.shape) + (8 * np.eye(8) if name[0] == "M" else 0)
              for name, node in g.inputs.items()}
    got = depthgraph.execute(g, inputs, executor="levels")
    want = depthgraph.execute(g, inputs)
    for name in want:
        np.testing.assert_allclose(got[name], want[name], rtol=1e-12)


def test_empty_values_from_slabs_of_two_dtypes_promote():
    # Found by tests/test_properties.py: a concatenate of an empty int64 view and an empty float64
    # sum is float64 (NumPy's promotion); the levels executor's empty gather took the first slab's int64.
    g = depthgraph.Graph()
    empty = g.input("a", (4,), "int64")[:0]
    g.output("o", ops.concat([empty, empty + 2.0]))
    got = depthgraph.execute(g, {"a": np.arange(4)}, executor="levels")["o"]
    want = np.concatenate([np.arange(4)[:0], np.arange(4)[:0] + 2.0])
    assert (got.shape, got.dtype) == (want.shape, want.dtype) == ((0,), np.float64)
