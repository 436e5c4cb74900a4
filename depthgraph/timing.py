"""Timing on a host and a GPU: robust medians, a clock that splits host from device time, and the
host's speed.

**The host's speed is not constant.** On the lent cloud machines (and the CPU development VM) the
host CPU runs in phases, seconds long, about 1.3–1.6× apart in speed, and what the host does
speeds up and slows down with them: over 40 s on an H100 VM, 2-second medians of a pure-Python
loop, of CuPy calls and of whole host-bound levels runs swing between about 0.6 and 1.2 of their
overall medians, with correlations of 0.88–1.00 between them (``bench/host_speed.py``;
docs/BENCHMARKS.md, fifth session). A host-bound run's time therefore depends on when it is
measured, by as much as a cost model's error. So a `Clock` also times a fixed *reference*
(`Clock.reference`): calibration keeps host costs at one reference speed
(`depthgraph.cost.Profile.host_reference`), and a prediction for the host as it runs at another
time scales them by its speed then (`depthgraph.cost.Profile.at_host_speed`). The reference
follows the runs only partly (and scaling by it made validation's error larger as often as
smaller), so runs that are to be compared are timed together, round robin (`Clock.walls`): all
across the same phases, and validation measures the host's speed with calibration's own
overhead graphs timed in its rounds (`depthgraph.overheads.host_speed`).
"""

from __future__ import annotations

import platform
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from depthgraph.errors import ParameterError
from depthgraph.executors.backend import array_module
from depthgraph.executors.cuda_graphs import capture


def robust_median(values: list[float]) -> tuple[float, int]:
    """Median after rejecting values over 3 scaled MADs from it; also how many were kept.

    >>> robust_median([1.0, 1.1, 0.9, 50.0])
    (1.0, 3)
    """
    v = np.asarray(values)
    median = float(np.median(v))
    mad = 1.4826 * float(np.median(np.abs(v - median)))
    kept = v[np.abs(v - median) <= 3 * mad] if mad > 0 else v
    return float(np.median(kept)), len(kept)


class Clock:
    """Times R back-to-back calls of a function: ``(host seconds, device seconds)`` per call.

    On NumPy the device seconds are 0 (the host does the work). On CuPy a spin kernel holds the
    device while the host queues the calls, so that events around them time only the device.
    """

    SPIN = r'''extern "C" __global__ void spin(long long cycles) {
        long long start = clock64();
        while (clock64() - start < cycles) { }
    }'''
    REFERENCE_CALLS = 100

    def __init__(self, backend: str) -> None:
        self.backend, self.xp = backend, array_module(backend)
        self.gpu = backend == "cupy"
        if self.gpu:
            try:
                self.hz = self.xp.cuda.Device().attributes["ClockRate"] * 1e3
            except RuntimeError as exc:  # CuPy without a usable GPU (CUDARuntimeError)
                raise ParameterError(f"backend 'cupy' is not available: {exc}") from None
            self.spin = self.xp.RawKernel(self.SPIN, "spin")
        self.device = _device_name(backend, self.xp)

    def sync(self) -> None:
        if self.gpu:
            self.xp.cuda.get_current_stream().synchronize()

    def reference(self) -> float:
        """Host seconds of a fixed reference: `REFERENCE_CALLS` additions of two 16-element arrays.

        Host-bound on either backend (a GPU's host launches each; NumPy's cost is the call), so
        its time follows the host's speed; calibration and validation take it next to what they
        time (see the module doc).

        >>> Clock("numpy").reference() > 0
        True
        """
        a, b = self.xp.ones(16), self.xp.ones(16)
        a + b  # warm: a first call may compile a kernel
        self.sync()
        start = time.perf_counter()
        for _ in range(self.REFERENCE_CALLS):
            a + b
        seconds = time.perf_counter() - start
        self.sync()
        return seconds

    def wall(self, run: Callable[[], Any], min_repeats: int = 5, min_seconds: float = 0.1) -> tuple[float, float]:
        """Median wall seconds of ``run`` (synchronised) after two warm-up runs, over at least
        ``min_repeats`` repeats and ``min_seconds``, and the median `reference` timed before each
        repeat: `walls` of one run.

        >>> seconds, reference = Clock("numpy").wall(lambda: sum(range(1000)))
        >>> seconds > 0 and reference > 0
        True
        """
        return self.walls([run], min_repeats, min_seconds)[0]

    def walls(self, runs: Sequence[Callable[[], Any]], min_rounds: int = 5, min_seconds: float = 0.1,
              round_seconds: float = 2e-3, max_rounds: int = 100,
              progress: Callable[[str], None] = lambda step: None) -> list[tuple[float, float]]:
        """Median wall seconds of each of ``runs`` (each run synchronised), timed round robin, and
        the median `reference` before its repeats: the host's speed while it was timed.

        After two warm-up runs of each, every round times each run in turn — the reference, then
        the run repeated for at least ``round_seconds``, so that a short run is timed mostly warm,
        as it runs repeated, rather than each time after other work — until ``min_rounds`` rounds and
        ``min_seconds`` have passed (at most ``max_rounds``); ``progress(step)`` after each
        warm-up and each round. The host's speed changes in phases seconds long (module doc): timed one
        after another, each run would be timed in a phase of its own, and two runs' times would
        compare as much by their phases as by their work. Round robin over enough seconds, every
        run is timed across the same phases, and its median is at the host's median speed over
        them — as a calibration, which spans minutes, is.

        >>> clock = Clock("numpy")
        >>> short, longer = clock.walls([lambda: sum(range(100)), lambda: sum(range(100_000))], min_seconds=0.05)
        >>> short[0] < longer[0] and short[1] > 0
        True
        """
        for i, run in enumerate(runs):
            for _ in range(2):
                run()
            self.sync()
            progress(f"warm-up {i + 1}/{len(runs)}")
        times: list[list[float]] = [[] for _ in runs]
        references: list[list[float]] = [[] for _ in runs]
        start, rounds = time.perf_counter(), 0
        while rounds < min_rounds or time.perf_counter() - start < min_seconds and rounds < max_rounds:
            for run, mine, theirs in zip(runs, times, references):
                theirs.append(self.reference())
                begun = time.perf_counter()
                while True:
                    t0 = time.perf_counter()
                    run()
                    self.sync()
                    mine.append(time.perf_counter() - t0)
                    if time.perf_counter() - begun >= round_seconds:
                        break
            rounds += 1
            progress(f"round {rounds}")
        return [(float(np.median(mine)), float(np.median(theirs))) for mine, theirs in zip(times, references)]

    def trial(self, call: Callable[[], Any], repeats: int, spin_seconds: float = 1e-3) -> tuple[float, float]:
        """Per-call ``(host, device)`` seconds of ``repeats`` back-to-back calls; on a GPU the device is
        first held for ``spin_seconds`` (doubled until the host has queued every call in that time)."""
        if not self.gpu:
            start = time.perf_counter()
            for _ in range(repeats):
                call()
            return (time.perf_counter() - start) / repeats, 0.0
        cuda = self.xp.cuda
        while True:
            self.sync()
            before, start, end = cuda.Event(), cuda.Event(), cuda.Event()
            before.record()
            self.spin((1,), (1,), (np.int64(spin_seconds * self.hz),))
            start.record()
            t0 = time.perf_counter()
            for _ in range(repeats):
                call()
            host = time.perf_counter() - t0
            end.record()
            end.synchronize()
            held = cuda.get_elapsed_time(before, start) * 1e-3
            if host < 0.8 * held:  # the device was held until every call was queued
                return host / repeats, cuda.get_elapsed_time(start, end) * 1e-3 / repeats
            spin_seconds = min(2 * max(spin_seconds, host), 1.0)

    def replayed(self, call: Callable[[], Any], per_call: float, trials: int = 7, min_samples: int = 5,
                 target_seconds: float = 1e-3) -> float | None:
        """Robust median device seconds of ``call`` replayed from a CUDA graph of about
        ``target_seconds`` of back-to-back calls (sized by ``per_call``, an estimate of one call's
        device seconds); None if it cannot be captured (`depthgraph.executors.cuda_graphs.capture`)."""
        cuda = self.xp.cuda
        call()  # warm-up: compilation, plans and index uploads cannot happen during capture
        self.sync()
        repeats = int(min(max(target_seconds / max(per_call, 1e-7), 1), 100))

        def calls() -> None:
            for _ in range(repeats):
                call()

        pool, stream = cuda.MemoryPool(), cuda.Stream(non_blocking=True)
        with cuda.using_allocator(pool.malloc), stream:
            graph = capture(stream, calls)
        if graph is None:
            return None
        graph.upload(stream)
        times: list[float] = []
        while True:
            for _ in range(trials):
                start, end = cuda.Event(), cuda.Event()
                start.record(stream)
                graph.launch(stream)
                end.record(stream)
                end.synchronize()
                times.append(cuda.get_elapsed_time(start, end) * 1e-3 / repeats)
            seconds, kept = robust_median(times)
            if kept >= min_samples or len(times) >= 4 * trials:
                return seconds

    def launch_seconds(self, launches: int = 200) -> float:
        """Host seconds of one ``cupy.cuda.Graph.launch`` (a graph of one small kernel)."""
        cuda = self.xp.cuda
        pool, stream = cuda.MemoryPool(), cuda.Stream(non_blocking=True)
        x = self.xp.ones(64)
        with cuda.using_allocator(pool.malloc), stream:
            x + x  # warm: the kernel compiled before capture
            graph = capture(stream, lambda: x + x)
        graph.upload(stream)
        host, _ = self.trial(lambda: graph.launch(cuda.get_current_stream()), launches)
        self.sync()
        return host

    def measure(self, call: Callable[[], Any], trials: int = 7, min_samples: int = 5,
                target_seconds: float = 1e-3) -> tuple[float, float]:
        """Robust median per-call ``(host, device)`` seconds of ``call``."""
        call()  # warm-up: compilation, plans, handles, memory pool
        self.sync()
        t0 = time.perf_counter()
        call()
        self.sync()
        once = max(time.perf_counter() - t0, 1e-7)  # host and device together: an upper bound of either
        repeats = int(min(max(target_seconds / once, 1), 100))
        spin_seconds = min(max(2 * repeats * once, 1e-3), 1.0)  # long enough to queue every call behind
        hosts, devices = [], []
        while True:
            for _ in range(trials):
                host, device = self.trial(call, repeats, spin_seconds)
                hosts.append(host)
                devices.append(device)
            host, kept_host = robust_median(hosts)
            device, kept_device = robust_median(devices)
            if min(kept_host, kept_device) >= min_samples or len(hosts) >= 4 * trials:
                return host, device


def _device_name(backend: str, xp: Any) -> str:
    if backend == "cupy":
        props = xp.cuda.runtime.getDeviceProperties(xp.cuda.Device().id)
        return props["name"].decode() if isinstance(props["name"], bytes) else str(props["name"])
    return f"{platform.processor() or platform.machine()} CPU ({platform.node()})"
