"""The op registry: each op's result against NumPy float64, its cost by hand, the docs table."""

import pathlib

import numpy as np
import pytest

import depthgraph
from depthgraph import ops

rng = np.random.default_rng(7)
A = rng.standard_normal((4, 4)) + 4 * np.eye(4)
B = rng.standard_normal((4, 3))
v = rng.standard_normal(4)
w = rng.standard_normal(4)
P = rng.uniform(0.5, 2.0, 4)

# op name -> (graph builder over inputs a (4,4), b (4,3), v (4,), w (4,), p (4,); NumPy reference;
#             hand-counted (work, depth))
CASES = {
    "add": (lambda a, b, v, w, p: a + v, A + v, (16, 1)),
    "sub": (lambda a, b, v, w, p: v - a, v - A, (16, 1)),
    "mul": (lambda a, b, v, w, p: a * w, A * w, (16, 1)),
    "div": (lambda a, b, v, w, p: v / p, v / P, (4, 1)),
    "neg": (lambda a, b, v, w, p: -b, -B, (12, 1)),
    "pow": (lambda a, b, v, w, p: p**1.5, P**1.5, (4, 1)),
    "exp": (lambda a, b, v, w, p: ops.exp(v), np.exp(v), (4, 1)),
    "log": (lambda a, b, v, w, p: ops.log(p), np.log(P), (4, 1)),
    "sqrt": (lambda a, b, v, w, p: ops.sqrt(p), np.sqrt(P), (4, 1)),
    "abs": (lambda a, b, v, w, p: ops.abs(v), np.abs(v), (4, 1)),
    "matmul": (lambda a, b, v, w, p: a @ b, A @ B, (48, 3)),  # 4·4·3, ⌈log2 4⌉ + 1
    "dot": (lambda a, b, v, w, p: ops.dot(v, w), v @ w, (4, 3)),
    "outer": (lambda a, b, v, w, p: ops.outer(v, w), np.outer(v, w), (16, 1)),
    "sum": (lambda a, b, v, w, p: ops.sum(b, axis=0), B.sum(axis=0), (12, 2)),  # 3 sums of 4 terms
    "concat": (lambda a, b, v, w, p: ops.concat([a, b], axis=1), np.concatenate([A, B], axis=1), (28, 1)),
    "stack": (lambda a, b, v, w, p: ops.stack([v, w], axis=1), np.stack([v, w], axis=1), (8, 1)),
    "reshape": (lambda a, b, v, w, p: ops.reshape(b, (2, 6)), B.reshape(2, 6), (0, 0)),
    "transpose": (lambda a, b, v, w, p: b.T, B.T, (0, 0)),
    "getitem": (lambda a, b, v, w, p: a[1:, 2], A[1:, 2], (0, 0)),
    "solve": (lambda a, b, v, w, p: ops.solve(a, b), np.linalg.solve(A, B), (64 + 48, 12)),  # d³ + d²k; 4·(2+1)
    "inv": (lambda a, b, v, w, p: ops.inv(a), np.linalg.inv(A), (64, 12)),
    "fft": (lambda a, b, v, w, p: ops.fft(v, n=8), np.fft.fft(v, n=8), (24, 3)),  # 8·3, log2 8
    "ifft": (lambda a, b, v, w, p: ops.ifft(b), np.fft.ifft(B), (4 * 3 * 2, 2)),  # 4 rows of length 3
    "rfft": (lambda a, b, v, w, p: ops.rfft(v), np.fft.rfft(v), (8, 2)),
    "irfft": (lambda a, b, v, w, p: ops.irfft(ops.rfft(v), n=4), v, (8, 2)),
    "real": (lambda a, b, v, w, p: ops.real(ops.fft(v)), np.fft.fft(v).real, (4, 1)),
    "conj": (lambda a, b, v, w, p: ops.conj(ops.fft(v)), np.fft.fft(v).conj(), (4, 1)),
}


def _graph(build):
    g = depthgraph.Graph()
    args = [g.input(n, x.shape) for n, x in zip("abvwp", (A, B, v, w, P))]
    out = g.output("out", build(*args))
    return g, out


@pytest.mark.parametrize("op", sorted(CASES))
def test_op_matches_numpy_and_hand_cost(op):
    build, expected, cost = CASES[op]
    g, out = _graph(build)
    assert out.op == op
    result = depthgraph.execute(g, dict(zip("abvwp", (A, B, v, w, P))))["out"]
    assert result.shape == np.shape(expected) == out.shape
    assert result.dtype == out.dtype
    np.testing.assert_allclose(result, expected, rtol=1e-12, atol=1e-12)
    assert ops.cost(out) == cost


def test_every_op_is_covered():
    assert set(CASES) | {"input", "const"} == set(ops.REGISTRY)


def test_constants_and_their_cost():
    g = depthgraph.Graph()
    c = g.constant([[1, 2], [3, 4]], dtype="float32")
    assert (c.shape, c.dtype, ops.cost(c)) == ((2, 2), "float32", (0, 0))
    g.output("c", c * 2)
    np.testing.assert_array_equal(depthgraph.execute(g, {})["c"], np.array([[2, 4], [6, 8]], np.float32))
    with pytest.raises(depthgraph.ShapeError, match="only real or integer constants"):
        g.constant([1j])


def test_log2ceil_is_the_tree_depth():
    for m in range(1, 300):
        assert ops.log2ceil(m) == int(np.ceil(np.log2(m)))


def test_bytes_moved():
    g = depthgraph.Graph()
    a = g.input("a", (4, 4), dtype="float32")
    assert ops.bytes_moved(a @ a) == 3 * 16 * 4
    assert ops.bytes_moved(a.T) == 0  # a free view moves nothing


def test_docs_table_matches_the_registry():
    doc = (pathlib.Path(__file__).parents[1] / "docs" / "ops.md").read_text()
    assert doc.endswith(ops.cost_table())
