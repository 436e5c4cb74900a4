"""Every executor on the CuPy backend against NumPy float64, float32 runs, and dask-cuda on one and two GPUs.

* float64 on the GPU: every algorithm × executor (eager, levels, levels replaying CUDA graphs, Dask threads with the default
  partition, Dask threads cut into many small tasks) at two small sizes; relative error
  ‖got − ref‖/‖ref‖ ≤ 1e-10 against eager NumPy float64.
* float32: the same graphs converted by ``Graph.astype("float32")``, inputs in float32, against
  the float64 reference: ≤ 1e-4. No algorithm needs skipping: on NumPy float32 the worst at these
  sizes is 4e-7 (ridge-sherman-morrison). The two that lose most as they grow, measured on NumPy
  float32 at L = T = 4096: kernel-dplr 1.7e-5 (its coefficient (s^k − 1)/‖p‖² cancels, about
  eps·2L relative to the rank-one part) and ridge-sherman-morrison 2e-5 (rank-1 updates drift).
  Skipped when ``CUPY_TF32=1`` (TF32 matmuls are only good to ~1e-3).
* Outputs stay on the GPU (CuPy arrays) unless ``to_host=True``.
* dask-cuda: a wide workload (independent channels of kernel-doubling and conv-fft in one graph)
  on a ``LocalCUDACluster`` of one worker, and of two (skipped with fewer than two GPUs).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import algorithms
import depthgraph

pytestmark = pytest.mark.gpu

SIZES = ({"L": 8, "n": 3, "T": 8, "d": 3}, {"L": 33, "n": 4, "T": 33, "d": 4, "weights": True})

# test id -> (executor, options)
EXECUTORS = {
    "eager": ("eager", {}),
    "levels": ("levels", {}),
    "levels-cuda-graph": ("levels", {"cuda_graph": True}),
    "dask-threads": ("dask", {"scheduler": "threads"}),
    # min_task_work=1: many small tasks, so arrays pass between tasks on the GPU.
    "dask-threads-small-tasks": ("dask", {"scheduler": "threads", "blocks": 3, "min_task_work": 1}),
}


def _params(name: str, size: dict) -> dict:
    return {k: v for k, v in size.items() if k in algorithms.get(name).defaults}


def _relative_error(got, want) -> float:
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, (got.shape, want.shape)
    scale = np.linalg.norm(want)
    diff = np.linalg.norm(got - want)
    return float(diff / scale if scale else diff)


def _run(graph, inputs, executor_id: str, **extra):
    executor, options = EXECUTORS[executor_id]
    return depthgraph.execute(graph, inputs, executor=executor, backend="cupy", **options, **extra)


def _reference(graph, inputs) -> dict:
    return depthgraph.execute(graph, inputs, executor="eager", backend="numpy", to_host=True)


@pytest.mark.parametrize("size", range(len(SIZES)))
@pytest.mark.parametrize("executor_id", EXECUTORS)
@pytest.mark.parametrize("name", algorithms.names())
def test_float64_matches_numpy(cupy, name, executor_id, size):
    spec = algorithms.get(name)
    params = _params(name, SIZES[size])
    graph, inputs = spec.build(**params), spec.inputs(seed=size, **params)
    want = _reference(graph, inputs)
    got = _run(graph, {k: cupy.asarray(v) for k, v in inputs.items()}, executor_id, to_host=True)
    assert sorted(got) == sorted(want)
    for out in want:
        assert got[out].dtype == np.float64, out
        assert _relative_error(got[out], want[out]) <= 1e-10, out


@pytest.mark.skipif(not hasattr(depthgraph.Graph, "astype"), reason="depthgraph.Graph.astype is not there yet")
@pytest.mark.skipif(os.environ.get("CUPY_TF32") == "1", reason="CUPY_TF32=1: float32 matmuls run in TF32 (~1e-3)")
@pytest.mark.parametrize("executor_id", EXECUTORS)
@pytest.mark.parametrize("name", algorithms.names())
def test_float32_within_1e4(cupy, name, executor_id):
    spec = algorithms.get(name)
    params = _params(name, SIZES[1])
    graph, inputs = spec.build(**params), spec.inputs(seed=2, **params)
    want = _reference(graph, inputs)
    got = _run(graph.astype("float32"), {k: cupy.asarray(v, dtype=cupy.float32) for k, v in inputs.items()},
               executor_id, to_host=True)
    for out in want:
        assert got[out].dtype == np.float32, out
        assert _relative_error(got[out], want[out]) <= 1e-4, out


@pytest.mark.parametrize("executor_id", EXECUTORS)
def test_outputs_on_device_unless_to_host(cupy, executor_id):
    spec = algorithms.get("kernel-doubling")
    graph, inputs = spec.build(L=16, n=4), spec.inputs(seed=3, L=16, n=4)  # NumPy inputs: moved to the GPU
    on_device = _run(graph, inputs, executor_id)
    on_host = _run(graph, inputs, executor_id, to_host=True)
    assert isinstance(on_device["K"], cupy.ndarray)
    assert isinstance(on_host["K"], np.ndarray)
    want = _reference(graph, inputs)["K"]
    assert _relative_error(cupy.asnumpy(on_device["K"]), want) <= 1e-10
    assert _relative_error(on_host["K"], want) <= 1e-10


# ------------------------------------------------------------------ dask-cuda


def _wide_workload(channels: int = 8):
    """One graph of ``channels`` independent channels (kernel-doubling and conv-fft in turn), and its inputs."""
    if not hasattr(depthgraph.Graph, "embed"):
        pytest.skip("depthgraph.Graph.embed is not there")
    cases = [("kernel-doubling", {"L": 64, "n": 8}), ("conv-fft", {"L": 256})]
    graph, inputs = depthgraph.Graph(), {}
    for c in range(channels):
        name, params = cases[c % len(cases)]
        spec = algorithms.get(name)
        for out, node in graph.embed(spec.build(**params), f"c{c}/").items():
            graph.output(f"c{c}/{out}", node)
        inputs.update({f"c{c}/{k}": v for k, v in spec.inputs(seed=c, **params).items()})
    return graph, inputs


def _cuda_client(n_workers: int):
    """Yield a Client of a LocalCUDACluster with one worker per GPU 0..n_workers-1; close both after."""
    dask_cuda = pytest.importorskip("dask_cuda")
    distributed = pytest.importorskip("distributed")
    devices = ",".join(str(i) for i in range(n_workers))
    with dask_cuda.LocalCUDACluster(n_workers=n_workers, CUDA_VISIBLE_DEVICES=devices) as cluster, \
            distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def cuda_client_1(cupy):
    yield from _cuda_client(1)


@pytest.fixture(scope="module")
def cuda_client_2(cupy):
    if cupy.cuda.runtime.getDeviceCount() < 2:
        pytest.skip("needs 2 GPUs")
    yield from _cuda_client(2)


def _check_wide_on(client, cupy) -> None:
    graph, inputs = _wide_workload()
    want = _reference(graph, inputs)
    got = depthgraph.execute(graph, inputs, executor="dask", backend="cupy", scheduler=client, to_host=True)
    assert sorted(got) == sorted(want)
    for out in want:
        assert isinstance(got[out], np.ndarray), out
        assert _relative_error(got[out], want[out]) <= 1e-10, out
    on_device = depthgraph.execute(graph, inputs, executor="dask", backend="cupy", scheduler=client)
    assert all(isinstance(v, cupy.ndarray) for v in on_device.values())


def test_dask_cuda_one_gpu(cupy, cuda_client_1):
    assert len(cuda_client_1.nthreads()) == 1
    _check_wide_on(cuda_client_1, cupy)


def test_dask_cuda_two_gpus(cupy, cuda_client_2):
    assert len(cuda_client_2.nthreads()) == 2
    _check_wide_on(cuda_client_2, cupy)
