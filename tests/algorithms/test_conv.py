"""Causal convolution, direct and by FFT, against numpy.convolve, hand counts and the answer key's growth."""

import time

import numpy as np
import pytest

import algorithms
import depthgraph

VARIANTS = [("conv-direct", {}), ("conv-fft", {"pow2": False}), ("conv-fft", {"pow2": True})]
IDS = ["direct", "fft-2L", "fft-pow2"]


def run(name, params, inputs):
    return depthgraph.execute(algorithms.get(name).build(**params), inputs)["y"]


@pytest.mark.parametrize("variant", range(len(VARIANTS)), ids=IDS)
@pytest.mark.parametrize("L", [1, 2, 3, 5, 8, 100, 1000])
def test_matches_numpy_convolve(variant, L):
    name, switches = VARIANTS[variant]
    spec = algorithms.get(name)
    inputs = spec.inputs(seed=1000 * L + variant, L=L, **switches)
    y = run(name, {"L": L, **switches}, inputs)
    expected = np.convolve(inputs["K"], inputs["u"])[:L]
    assert y.shape == (L,)
    assert np.linalg.norm(y - expected) <= 1e-10 * np.linalg.norm(expected)


@pytest.mark.parametrize("name, switches", VARIANTS, ids=IDS)
def test_small_example_by_hand(name, switches):
    # y_0 = 1·4, y_1 = 1·5 + 2·4, y_2 = 1·6 + 2·5 + 3·4
    y = run(name, {"L": 3, **switches}, {"K": np.array([1.0, 2.0, 3.0]), "u": np.array([4.0, 5.0, 6.0])})
    np.testing.assert_allclose(y, [4.0, 13.0, 28.0], rtol=1e-13)


@pytest.mark.parametrize("name, switches", VARIANTS, ids=IDS)
def test_impulse_returns_the_problem_set_kernel(name, switches):
    K = np.array([0.0, 1.5, 1.2, 0.96, 0.768])  # A=0.8, B=1, C=1.5, D=0
    y = run(name, {"L": 5, **switches}, {"K": K, "u": np.eye(5)[0]})
    np.testing.assert_allclose(y, K, atol=1e-14)


def test_inputs_are_float64_and_fresh_per_seed():
    spec = algorithms.get("conv-direct")
    a, b = spec.inputs(seed=0, L=50), spec.inputs(seed=1, L=50)
    assert sorted(a) == ["K", "u"] and a["K"].dtype == np.float64 and a["u"].shape == (50,)
    assert not np.array_equal(a["K"], b["K"])
    # the late taps are not negligible, so an error in them would show in the tests above
    assert np.abs(spec.inputs(seed=0, L=1000)["K"][900:]).max() > 0.5


@pytest.mark.parametrize("L", [1, 2, 3, 5, 8, 16, 100])
def test_direct_cost_by_hand(L):
    a = depthgraph.analyze(algorithms.get("conv-direct").build(L=L))
    # y_k is a dot of k+1 terms (work k+1, depth ⌈log2(k+1)⌉ + 1); the stack copies L values.
    assert a.work == sum(k + 1 for k in range(L)) + L
    assert a.span == (L - 1).bit_length() + 1 + 1
    assert a.steps == 2


def test_direct_draws_one_tree_per_position():
    g = algorithms.get("conv-direct").build(L=16)
    for k in range(16):
        node = g.node(f"y_{k}")
        assert node.op == "dot" and node.inputs[0].shape == (k + 1,)


# N, then work 3·N·⌈log2 N⌉ (three transforms) + N//2 + 1 (the complex product), span 2⌈log2 N⌉ + 1;
# an FFT of length 1 still costs 1 and is 1 deep (docs/ops.md).
@pytest.mark.parametrize(
    "L, pow2, N, work, span",
    [(1, False, 2, 3 * 2 * 1 + 2, 3), (1, True, 1, 3 * 1 * 1 + 1, 3),
     (5, False, 10, 3 * 10 * 4 + 6, 9), (5, True, 16, 3 * 16 * 4 + 9, 9),
     (8, False, 16, 3 * 16 * 4 + 9, 9), (8, True, 16, 3 * 16 * 4 + 9, 9),
     (100, False, 200, 3 * 200 * 8 + 101, 17), (100, True, 256, 3 * 256 * 8 + 129, 17),
     (129, False, 258, 3 * 258 * 9 + 130, 19), (129, True, 512, 3 * 512 * 9 + 257, 19)],
)
def test_fft_cost_by_hand(L, pow2, N, work, span):
    g = algorithms.get("conv-fft").build(L=L, pow2=pow2)
    assert [n.shape for n in g.nodes if n.op == "irfft"] == [(N,)]
    a = depthgraph.analyze(g)
    assert (a.work, a.span, a.steps) == (work, span, 3)


SWEEP = [2**j for j in range(4, 15)]


def sweep(name, **switches):
    analyses = [depthgraph.analyze(algorithms.get(name).build(L=L, **switches)) for L in SWEEP]
    return [a.work for a in analyses], [a.span for a in analyses]


def test_direct_grows_as_the_answer_key_says():
    work, span = sweep("conv-direct")
    # span Θ(log L): doubling L adds exactly one tree level
    assert [b - a for a, b in zip(span, span[1:])] == [1] * (len(SWEEP) - 1)
    # work Θ(L²): doubling L multiplies it by a ratio rising towards 4 (L log L would give ~2)
    ratios = [b / a for a, b in zip(work, work[1:])]
    assert all(3.6 < r <= 4 for r in ratios) and ratios == sorted(ratios)
    assert all(0.5 <= w / L**2 <= 0.6 for w, L in zip(work, SWEEP))


def test_fft_grows_as_the_answer_key_says():
    work, span = sweep("conv-fft", pow2=False)
    # span Θ(log L): doubling L adds the same depth (one level in each of two transforms)
    assert [b - a for a, b in zip(span, span[1:])] == [2] * (len(SWEEP) - 1)
    # work Θ(L log L): W(2L) - 2·W(L) is Θ(L) (it would be O(1) for Θ(L), Θ(L²) for Θ(L²)) ...
    excess = [(w2 - 2 * w1) / L for L, w1, w2 in zip(SWEEP, work, work[1:])]
    assert all(11 <= e <= 13 for e in excess)
    # ... and W / (L log2 L) stays between constants while the ratio falls towards 2
    assert all(6 <= w / (L * np.log2(L)) <= 8 for w, L in zip(work, SWEEP))
    ratios = [b / a for a, b in zip(work, work[1:])]
    assert all(r > 2 for r in ratios) and ratios == sorted(ratios, reverse=True)


def test_pow2_costs_more_work_only_off_powers_of_two():
    fft = algorithms.get("conv-fft")
    for L in (1000, 1025, 3000):
        padded, tight = (depthgraph.analyze(fft.build(L=L, pow2=p)) for p in (True, False))
        assert padded.span == tight.span and padded.work > tight.work
    on_power = [depthgraph.analyze(fft.build(L=1024, pow2=p)) for p in (True, False)]
    assert on_power[0].work == on_power[1].work


def test_builds_fast_at_the_largest_size():
    for name in ("conv-direct", "conv-fft"):
        start = time.perf_counter()
        algorithms.get(name).build(L=2**14)
        assert time.perf_counter() - start < 5


@pytest.mark.parametrize(
    "name, params, message",
    [("conv-direct", {"L": 0}, "conv-direct: L must be an int >= 1, got 0"),
     ("conv-direct", {"pow2": True}, "conv-direct: unknown parameter"),
     ("conv-fft", {"L": 2.5}, "conv-fft: L must be an int >= 1, got 2.5"),
     ("conv-fft", {"pow2": 1}, "conv-fft: pow2 must be True or False, got 1"),
     ("conv-fft", {"n": 4}, "conv-fft: unknown parameter")],
)
def test_bad_params(name, params, message):
    with pytest.raises(depthgraph.ParameterError, match=message):
        algorithms.get(name).build(**params)
