"""The SSM kernel algorithms against float64 matrix powers, their hand-counted cost, their growth,
and kernel-dplr's overflow and precision checks."""

import math
import warnings

import numpy as np
import pytest

import algorithms
import depthgraph

NAMES = ["kernel-sequential", "kernel-doubling", "kernel-diagonal", "kernel-dplr"]


def dense_matrix(inputs):
    """The A each algorithm stands for, as a dense float64 matrix."""
    if "A" in inputs:
        return inputs["A"]
    if "a" in inputs:
        return np.diag(inputs["a"])
    p = inputs["p"]
    return np.eye(len(p)) + np.outer(p, p)


def reference_kernel(inputs, L):
    A, B, C, D = dense_matrix(inputs), inputs["B"], inputs["C"], inputs["D"]
    taps = [(C @ np.linalg.matrix_power(A, l - 1) @ B)[0, 0] for l in range(1, L)]
    return np.array([D[0, 0]] + taps)


def relative_error(K, expected):
    return np.linalg.norm(K - expected) / np.linalg.norm(expected)


def analyze(name, **params):
    return depthgraph.analyze(algorithms.get(name).build(**params))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("L", [1, 2, 3, 5, 8, 100, 1000])
@pytest.mark.parametrize("n", [1, 2, 16])
def test_kernel_matches_float64_matrix_powers(name, L, n):
    spec = algorithms.get(name)
    inputs = spec.inputs(seed=10_000 * L + 100 * n + NAMES.index(name), L=L, n=n)
    K = depthgraph.execute(spec.build(L=L, n=n), inputs)["K"]
    assert K.shape == (L,)
    assert relative_error(K, reference_kernel(inputs, L)) <= 1e-10


@pytest.mark.parametrize("name", ["kernel-sequential", "kernel-doubling", "kernel-diagonal"])
def test_problem_set_scalar_example(name):
    A = {"a": np.array([0.8])} if name == "kernel-diagonal" else {"A": np.array([[0.8]])}
    inputs = {**A, "B": np.array([[1.0]]), "C": np.array([[1.5]]), "D": np.array([[0.0]])}
    K = algorithms.get(name).run(inputs, L=5, n=1)["K"]
    np.testing.assert_allclose(K, [0, 1.5, 1.2, 0.96, 0.768], rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("name", ["kernel-sequential", "kernel-doubling"])
def test_problem_set_matrix_example(name):
    inputs = {"A": np.array([[0.7, 0.1], [0.2, 0.6]]), "B": np.array([[1.0], [0.0]]),
              "C": np.array([[1.0, 0.0]]), "D": np.array([[0.0]])}
    K = algorithms.get(name).run(inputs, L=4, n=2)["K"]
    np.testing.assert_allclose(K, [0, 1, 0.7, 0.51], rtol=1e-14, atol=1e-15)


def test_dplr_closed_form_on_a_hand_example():
    # p = (1, 1): ‖p‖² = 2, s = 3, (C p)(pᵀ B) = 1·1; with B = e1, C = e2 (C B = 0),
    # K_l = (3^{l-1} - 1)/2, so K = (D, 0, 1, 4, 13).
    inputs = {"p": np.array([1.0, 1.0]), "B": np.array([[1.0], [0.0]]), "C": np.array([[0.0, 1.0]]),
              "D": np.array([[7.0]])}
    K = algorithms.get("kernel-dplr").run(inputs, L=5, n=2)["K"]
    np.testing.assert_allclose(K, [7, 0, 1, 4, 13], rtol=1e-14)


def test_inputs_are_as_documented_and_fresh_per_seed():
    dense = algorithms.get("kernel-doubling").inputs(seed=0, n=8)
    assert np.max(np.abs(np.linalg.eigvals(dense["A"]))) == pytest.approx(0.9)
    diagonal = algorithms.get("kernel-diagonal").inputs(seed=0, n=1000)
    assert diagonal["a"].shape == (1000,) and np.all(np.abs(diagonal["a"]) < 0.95)
    dplr = algorithms.get("kernel-dplr").inputs(seed=0, L=64, n=8)
    assert np.dot(dplr["p"], dplr["p"]) == pytest.approx(0.5 / 64)
    again = algorithms.get("kernel-dplr").inputs(seed=1, L=64, n=8)
    assert not np.array_equal(dplr["p"], again["p"])


# ---------------------------------------------------------------- hand-counted cost


def doubling_steps(L):
    """J = ⌈log2(L-1)⌉ and the number of new columns v_{m+j} = M^m v_j made at each doubling step."""
    made, m = [], 1
    while m < L - 1:
        made.append(min(m, L - 1 - m))
        m += made[-1]
    assert len(made) == math.ceil(math.log2(L - 1)) and sum(made) == L - 2
    return len(made), made


@pytest.mark.parametrize("L, n", [(2, 1), (2, 4), (3, 4), (16, 4), (17, 5), (100, 16)])
def test_cost_by_hand(L, n):
    t = math.ceil(math.log2(n))
    J, _ = doubling_steps(L)
    concat = 1 if L >= 3 else 0  # the columns' concat; at L = 2 the one column is v_1 itself

    a = analyze("kernel-sequential", L=L, n=n)
    assert (a.work, a.span, a.steps) == ((L - 2) * n * n + (L - 1) * n + L, (L - 1) * (t + 1) + 1, L)

    # squarings, the L-2 column matvecs, concat X, C X, the final concat
    a = analyze("kernel-doubling", L=L, n=n)
    assert a.work == max(J - 1, 0) * n**3 + (L - 2) * n * n + concat * n * (L - 1) + (L - 1) * n + L
    assert (a.span, a.steps) == ((J + 1) * (t + 1) + 1 + concat, J + 2 + concat)

    # the L-2 columns a^m ⊙ p_j, squarings, concat P, C ⊙ Bᵀ, the matmul, the final concat
    a = analyze("kernel-diagonal", L=L, n=n)
    assert a.work == (L - 2) * n + max(J - 1, 0) * n + concat * n * (L - 1) + n + (L - 1) * n + L
    assert (a.span, a.steps) == (J + t + 3, J + 3)

    # four inner products, s, (C p)(pᵀ B)/‖p‖², columns, squarings, concat S, S - 1, times,
    # plus C B, final concat
    a = analyze("kernel-dplr", L=L, n=n)
    assert a.work == (4 * n + concat + 2 + (L - 2) + max(J - 1, 0) + concat * (L - 1) + 3 * (L - 1) + L)
    if L >= 3:
        assert (a.span, a.steps) == (t + J + 7, J + 7)


def test_doubling_makes_one_node_per_position_in_log_L_levels():
    L, n = 16, 4
    g = algorithms.get("kernel-doubling").build(L=L, n=n)
    columns = {v.name: v for v in g.nodes if v.name.startswith("v_")}
    assert sorted(columns, key=lambda name: int(name[2:])) == [f"v_{l}" for l in range(2, L)]
    # v_{m+j} = A^m v_j: position 12's chain is v_1 → v_2 → v_4 → v_12 (12 - 1 = 1011 in binary)
    chain, v = [], g.node("v_12")
    while v.name != "B":
        power, v = v.inputs
        chain.append((power.name, v.name))
    assert chain == [("A^8", "v_4"), ("A^2", "v_2"), ("A", "B")]  # v_1 = B
    plan = depthgraph.schedule(g)  # the levels executor's plan
    matvecs = [len(grp.nodes) for grp in plan.groups if grp.op == "matmul" and grp.nodes[0].shape == (n, 1)]
    assert matvecs == [1, 2, 4, 7]  # each step's columns: one batched call
    assert len(plan.groups) == 2 * 4 + 2  # 4 steps, 3 squarings, concat X, C X, final concat


def test_doubling_forms_only_the_powers_it_uses():
    for L, squarings in [(2, 0), (3, 0), (4, 1), (17, 3), (18, 4), (1025, 9)]:
        g = algorithms.get("kernel-doubling").build(L=L, n=3)
        squares = [v for v in g.all_nodes if v.op == "matmul" and v.shape == (3, 3)]
        assert len(squares) == squarings, L


def test_length_one_is_just_d():
    for name in NAMES:
        a = analyze(name, L=1, n=4)
        assert (a.work, a.span) == (1, 1), name


# ---------------------------------------------------------------- growth (the answer key)

SIZES = [2**k for k in range(4, 15)]


def sweep(name, param, values, **fixed):
    results = [analyze(name, **{param: v}, **fixed) for v in values]
    return [r.work for r in results], [r.span for r in results]


def ratios(xs):
    return [b / a for a, b in zip(xs, xs[1:])]


def differences(xs):
    return [b - a for a, b in zip(xs, xs[1:])]


def test_sequential_is_linear_in_L_and_log_n_deep():
    work, span = sweep("kernel-sequential", "L", SIZES, n=4)
    # Θ(L log n): doubling L adds L·(⌈log2 n⌉ + 1), so the span doubles
    assert differences(span) == [3 * L for L in SIZES[:-1]]
    assert ratios(differences(work)) == [2.0] * (len(SIZES) - 2)  # affine in L: Θ(L n²)
    work, span = sweep("kernel-sequential", "n", [4, 8, 16, 32, 64], L=256)
    assert differences(span) == [255] * 4  # each doubling of n adds one level per matvec
    assert ratios(work)[-1] > 3.8  # Θ(L n²)


def test_doubling_is_log_L_times_log_n_deep():
    work, span = sweep("kernel-doubling", "L", SIZES, n=4)
    assert differences(span) == [3] * (len(SIZES) - 1)  # + (⌈log2 n⌉ + 1) per doubling of L
    r = ratios(work)  # the n³ log L term fades, the L n² term takes over at n = 4: ratios climb towards 2
    assert r == sorted(r) and 1.99 < r[-1] < 2
    work, span = sweep("kernel-doubling", "n", [4, 8, 16, 32, 64], L=16)
    assert differences(span) == [5] * 4  # + (J + 1) per doubling of n: J = 4 steps, then C X
    r = ratios(work)
    assert r == sorted(r) and 7 < r[-1] < 8  # n³ log L takes over: ratios climb towards 8


def test_diagonal_is_log_L_plus_log_n_deep():
    work, span = sweep("kernel-diagonal", "L", SIZES, n=4)
    assert differences(span) == [1] * (len(SIZES) - 1)  # one multiply per doubling of L
    assert all(1.95 < r <= 2.01 for r in ratios(work)[2:])
    work, span = sweep("kernel-diagonal", "n", [4, 8, 16, 32, 64], L=256)
    assert differences(span) == [1] * 4
    assert ratios(differences(work)) == [2.0] * 3  # affine in n: Θ(L n)


def test_dplr_is_linear_in_n_plus_L():
    work, span = sweep("kernel-dplr", "L", SIZES, n=4)
    assert differences(span) == [1] * (len(SIZES) - 1)
    assert all(1.95 < r <= 2.01 for r in ratios(work)[2:])
    ns = [4, 8, 16, 32, 64]
    work, span = sweep("kernel-dplr", "n", ns, L=256)
    assert differences(span) == [1] * 4
    assert differences(work) == [4 * n for n in ns[:-1]]  # four inner products: Θ(n + L)


# ---------------------------------------------------------------- kernel-dplr's numerical honesty


def orthogonal_dplr_inputs(norm2, seed):
    """B = e1, C = e2: C B = 0, so K is all rank-one part, where cancellation would show.

    Float64 matrix powers of A = I + p pᵀ stay accurate here: K_l is the off-diagonal entry
    (A^{l-1})_{21}, which rounding 1 + p_i² on the diagonal changes only at relative eps.
    """
    p = np.random.default_rng(seed).standard_normal(2)
    return {"p": p * math.sqrt(norm2) / np.linalg.norm(p), "B": np.array([[1.0], [0.0]]),
            "C": np.array([[0.0, 1.0]]), "D": np.array([[0.0]])}


def test_dplr_warns_where_cancellation_loses_precision_and_is_then_inaccurate():
    inputs = orthogonal_dplr_inputs(1e-12, seed=3)
    message = r"kernel-dplr: ‖p‖² = 1e-12 .*relative error of eps/‖p‖² = 0.00022"
    with pytest.warns(RuntimeWarning, match=message):
        K = algorithms.get("kernel-dplr").run(inputs, L=64, n=2)["K"]
    error = relative_error(K, reference_kernel(inputs, 64))
    assert 1e-8 < error <= np.finfo(float).eps / 1e-12  # really inaccurate, within the estimate
    with warnings.catch_warnings():  # at L = 2, K_1 = C B + 0 · (rank-one part) is exact
        warnings.simplefilter("error")
        algorithms.get("kernel-dplr").run(inputs, L=2, n=2)


def test_dplr_is_accurate_where_it_does_not_warn():
    inputs = orthogonal_dplr_inputs(1e-4, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        K = algorithms.get("kernel-dplr").run(inputs, L=64, n=2)["K"]
    assert relative_error(K, reference_kernel(inputs, 64)) <= 1e-10


def test_dplr_default_inputs_pass_the_check_at_every_size():
    spec = algorithms.get("kernel-dplr")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for L in [1, 2, 1000, 2**14]:
            spec.run(spec.inputs(seed=L, L=L, n=4), L=L, n=4)


def test_dplr_refuses_powers_that_overflow():
    spec = algorithms.get("kernel-dplr")
    inputs = {"p": np.array([1.0, 0.0]), "B": np.ones((2, 1)), "C": np.ones((1, 2)), "D": np.ones((1, 1))}
    # s = 2: 2^(L-2) overflows past L - 2 = 1024
    message = r"kernel-dplr: \(1 \+ ‖p‖²\)\^\(L-2\) overflows float64 for input p: ‖p‖² = 1, L = 1100"
    with pytest.raises(depthgraph.ParameterError, match=message):
        spec.run(inputs, L=1100, n=2)
    with pytest.raises(depthgraph.ParameterError, match=r"need ‖p‖² < 0.909 at this L"):
        spec.run(inputs, L=1100, n=2)
    with np.errstate(all="ignore"):  # unchecked, the graph really overflows
        assert not np.all(np.isfinite(depthgraph.execute(spec.build(L=1100, n=2), inputs)["K"]))
    K = spec.run(inputs, L=1000, n=2)["K"]  # 2^998 is still finite
    assert np.all(np.isfinite(K)) and K[-1] == pytest.approx(1 + (2.0**998 - 1))


def test_dplr_refuses_zero_p():
    inputs = {"p": np.zeros(3), "B": np.ones((3, 1)), "C": np.ones((1, 3)), "D": np.ones((1, 1))}
    with pytest.raises(depthgraph.ParameterError, match="kernel-dplr: input p is zero"):
        algorithms.get("kernel-dplr").run(inputs, L=4, n=3)


# ---------------------------------------------------------------- parameters


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(
    "params, message",
    [({"L": 0}, "L must be an int >= 1, got 0"), ({"n": 1.5}, "n must be an int >= 1, got 1.5"),
     ({"d": 3}, "unknown parameter")],
)
def test_bad_params(name, params, message):
    with pytest.raises(depthgraph.ParameterError, match=f"{name}: {message}"):
        algorithms.get(name).build(**params)
