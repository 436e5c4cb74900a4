"""The cost model on a GPU: the spin-held clock splits host from device time, calibration fits both.

Written after the H100 runs of 2026-11-22 (docs/BENCHMARKS.md), so that a later session can check
the mechanics in one call before spending device time on a full calibration.
"""

from __future__ import annotations

import pytest

import algorithms
from algorithms.validate import validate
from depthgraph.calibrate import calibrate
from depthgraph.timing import Clock

pytestmark = pytest.mark.gpu


def test_clock_separates_a_long_kernel_from_its_launch():
    import cupy

    clock = Clock("cupy")
    a = cupy.ones((4096, 4096))
    host, device = clock.measure(lambda: a @ a, trials=3, min_samples=2)
    # 2·4096³ flops: at least 0.1 ms on any current GPU; the launch is tens of µs at most.
    assert device > 1e-4
    assert host < device


@pytest.fixture(scope="module")
def small_profile():
    used = {n.op for n in algorithms.get("kernel-doubling").build(L=64, n=8).nodes} - {"input"}
    return calibrate("cupy", only=used, max_elements=2 ** 16, progress=False, trials=3, min_samples=2, seconds=0)


@pytest.mark.parametrize("executor", ["levels", "graphs"])  # graphs: levels replaying CUDA graphs
def test_calibrated_profile_predicts_a_small_graph_within_a_factor_of_two(small_profile, executor):
    assert not small_profile.synchronous and small_profile.device
    assert small_profile.in_situ  # CuPy's default
    # Judged by validation itself: at the host's speed measured beside the graph. Within one
    # process on an H200 (2026-12-03) this graph measured 0.76–1.42 ms, and a 9 s calibration's
    # prediction as calibrated, without that correction, missed the factor of two once.
    [result] = validate(small_profile, (executor,), points={"kernel": [("kernel-doubling", {"L": 64, "n": 8})]},
                        rounds=5, seconds=0.1)
    assert 0.5 < result.predicted_s / result.measured_s < 2.0, result


def test_calibration_times_calls_replayed_from_graphs(small_profile):
    calls, overheads = small_profile.calls, small_profile.overheads
    # products up to 256×256·256 = 2^24 multiply-adds: the capturable kernel, so every footprint replayed
    assert calls["matmul:impl"].graph is not None and calls["matmul:impl"].graph.latency > 0
    assert calls["copyto:buffer"].graph is not None  # replay's own copies were timed too
    assert overheads["graphs:launch"] > 0 and "graphs:run" in overheads


def test_calibration_samples_copy_like_replay():
    import cupy

    from depthgraph.calibrate import samples

    copies = [s for s in samples("cupy", only=["add"], max_elements=4096) if s.kind == "copyto:buffer"]
    assert copies
    for s in copies:
        buffer, source = s.make()
        s.call(cupy, [buffer, source])
        assert bool(cupy.array_equal(buffer, source)) and s.nbytes == 2 * source.nbytes
