"""Copying gathers: the plan's runs and entries by hand, and its copies against NumPy indexing."""

import numpy as np
import pytest

from depthgraph.executors import gathers


def expected(pieces, slabs, member, count):
    """The gather computed element by element from the pieces' positions."""
    out = np.zeros((count, member), dtype=np.result_type(*[slabs[slab] for slab, _, _ in pieces]))
    for slab, indices, positions in pieces:
        flat = slabs[slab].reshape(-1)
        for i, where in zip(indices, positions):
            out[i] = flat[where + np.arange(member)] if np.ndim(where) == 0 else flat[where]
    return out


def test_runs_are_the_longest_common_split_of_every_value():
    # values of 6 elements: one in runs 2 + 4 (breaks at 2), one in runs 4 + 2 (break at 4):
    # both split into runs of 2, the longest length dividing 6 and both breaks
    positions = np.array([[10, 11, 20, 21, 22, 23], [0, 1, 2, 3, 8, 9]])
    c = gathers.plan(6, [(0, np.array([1, 0]), positions)])
    assert c.block == 2
    assert c.entries.tolist() == [[0] * 6, [10, 20, 22, 0, 2, 8], [3, 4, 5, 0, 1, 2]]
    slab = np.arange(30.0)
    np.testing.assert_array_equal(c.run(np, {0: slab}), expected([(0, [1, 0], positions)], {0: slab}, 6, 2).ravel())


def test_consecutive_values_are_one_run_each():
    c = gathers.plan(4, [(3, np.array([0, 2]), np.array([8, 0])), (5, np.array([1]), np.array([4]))])
    assert (c.sources, c.block, c.bounds) == ((3, 5), 4, (0, 2, 3))
    assert c.nbytes(8) == 2 * 12 * 8 + 3 * 24 and c.elements == 12 and c.launches == 1


@pytest.mark.parametrize("sources", [1, 3, 300])
def test_random_gathers_match_numpy_indexing(sources):
    rng = np.random.default_rng(sources)
    member, per_slab = 5, 3
    slabs = {10 + s: rng.standard_normal((4, member)) for s in range(sources)}
    where = np.split(rng.permutation(sources * per_slab), sources)
    pieces = []
    for s, slab in enumerate(slabs):
        if s % 2:  # whole rows: first positions
            pieces.append((slab, where[s], rng.permutation(4)[:per_slab] * member))
        else:  # scattered elements
            pieces.append((slab, where[s], rng.permutation(4 * member)[:per_slab * member].reshape(per_slab, member)))
    c = gathers.plan(member, pieces)
    assert c.launches == -(-sources // gathers.SOURCES_PER_LAUNCH)
    out = c.run(np, slabs).reshape(-1, member)
    np.testing.assert_array_equal(out, expected(pieces, slabs, member, sources * per_slab))


def test_sources_of_other_dtypes_are_cast_to_the_results():
    slabs = [np.array([[1, 2]], dtype=np.int64), np.array([[0.5, 1.5]])]
    c = gathers.plan(2, [(0, np.array([1]), np.array([0])), (1, np.array([0]), np.array([0]))], "float64")
    out = c.run(np, slabs)
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, [0.5, 1.5, 1.0, 2.0])
