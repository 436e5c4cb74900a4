"""Shape rules: the output shape of each op from its operand shapes, or a `ShapeError` naming
the op and the shapes. The op registry (`depthgraph.ops`) points each op at its rule here.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence

import numpy as np

from depthgraph.errors import ShapeError

Shape = tuple[int, ...]


def size(shape: Shape) -> int:
    """Number of elements of an array of this shape (1 for a scalar)."""
    return math.prod(shape)


def broadcast(op: str, shapes: Sequence[Shape]) -> Shape:
    """NumPy broadcasting of ``shapes``; raises `ShapeError` naming ``op`` if they don't broadcast."""
    ndim = max(len(s) for s in shapes)
    out = []
    for axis in range(-ndim, 0):
        dims = {s[axis] for s in shapes if len(s) >= -axis} - {1}
        if len(dims) > 1:
            raise ShapeError(f"{op}: shapes {' and '.join(map(str, shapes))} do not broadcast")
        out.append(dims.pop() if dims else 1)
    return tuple(out)


def axis_index(op: str, axis: int, ndim: int) -> int:
    if not -ndim <= axis < ndim:
        raise ShapeError(f"{op}: axis {axis} is out of range for an operand of {ndim} dimensions")
    return axis % ndim


def matmul(shapes: tuple[Shape, ...], attrs: dict) -> Shape:
    a, b = shapes
    if not a or not b:
        raise ShapeError(f"matmul: scalar operand in {a} @ {b}; use * for scaling")
    a2 = (1,) + a if len(a) == 1 else a
    b2 = b + (1,) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        raise ShapeError(f"matmul: inner dimensions differ in {a} @ {b} ({a2[-1]} != {b2[-2]})")
    batch = broadcast("matmul", (a2[:-2], b2[:-2]))
    return batch + (a2[-2:-1] if len(a) > 1 else ()) + (b2[-1:] if len(b) > 1 else ())


def reduced(shapes: tuple[Shape, ...], attrs: dict) -> tuple[Shape, int]:
    """Output shape and number of terms per output of ``sum`` over ``attrs['axis']``."""
    (shape,) = shapes
    axis = attrs.get("axis")
    axes = range(len(shape)) if axis is None else axis if isinstance(axis, tuple) else (axis,)
    axes = {axis_index("sum", a, len(shape)) for a in axes}
    out = tuple(d for i, d in enumerate(shape) if i not in axes)
    return out, size(tuple(shape[i] for i in axes))


def concat(shapes: tuple[Shape, ...], attrs: dict) -> Shape:
    first = shapes[0]
    if not first:
        raise ShapeError("concat: cannot concatenate scalars; use stack")
    axis = axis_index("concat", attrs["axis"], len(first))
    for s in shapes[1:]:
        if len(s) != len(first) or any(x != y for i, (x, y) in enumerate(zip(s, first)) if i != axis):
            raise ShapeError(f"concat: shapes {first} and {s} differ off axis {attrs['axis']}")
    return first[:axis] + (sum(s[axis] for s in shapes),) + first[axis + 1 :]


def stack(shapes: tuple[Shape, ...], attrs: dict) -> Shape:
    first = shapes[0]
    for s in shapes[1:]:
        if s != first:
            raise ShapeError(f"stack: operands differ in shape, {first} and {s}")
    axis = axis_index("stack", attrs["axis"], len(first) + 1)
    return first[:axis] + (len(shapes),) + first[axis:]


def reshape(shapes: tuple[Shape, ...], attrs: dict) -> Shape:
    (shape,), new = shapes, attrs["shape"]
    if size(new) != size(shape) or any(d < 0 for d in new):
        raise ShapeError(f"reshape: cannot reshape {shape} into {new}")
    return new


def transpose(shapes: tuple[Shape, ...], attrs: dict) -> Shape:
    (shape,), axes = shapes, attrs["axes"]
    if sorted(axes) != list(range(len(shape))):
        raise ShapeError(f"transpose: axes {axes} are not a permutation for shape {shape}")
    return tuple(shape[a] for a in axes)


def decode_index(index: tuple) -> tuple:
    """Turn a stored ``getitem`` index (JSON-friendly tuples) back into a Python index."""
    special = {"newaxis": None, "ellipsis": Ellipsis}
    return tuple(
        item if isinstance(item, int) else slice(*item[1:]) if item[0] == "slice" else special[item[0]]
        for item in index
    )


def encode_index(index: Any) -> tuple:
    """Normalise a basic index (ints, slices, None, Ellipsis) into JSON-friendly tuples."""
    items = index if isinstance(index, tuple) else (index,)
    out = []
    for item in items:
        if isinstance(item, (bool, np.bool_)) or not isinstance(item, (int, np.integer, slice)) and item not in (None, Ellipsis):
            raise ShapeError(f"getitem: only basic indexing (ints, slices, None, ...) is supported, got {item!r}")
        if isinstance(item, slice):
            parts = (item.start, item.stop, item.step)
            if any(p is not None and not isinstance(p, (int, np.integer)) for p in parts):
                raise ShapeError(f"getitem: slice bounds must be ints, got {item!r}")
            out.append(("slice",) + tuple(None if p is None else int(p) for p in parts))
        elif item is None:
            out.append(("newaxis",))
        elif item is Ellipsis:
            out.append(("ellipsis",))
        else:
            out.append(int(item))
    return tuple(out)


def getitem(shapes: tuple[Shape, ...], attrs: dict) -> Shape:
    (shape,) = shapes
    try:  # a zero-stride view: NumPy computes the shape without allocating the array
        return np.broadcast_to(np.empty((), bool), shape)[decode_index(attrs["index"])].shape
    except (IndexError, ValueError) as exc:
        raise ShapeError(f"getitem: index {decode_index(attrs['index'])} on shape {shape}: {exc}") from None


def square(op: str, shape: Shape) -> int:
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ShapeError(f"{op}: needs a square matrix (or a stack of them), got shape {shape}")
    return shape[-1]


def solve(shapes: tuple[Shape, ...], attrs: dict) -> Shape:
    a, b = shapes
    d = square("solve", a)
    if len(b) == 1 and len(a) == 2 and b[0] == d:
        return b
    if len(b) >= 2 and b[-2] == d:
        return broadcast("solve", (a[:-2], b[:-2])) + b[-2:]
    raise ShapeError(f"solve: right-hand side of shape {b} does not match matrix of shape {a}")


def fft(shapes: tuple[Shape, ...], attrs: dict, out_len: Callable[[int], int]) -> Shape:
    (shape,) = shapes
    if not shape:
        raise ShapeError("fft: needs at least one axis, got a scalar")
    n = attrs.get("n") or shape[-1]
    if n < 1 or out_len(n) < 1:
        raise ShapeError(f"fft: transform length {n} is too small for shape {shape}")
    return shape[:-1] + (out_len(n),)


def dot(shapes: tuple[Shape, ...], attrs: dict) -> Shape:
    a, b = shapes
    if len(a) != 1 or a != b:
        raise ShapeError(f"dot: needs two vectors of one length, got shapes {a} and {b}")
    return ()


def outer(shapes: tuple[Shape, ...], attrs: dict) -> Shape:
    a, b = shapes
    if len(a) != 1 or len(b) != 1:
        raise ShapeError(f"outer: needs two vectors, got shapes {a} and {b}")
    return (a[0], b[0])


def irfft(shapes: tuple[Shape, ...], attrs: dict) -> Shape:
    (shape,) = shapes
    if not shape:
        raise ShapeError("irfft: needs at least one axis, got a scalar")
    n = attrs.get("n") or 2 * (shape[-1] - 1)
    if n < 1:
        raise ShapeError(f"irfft: transform length {n} is too small for shape {shape}")
    return shape[:-1] + (n,)
