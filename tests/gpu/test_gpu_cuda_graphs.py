"""The levels executor replaying CUDA graphs (``cuda_graph=True``): new inputs, fresh outputs, what runs where.

Correctness of every algorithm with ``cuda_graph=True`` against NumPy float64 is in
`test_gpu_executors` (executor id ``levels-cuda-graph``); here, what replay adds: a recording is
made once per input signature and then reused, results follow the inputs of each call (nothing
stale is replayed), returned arrays are not overwritten by later calls, and the groups that
cannot be captured run between graphs.
"""

from __future__ import annotations

import numpy as np
import pytest

import algorithms
import depthgraph
from depthgraph.executors.cuda_graphs import Recording

pytestmark = pytest.mark.gpu


def _graph(name: str, **params):
    spec = algorithms.get(name)
    params = spec.params(**{k: v for k, v in params.items() if k in spec.defaults})
    return spec, params, spec.build(**params)


def _recordings(graph) -> list[Recording]:
    return [v for v in depthgraph.schedule(graph)._device.values() if isinstance(v, Recording)]


@pytest.mark.parametrize("name", ["kernel-doubling", "scan-blelloch", "ridge-causal-solve", "conv-fft"])
def test_each_call_follows_its_own_inputs(cupy, name):
    spec, params, graph = _graph(name, L=33, n=4, T=33, d=4)
    results = []
    for seed in range(3):
        inputs = spec.inputs(seed=seed, **params)
        want = depthgraph.execute(graph, inputs, executor="eager", backend="numpy", to_host=True)
        got = depthgraph.execute(graph, {k: cupy.asarray(v) for k, v in inputs.items()}, executor="levels",
                                 backend="cupy", cuda_graph=True)
        results.append((got, want))
    assert len(_recordings(graph)) == 1  # recorded on the first call, replayed on the next two
    for got, want in results:  # checked after all three calls: an earlier result was not overwritten
        for out in want:
            np.testing.assert_allclose(cupy.asnumpy(got[out]), want[out], rtol=1e-10, atol=1e-12)


def test_a_new_input_shape_records_again(cupy):
    g = depthgraph.Graph()
    x = g.input("x", (3,), dtype="float64")
    g.output("y", depthgraph.ops.exp(x) + x)
    for dtype in ("float64", "float32"):  # float32 casts safely into the float64 input: same signature after binding
        got = depthgraph.execute(g, {"x": cupy.arange(3, dtype=dtype)}, executor="levels", backend="cupy",
                                 cuda_graph=True, to_host=True)
        np.testing.assert_allclose(got["y"], np.exp(np.arange(3.0)) + np.arange(3.0), rtol=1e-12)
    assert len(_recordings(g)) == 1


def test_a_cublas_free_schedule_is_one_graph(cupy):
    spec, params, graph = _graph("scan-hillis-steele", L=64, n=4)
    inputs = {k: cupy.asarray(v) for k, v in spec.inputs(seed=0, **params).items()}
    depthgraph.execute(graph, inputs, executor="levels", backend="cupy", cuda_graph=True)
    (recording,) = _recordings(graph)
    assert recording.eager == ()
    assert recording.graphs == 1


@pytest.mark.parametrize("name, limits, between", [
    ("ridge-causal-solve", {}, set()),  # small systems: the module's own solve kernel, captured
    ("ridge-causal-solve", {"SMALL_SOLVE_BYTES": 0}, {"solve"}),  # every system over the limit: cuSOLVER
    ("kernel-doubling", {}, set()),  # small products: the module's own kernel, captured
    ("kernel-doubling", {"SMALL_MATMUL": 0}, {"matmul"}),  # every product over the limit: cuBLAS, between graphs
])
def test_groups_that_cannot_be_captured_run_between_graphs(cupy, monkeypatch, name, limits, between):
    from depthgraph.executors import cuda_graphs

    for limit, value in limits.items():
        monkeypatch.setattr(cuda_graphs, limit, value)
    spec, params, graph = _graph(name, L=64, n=8, T=64, d=8)
    for seed in (1, 2):  # the second call replays: groups between graphs must see its inputs too
        inputs = spec.inputs(seed=seed, **params)
        got = depthgraph.execute(graph, {k: cupy.asarray(v) for k, v in inputs.items()}, executor="levels",
                                 backend="cupy", cuda_graph=True, to_host=True)
        want = depthgraph.execute(graph, inputs, executor="eager", backend="numpy", to_host=True)
        for out in want:
            np.testing.assert_allclose(got[out], want[out], rtol=1e-10, atol=1e-12)
    (recording,) = _recordings(graph)
    assert set(recording.eager) == between
    assert recording.graphs >= 1


@pytest.mark.parametrize("shapes", [
    ((5, 7), (7, 3)), ((7,), (7, 3)), ((5, 7), (7,)), ((7,), (7,)),  # NumPy's 1-D rules
    ((4, 5, 7), (4, 7, 3)), ((1, 5, 7), (4, 7, 1)), ((4, 5, 7), (7, 3)), ((2, 1, 5, 7), (1, 3, 7, 2)),  # batches
    ((0, 5, 7), (1, 7, 3)), ((5, 0), (0, 3)),  # empty batch, empty inner dimension
    ((3, 5000), (5000, 2)), ((5000,), (5000,)), ((2, 1, 1, 3000), (4, 3000, 1)),  # long sums: a reduction
])
def test_the_capturable_matmul_is_numpys(cupy, shapes):
    from depthgraph.executors.cuda_graphs import CapturableCupy

    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal(s) for s in shapes)
    got = CapturableCupy(cupy).matmul(cupy.asarray(a), cupy.asarray(b.astype(np.float32)))
    assert got.dtype == np.float64
    np.testing.assert_allclose(cupy.asnumpy(got), a @ b.astype(np.float32), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("q", [4, 3000])  # the small-product kernel; a long sum's reduction
def test_the_capturable_matmul_is_captured(cupy, q):
    from depthgraph.executors.cuda_graphs import CapturableCupy

    xp = CapturableCupy(cupy)
    a, b = cupy.arange(3.0 * q).reshape(3, q), cupy.ones((q, 2))
    out = cupy.empty((3, 2))
    stream = cupy.cuda.Stream(non_blocking=True)
    with stream:
        xp.matmul(a, b)  # compiled outside the capture
        stream.begin_capture()
        try:
            cupy.copyto(out, xp.matmul(a, b))
        finally:
            graph = stream.end_capture()
        a += 1.0  # changed after capture: the replay must read the new values
        graph.launch(stream)
    stream.synchronize()
    np.testing.assert_allclose(cupy.asnumpy(out), (np.arange(3.0 * q).reshape(3, q) + 1.0) @ np.ones((q, 2)))


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_the_capturable_concatenate_is_numpys(cupy, axis):
    from depthgraph.executors.cuda_graphs import CapturableCupy

    rng = np.random.default_rng(1)
    pieces = [rng.standard_normal((3, 2, 4)) for _ in range(40)]  # many: CuPy would upload an address table
    got = CapturableCupy(cupy).concatenate([cupy.asarray(p) for p in pieces], axis=axis)
    np.testing.assert_array_equal(cupy.asnumpy(got), np.concatenate(pieces, axis=axis))


@pytest.mark.parametrize("name", algorithms.names())
def test_captures_tells_from_the_schedule_which_groups_run_between_graphs(cupy, monkeypatch, name):
    # `depthgraph.predict` reads `captures`; the recording finds out by trying. They must agree.
    from depthgraph.executors import cuda_graphs

    monkeypatch.setattr(cuda_graphs, "SMALL_MATMUL", 1 << 10)  # some products above the limit, some below
    spec, params, graph = _graph(name, L=64, n=16, T=16, d=48)
    inputs = {k: cupy.asarray(v) for k, v in spec.inputs(seed=0, **params).items()}
    depthgraph.execute(graph, inputs, executor="levels", backend="cupy", cuda_graph=True)
    (recording,) = _recordings(graph)
    plan = depthgraph.schedule(graph)
    assert recording.eager == tuple(g.op for g in plan.groups if not cuda_graphs.captures(g))


def _systems(rng, a_shape, b_shape, dtype):
    d = a_shape[-1]
    a = rng.standard_normal(a_shape) + d * np.eye(d) if d else np.empty(a_shape)
    a = a[..., rng.permutation(d), :]  # rows out of order: the elimination must pivot to stay accurate
    return a.astype(dtype), rng.standard_normal(b_shape).astype(dtype)


@pytest.mark.parametrize("a_shape, b_shape", [
    ((6, 6), (6,)), ((6, 6), (6, 3)), ((1, 1), (1,)),  # one system; NumPy 2: only a 1-D b is a vector
    ((5, 6, 6), (5, 6, 1)), ((1, 6, 6), (4, 6, 2)), ((4, 6, 6), (6, 2)), ((2, 1, 6, 6), (1, 3, 6, 1)),  # batches
    ((300, 64, 64), (300, 64, 1)), ((64, 64), (64, 64)),  # ridge-causal-solve's and ridge-noncausal's systems
    ((0, 6, 6), (0, 6, 1)),  # an empty batch
    ((3, 128, 128), (3, 128, 1)),  # too big for shared memory: cuSOLVER's answer
])
@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-10), ("float32", 1e-4)])
def test_the_capturable_solve_is_numpys(cupy, a_shape, b_shape, dtype, rtol):
    from depthgraph.executors.cuda_graphs import CapturableCupy

    a, b = _systems(np.random.default_rng(2), a_shape, b_shape, dtype)
    got = CapturableCupy(cupy).linalg.solve(cupy.asarray(a), cupy.asarray(b))
    assert got.dtype == dtype
    want = np.linalg.solve(a.astype(np.float64), b.astype(np.float64))
    np.testing.assert_allclose(cupy.asnumpy(got), want, rtol=rtol, atol=rtol)


def test_the_capturable_inverse_is_numpys(cupy):
    from depthgraph.executors.cuda_graphs import CapturableCupy

    a, _ = _systems(np.random.default_rng(3), (3, 20, 20), (1,), "float64")
    got = CapturableCupy(cupy).linalg.inv(cupy.asarray(a))
    np.testing.assert_allclose(cupy.asnumpy(got), np.linalg.inv(a), rtol=1e-10, atol=1e-12)


def test_the_capturable_solve_is_captured(cupy):
    from depthgraph.executors.cuda_graphs import CapturableCupy

    xp = CapturableCupy(cupy)
    a_host, b_host = _systems(np.random.default_rng(4), (8, 16, 16), (8, 16, 1), "float64")
    a, b = cupy.asarray(a_host), cupy.asarray(b_host)
    out = cupy.empty(b.shape)
    stream = cupy.cuda.Stream(non_blocking=True)
    with stream:
        xp.linalg.solve(a, b)  # compiled outside the capture
        stream.begin_capture()
        try:
            cupy.copyto(out, xp.linalg.solve(a, b))
        finally:
            graph = stream.end_capture()
        b *= 2.0  # changed after capture: the replay must read the new values
        graph.launch(stream)
    stream.synchronize()
    np.testing.assert_allclose(cupy.asnumpy(out), np.linalg.solve(a_host, 2.0 * b_host), rtol=1e-10)
