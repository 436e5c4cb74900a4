"""The eager executor and `depthgraph.execute`: results, input checking, freeing intermediates."""

import numpy as np
import pytest

import depthgraph
from depthgraph import ops


def _graph():
    g = depthgraph.Graph()
    A = g.input("A", (3, 3))
    x = g.input("x", (3,))
    g.output("y", ops.exp(A @ x) - x)
    g.output("n", ops.sum(x * x))
    return g


def test_matches_numpy_float64():
    rng = np.random.default_rng(1)
    A, x = rng.standard_normal((3, 3)), rng.standard_normal(3)
    out = depthgraph.execute(_graph(), {"A": A, "x": x})
    np.testing.assert_allclose(out["y"], np.exp(A @ x) - x, rtol=1e-14)
    np.testing.assert_allclose(out["n"], x @ x, rtol=1e-14)
    assert list(out) == ["y", "n"]


def test_integer_and_list_inputs_cast_safely():
    out = depthgraph.execute(_graph(), {"A": np.eye(3, dtype=int), "x": [1, 2, 3]}, to_host=True)
    np.testing.assert_allclose(out["n"], 14.0)
    assert out["y"].dtype == np.float64


@pytest.mark.parametrize(
    "inputs, message",
    [
        ({"A": np.eye(3)}, r"inputs: missing \['x'\] \(the graph takes \['A', 'x'\]\)"),
        ({"A": np.eye(3), "x": np.ones(3), "z": 1}, r"inputs: unexpected \['z'\]"),
        ({"A": np.eye(2), "x": np.ones(3)}, r"input 'A' has shape \(2, 2\), the graph declares \(3, 3\)"),
        ({"A": np.eye(3), "x": np.ones(3, complex)}, r"input 'x' has dtype complex128, which does not cast safely to float64"),
    ],
)
def test_input_errors(inputs, message):
    with pytest.raises(depthgraph.InputError, match=message):
        depthgraph.execute(_graph(), inputs)


def test_unknown_executor_and_backend():
    with pytest.raises(depthgraph.ParameterError, match="unknown executor 'turbo'; choose from eager, levels, dask"):
        depthgraph.execute(_graph(), {}, executor="turbo")
    with pytest.raises(depthgraph.ParameterError, match="unknown backend 'torch'; choose from numpy, cupy"):
        depthgraph.execute(_graph(), {}, backend="torch")


def test_output_may_be_an_input_and_intermediates_are_freed(monkeypatch):
    import dataclasses
    import weakref

    g = depthgraph.Graph()
    x = g.input("x", (2,))
    y = x
    for _ in range(50):
        y = y * 1.0
    g.output("y", y)
    g.output("x", x)
    made, alive_at_each_call = [], []
    real = ops.get("mul")

    def tracking(xp, a, b):
        alive_at_each_call.append(sum(ref() is not None for ref in made))
        result = real.impl(xp, a, b)
        made.append(weakref.ref(result))
        return result

    monkeypatch.setitem(ops.REGISTRY, "mul", dataclasses.replace(real, impl=tracking))
    out = depthgraph.execute(g, {"x": np.array([1.0, 2.0])})
    np.testing.assert_array_equal(out["y"], [1.0, 2.0])
    np.testing.assert_array_equal(out["x"], [1.0, 2.0])
    assert len(alive_at_each_call) == 50
    assert max(alive_at_each_call) == 1  # only the operand of the running op is still held
