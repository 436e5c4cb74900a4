"""The SSM recurrence against a plain float64 loop, its hand-counted cost, and its parameter checks."""

import numpy as np
import pytest

import algorithms
import depthgraph


def reference_recurrence(A, B, C, D, u):
    x = np.zeros((A.shape[0], 1))
    y = np.empty(len(u))
    for k, u_k in enumerate(u):
        y[k] = (C @ x + D * u_k)[0, 0]
        x = A @ x + B * u_k
    return y


@pytest.mark.parametrize("L", [1, 2, 3, 5, 8, 100, 1000])
@pytest.mark.parametrize("n", [1, 2, 16])
def test_recurrence_matches_a_float64_loop(L, n):
    spec = algorithms.get("recurrence")
    inputs = spec.inputs(seed=1000 * L + n, L=L, n=n)
    y = depthgraph.execute(spec.build(L=L, n=n), inputs)["y"]
    expected = reference_recurrence(**inputs)
    assert np.linalg.norm(y - expected) <= 1e-10 * np.linalg.norm(expected)


def test_inputs_are_stable_and_fresh_per_seed():
    spec = algorithms.get("recurrence")
    a, b = spec.inputs(seed=0, n=8), spec.inputs(seed=1, n=8)
    assert np.max(np.abs(np.linalg.eigvals(a["A"]))) == pytest.approx(0.9)
    assert not np.array_equal(a["A"], b["A"])


@pytest.mark.parametrize("L, n", [(1, 1), (4, 4), (7, 5), (64, 64)])
def test_recurrence_cost_by_hand(L, n):
    a = depthgraph.analyze(algorithms.get("recurrence").build(L=L, n=n))
    tree = (n - 1).bit_length()  # ⌈log2 n⌉
    # state chain: x_1 = B u_0 (depth 1); L-2 steps of matvec (tree + 1) and add (1);
    # then y_{L-1} = C x_{L-1} + D u_{L-1} (tree + 2) and the stack (1).
    assert a.span == (L - 1) * (tree + 2) + 2
    assert a.steps == 2 * L
    # per step k ≥ 1: A x (n², k < L-1 only), B u (n), add (n), C x (n), D u (1), add (1); step 0:
    # D u_0 (1) and, if L > 1, B u_0 (n); plus the stack of L outputs.
    matvecs = max(L - 2, 0) * (n * n + 2 * n)
    outputs = (L - 1) * (n + 2) + 1
    assert a.work == matvecs + outputs + (n if L > 1 else 0) + L


@pytest.mark.parametrize(
    "params, message",
    [({"L": 0}, "recurrence: L must be an int >= 1, got 0"), ({"n": 2.5}, "recurrence: n must be an int >= 1, got 2.5"),
     ({"d": 3}, "recurrence: unknown parameter"), ({"L": True}, "L must be an int >= 1, got True")],
)
def test_bad_params(params, message):
    with pytest.raises(depthgraph.ParameterError, match=message):
        algorithms.get("recurrence").build(**params)


def test_unknown_algorithm():
    with pytest.raises(depthgraph.ParameterError, match="unknown algorithm 'fft-magic'; choose from recurrence, "):
        algorithms.get("fft-magic")
