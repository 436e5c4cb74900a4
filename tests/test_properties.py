"""Property tests on random DAGs: analysis, serialization and execution checked against
independent computations (networkx longest paths, hand-written recurrences, plain NumPy).

Nothing here calls into ``depthgraph.analysis`` to compute an expected value: expected values
come from networkx on a graph built by hand from ``graph.nodes``, from loops written below, from
cost formulas written below, or from NumPy applied directly.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import networkx as nx
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import depthgraph
from depthgraph import ops

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MAX_NODES = 40
FREE_OPS = {"input", "const", "getitem", "reshape", "transpose"}


# ---------------------------------------------------------------- random graphs


class Case:
    """A random graph, inputs for it, and a NumPy recipe for every node built on purpose.

    ``recipes[name](env)`` computes the node's value from the values of earlier recipe nodes
    (``env``: name -> array) using only the Python arguments the builder was called with, so it
    does not read anything the IR stored (op names, attrs). ``order`` lists the recipe nodes.
    (A plain class, not a dataclass, so that Hypothesis prints falsifying cases with __repr__.)
    """

    def __init__(self, graph: depthgraph.Graph) -> None:
        self.graph = graph
        self.inputs: dict[str, np.ndarray] = {}
        self.recipes: dict[str, Callable[[dict[str, Any]], Any]] = {}
        self.order: list[str] = []

    def __repr__(self) -> str:  # what Hypothesis prints for a falsifying example
        return f"Case(graph={self.graph.to_json()}, inputs={self.inputs!r})"


def _broadcastable(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    try:
        np.broadcast_shapes(a, b)
    except ValueError:
        return False
    return True


def _matmul_ok(a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    if not (1 <= len(a) <= 2 and 1 <= len(b) <= 2):
        return False
    return a[-1] == (b[0] if len(b) == 1 else b[-2])


def _size(shape: tuple[int, ...]) -> int:
    return math.prod(shape)


def _pick(draw, pool, ok=lambda n: True):
    """One node of ``pool`` satisfying ``ok`` (biased to recent nodes, for deeper graphs), or None."""
    candidates = [n for n in pool if ok(n)]
    if not candidates:
        return None
    recent = draw(st.integers(0, 3)) > 0  # mostly one of the last three: deep, mostly live graphs
    back = draw(st.integers(0, min(2, len(candidates) - 1) if recent else len(candidates) - 1))
    return candidates[len(candidates) - 1 - back]


def _index_item(draw, dim: int):
    kind = draw(st.sampled_from(["int", "slice", "slice", "full"]))
    if kind == "int" and dim > 0:
        return draw(st.integers(-dim, dim - 1))
    if kind == "full" or dim == 0:
        return slice(None)
    bound = st.one_of(st.none(), st.integers(-dim - 1, dim + 1))
    return slice(draw(bound), draw(bound), draw(st.sampled_from([None, 1, 2, -1, -2, 3])))


def _index(draw, shape: tuple[int, ...]):
    extra = draw(st.sampled_from(["none", "none", "newaxis", "ellipsis"]))
    if extra == "ellipsis":  # ... then items for the last k axes
        k = draw(st.integers(0, len(shape)))
        items = [Ellipsis] + [_index_item(draw, d) for d in shape[len(shape) - k:]]
    else:  # items for the first k axes
        k = draw(st.integers(1, len(shape)))
        items = [_index_item(draw, d) for d in shape[:k]]
    if extra == "newaxis":
        items.insert(draw(st.integers(0, len(items))), None)
    if len(items) == 1 and draw(st.booleans()):
        return items[0]  # a bare index, x[1:3], not x[(slice(1, 3),)]
    return tuple(items)


# Each builder returns (node, recipe) or None when no suitable operands exist.


def _b_binary(draw, g, pool):
    a = _pick(draw, pool)
    b = _pick(draw, pool, lambda n: _broadcastable(a.shape, n.shape))
    which = draw(st.sampled_from(["+", "-", "*", "/"]))
    fn = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.true_divide}[which]
    node = {"+": lambda: a + b, "-": lambda: a - b, "*": lambda: a * b, "/": lambda: a / b}[which]()
    return node, lambda env, an=a.name, bn=b.name: fn(env[an], env[bn])


def _b_scalar(draw, g, pool):
    # Python scalars are weak (NEP 50), so NumPy's own `array op scalar` is the reference.
    a = _pick(draw, pool)
    c = draw(st.sampled_from([2.0, -1.5, 0.5, 3.0, 2, -1]))
    which = draw(st.sampled_from(["x+c", "c+x", "x-c", "c-x", "x*c", "c*x", "x/c"]))
    node = {"x+c": lambda: a + c, "c+x": lambda: c + a, "x-c": lambda: a - c, "c-x": lambda: c - a,
            "x*c": lambda: a * c, "c*x": lambda: c * a, "x/c": lambda: a / c}[which]()
    fn = {"x+c": lambda x: x + c, "c+x": lambda x: c + x, "x-c": lambda x: x - c, "c-x": lambda x: c - x,
          "x*c": lambda x: x * c, "c*x": lambda x: c * x, "x/c": lambda x: x / c}[which]
    return node, lambda env, an=a.name: fn(env[an])


def _b_unary(draw, g, pool):
    a = _pick(draw, pool)
    which = draw(st.sampled_from(["neg", "exp", "abs", "pow"]))
    k = draw(st.sampled_from([2, 2.0, 2, 2.0, 3, 0.5]))  # int ** 2 is int64, int ** 2.0 float64
    node = {"neg": lambda: -a, "exp": lambda: ops.exp(a), "abs": lambda: ops.abs(a), "pow": lambda: a**k}[which]()
    # np.power, as the op: Python's ** on a NumPy float32 scalar (a 0-d sum) can round differently by an ulp
    fn = {"neg": np.negative, "exp": np.exp, "abs": np.abs, "pow": lambda x: np.power(x, k)}[which]
    return node, lambda env, an=a.name: fn(env[an])


def _b_sum(draw, g, pool):
    a = _pick(draw, pool)
    choices: list[Any] = [None]
    if a.shape:
        choices += list(range(-a.ndim, a.ndim))
    if a.ndim >= 2:
        choices.append((0, a.ndim - 1))
    axis = draw(st.sampled_from(choices))
    return ops.sum(a, axis=axis), lambda env, an=a.name: np.sum(env[an], axis=axis)


def _b_matmul(draw, g, pool):
    a = _pick(draw, pool, lambda n: 1 <= n.ndim <= 2)
    if a is None:
        return None
    b = _pick(draw, pool, lambda n: _matmul_ok(a.shape, n.shape))
    if b is None:
        return None
    return a @ b, lambda env, an=a.name, bn=b.name: np.matmul(env[an], env[bn])


def _b_dot_outer(draw, g, pool):
    a = _pick(draw, pool, lambda n: n.ndim == 1)
    if a is None:
        return None
    if draw(st.booleans()):
        b = _pick(draw, pool, lambda n: n.shape == a.shape)
        return ops.dot(a, b), lambda env, an=a.name, bn=b.name: np.dot(env[an], env[bn])
    b = _pick(draw, pool, lambda n: n.ndim == 1)
    return ops.outer(a, b), lambda env, an=a.name, bn=b.name: np.outer(env[an], env[bn])


def _b_stack_concat(draw, g, pool):
    a = _pick(draw, pool, lambda n: n.ndim <= 2 and _size(n.shape) <= 16)
    if a is None:
        return None
    k = draw(st.integers(1, 3))
    if a.ndim >= 1 and draw(st.booleans()):
        same_off_axis = lambda n: n.ndim == a.ndim and n.shape[1:] == a.shape[1:]  # noqa: E731
        xs = [a] + [_pick(draw, pool, same_off_axis) for _ in range(k - 1)]
        names = [x.name for x in xs]
        return ops.concat(xs, axis=0), lambda env: np.concatenate([env[n] for n in names], axis=0)
    xs = [a] + [_pick(draw, pool, lambda n: n.shape == a.shape) for _ in range(k - 1)]
    axis = draw(st.integers(-a.ndim - 1, a.ndim))
    names = [x.name for x in xs]
    return ops.stack(xs, axis=axis), lambda env: np.stack([env[n] for n in names], axis=axis)


def _b_view(draw, g, pool):
    a = _pick(draw, pool)
    which = draw(st.sampled_from(["getitem", "getitem", "transpose", "reshape"]))
    if which == "getitem" and a.ndim >= 1:
        index = _index(draw, a.shape)
        return a[index], lambda env, an=a.name: env[an][index]
    if which == "transpose":
        return a.T, lambda env, an=a.name: np.transpose(env[an])
    shape = draw(st.sampled_from([(-1,), (1, -1), tuple(reversed(a.shape)), a.shape + (1,)]))
    return ops.reshape(a, shape), lambda env, an=a.name: np.reshape(env[an], shape)


def _b_const(draw, g, pool):
    shape = draw(st.sampled_from([(), (4,), (4, 4)]))
    integer = draw(st.booleans())
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    value = rng.integers(-3, 4, shape) if integer else rng.uniform(-2, 2, shape)
    if not integer and shape and draw(st.booleans()):  # values JSON and arithmetic must carry through
        value.flat[0] = draw(st.sampled_from([np.nan, np.inf, -np.inf, -0.0, 1e-310]))
    return g.constant(value), lambda env: np.asarray(value).copy()


BUILDERS = {
    "binary": _b_binary, "scalar": _b_scalar, "unary": _b_unary, "sum": _b_sum, "matmul": _b_matmul,
    "dot_outer": _b_dot_outer, "stack_concat": _b_stack_concat, "view": _b_view, "const": _b_const,
}
BUILDER_CHOICES = sorted(BUILDERS) + ["view", "view", "binary"]  # more views: free ops are the subtle case
INPUT_SHAPES = [(4,), (4,), (4, 4), (4, 4), (2, 4), ()]
INPUT_DTYPES = ["float64", "float64", "float32", "int64"]


@st.composite
def cases(draw, max_ops: int = 30) -> Case:
    g = depthgraph.Graph()
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    case = Case(g)
    pool = []
    for i in range(draw(st.integers(1, 3))):
        shape = draw(st.sampled_from(INPUT_SHAPES))
        dtype = draw(st.sampled_from(INPUT_DTYPES))
        node = g.input(f"in{i}", shape, dtype)
        value = rng.integers(-3, 4, shape) if dtype == "int64" else rng.uniform(-2, 2, shape)
        case.inputs[node.name] = np.asarray(value, dtype=dtype)
        case.recipes[node.name] = lambda env, name=node.name: case.inputs[name]
        case.order.append(node.name)
        pool.append(node)
    for _ in range(draw(st.integers(0, max_ops))):
        if len(g) >= MAX_NODES - 3:
            break
        built = BUILDERS[draw(st.sampled_from(BUILDER_CHOICES))](draw, g, pool)
        if built is None:
            continue
        node, recipe = built
        case.recipes[node.name] = recipe
        case.order.append(node.name)
        pool.append(node)
    # 1-3 outputs, usually including the last node built (so that most of the graph is live);
    # the same node may be declared twice under two names.
    outs = [pool[-1]] if draw(st.integers(0, 3)) else []
    outs += [_pick(draw, pool) for _ in range(draw(st.integers(1 - len(outs), 3 - len(outs))))]
    for k, node in enumerate(outs):
        g.output(f"out{k}", node)
    return case


# ---------------------------------------------------------------- independent computations


def depth(node) -> int:
    return ops.cost(node)[1]


def edges(graph) -> list[tuple[str, str]]:
    """Operand -> user edges among graph.nodes, one per distinct pair."""
    return sorted({(x.name, node.name) for node in graph.nodes for x in node.inputs})


def split_digraph(graph, weight: Callable[[Any], int]) -> nx.DiGraph:
    """Node-split DAG: (name, 'in') -> (name, 'out') carries ``weight(node)``, operand edges 0."""
    dg = nx.DiGraph()
    for node in graph.nodes:
        dg.add_edge((node.name, "in"), (node.name, "out"), weight=weight(node))
        for x in node.inputs:
            dg.add_edge((x.name, "out"), (node.name, "in"), weight=0)
    return dg


def topo(graph) -> list:
    """graph.nodes in an order of our own (networkx), not trusting graph.nodes' order."""
    dg = nx.DiGraph()
    by_name = {n.name: n for n in graph.nodes}
    dg.add_nodes_from(by_name)
    dg.add_edges_from(edges(graph))
    return [by_name[name] for name in nx.topological_sort(dg)]


def expected_levels(graph) -> dict[str, int]:
    level = {}
    for node in topo(graph):
        level[node.name] = max((level[x.name] for x in node.inputs), default=0) + (depth(node) > 0)
    return level


def expected_times(graph) -> tuple[dict[str, int], dict[str, int], int]:
    order = topo(graph)
    earliest = {}
    for node in order:
        earliest[node.name] = max((earliest[x.name] + depth(x) for x in node.inputs), default=0)
    span = max((earliest[n.name] + depth(n) for n in order), default=0)
    users: dict[str, list] = {n.name: [] for n in order}
    for u, v in edges(graph):
        users[u].append(v)
    latest = {}
    for node in reversed(order):
        finish = min((latest[v] for v in users[node.name]), default=span)
        latest[node.name] = finish - depth(node)
    return earliest, latest, span


def clog2(m: int) -> int:
    return 0 if m <= 1 else math.ceil(math.log2(m))


def expected_cost(node) -> tuple[int, int]:
    """(work, depth) from the cost formulas of docs/ops.md, written out independently."""
    out = _size(node.shape)
    ins = [x.shape for x in node.inputs]
    if node.op in FREE_OPS:
        return 0, 0
    if node.op in {"add", "sub", "mul", "div", "neg", "exp", "abs", "pow", "outer", "stack", "concat"}:
        return out, 1
    if node.op == "sum":
        axis = node.kwargs["axis"]
        nd = len(ins[0])
        axes = range(nd) if axis is None else [a % nd for a in (axis if isinstance(axis, tuple) else (axis,))]
        m = math.prod(ins[0][a] for a in axes)
        return _size(ins[0]), max(1, clog2(m))
    if node.op == "matmul":
        q = ins[0][-1]
        return out * q, clog2(q) + 1
    if node.op == "dot":
        return ins[0][0], clog2(ins[0][0]) + 1
    raise AssertionError(f"no expected cost for op {node.op}")


def _decode(item):
    if isinstance(item, int):
        return item
    tag = item[0]
    return {"slice": lambda: slice(item[1], item[2], item[3]), "newaxis": lambda: None,
            "ellipsis": lambda: Ellipsis}[tag]()


# op name -> NumPy function of (operand arrays, node attrs); written here, not taken from ops.
NUMPY_OPS: dict[str, Callable[..., Any]] = {
    "const": lambda value, dtype, shape: np.array(value, dtype=dtype).reshape(shape),
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide,
    "neg": np.negative, "exp": np.exp, "abs": np.absolute,
    "pow": lambda a, exponent: np.power(a, exponent),
    "matmul": np.matmul, "dot": np.dot, "outer": np.outer,
    "sum": lambda a, axis: np.sum(a, axis=axis),
    "stack": lambda *xs, axis: np.stack(xs, axis=axis),
    "concat": lambda *xs, axis: np.concatenate(xs, axis=axis),
    "reshape": lambda a, shape: np.reshape(a, shape),
    "transpose": lambda a, axes: np.transpose(a, axes),
    "getitem": lambda a, index: a[tuple(_decode(i) for i in index)],
}


def numpy_values(graph, inputs, nodes=None) -> dict[str, Any]:
    """The value of every node of ``nodes`` (default: the live ones), by name."""
    values: dict[str, Any] = {}
    for node in graph.nodes if nodes is None else nodes:
        if node.op == "input":
            values[node.name] = np.asarray(inputs[node.name], dtype=node.dtype)
        else:
            values[node.name] = NUMPY_OPS[node.op](*(values[x.name] for x in node.inputs), **node.kwargs)
    return values


def numpy_walk(graph, inputs) -> dict[str, Any]:
    values = numpy_values(graph, inputs)
    return {out: values[node.name] for out, node in graph.outputs.items()}


def numpy_recipes(case: Case) -> dict[str, Any]:
    env: dict[str, Any] = {}
    for name in case.order:
        env[name] = case.recipes[name](env)
    return {out: env[node.name] for out, node in case.graph.outputs.items()}


def assert_outputs_equal(got: dict[str, Any], want: dict[str, Any]) -> None:
    assert set(got) == set(want)
    for name in want:
        g, w = np.asarray(got[name]), np.asarray(want[name])
        assert g.shape == w.shape, (name, g.shape, w.shape)
        assert g.dtype == w.dtype, (name, g.dtype, w.dtype)
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=0, equal_nan=True, err_msg=name)


# ---------------------------------------------------------------- the properties


@SETTINGS
@given(cases())
def test_live_nodes_are_inputs_and_ancestors_of_outputs(case):
    g = case.graph
    full = nx.DiGraph()
    full.add_nodes_from(n.name for n in g.all_nodes)
    full.add_edges_from((x.name, n.name) for n in g.all_nodes for x in n.inputs)
    want = set(g.inputs)
    for node in g.outputs.values():
        want |= {node.name} | nx.ancestors(full, node.name)
    names = [n.name for n in g.nodes]
    assert len(names) == len(set(names))
    assert set(names) == want
    position = {name: i for i, name in enumerate(names)}
    assert all(position[u] < position[v] for u, v in edges(g)), "graph.nodes is not topological"


@SETTINGS
@given(cases())
def test_costs_match_independent_formulas(case):
    for node in case.graph.all_nodes:  # dead nodes too: a cost does not depend on liveness
        assert ops.cost(node) == expected_cost(node), node


@SETTINGS
@given(st.lists(st.integers(0, 5), max_size=3).flatmap(
    lambda shape: st.tuples(st.just(tuple(shape)), st.sets(st.integers(0, max(len(shape) - 1, 0)))
                            .map(lambda axes: tuple(sorted(a for a in axes if a < len(shape)))),
                            st.integers(0, 5), st.booleans())))
def test_reduction_costs_on_edge_shapes(args):
    # Axes of 0 and 1 terms (rare in the random DAGs): a sum still costs one step.
    shape, axes, r, whole = args
    g = depthgraph.Graph()
    x = g.input("x", shape)
    s = ops.sum(x, axis=None if whole or not axes else axes)
    assert ops.cost(s) == expected_cost(s)
    if shape:
        v = g.input("v", shape[-1:] + (r,))
        assert ops.cost(x @ v) == expected_cost(x @ v)
        if len(shape) == 1:
            assert ops.cost(ops.dot(x, x)) == expected_cost(ops.dot(x, x))


@SETTINGS
@given(cases())
def test_critical_path_is_a_heaviest_source_path(case):
    g = case.graph
    a = depthgraph.analyze(g)
    path = a.critical_path
    assert path, "a graph with nodes has a non-empty critical path"
    assert len(set(path)) == len(path)
    assert g.node(path[0]).inputs == ()
    for u, v in zip(path, path[1:]):
        assert any(x.name == u for x in g.node(v).inputs), f"{u} -> {v} is not an edge"
    live = {n.name for n in g.nodes}
    assert set(path) <= live
    assert sum(depth(g.node(name)) for name in path) == a.span


@SETTINGS
@given(cases())
def test_span_and_steps_are_networkx_longest_paths(case):
    g = case.graph
    a = depthgraph.analyze(g)
    span = nx.dag_longest_path_length(split_digraph(g, depth), weight="weight")
    steps = nx.dag_longest_path_length(split_digraph(g, lambda n: int(depth(n) > 0)), weight="weight")
    assert a.span == span
    assert a.steps == steps


@SETTINGS
@given(cases())
def test_work_and_step_count(case):
    g = case.graph
    a = depthgraph.analyze(g)
    nodes = g.nodes
    assert a.steps <= len(nodes)
    assert a.steps <= sum(depth(n) > 0 for n in nodes)
    assert a.work == sum(ops.cost(n)[0] for n in nodes)
    assert a.work == sum(expected_cost(n)[0] for n in nodes)
    assert a.parallelism == (a.work / a.span if a.span else 0.0)


@SETTINGS
@given(cases())
def test_brent_bounds(case):
    a = depthgraph.analyze(case.graph)
    for p in (1, 2, 3, 7, 64, 10**6):
        lo, hi = a.bounds(p)
        assert lo <= hi
        assert lo >= a.span and lo >= a.work / p
        assert lo == max(a.work / p, a.span) and hi == a.work / p + a.span
    if a.work >= a.span:
        assert a.bounds(1)[0] == a.work


@SETTINGS
@given(cases())
def test_levels_partition_and_respect_edges(case):
    g = case.graph
    a = depthgraph.analyze(g)
    names = [n.name for n in g.nodes]
    flat = [name for level in a.levels for name in level]
    assert sorted(flat) == sorted(names) and len(flat) == len(set(flat))
    assert len(a.levels) == a.steps + 1
    assert a.widths == tuple(len(level) for level in a.levels)
    assert all(a.widths), "no level is empty"
    level = {name: i for i, names_at in enumerate(a.levels) for name in names_at}
    for u, v in edges(g):
        if depth(g.node(v)) > 0:
            assert level[u] < level[v], (u, v)
        else:
            assert level[u] <= level[v], (u, v)
    assert level == expected_levels(g)


@SETTINGS
@given(cases())
def test_slack_and_start_times(case):
    g = case.graph
    a = depthgraph.analyze(g)
    names = {n.name for n in g.nodes}
    assert set(a.earliest) == set(a.latest) == set(a.slack) == names
    assert all(s >= 0 for s in a.slack.values())
    assert all(a.slack[name] == 0 for name in a.critical_path)
    for u, v in edges(g):
        assert a.earliest[v] >= a.earliest[u] + depth(g.node(u)), (u, v)
        assert a.latest[v] >= a.latest[u] + depth(g.node(u)), (u, v)
    assert all(a.latest[n.name] + depth(n) <= a.span for n in g.nodes)
    earliest, latest, span = expected_times(g)
    assert (a.earliest, a.latest, a.span) == (earliest, latest, span)


@SETTINGS
@given(cases())
def test_json_round_trip(case):
    g = case.graph
    text = g.to_json()
    h = depthgraph.Graph.from_json(text)
    assert h.to_json() == text
    assert [n.name for n in h.nodes] == [n.name for n in g.nodes]
    a, b = depthgraph.analyze(g), depthgraph.analyze(h)
    for attr in ("work", "span", "steps", "critical_path", "levels", "earliest", "latest"):
        assert getattr(a, attr) == getattr(b, attr), attr
    with np.errstate(all="ignore"):
        assert_outputs_equal(depthgraph.execute(h, case.inputs), depthgraph.execute(g, case.inputs))


@SETTINGS
@given(cases())
def test_eager_execution_matches_numpy(case):
    g = case.graph
    with np.errstate(all="ignore"):
        got = depthgraph.execute(g, case.inputs)
        assert_outputs_equal(got, numpy_walk(g, case.inputs))
        assert_outputs_equal(got, numpy_recipes(case))


@SETTINGS
@given(cases())
def test_levels_execution_matches_numpy(case):
    # The levels executor batches like nodes and folds views into gathers: random DAGs with
    # broadcasting, views of views and shared operands exercise every gather form.
    g = case.graph
    with np.errstate(all="ignore"):
        got, want = depthgraph.execute(g, case.inputs, executor="levels"), numpy_walk(g, case.inputs)
    # a batched product may sum in another order: anything computed in float32 on the way (a
    # float64 output may add a float32 sum) agrees to its rounding, not bitwise
    single = any(np.dtype(node.dtype) in (np.float32, np.complex64) for node in g.nodes)
    for name in want:
        a, b = np.asarray(got[name]), np.asarray(want[name])
        assert (a.shape, a.dtype) == (b.shape, b.dtype), name
        rtol = 1e-5 if single else 1e-12
        np.testing.assert_allclose(a, b, rtol=rtol, atol=0, equal_nan=True, err_msg=name)


@SETTINGS
@given(cases())
def test_declared_shapes_and_dtypes_match_numpy(case):
    g = case.graph
    with np.errstate(all="ignore"):
        values = numpy_values(g, case.inputs, g.all_nodes)
        got = depthgraph.execute(g, case.inputs)
    for node in g.all_nodes:
        value = np.asarray(values[node.name])
        assert (node.shape, node.dtype) == (value.shape, value.dtype.name), node
    for out, node in g.outputs.items():
        assert (np.shape(got[out]), np.asarray(got[out]).dtype.name) == (node.shape, node.dtype), out


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(["int64", "int32", "float32", "float64"]),
                          st.sampled_from(["pow", "add", "mul", "sub", "div"]),
                          st.sampled_from([2, 2.0, 3, 0.5, -1.5])), min_size=1, max_size=8))
def test_scalar_op_dtypes_match_numpy(uses):
    # Several in one graph, in any order: a dtype must not depend on what was built before
    # (x ** 2 and x ** 2.0 are equal as attributes but differ in dtype).
    g = depthgraph.Graph()
    for i, (dtype, op, c) in enumerate(uses):
        x = g.input(f"x{i}", (3,), dtype)
        value = np.arange(1, 4, dtype=dtype)
        if op == "pow":
            node, want = x**c, value**c
        else:
            fn = {"add": np.add, "mul": np.multiply, "sub": np.subtract, "div": np.true_divide}[op]
            node = {"add": lambda: x + c, "mul": lambda: c * x, "sub": lambda: c - x, "div": lambda: x / c}[op]()
            want = fn(value, c) if op in ("add", "div") else fn(c, value)
        assert node.dtype == want.dtype.name, (dtype, op, c)


def test_int_node_with_float_scalar_keeps_fraction():
    # Regression (found by test_eager_execution_matches_numpy): the scalar was cast to the int
    # operand's dtype, so `int_node + 0.5` silently computed `int_node + 0`.
    g = depthgraph.Graph()
    c = g.constant([1, 2, 3])
    g.output("y", c + 0.5)
    g.output("z", 2.5 * c)
    out = depthgraph.execute(g, {})
    np.testing.assert_array_equal(out["y"], np.array([1.5, 2.5, 3.5]))
    np.testing.assert_array_equal(out["z"], np.array([2.5, 5.0, 7.5]))
    assert out["y"].dtype == np.float64
