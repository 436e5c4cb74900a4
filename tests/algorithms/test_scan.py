"""Prefix scans: the generic schedules against NumPy, their combine counts and depths; the three
scan algorithms against a float64 loop, their hand-counted cost, and their growth with L."""

from collections import namedtuple

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import algorithms
import depthgraph
from algorithms.scan import SCANS, blelloch_scan, hillis_steele_scan, sequential_scan

SIZES = [0, 1, 2, 3, 5, 1000]
METHODS = sorted(SCANS)


def add(x, y):
    return x + y


# ---------------------------------------------------------------- the generic scans


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("size", SIZES)
def test_scan_of_sums_is_cumsum(method, size):
    items = np.random.default_rng(size).integers(-100, 100, size)
    assert SCANS[method](list(items), add) == list(np.cumsum(items))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("size", SIZES)
def test_scan_of_products_is_cumprod(method, size):
    items = np.random.default_rng(size).uniform(0.5, 1.5, size)
    got = np.array(SCANS[method](list(items), lambda x, y: x * y))
    np.testing.assert_allclose(got, np.cumprod(items), rtol=1e-12)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("size", SIZES)
def test_scan_keeps_the_order_of_a_non_commutative_combine(method, size):
    # 2×2 matrix products: a scan that swapped or regrouped operands wrongly gets other matrices.
    rng = np.random.default_rng(size)
    mats = [np.linalg.qr(rng.standard_normal((2, 2)))[0] @ np.diag([1.0, 2.0]) for _ in range(size)]
    expected, prefix = [], np.eye(2)
    for m in mats:
        prefix = prefix @ m
        expected.append(prefix)
    got = SCANS[method](mats, lambda x, y: x @ y)
    assert len(got) == size
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-9, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="abcxyz", min_size=1, max_size=3), max_size=200), st.sampled_from(METHODS))
def test_scan_of_concatenation_on_random_sizes(words, method):
    assert SCANS[method](words, add) == ["".join(words[: t + 1]) for t in range(len(words))]


def counting(combine):
    def counted(x, y):
        counted.calls += 1
        return combine(x, y)

    counted.calls = 0
    return counted


def hillis_steele_count(L):
    count, d = 0, 1
    while d < L:
        count += L - d
        d *= 2
    return count


@pytest.mark.parametrize("size", SIZES + [4, 8, 17, 1024, 1023])
def test_combine_counts(size):
    items = list(range(size))
    counts = {}
    for method in METHODS:
        combine = counting(add)
        SCANS[method](items, combine)
        counts[method] = combine.calls
    assert counts["sequential"] == max(size - 1, 0)
    assert counts["hillis-steele"] == hillis_steele_count(size)
    # each level of m items does m - 1 combines (⌊m/2⌋ pairs, ⌈m/2⌉ - 1 fill-ins), and
    # Σ_i ⌊L/2^i⌋ = 2L - popcount(L)
    assert counts["blelloch"] == 2 * size - bin(size).count("1") - size.bit_length()
    assert counts["blelloch"] < max(2 * size, 1)


def combine_depth(x, y):
    """Items are depths: a combine finishes one step after its later operand."""
    return max(x, y) + 1


@pytest.mark.parametrize("k", range(2, 11))
def test_combine_depths_for_powers_of_two(k):
    L = 2**k
    depth = {method: max(SCANS[method]([0] * L, combine_depth)) for method in METHODS}
    assert depth == {"sequential": L - 1, "hillis-steele": k, "blelloch": 2 * k - 2}


def test_scans_accept_tuples_and_do_not_mutate_their_input():
    items = (1, 2, 3)
    for scan in (sequential_scan, hillis_steele_scan, blelloch_scan):
        assert scan(items, add) == [1, 3, 6]
    assert items == (1, 2, 3)


# ---------------------------------------------------------------- the scan algorithms


def reference_scan(a, b):
    h, out = np.zeros(a.shape[1]), np.empty_like(b)
    for t in range(len(a)):
        h = a[t] * h + b[t]
        out[t] = h
    return out


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("L", [1, 2, 3, 5, 8, 100, 1000])
@pytest.mark.parametrize("n", [1, 2, 16])
def test_scan_matches_a_float64_loop(method, L, n):
    spec = algorithms.get(f"scan-{method}")
    inputs = spec.inputs(seed=10**6 * METHODS.index(method) + 1000 * L + n, L=L, n=n)
    h = depthgraph.execute(spec.build(L=L, n=n), inputs)["h"]
    expected = reference_scan(**inputs)
    assert h.shape == (L, n)
    assert np.linalg.norm(h - expected) <= 1e-10 * np.linalg.norm(expected)


def test_scan_inputs_are_contracting_and_fresh_per_seed():
    spec = algorithms.get("scan-blelloch")
    x, y = spec.inputs(seed=0, L=500, n=4), spec.inputs(seed=1, L=500, n=4)
    assert np.max(np.abs(x["a"])) < 0.99 and np.min(x["a"]) < 0 < np.max(x["a"])
    assert not np.array_equal(x["a"], y["a"])


# Hand counts, n = 1 (work scales with n): (work, span). A combine of (a1, b1) then (a2, b2) is
# a2·a1, a2·b1 and an add, each 1 deep; its a-part is dead when the earlier operand starts at
# position 0 ("b only" below: 2 work, else 3). The stack of the L outputs adds L work and 1 span.
HAND = {
    # L-1 combines, b only, one after the other: 2 deep each
    ("sequential", 1): (1, 1), ("sequential", 2): (2 + 2, 3), ("sequential", 3): (4 + 3, 5),
    ("sequential", 8): (14 + 8, 15),
    # L=3. Round 1: t=1 b only, t=2 a and b; round 2: t=2 with t=0, b only. h_2 after round 1
    # has its a at 1 and b at 2, so round 2's multiply ends at 2 and its add at 3.
    ("hillis-steele", 2): (2 + 2, 3), ("hillis-steele", 3): (2 + 3 + 2 + 3, 4),
    # L=4. Round 1: t=1 b only, t=2,3 a and b; round 2: t=2,3 b only. h_3 in round 2 meets h_1
    # (b at 2): multiply at 3, add at 4.
    ("hillis-steele", 4): (2 + 3 + 3 + 2 + 2 + 4, 5),
    # L=5. Round 1: 2 + 3·3; round 2: t=2,3 b only, t=4 a and b; round 3: t=4 b only. h_4 after
    # round 2 has a at 2 and b at 4; round 3 meets h_0 (b at 0): multiply at 3, add at 5.
    ("hillis-steele", 5): (11 + 7 + 2 + 5, 6),
    # L=3: pair (0,1) b only, then t=2 fills in from it, b only: 2 + 2 deep each.
    ("blelloch", 2): (2 + 2, 3), ("blelloch", 3): (2 + 2 + 3, 5),
    # L=4: pairs (0,1) b only and (2,3) a and b; the pair of pairs b only (ends at 4); fill-in
    # t=2 b only.
    ("blelloch", 4): (2 + 3 + 2 + 2 + 4, 5),
    # L=5: as L=4, plus the fill-in of t=4 from the pair of pairs: multiply at 5, add at 6.
    ("blelloch", 5): (9 + 2 + 5, 7),
}


@pytest.mark.parametrize("method, L", sorted(HAND))
def test_scan_cost_by_hand(method, L):
    a = depthgraph.analyze(algorithms.get(f"scan-{method}").build(L=L, n=1))
    assert (a.work, a.span) == HAND[method, L]
    assert a.steps == a.span


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("n", [1, 3, 64])
def test_work_is_linear_in_n(method, n):
    spec = algorithms.get(f"scan-{method}")
    one, many = depthgraph.analyze(spec.build(L=37, n=1)), depthgraph.analyze(spec.build(L=37, n=n))
    assert many.work == n * one.work and many.span == one.span


@pytest.mark.parametrize("k", range(2, 10))
def test_closed_forms_for_powers_of_two(k):
    L = 2**k
    cost = {m: depthgraph.analyze(algorithms.get(f"scan-{m}").build(L=L, n=2)) for m in METHODS}
    assert (cost["sequential"].work, cost["sequential"].span) == (2 * (3 * L - 2), 2 * L - 1)
    assert (cost["hillis-steele"].work, cost["hillis-steele"].span) == (2 * (3 * L * (k - 1) + 4), 2 * k + 1)
    assert (cost["blelloch"].work, cost["blelloch"].span) == (2 * (6 * L - 3 * k - 5), 4 * k - 3)


def test_hillis_steele_span_for_any_length():
    spec = algorithms.get("scan-hillis-steele")
    for L in range(1, 70):
        power_of_two = L & (L - 1) == 0
        assert depthgraph.analyze(spec.build(L=L, n=1)).span == 2 * (L - 1).bit_length() + power_of_two, L


def test_blelloch_span_is_monotone_and_bounded():
    spec = algorithms.get("scan-blelloch")
    spans = [depthgraph.analyze(spec.build(L=L, n=1)).span for L in range(1, 70)]
    assert spans == sorted(spans)
    assert all(s <= 4 * (L - 1).bit_length() - 1 for L, s in enumerate(spans[1:], start=2))


Cost = namedtuple("Cost", "work span")


def sweep(method, top):
    """Work and span at L = 2^4 … 2^top."""
    spec = algorithms.get(f"scan-{method}")
    costs = []
    for k in range(4, top + 1):
        a = depthgraph.analyze(spec.build(L=2**k, n=1))
        costs.append(Cost(a.work, a.span))
    return costs


def test_growth_of_sequential():
    costs = sweep("sequential", 14)
    for small, big in zip(costs, costs[1:]):
        # span 2L - 1: (4L - 1)/(2L - 1) → 2; work ×2 as well
        assert 2 < big.span / small.span <= 2.07
        assert 2 < big.work / small.work <= 2.07


def test_growth_of_blelloch():
    costs = sweep("blelloch", 14)
    assert {big.span - small.span for small, big in zip(costs, costs[1:])} == {4}
    # work = 6L - 3 log2 L - 5: the doubling ratio falls to 2 (an L·log L work would stay above
    # 2·14/13 ≈ 2.15 at 2^14)
    ratios = [big.work / small.work for small, big in zip(costs, costs[1:])]
    assert ratios == sorted(ratios, reverse=True) and 2 < ratios[-1] < 2.001


def test_growth_of_hillis_steele():
    costs = sweep("hillis-steele", 14)
    assert {big.span - small.span for small, big in zip(costs, costs[1:])} == {2}
    # work = 3L(log2 L - 1) + 4: the doubling ratio falls towards 2 as for any L·log L, while
    # work / (L log2 L) settles on a constant (it would vanish for Θ(L), diverge for Θ(L²))
    ratios = [big.work / small.work for small, big in zip(costs, costs[1:])]
    assert all(2.1 < r < 2.7 for r in ratios) and ratios == sorted(ratios, reverse=True)
    per = [c.work / (2**k * k) for k, c in enumerate(costs, start=4)]
    assert all(2 <= p <= 3 for p in per) and per == sorted(per)


@pytest.mark.parametrize(
    "params, message",
    [({"L": 0}, "scan-blelloch: L must be an int >= 1, got 0"),
     ({"n": 1.5}, "scan-blelloch: n must be an int >= 1, got 1.5"),
     ({"T": 4}, "scan-blelloch: unknown parameter")],
)
def test_bad_params(params, message):
    with pytest.raises(depthgraph.ParameterError, match=message):
        algorithms.get("scan-blelloch").build(**params)
