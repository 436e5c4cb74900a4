"""The copying-gather kernel on CuPy against the same plan run on NumPy, and under CUDA-graph capture."""

from __future__ import annotations

import numpy as np
import pytest

from depthgraph.executors import gathers
from depthgraph.executors.cuda_graphs import capture

pytestmark = pytest.mark.gpu


def _random_plan(rng, sources, member, dtype):
    """Half the rows of each source slab, in a random order: odd slabs whole rows, even ones scattered elements."""
    rows, picked = 6, 3
    slabs = {s: (rng.standard_normal((rows, member)) * 100).astype(dtype) for s in range(sources)}
    where = np.split(rng.permutation(sources * picked), sources)
    pieces = [(s, where[s], rng.permutation(rows)[:picked] * member) if s % 2 else
              (s, where[s], rng.permutation(rows * member)[:picked * member].reshape(picked, member))
              for s in range(sources)]
    return gathers.plan(member, pieces), slabs


@pytest.mark.parametrize("dtype", ["float64", "float32", "complex128", "int8", "bool"])
@pytest.mark.parametrize("sources", [1, 9, 300])  # one slab; past the 8-address kernel; two launches
def test_kernel_copies_what_numpy_copies(cupy, sources, dtype):
    copy, slabs = _random_plan(np.random.default_rng(sources), sources, 7, dtype)
    want = copy.run(np, slabs)
    got = copy.run(cupy, {s: cupy.asarray(a) for s, a in slabs.items()})
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got.get(), want)


def test_kernel_replays_from_a_cuda_graph_with_new_slab_contents(cupy):
    copy, slabs = _random_plan(np.random.default_rng(0), 20, 16, "float64")
    device = {s: cupy.asarray(a) for s, a in slabs.items()}
    copy.run(cupy, device)  # warm: compiles the kernel and uploads the entries, which capture cannot do
    stream = cupy.cuda.Stream(non_blocking=True)
    result = {}
    with stream:
        graph = capture(stream, lambda: result.setdefault("out", copy.run(cupy, device)))
    assert graph is not None
    for a in device.values():
        a *= -2.0
    graph.launch(stream)
    stream.synchronize()
    np.testing.assert_array_equal(result["out"].get(), copy.run(np, {s: -2.0 * a for s, a in slabs.items()}))


@pytest.mark.parametrize("dtypes, result", [(("int64", "float64"), "float64"), (("float32", "complex128"), "complex128"),
                                            (("bool", "int8", "int32"), "int32")])
def test_sources_of_other_dtypes_are_cast_before_the_kernel_copies(cupy, dtypes, result):
    # The kernel copies bit for bit by the first slab's itemsize: mixed sources must be cast to the
    # result's dtype first (`Copy.dtype`), or the bytes of a narrower slab would be misread.
    rng = np.random.default_rng(len(dtypes))
    slabs = {s: (rng.standard_normal((4, 3)) * 10).astype(dtype) for s, dtype in enumerate(dtypes)}
    pieces = [(s, np.arange(2) + 2 * s, np.array([3, 0])) for s in slabs]  # rows 1 and 0 of each, as offsets
    copy = gathers.plan(3, pieces, result)
    want = np.concatenate([slabs[s].reshape(-1)[[3, 4, 5, 0, 1, 2]].astype(result) for s in slabs])
    np.testing.assert_array_equal(copy.run(np, slabs), want)
    got = copy.run(cupy, {s: cupy.asarray(a) for s, a in slabs.items()})
    assert got.dtype == np.dtype(result)
    np.testing.assert_array_equal(got.get(), want)
