"""Ridge attention (Sherman–Morrison, causal solve, non-causal) against per-position float64 solves,
their hand-counted cost, the answer key's growth, the attention weights, and parameter checks."""

import networkx as nx
import numpy as np
import pytest

import algorithms
import depthgraph

CAUSAL = ["ridge-sherman-morrison", "ridge-causal-solve"]
ALL = CAUSAL + ["ridge-noncausal"]


def reference_ridge(q, k, v, lam, causal):
    """o_t and α_t from one numpy.linalg.solve per position, on the pairs position t may see."""
    T, d = q.shape
    o, alpha = np.empty((T, d)), np.zeros((T, T))
    for t in range(T):
        K, V = (k[: t + 1], v[: t + 1]) if causal else (k, v)
        a = K @ np.linalg.solve(K.T @ K + lam * np.eye(d), q[t])
        alpha[t, : len(a)] = a
        o[t] = V.T @ a
    return o, alpha


def relative_error(x, ref):
    return np.linalg.norm(x - ref) / np.linalg.norm(ref)


def run(name, seed, **params):
    spec = algorithms.get(name)
    inputs = spec.inputs(seed=seed, **params)
    return inputs, depthgraph.execute(spec.build(**params), inputs)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("T", [1, 2, 3, 5, 8, 100, 1000])
@pytest.mark.parametrize("d", [1, 2, 16])
def test_ridge_matches_per_position_solves(name, T, d):
    inputs, out = run(name, seed=100_000 * ALL.index(name) + 1000 * T + d, T=T, d=d, weights=True)
    o, alpha = reference_ridge(**inputs, causal=name in CAUSAL)
    assert out["o"].shape == (T, d) and out["alpha"].shape == (T, T)
    assert relative_error(out["o"], o) <= 1e-10
    assert relative_error(out["alpha"], alpha) <= 1e-10


@pytest.mark.parametrize("name", ALL)
def test_weights_switch_only_adds_the_alpha_output(name):
    spec = algorithms.get(name)
    inputs = spec.inputs(seed=7, T=9, d=3)
    plain = depthgraph.execute(spec.build(T=9, d=3), inputs)
    both = depthgraph.execute(spec.build(T=9, d=3, weights=True), inputs)
    assert sorted(plain) == ["o"] and sorted(both) == ["alpha", "o"]
    np.testing.assert_array_equal(plain["o"], both["o"])


@pytest.mark.parametrize("name", ALL)
def test_alpha_weights_values_and_can_be_negative(name):
    T, d = 12, 3
    inputs, out = run(name, seed=11, T=T, d=d, weights=True)
    alpha = out["alpha"]
    # o_t = V_tᵀ α_t: the graph computes o through S_t = V_tᵀK_t, never through α, so this ties the two.
    np.testing.assert_allclose(alpha @ inputs["v"], out["o"], rtol=1e-10, atol=1e-12)
    assert (alpha < 0).any(), "ridge weights are not a softmax: some must be negative"
    if name in CAUSAL:
        above = np.triu(np.ones((T, T), dtype=bool), k=1)
        assert (alpha[above] == 0.0).all()  # exact zeros: position t sees no later key
        assert (alpha[~above] != 0.0).all()
    else:
        assert (alpha != 0.0).all()  # every query sees every key


def test_alpha_first_row_in_closed_form():
    # T = 1 by hand: α_1 = k_1ᵀ (k_1 k_1ᵀ + λI)^{-1} q_1 = k_1ᵀq_1 / (λ + |k_1|²).
    q, k, v = np.array([[1.0, 2.0]]), np.array([[3.0, -1.0]]), np.array([[0.5, 4.0]])
    inputs = {"q": q, "k": k, "v": v, "lam": np.array(2.0)}
    for name in ALL:
        out = depthgraph.execute(algorithms.get(name).build(T=1, d=2, weights=True), inputs)
        assert out["alpha"][0, 0] == pytest.approx(1.0 / 12.0)
        np.testing.assert_allclose(out["o"][0], v[0] / 12.0)


def test_inputs_are_well_conditioned_and_fresh_per_seed():
    spec = algorithms.get("ridge-sherman-morrison")
    a, b = spec.inputs(seed=0, T=5, d=3), spec.inputs(seed=1, T=5, d=3)
    assert a["lam"].shape == () and 0.5 <= a["lam"] <= 2.0
    assert {key: x.shape for key, x in a.items() if key != "lam"} == {"q": (5, 3), "k": (5, 3), "v": (5, 3)}
    assert not np.array_equal(a["k"], b["k"]) and a["lam"] != b["lam"]


def tree(m):
    return (m - 1).bit_length()  # ⌈log2 m⌉


@pytest.mark.parametrize("T, d", [(1, 1), (1, 4), (3, 2), (16, 4), (100, 16), (37, 64)])
def test_sherman_morrison_cost_by_hand(T, d):
    spec = algorithms.get("ridge-sherman-morrison")
    a = depthgraph.analyze(spec.build(T=T, d=d))
    # per step on the chain: matvec M^{-1}k (tree+1), dot kᵀu (tree+1), 1 + · , u / ·, outer, subtract;
    # before: I/λ; after M_T^{-1}: w_T = M_T^{-1} q_T (tree+1), o_T = S_T w_T (tree+1), the stack.
    assert a.span == T * (2 * tree(d) + 6) + 1 + 2 * (tree(d) + 1) + 1
    assert a.steps == 6 * T + 4
    # per step: M^{-1}k d², dot d, add 1, div d, outer d², sub d², v kᵀ d², S add d² (not at t = 1),
    # w_t d², o_t d²; plus I/λ d² and the stack T·d.
    assert a.work == T * (7 * d * d + 2 * d + 1) - d * d + d * d + T * d
    w = depthgraph.analyze(spec.build(T=T, d=d, weights=True))
    # α: row t is a (t×d) matvec, padded by a concat (T per row but the last), then a T×T stack
    assert w.work - a.work == d * T * (T + 1) // 2 + T * (T - 1) + T * T
    assert w.span == a.span


def blelloch_combines(T):
    # pair up ⌊T/2⌋, fill in ⌈T/2⌉ - 1 even positions, recurse on the ⌊T/2⌋ pairs
    return 0 if T < 2 else T - 1 + blelloch_combines(T // 2)


@pytest.mark.parametrize("T, scan_depth", [(1, 0), (2, 1), (4, 2), (8, 4), (64, 10), (1024, 18)])
@pytest.mark.parametrize("d", [1, 4, 16])
def test_causal_solve_cost_by_hand(T, scan_depth, d):
    a = depthgraph.analyze(algorithms.get("ridge-causal-solve").build(T=T, d=d))
    # outer, the scan, + λI, the solve, o_t = S_t w_t, the stack
    assert a.span == 1 + scan_depth + 1 + d * (tree(d) + 1) + tree(d) + 1 + 1
    assert a.steps == scan_depth + 5
    # per position: two outers, + λI, solve (d³ + d²), o_t; each combine adds two d×d pairs; λI; stack
    assert a.work == T * (d**3 + 5 * d * d) + blelloch_combines(T) * 2 * d * d + d * d + T * d


@pytest.mark.parametrize("T, d", [(1, 1), (5, 3), (64, 16), (4096, 64)])
def test_noncausal_cost_by_hand(T, d):
    a = depthgraph.analyze(algorithms.get("ridge-noncausal").build(T=T, d=d))
    # KᵀK (tree over T), + λI, solve, Q·X (tree over d)
    assert a.span == tree(T) + 1 + 1 + d * (tree(d) + 1) + tree(d) + 1
    assert a.steps == 4
    assert a.work == 3 * T * d * d + 2 * d**3 + 2 * d * d  # KᵀK, KᵀV, Q·X; solve d³ + d·d²; λI and its add


def test_sherman_morrison_critical_path_is_the_inverse_chain():
    a = depthgraph.analyze(algorithms.get("ridge-sherman-morrison").build(T=8, d=4))
    chain = [name for name in a.critical_path if name.startswith("Minv_")]
    assert chain == [f"Minv_{t}" for t in range(9)]


def test_causal_solve_positions_wait_for_no_other_solve():
    graph = depthgraph.to_networkx(algorithms.get("ridge-causal-solve").build(T=8, d=3))
    for t in range(1, 9):
        solves_before = [n for n in nx.ancestors(graph, f"o_{t}") if n.startswith("w_")]
        assert solves_before == [f"w_{t}"]


def sweep(name, key, values, **fixed):
    analyses = [depthgraph.analyze(algorithms.get(name).build(**{key: x}, **fixed)) for x in values]
    return [a.work for a in analyses], [a.span for a in analyses]


def differences(xs):
    return [b - a for a, b in zip(xs, xs[1:])]


CHAIN_TS = [2**j for j in range(4, 15)]


def test_sherman_morrison_growth_theta_T_d2_and_T_log_d():
    work, span = sweep("ridge-sherman-morrison", "T", CHAIN_TS, d=16)
    # exactly linear in T: each doubling adds twice what the previous one added
    for earlier, later in zip(differences(work), differences(work)[1:]):
        assert later == 2 * earlier
    for earlier, later in zip(differences(span), differences(span)[1:]):
        assert later == 2 * earlier
    assert 1.95 < span[-1] / span[-2] < 2.05
    work, span = sweep("ridge-sherman-morrison", "d", [2**j for j in range(1, 8)], T=64)
    assert len(set(differences(span))) == 1  # log d: a constant per doubling of d
    assert 3.9 < work[-1] / work[-2] < 4.1  # d²


def test_causal_solve_growth_theta_T_d3_and_log_T():
    work, span = sweep("ridge-causal-solve", "T", CHAIN_TS, d=16)
    assert differences(span)[1:] == [2] * (len(CHAIN_TS) - 2)  # log T: +2 per doubling (up and down sweep)
    # linear in T up to the scan's count of combines, 2T - ⌈log2 T⌉ - 1 or so: doubling T leaves an
    # excess over ×2 that grows by a constant (a log T term), where T log T work would grow it ×2
    excess = [b - 2 * a for a, b in zip(work, work[1:])]
    assert len(set(differences(excess))) == 1 and 1.999 < work[-1] / work[-2] < 2.001
    work, span = sweep("ridge-causal-solve", "d", [2**j for j in range(1, 8)], T=64)
    assert 7.5 < work[-1] / work[-2] < 8.5  # d³ from the T solves
    solve_depth = [d * (tree(d) + 1) for d in (2**j for j in range(1, 8))]
    assert differences(span) == [s + 1 for s in differences(solve_depth)]  # the solve's d log d, plus o_t's tree


def test_noncausal_growth_theta_Td2_plus_d3_and_log_T():
    ts = [2**j for j in range(4, 15)]
    work, span = sweep("ridge-noncausal", "T", ts, d=16)
    assert differences(span) == [1] * (len(ts) - 1)  # log T: the reductions over T
    for earlier, later in zip(differences(work), differences(work)[1:]):
        assert later == 2 * earlier  # linear in T
    work, _ = sweep("ridge-noncausal", "d", [32, 64], T=2**14)
    assert 3.9 < work[1] / work[0] < 4.1  # T ≫ d: the T d² products dominate
    work, _ = sweep("ridge-noncausal", "d", [256, 512], T=16)
    assert 7.5 < work[1] / work[0] < 8.1  # d ≫ T: the d³ solve dominates


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize(
    "params, message",
    [({"T": 0}, "T must be an int >= 1, got 0"), ({"d": 1.5}, "d must be an int >= 1, got 1.5"),
     ({"weights": 1}, "weights must be True or False, got 1"), ({"L": 8}, "unknown parameter")],
)
def test_bad_params(name, params, message):
    with pytest.raises(depthgraph.ParameterError, match=f"{name}: {message}"):
        algorithms.get(name).build(**params)
