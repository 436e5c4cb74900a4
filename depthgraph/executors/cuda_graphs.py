"""CUDA-graph replay of a levels schedule on CuPy.

Run by the levels executor, each group costs the host tens of microseconds of Python and CuPy
per kernel (gathers, the batched call, a contiguity copy), so a small graph is bound by the
host, not the GPU. Replaying the same kernels from a CUDA graph costs about a microsecond each.

**Recording** (once per schedule and input signature — shapes and dtypes):

1. A warm run compiles every kernel, creates the library handles and uploads the schedule's
   index arrays, which capture cannot do.
2. Each kind of group (op, form, operand shapes) is tried alone in a throwaway capture; a kind
   that fails will run between graphs instead. CuPy refuses every cuBLAS and cuSOLVER call
   while a stream captures ("calling cuBLAS API during stream capture is currently
   unsupported", CuPy 14.2), and its ``concatenate`` of many arrays copies a table of addresses
   from the host, which capture refuses too. So groups compute with `CapturableCupy`: CuPy with
   matrix products up to `SMALL_MATMUL` multiply-adds done by a plain kernel of this module and
   concatenation done by slice copies, both of which can be captured; larger products (where
   cuBLAS's speed outweighs a launch) and solves run between graphs.
3. The run is recorded: inputs copied into fixed buffers, then maximal runs of capturable
   groups each captured into one graph, the others run as usual with their operands and result
   kept. The output reads are captured last.

Every array of the recorded run comes from a private memory pool that nothing else allocates
from, so the addresses the graphs captured stay theirs; a slab freed during the run is reused
later in the same run, in the same stream order on every replay, so memory stays near the
schedule's `Schedule.peak_bytes`. The pool lives as long as the schedule (so as long as the
graph object).

**Replay** copies the inputs in, launches the graphs and runs the groups between them (each
copies its result into its recorded slab), and returns copies of the outputs. All of it is
ordered on one private stream after the caller's current stream, and the caller's stream
waits for it, so results are used as with any CuPy call. One recording is not meant to be
replayed from two threads at once.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from depthgraph.executors import levels
from depthgraph.executors.levels import Group, Schedule


@dataclass
class Eager:
    """A group run between graphs: its operands' recorded slabs and the slab it writes."""

    group: Group
    operands: dict[int, Any]
    out: Any


@dataclass
class Recording:
    """A schedule recorded for one input signature: what `replay` launches, in order."""

    stream: Any
    pool: Any  # the private memory pool every recorded array lives in (kept alive here)
    inputs: dict[str, Any]  # input name -> its fixed device buffer
    steps: list[Any]  # cupy.cuda.Graph or Eager, in run order
    outputs: dict[str, Any]  # output name -> the buffer the last graph writes it to

    @property
    def graphs(self) -> int:
        """Number of CUDA graphs launched per replay."""
        return sum(not isinstance(step, Eager) for step in self.steps)

    @property
    def eager(self) -> tuple[str, ...]:
        """Ops of the groups that run between graphs (not capturable)."""
        return tuple(step.group.op for step in self.steps if isinstance(step, Eager))


#: Largest matrix product (multiply-adds, batch included) that `CapturableCupy` computes with its
#: own kernel rather than cuBLAS: about 20 µs for that kernel on an H100 in float64.
SMALL_MATMUL = 1 << 24


class CapturableCupy:
    """The ``cupy`` module, except that ``concatenate`` and small ``matmul`` and ``dot`` calls can be captured.

    One thread per output element sums its row-by-column products: coalesced for the right
    operand, a broadcast read for the left, and enough threads for the products the levels
    executor batches (a 64×64 matrix times thousands of columns).
    """

    def __init__(self, cupy: Any):
        self._cupy = cupy

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cupy, name)

    def matmul(self, a: Any, b: Any) -> Any:
        cupy = self._cupy
        row, column = a.ndim == 1, b.ndim == 1  # NumPy's rules: a row vector, a column vector
        a, b = (a[None, :] if row else a), (b[:, None] if column else b)
        (p, q), r = a.shape[-2:], b.shape[-1]
        batch = tuple(cupy.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
        count = _size(batch)
        if count * p * q * r > SMALL_MATMUL:
            return cupy.matmul(a[0] if row else a, b[..., 0] if column else b)
        dtype = cupy.result_type(a, b)

        def flat(x: Any, rows: int, cols: int) -> tuple[Any, int]:  # (contiguous array, batch stride)
            if _size(x.shape[:-2]) == 1:
                return cupy.ascontiguousarray(x, dtype=dtype), 0
            return cupy.ascontiguousarray(cupy.broadcast_to(x, batch + (rows, cols)), dtype=dtype), rows * cols

        (a, stride_a), (b, stride_b) = flat(a, p, q), flat(b, q, r)
        out = cupy.empty(batch + (p, r), dtype=dtype)
        _matmul_kernel(cupy)(a.reshape(-1), b.reshape(-1), p, q, r, stride_a, stride_b, out)
        out = out[..., 0] if column else out
        return (out[..., 0] if column else out[..., 0, :]) if row else out

    def concatenate(self, arrays: Any, axis: int = 0) -> Any:
        # CuPy's concatenate of many arrays uploads a table of their addresses from the host,
        # which capture refuses; one slice copy per array is captured like any kernel.
        cupy = self._cupy
        arrays = [cupy.moveaxis(a, axis, 0) for a in arrays]
        out = cupy.empty((sum(len(a) for a in arrays),) + arrays[0].shape[1:], dtype=cupy.result_type(*arrays))
        start = 0
        for a in arrays:
            out[start:start + len(a)] = a
            start += len(a)
        return cupy.moveaxis(out, 0, axis)

    def dot(self, a: Any, b: Any) -> Any:
        if a.ndim > 2 or b.ndim > 2:  # N-D dot is not a matrix product
            return self._cupy.dot(a, b)
        return self.matmul(a, b)


def _size(shape: tuple[int, ...]) -> int:
    count = 1
    for extent in shape:
        count *= extent
    return count


@functools.cache
def _matmul_kernel(cupy: Any) -> Any:
    return cupy.ElementwiseKernel(
        "raw T a, raw T b, int64 p, int64 q, int64 r, int64 stride_a, int64 stride_b", "T c",
        """
        const long long batch = i / (p * r), row = (i / r) % p, col = i % r;
        const T* left = &a[batch * stride_a + row * q];
        const T* right = &b[batch * stride_b + col];
        T sum = 0;
        for (long long t = 0; t < q; ++t) sum += left[t] * right[t * r];
        c = sum;
        """,
        "depthgraph_small_matmul")


def replay(plan: Schedule, bound: dict[str, Any]) -> dict[str, Any]:
    """Run ``plan`` on device arrays ``bound`` from its CUDA graphs, recording them on first use.

    Returns the outputs as new CuPy arrays (copies: the recorded buffers are overwritten by
    the next replay).
    """
    import cupy

    # one recording per device too: its graphs and buffers belong to the device it was made on
    signature = ("cuda-graph", cupy.cuda.Device().id) + tuple(
        (name, value.shape, value.dtype.str) for name, value in sorted(bound.items()))
    recording = plan._device.get(signature)
    if recording is None:
        recording = plan._device[signature] = record(plan, bound)
    caller = cupy.cuda.get_current_stream()
    recording.stream.wait_event(caller.record())  # inputs may still be being written on the caller's stream
    with recording.stream:
        for name, buffer in recording.inputs.items():
            cupy.copyto(buffer, bound[name])
        for step in recording.steps:
            if isinstance(step, Eager):
                cupy.copyto(step.out, levels.compute(step.group, step.operands, plan, cupy))
            else:
                step.launch(recording.stream)
        out = {name: buffer.copy() for name, buffer in recording.outputs.items()}
    caller.wait_event(recording.stream.record())
    return out


def record(plan: Schedule, bound: dict[str, Any]) -> Recording:
    """Record ``plan`` for inputs shaped like ``bound`` (see the module docstring)."""
    import cupy

    xp = CapturableCupy(cupy)
    pool, stream = cupy.cuda.MemoryPool(), cupy.cuda.Stream(non_blocking=True)
    stream.wait_event(cupy.cuda.get_current_stream().record())
    with cupy.cuda.using_allocator(pool.malloc), stream:
        inputs = {name: cupy.array(value) for name, value in bound.items()}
        slabs = levels.load(plan, inputs, xp)
        capturable: dict[tuple, bool] = {}
        for group in plan.groups:  # the warm run; kinds are tried while their operands exist
            kind = _kind(group)
            if kind not in capturable:
                levels.compute(group, slabs, plan, xp)  # warm first: compiling, handles, index uploads
                capturable[kind] = _captures(stream, functools.partial(levels.compute, group, slabs, plan, xp))
            levels.run_group(group, slabs, plan, xp)
        levels.read_outputs(plan, slabs, xp)  # uploads the outputs' gather indices
        del slabs

        slabs = levels.load(plan, inputs, xp)
        steps: list[Any] = []
        capturing = False
        try:
            for group in plan.groups:
                if capturable[_kind(group)] != capturing:
                    if capturing:
                        steps.append(stream.end_capture())
                    else:
                        stream.begin_capture()
                    capturing = not capturing
                if capturing:
                    levels.run_group(group, slabs, plan, xp)
                else:
                    # a one-node group's direct views read the same slabs as its gathers' segments
                    operands = {slab: slabs[slab] for gather in group.operands for slab, _, _ in gather.segments}
                    levels.run_group(group, slabs, plan, cupy)
                    steps.append(Eager(group, operands, slabs[group.slab]))
            if not capturing:
                stream.begin_capture()
                capturing = True
            outputs = levels.read_outputs(plan, slabs, xp)
        finally:
            if capturing:  # a capture that failed half-way must still be ended, or the stream stays unusable
                steps.append(stream.end_capture())
        for graph in steps:
            if not isinstance(graph, Eager):
                graph.upload(stream)
    stream.synchronize()
    return Recording(stream, pool, inputs, steps, outputs)


def _kind(group: Group) -> tuple:
    """What decides whether a group's calls can be captured: op, form, size and operand shapes."""
    return group.op, group.direct is not None, group.packed, len(group.nodes), tuple(g.shape for g in group.operands)


def _captures(stream: Any, call: Any) -> bool:
    """Whether ``call`` can be captured on ``stream`` (tried in a capture that is then dropped)."""
    captured = True
    stream.begin_capture()
    try:
        call()
    except Exception:  # noqa: BLE001 — CuPy's refusal of a library call, or a CUDA capture error
        captured = False
    finally:
        try:
            stream.end_capture()
        except Exception:  # noqa: BLE001 — an invalidated capture reports here
            captured = False
    return captured
