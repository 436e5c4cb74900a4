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
   matrix products up to `SMALL_MATMUL` multiply-adds and linear systems that fit in
   `SMALL_SOLVE_BYTES` of shared memory done by plain kernels of this module, and concatenation
   done by slice copies, all of which can be captured; larger products (where cuBLAS's speed
   outweighs a launch) and larger solves run between graphs. `captures` tells which, from the
   schedule alone (so `depthgraph.predict` can).
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

import numpy as np

from depthgraph import ops
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
    ready: Any  # events replay reuses: the caller's inputs are ready; the replay is done
    done: Any

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

#: Largest linear system (d×d matrix, k right-hand sides, float32 or float64) that `CapturableCupy`
#: solves with its own kernel rather than cuSOLVER: ``(d·(d + k) + d) · itemsize`` bytes of shared
#: memory per system. Fixed rather than read from the device (H100: 227 KiB, A100: 163 KiB, V100:
#: 96 KiB) so that `captures` can tell from a schedule alone which groups a recording captures.
SMALL_SOLVE_BYTES = 96 * 1024


def small_solve(d: int, k: int, dtype: Any) -> bool:
    """Whether `CapturableCupy` solves d×d systems with k right-hand sides of ``dtype`` itself.

    >>> small_solve(64, 1, "float64"), small_solve(64, 64, "float64"), small_solve(128, 1, "float64")
    (True, True, False)
    """
    dtype = np.dtype(dtype)
    return dtype in (np.float32, np.float64) and (d * (d + k) + d) * dtype.itemsize <= SMALL_SOLVE_BYTES


def captures(group: Group) -> bool:
    """Whether a recording captures ``group`` into a CUDA graph, or runs it between graphs.

    Matrix products over `SMALL_MATMUL` multiply-adds call cuBLAS and systems over
    `SMALL_SOLVE_BYTES` call cuSOLVER, which CuPy refuses to capture; everything else is captured.

    Examples
    --------
    >>> import depthgraph
    >>> g = depthgraph.Graph(); a = g.input("A", (64, 64)); b = g.input("b", (64,))
    >>> _ = g.output("x", depthgraph.ops.solve(a, b))
    >>> [captures(group) for group in depthgraph.schedule(g).groups]
    [True]
    """
    first = group.nodes[0]
    if group.op in ("matmul", "dot"):
        return ops.cost(first)[0] * len(group.nodes) <= SMALL_MATMUL
    if group.op in ("solve", "inv"):
        d = first.inputs[0].shape[-1]
        k = d if group.op == "inv" else 1 if len(first.inputs[1].shape) == 1 else first.inputs[1].shape[-1]
        return small_solve(d, k, first.dtype)
    return True


#: Longest inner dimension the small-product kernel sums in one thread (a 512-long one costs a
#: 512×512 matvec 69 µs on an H100, its 512 threads each running serially); longer ones (a long dot
#: product) are an elementwise product and a sum, whose reduction spreads each sum over threads.
LONG_SUM = 128


class CapturableCupy:
    """The ``cupy`` module, except that ``concatenate`` and small ``matmul`` and ``dot`` calls can be captured.

    One thread per output element sums its row-by-column products: coalesced for the right
    operand, a broadcast read for the left, and enough threads for the products the levels
    executor batches (a 64×64 matrix times thousands of columns).
    """

    def __init__(self, cupy: Any):
        self._cupy = cupy
        self.linalg = CapturableLinalg(cupy)

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
        if q > LONG_SUM:  # few long sums: one thread each would run them serially; a reduction does not
            out = (a[..., :, :, None] * b[..., None, :, :]).sum(axis=-2)
        else:
            out = self._small_matmul(a, b, batch)
        out = out[..., 0] if column else out
        return (out[..., 0] if column else out[..., 0, :]) if row else out

    def _small_matmul(self, a: Any, b: Any, batch: tuple[int, ...]) -> Any:
        cupy = self._cupy
        (p, q), r = a.shape[-2:], b.shape[-1]
        dtype = cupy.result_type(a, b)

        def flat(x: Any, rows: int, cols: int) -> tuple[Any, int]:  # (contiguous array, batch stride)
            if _size(x.shape[:-2]) == 1:
                return cupy.ascontiguousarray(x, dtype=dtype), 0
            return cupy.ascontiguousarray(cupy.broadcast_to(x, batch + (rows, cols)), dtype=dtype), rows * cols

        (a, stride_a), (b, stride_b) = flat(a, p, q), flat(b, q, r)
        out = cupy.empty(batch + (p, r), dtype=dtype)
        _matmul_kernel(cupy)(a.reshape(-1), b.reshape(-1), p, q, r, stride_a, stride_b, out)
        return out

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


class CapturableLinalg:
    """``cupy.linalg``, except that ``solve`` and ``inv`` of systems within `small_solve` can be captured.

    One thread block per system runs Gauss–Jordan elimination with partial pivoting on the system
    held in shared memory: per pivot column, one warp finds the pivot row, the block swaps it up,
    computes each row's factor and updates the rows — d steps of a few barriers each, every system
    of the batch at once.
    """

    def __init__(self, cupy: Any):
        self._cupy = cupy

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cupy.linalg, name)

    def solve(self, a: Any, b: Any) -> Any:
        cupy = self._cupy
        column = b.ndim == 1  # NumPy 2's rule: only a 1-D b is one right-hand side
        rhs = b[:, None] if column else b
        (d, k), dtype = rhs.shape[-2:], cupy.result_type(a, rhs, cupy.float32)
        if not small_solve(d, k, dtype):
            return cupy.linalg.solve(a, b)
        batch = tuple(cupy.broadcast_shapes(a.shape[:-2], rhs.shape[:-2]))
        a = cupy.ascontiguousarray(cupy.broadcast_to(a, batch + (d, d)), dtype=dtype)
        rhs = cupy.ascontiguousarray(cupy.broadcast_to(rhs, batch + (d, k)), dtype=dtype)
        out = cupy.empty(batch + (d, k), dtype=dtype)
        if out.size:
            shared = (d * (d + k) + d) * dtype.itemsize
            _solve_kernel(cupy, dtype.char)((_size(batch),), (256,), (a, rhs, out, np.int32(d), np.int32(k)),
                                            shared_mem=shared)
        return out[..., 0] if column else out

    def inv(self, a: Any) -> Any:
        d = a.shape[-1]
        return self.solve(a, self._cupy.broadcast_to(self._cupy.eye(d, dtype=a.dtype), a.shape))


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


_SOLVE_SOURCE = r"""
extern "C" __global__ void depthgraph_small_solve(const real* a, const real* b, real* x, int d, int k) {
    extern __shared__ unsigned char raw[];
    real* m = reinterpret_cast<real*>(raw);  // the system [A | B]: d rows of w = d + k
    real* factor = m + d * (d + k);  // each row's multiple of the pivot row
    __shared__ int pivot;
    const int w = d + k;
    const long long system = blockIdx.x;
    a += system * d * d;
    b += system * d * k;
    x += system * d * k;
    for (int e = threadIdx.x; e < d * w; e += blockDim.x) {
        const int i = e / w, j = e % w;
        m[e] = j < d ? a[i * d + j] : b[i * k + j - d];
    }
    __syncthreads();
    for (int c = 0; c < d; ++c) {
        if (threadIdx.x < 32) {  // one warp: the row at or below c with the largest |m[i][c]|
            real best = -1;
            int at = c;
            for (int i = c + threadIdx.x; i < d; i += 32) {
                const real v = m[i * w + c] < 0 ? -m[i * w + c] : m[i * w + c];
                if (v > best) { best = v; at = i; }
            }
            for (int offset = 16; offset > 0; offset /= 2) {
                const real other = __shfl_down_sync(0xffffffff, best, offset);
                const int other_at = __shfl_down_sync(0xffffffff, at, offset);
                if (other > best || (other == best && other_at < at)) { best = other; at = other_at; }
            }
            if (threadIdx.x == 0) pivot = at;
        }
        __syncthreads();
        const int p = pivot;
        if (p != c) {
            for (int j = c + threadIdx.x; j < w; j += blockDim.x) {
                const real t = m[c * w + j]; m[c * w + j] = m[p * w + j]; m[p * w + j] = t;
            }
            __syncthreads();
        }
        for (int i = threadIdx.x; i < d; i += blockDim.x) factor[i] = m[i * w + c] / m[c * w + c];
        __syncthreads();
        const int columns = w - c - 1;  // column c is never read again: only the ones right of it
        for (int e = threadIdx.x; e < d * columns; e += blockDim.x) {
            const int i = e / columns, j = c + 1 + e % columns;
            if (i != c) m[i * w + j] -= factor[i] * m[c * w + j];
        }
        __syncthreads();
    }
    for (int e = threadIdx.x; e < d * k; e += blockDim.x) {
        const int i = e / k;
        x[e] = m[i * w + d + e % k] / m[i * w + i];
    }
}
"""


@functools.cache
def _solve_kernel(cupy: Any, dtype_char: str) -> Any:
    real = {"d": "double", "f": "float"}[dtype_char]
    kernel = cupy.RawKernel(f"typedef {real} real;\n{_SOLVE_SOURCE}", "depthgraph_small_solve")
    kernel.max_dynamic_shared_size_bytes = SMALL_SOLVE_BYTES  # over the 48 KiB a launch gets unasked
    return kernel


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
    caller, stream = cupy.cuda.get_current_stream(), recording.stream
    recording.ready.record(caller)
    stream.wait_event(recording.ready)  # inputs may still be being written on the caller's stream
    with stream:
        for name, buffer in recording.inputs.items():  # plain copies: a copy kernel costs the host more
            copy_into(buffer, cupy.ascontiguousarray(bound[name]), stream)
        for step in recording.steps:
            if isinstance(step, Eager):
                cupy.copyto(step.out, levels.compute(step.group, step.operands, plan, cupy))
            else:
                step.launch(stream)
        out = {name: copy_into(cupy.empty_like(buffer), buffer, stream) for name, buffer in recording.outputs.items()}
    recording.done.record(stream)
    caller.wait_event(recording.done)
    return out


def copy_into(target: Any, source: Any, stream: Any) -> Any:
    """Copy the C-contiguous CuPy array ``source`` into ``target`` (same dtype and size) on ``stream``
    by a plain device-to-device copy, and return ``target``."""
    if source.nbytes:
        target.data.copy_from_device_async(source.data, source.nbytes, stream)
    return target


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
                trial = functools.partial(levels.compute, group, slabs, plan, xp)
                capturable[kind] = capture(stream, trial) is not None
            levels.run_group(group, slabs, plan, xp)
        _contiguous_outputs(plan, slabs, xp)  # uploads the outputs' gather indices
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
            outputs = _contiguous_outputs(plan, slabs, xp)
        finally:
            if capturing:  # a capture that failed half-way must still be ended, or the stream stays unusable
                steps.append(stream.end_capture())
        for graph in steps:
            if not isinstance(graph, Eager):
                graph.upload(stream)
    stream.synchronize()
    events = [cupy.cuda.Event(disable_timing=True) for _ in range(2)]
    return Recording(stream, pool, inputs, steps, outputs, *events)


def _contiguous_outputs(plan: Schedule, slabs: list[Any], xp: Any) -> dict[str, Any]:
    """The outputs, each C-contiguous so that replay copies it out in one plain copy."""
    return {name: xp.ascontiguousarray(value) for name, value in levels.read_outputs(plan, slabs, xp).items()}


def _kind(group: Group) -> tuple:
    """What decides whether a group's calls can be captured: op, form, size and operand shapes."""
    return group.op, group.direct is not None, group.packed, len(group.nodes), tuple(g.shape for g in group.operands)


def capture(stream: Any, call: Any) -> Any:
    """``call()`` captured on ``stream`` into a ``cupy.cuda.Graph``, or None if it cannot be captured.

    Arrays that ``call`` allocates must come from a pool that outlives the graph (the graph
    keeps their addresses): run it under ``cupy.cuda.using_allocator`` of a private pool.
    """
    graph = None
    stream.begin_capture()
    try:
        call()
        captured = True
    except Exception:  # noqa: BLE001 — CuPy's refusal of a library call, or a CUDA capture error
        captured = False
    finally:
        try:
            graph = stream.end_capture()
        except Exception:  # noqa: BLE001 — an invalidated capture reports here
            captured = False
    return graph if captured else None
