"""The cost model on a GPU: the spin-held clock splits host from device time, calibration fits both.

Written after the H100 runs of 2026-11-22 (docs/BENCHMARKS.md), so that a later session can check
the mechanics in one call before spending device time on a full calibration.
"""

from __future__ import annotations

import pytest

import algorithms
import depthgraph
from algorithms.validate import measure
from depthgraph.calibrate import Clock, calibrate

pytestmark = pytest.mark.gpu


def test_clock_separates_a_long_kernel_from_its_launch():
    import cupy

    clock = Clock("cupy")
    a = cupy.ones((4096, 4096))
    host, device = clock.measure(lambda: a @ a, trials=3, min_samples=2)
    # 2·4096³ flops: at least 0.1 ms on any current GPU; the launch is tens of µs at most.
    assert device > 1e-4
    assert host < device


def test_calibrated_profile_predicts_a_small_graph_within_a_factor_of_two():
    used = {n.op for n in algorithms.get("kernel-doubling").build(L=64, n=8).nodes} - {"input"}
    profile = calibrate("cupy", only=used, max_elements=2 ** 16, progress=False, trials=3, min_samples=2)
    assert not profile.synchronous and profile.device
    spec = algorithms.get("kernel-doubling")
    params = spec.params(L=64, n=8)
    graph = spec.build(**params)
    import cupy

    inputs = {k: cupy.asarray(v) for k, v in spec.inputs(seed=0, **params).items()}
    measured = measure(lambda: depthgraph.execute(graph, inputs, executor="levels", backend="cupy"), Clock("cupy"))
    predicted = depthgraph.predict(graph, "levels", profile).seconds
    assert 0.5 < predicted / measured < 2.0
