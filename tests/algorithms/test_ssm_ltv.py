"""The time-varying diagonal SSM (`ssm-ltv`) against a float64 loop, its hand-counted cost, and its
growth with L and n."""

import numpy as np
import pytest

import algorithms
import depthgraph


def reference_ltv(a, Bk, Ck, D, u):
    x = np.zeros(a.shape[1])
    y = np.empty(len(u))
    for k in range(len(u)):
        y[k] = Ck[k] @ x + D[0, 0] * u[k]
        x = a[k] * x + Bk[k] * u[k]
    return y


@pytest.mark.parametrize("L", [1, 2, 3, 5, 8, 100, 1000])
@pytest.mark.parametrize("n", [1, 2, 16])
def test_ssm_ltv_matches_a_float64_loop(L, n):
    spec = algorithms.get("ssm-ltv")
    inputs = spec.inputs(seed=1000 * L + n, L=L, n=n)
    y = depthgraph.execute(spec.build(L=L, n=n), inputs)["y"]
    expected = reference_ltv(**inputs)
    assert y.shape == (L,)
    assert np.linalg.norm(y - expected) <= 1e-10 * np.linalg.norm(expected)


def test_ssm_ltv_is_time_varying():
    # the same inputs with a_k, Bk_k, Ck_k frozen at step 0 give other outputs: the graph reads
    # each position's own coefficients
    spec = algorithms.get("ssm-ltv")
    inputs = spec.inputs(seed=3, L=6, n=3)
    frozen = {**inputs, **{key: np.repeat(inputs[key][:1], 6, axis=0) for key in ("a", "Bk", "Ck")}}
    graph = spec.build(L=6, n=3)
    y, y_frozen = depthgraph.execute(graph, inputs)["y"], depthgraph.execute(graph, frozen)["y"]
    np.testing.assert_allclose(y_frozen, reference_ltv(**frozen), rtol=1e-12)
    assert not np.allclose(y[2:], y_frozen[2:])


def test_ltv_inputs_are_contracting_and_fresh_per_seed():
    spec = algorithms.get("ssm-ltv")
    x, y = spec.inputs(seed=0, L=500, n=4), spec.inputs(seed=1, L=500, n=4)
    assert {k: v.shape for k, v in x.items()} == {"a": (500, 4), "Bk": (500, 4), "Ck": (500, 4), "D": (1, 1),
                                                  "u": (500,)}
    assert np.max(np.abs(x["a"])) < 0.99 and np.min(x["a"]) < 0 < np.max(x["a"])
    assert not np.array_equal(x["a"], y["a"])


# Hand counts: (work, span, steps). Per output k ≥ 1: the dot Ck_k·x_k (n work, ⌈log2 n⌉ + 1
# deep), D·u_k (1) and the add (1); y_0 = D·u_0 (1); the stack of L outputs (L work, 1 deep);
# b_t = Bk_t·u_t for t < L-1 (n each, 1 deep); and the Blelloch scan over those L-1 positions,
# whose combines are a2·a1, a2·b1, add (n each; "b only" when the a-part is dead: 2n).
HAND = {
    # y_0 = D u_0, then the stack
    (1, 4): (1 + 1, 2, 2),
    # x_1 = b_0: 4; y_1 = dot (4, 3 deep) + D u_1: 4 + 1 + 1; y_0: 1; stack 2.
    # Path: b_0 (1), dot (3), add (1), stack (1).
    (2, 4): (4 + 6 + 1 + 2, 6, 4),
    # scan over 2 positions: b_0, b_1 (2n), one combine b only (2n): x_2 ready at 3.
    # Outputs y_1, y_2: 2(n + 2), y_0 1, stack 3. Path: b (1), combine (2), dot (2), add, stack.
    (3, 2): (4 + 4 + 8 + 1 + 3, 7, 6),
    # scan over 4 positions (as scan-blelloch at L=4, n=1: 9 without its stack), b_t 4,
    # outputs 4·3 + 1, stack 5. x_4 ends at 1 + 4; dot 1 deep for n = 1; add; stack.
    (5, 1): (9 + 4 + 12 + 1 + 5, 8, 8),
}


@pytest.mark.parametrize("L, n", sorted(HAND))
def test_ssm_ltv_cost_by_hand(L, n):
    a = depthgraph.analyze(algorithms.get("ssm-ltv").build(L=L, n=n))
    assert (a.work, a.span, a.steps) == HAND[L, n]


@pytest.mark.parametrize("k", range(2, 9))
@pytest.mark.parametrize("n", [1, 4, 64])
def test_ssm_ltv_closed_form(k, n):
    # L - 1 = 2^k positions scanned: the scan does n(5(L-1) - 3k - 5) (scan-blelloch's
    # n(6m - 3k - 5) less its stack), plus n(L-1) for the b_t, n(L-1) for the dots, 3L - 1 for
    # D·u_k, the adds and the stack. Span: b_t (1) + the scan (4k - 4) + dot + add + stack.
    m = 2**k
    L, tree = m + 1, (n - 1).bit_length()
    a = depthgraph.analyze(algorithms.get("ssm-ltv").build(L=L, n=n))
    assert a.work == n * (7 * m - 3 * k - 5) + 3 * L - 1
    assert a.span == 4 * k - 3 + tree + 3
    assert a.steps == 4 * k


def test_ssm_ltv_growth_in_L():
    spec = algorithms.get("ssm-ltv")
    costs = []
    for k in range(4, 15):
        a = depthgraph.analyze(spec.build(L=2**k, n=4))
        costs.append((a.work, a.span))
    ratios = [w2 / w1 for (w1, _), (w2, _) in zip(costs, costs[1:])]
    # Θ(L n) work: ×2 per doubling in the limit (a Θ(L log L) work would stay above 2·14/13)
    assert ratios == sorted(ratios, reverse=True) and 2 < ratios[-1] < 2.005
    # Θ(log L) in L: the span grows by a constant per doubling (4: one more scan level, 2 up
    # and 2 down), not by a factor
    assert [s2 - s1 for (_, s1), (_, s2) in zip(costs, costs[1:])] == [4] * 10


def test_ssm_ltv_growth_in_n():
    # the dot Ck_k·x_k makes the span grow by 1 per doubling of n (the answer key's Θ(log L)
    # misses this term), while work grows ×2
    spec = algorithms.get("ssm-ltv")
    costs = [depthgraph.analyze(spec.build(L=64, n=2**j)) for j in range(0, 9)]
    assert [b.span - a.span for a, b in zip(costs, costs[1:])] == [1] * 8
    ratios = [b.work / a.work for a, b in zip(costs, costs[1:])]
    assert ratios == sorted(ratios) and 1.99 < ratios[-1] < 2


@pytest.mark.parametrize(
    "params, message",
    [({"L": 0}, "ssm-ltv: L must be an int >= 1, got 0"), ({"n": -1}, "ssm-ltv: n must be an int >= 1, got -1"),
     ({"d": 2}, "ssm-ltv: unknown parameter")],
)
def test_bad_params(params, message):
    with pytest.raises(depthgraph.ParameterError, match=message):
        algorithms.get("ssm-ltv").build(**params)
