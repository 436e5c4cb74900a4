"""Timing: robust medians, the host clock on NumPy, the host's reference."""

import time

import pytest

from depthgraph.timing import Clock, robust_median


def test_robust_median_rejects_outliers():
    median, kept = robust_median([1.0, 1.1, 0.9, 1.05, 0.95, 50.0])
    assert kept == 5 and median == pytest.approx(1.0)


def test_numpy_clock_times_the_host_only():
    host, device = Clock("numpy").measure(lambda: sum(range(1000)), trials=3, min_samples=2)
    assert host > 0 and device == 0


def test_reference_times_the_hosts_work(monkeypatch):
    clock = Clock("numpy")
    base = clock.reference()
    assert base > 0
    # a host with ≥ 20 µs more per call: the reference takes at least its calls times 20 µs
    real_ones = clock.xp.ones

    class Slow:
        def __init__(self, n):
            self.array = real_ones(n)

        def __add__(self, other):
            time.sleep(2e-5)
            return self.array + other.array

    monkeypatch.setattr(clock, "xp", type("xp", (), {"ones": staticmethod(Slow)}))
    slow = clock.reference()
    assert slow >= Clock.REFERENCE_CALLS * 2e-5 and slow > base  # every call's sleep is counted
