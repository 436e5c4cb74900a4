"""Copying gathers: one operand of a levels group, assembled from several slabs in one call.

The levels executor stacks a group's operands along a new leading axis
(`depthgraph.executors.levels`). An operand whose values are not one view of one slab (a slice,
or equally spaced blocks) is copied into a new array. Each value's elements lie in its slab in
runs of consecutive positions — a value that is a row of its slab is one run, a column of a
matrix runs of one — so the copy is planned once, at compile time, as a list of *entries*: runs
of ``block`` elements, each (source slab, first position, destination row). However many
slabs the values come from, in whatever order, the copy is then one call:

- on CuPy one kernel, passed the slabs' addresses by value among its arguments (up to
  `SOURCES_PER_LAUNCH` per launch). CuPy's own way — a ``take`` per slab, a ``concatenate``
  and a permuting ``take`` — costs a launch each, and its concatenate of more than 8 arrays
  uploads a table of their addresses through pinned host memory on every call, a host cost
  that grows with how far the device is behind.
- on NumPy the runs of each slab as a slice where they follow one another, else one ``take``;
  then one concatenate and one permutation (read plans made at compile time).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: Slab addresses one kernel launch takes: 2 KiB of arguments, within the 4 KiB every CUDA device accepts.
SOURCES_PER_LAUNCH = 256
ENTRY_BYTES = 24  # an entry's three int64: source, first position, destination row
_CAPACITIES = (8, SOURCES_PER_LAUNCH)  # address slots of the two compiled kernel sizes
_THREADS, _MAX_BLOCKS = 256, 4096


@dataclass(frozen=True, eq=False)
class Copy:
    """A compiled gather: entry j copies ``block`` elements from position ``entries[1, j]`` of
    slab ``sources[entries[0, j]]`` (flat) to row ``entries[2, j]`` of the result viewed as
    rows of ``block``. Entries are sorted by source: those of source s are
    ``entries[:, bounds[s]:bounds[s + 1]]``. ``dtype``: the result's, where sources of other
    dtypes are cast to it first (a stack of integers and floats); None: the sources' own.
    """

    sources: tuple[int, ...]
    block: int
    entries: np.ndarray
    bounds: tuple[int, ...]
    dtype: str | None = None
    numpy_reads: tuple[tuple[str, Any], ...] = ()  # per source, how NumPy reads its runs (see `_numpy_read`)
    order: np.ndarray | None = None  # the result's rows in the entries' order (NumPy permutes by it); None: same
    _device: dict = field(default_factory=dict, repr=False)

    @property
    def elements(self) -> int:
        """Elements the copy writes."""
        return self.entries.shape[1] * self.block

    @property
    def launches(self) -> int:
        """Kernel launches on CuPy: one per `SOURCES_PER_LAUNCH` sources."""
        return -(-len(self.sources) // SOURCES_PER_LAUNCH)

    def nbytes(self, itemsize: int) -> int:
        """Bytes the copy moves: its elements read and written, and its entries read."""
        return 2 * self.elements * itemsize + ENTRY_BYTES * self.entries.shape[1]

    def run(self, xp: Any, slabs: Sequence[Any]) -> Any:
        """The copied values, flat, from ``slabs`` (indexed by `sources`; each C-contiguous) with
        array module ``xp`` (NumPy, CuPy, or a module that forwards to CuPy)."""
        if self.dtype is not None:  # rare (mixed dtypes): cast, at a copy per source that differs
            slabs = {slab: slabs[slab].astype(self.dtype, copy=False) for slab in self.sources}
        first = slabs[self.sources[0]]
        if xp is np:
            return self._run_numpy(slabs, first.dtype)
        import cupy

        out = cupy.empty(self.elements, dtype=first.dtype)
        for at in range(0, len(self.sources), SOURCES_PER_LAUNCH):
            chunk = self.sources[at:at + SOURCES_PER_LAUNCH]
            entries = self._entries_on_device(cupy, at)
            count = entries.shape[1]
            capacity = min(c for c in _CAPACITIES if c >= len(chunk))
            addresses = np.zeros(capacity, dtype=np.uint64)
            addresses[:len(chunk)] = [slabs[slab].data.ptr for slab in chunk]
            total = count * self.block
            wide = total > 2 ** 30  # 32-bit indices (faster division) unless the grid stride could overflow them
            index = np.int64 if wide else np.int32
            grid = min(-(-total // _THREADS), _MAX_BLOCKS)
            _kernel(first.dtype.itemsize, capacity, wide)(
                (grid,), (_THREADS,), (addresses.view(_addresses_dtype(capacity)), entries, index(count),
                                       index(self.block), out))
        return out

    def _run_numpy(self, slabs: Sequence[np.ndarray], dtype: np.dtype) -> np.ndarray:
        """NumPy's cheapest way: each source's runs as a slice where they are consecutive, else one
        ``take``; the pieces concatenated, then put in the result's order by one more ``take``."""
        pieces = []
        for s, (slab, (kind, index)) in enumerate(zip(self.sources, self.numpy_reads)):
            flat = slabs[slab].reshape(-1)
            if kind == "slice":
                pieces.append(flat[index].reshape(-1, self.block))
            elif kind == "rows" and flat.size % self.block == 0:
                pieces.append(np.take(flat.reshape(-1, self.block), index, axis=0))
            else:  # runs at any offset: rows of an overlapping strided view
                runs = np.lib.stride_tricks.as_strided(flat, (flat.size - self.block + 1, self.block),
                                                       (flat.itemsize, flat.itemsize))
                pieces.append(np.take(runs, self.entries[1, self.bounds[s]:self.bounds[s + 1]], axis=0))
        stacked = np.concatenate(pieces, dtype=dtype) if len(pieces) > 1 else pieces[0].astype(dtype, copy=False)
        return (stacked if self.order is None else np.take(stacked, self.order, axis=0)).reshape(-1)

    def _entries_on_device(self, cupy: Any, at: int) -> Any:
        """The entries of sources ``at`` … ``at + SOURCES_PER_LAUNCH - 1``, sources counted from
        ``at``, on the current device: uploaded once (capture cannot upload)."""
        key = (cupy.cuda.runtime.getDevice(), at)
        if key not in self._device:
            stop = min(at + SOURCES_PER_LAUNCH, len(self.sources))
            chunk = self.entries[:, self.bounds[at]:self.bounds[stop]].copy()
            chunk[0] -= at
            self._device[key] = cupy.asarray(chunk)
        return self._device[key]


def plan(member: int, pieces: Sequence[tuple[int, np.ndarray, np.ndarray]], dtype: str | None = None) -> Copy:
    """The `Copy` that gathers values of ``member`` elements from slabs.

    Parameters
    ----------
    member : int
        Elements per value (> 0).
    pieces : sequence of (slab, indices, positions)
        For each source slab: the indices of its values in the result (k,), and either their
        first flat positions (k,) — each value consecutive there — or all their flat positions
        (k, member).
    dtype : str, optional
        The result's dtype if the sources' dtypes differ.

    Examples
    --------
    Rows 1 and 0 of a (2, 3) slab 0 and row 0 of slab 1, stacked as values 2, 0, 1:

    >>> import numpy as np
    >>> c = plan(3, [(0, np.array([2, 0]), np.array([3, 0])), (1, np.array([1]), np.array([0]))])
    >>> c.block, c.entries.tolist()
    (3, [[0, 0, 1], [3, 0, 0], [2, 0, 1]])
    >>> slabs = [np.arange(6.0).reshape(2, 3), np.full((1, 3), -1.0)]
    >>> c.run(np, slabs).reshape(3, 3)
    array([[ 0.,  1.,  2.],
           [-1., -1., -1.],
           [ 3.,  4.,  5.]])
    """
    block = member
    for _, _, positions in pieces:
        if positions.ndim == 2:
            block = math.gcd(block, _run_length(positions))
    per = member // block  # runs per value
    columns, bounds = [], [0]
    for source, (_, indices, positions) in enumerate(pieces):
        if positions.ndim == 1:
            starts = positions[:, None] + np.arange(per, dtype=np.int64) * block
        else:
            starts = positions.reshape(len(indices), per, block)[:, :, 0]
        rows = np.asarray(indices, dtype=np.int64)[:, None] * per + np.arange(per, dtype=np.int64)
        columns.append(np.stack([np.full(starts.size, source, dtype=np.int64), starts.reshape(-1), rows.reshape(-1)]))
        bounds.append(bounds[-1] + starts.size)
    entries = np.concatenate(columns, axis=1)
    reads = tuple(_numpy_read(entries[1, lo:hi], block) for lo, hi in zip(bounds, bounds[1:]))
    order = None if np.array_equal(entries[2], np.arange(entries.shape[1])) else np.argsort(entries[2])
    return Copy(tuple(slab for slab, _, _ in pieces), block, entries, tuple(bounds), dtype, reads, order)


def _numpy_read(starts: np.ndarray, block: int) -> tuple[str, Any]:
    """How NumPy reads runs of ``block`` starting at ``starts`` from a flat slab: ``("slice", s)``
    if they follow one another, ``("rows", indices)`` into the slab viewed as rows of ``block`` if
    each starts on such a row, else ``("strided", None)`` (rows of an overlapping view)."""
    if (np.diff(starts) == block).all():
        return "slice", slice(int(starts[0]), int(starts[-1]) + block)
    if not (starts % block).any():
        return "rows", starts // block
    return "strided", None


def _run_length(positions: np.ndarray) -> int:
    """The longest length b dividing a value's size such that every value's positions are runs of
    b consecutive ones."""
    member = positions.shape[1]
    breaks = np.flatnonzero((np.diff(positions, axis=1) != 1).any(axis=0)) + 1
    return math.gcd(member, *breaks.tolist())


@functools.cache  # once per size: building a structured dtype costs microseconds, on every gather's call
def _addresses_dtype(capacity: int) -> np.dtype:
    """The kernel's ``Sources`` argument as a NumPy structured type (CuPy passes its bytes by value)."""
    return np.dtype([("at", np.uint64, (capacity,))])


_ELEMENT = {1: "unsigned char", 2: "unsigned short", 4: "unsigned int", 8: "unsigned long long", 16: "ulonglong2"}
_SOURCE = r"""
struct Sources { const T* at[CAPACITY]; };

extern "C" __global__ void depthgraph_gather(const Sources sources, const long long* entries, const Index count,
                                             const Index block, T* out) {
    // entries: three rows of `count` — source, first position, destination row
    const Index total = count * block;
    for (Index i = (Index)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += (Index)gridDim.x * blockDim.x) {
        const Index j = i / block, e = i - j * block;
        out[entries[2 * count + j] * block + e] = sources.at[entries[j]][entries[count + j] + e];
    }
}
"""


@functools.cache
def _kernel(itemsize: int, capacity: int, wide: bool) -> Any:
    """The gather kernel copying elements of ``itemsize`` bytes (bit for bit, whatever the dtype)."""
    import cupy

    header = (f"typedef {_ELEMENT[itemsize]} T;\ntypedef {'long long' if wide else 'int'} Index;\n"
              f"#define CAPACITY {capacity}\n")
    return cupy.RawKernel(header + _SOURCE, "depthgraph_gather")
