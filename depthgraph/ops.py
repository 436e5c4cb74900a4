"""The op registry, and the functions that build nodes for the ops without an operator.

Every op is one `Op` entry in `REGISTRY`: its shape rule, dtype rule, work and depth (the
work-span cost of its standard parallel implementation, DESIGN.md "Cost semantics"), and one
array implementation ``impl(xp, *arrays, **attrs)`` written against the array-module interface
so that the same code runs on NumPy and on CuPy. Adding an op is adding one entry.

Ops of depth 0 are *free*: sources (``input``, ``const``) and views (``reshape``,
``transpose``, ``getitem``) launch no kernel, do no work, and count as no step.

The cost table in ``docs/ops.md`` is generated from this registry (`cost_table`), and a test
checks that the file and the registry agree.
"""

from __future__ import annotations

import builtins
import functools
import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from depthgraph.errors import ShapeError, UnknownOpError

Shape = tuple[int, ...]


def log2ceil(m: int) -> int:
    """``⌈log2 m⌉`` for ``m ≥ 1`` (0 for m = 1): the depth of a balanced binary tree of m leaves.

    >>> [log2ceil(m) for m in (1, 2, 3, 4, 5, 1024)]
    [0, 1, 2, 2, 3, 10]
    """
    return (max(m, 1) - 1).bit_length()


def size(shape: Shape) -> int:
    """Number of elements of an array of this shape (1 for a scalar)."""
    return math.prod(shape)


@dataclass(frozen=True)
class Op:
    """One registry entry.

    ``shape(in_shapes, attrs) -> Shape`` raises `ShapeError` on operands it cannot combine;
    ``dtype(in_dtypes, attrs) -> str``; ``work`` and ``depth`` take ``(in_shapes, out_shape,
    attrs)``; ``work_rule``/``depth_rule`` are the same formulas in words, for the docs.
    ``arity`` is the number of inputs, or None for a variadic op.
    """

    name: str
    arity: int | None
    shape: Callable[[tuple[Shape, ...], dict], Shape]
    dtype: Callable[[tuple[str, ...], dict], str]
    work: Callable[[tuple[Shape, ...], Shape, dict], int]
    depth: Callable[[tuple[Shape, ...], Shape, dict], int]
    impl: Callable[..., Any]
    work_rule: str
    depth_rule: str


REGISTRY: dict[str, Op] = {}


def register(op: Op) -> Op:
    """Add an op to the registry (one entry per op name)."""
    if op.name in REGISTRY:
        raise ValueError(f"op {op.name!r} is registered twice")
    REGISTRY[op.name] = op
    return op


def get(name: str) -> Op:
    """Return the registry entry of op ``name``.

    >>> get("matmul").depth_rule
    '⌈log2 q⌉ + 1'
    """
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownOpError(f"unknown op {name!r}; known ops: {', '.join(sorted(REGISTRY))}") from None


@functools.lru_cache(maxsize=65536)
def _cost(name: str, in_shapes: tuple[Shape, ...], out_shape: Shape, attrs: tuple) -> tuple[int, int]:
    # Cached: the nodes of a chain or a level repeat a few (op, shapes, attrs) keys many times.
    op, kw = REGISTRY[name], dict(attrs)
    return op.work(in_shapes, out_shape, kw), op.depth(in_shapes, out_shape, kw)


def cost(node: Any) -> tuple[int, int]:
    """``(work, depth)`` of one node, from its op's registry entry and its operand shapes.

    >>> import depthgraph
    >>> g = depthgraph.Graph()
    >>> a = g.input("a", (4, 8)); b = g.input("b", (8, 2))
    >>> cost(a @ b)
    (64, 4)
    """
    return _cost(node.op, tuple(p.shape for p in node.inputs), node.shape, node.attrs)


def bytes_moved(node: Any) -> int:
    """Bytes read and written by one node: its operands and its result; 0 for a free op."""
    if cost(node)[1] == 0:
        return 0
    return builtins.sum(size(p.shape) * np.dtype(p.dtype).itemsize for p in node.inputs) + size(
        node.shape
    ) * np.dtype(node.dtype).itemsize


# ---------------------------------------------------------------- shape and dtype rules


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


@functools.lru_cache(maxsize=None)
def _result_type(dtypes: tuple[str, ...]) -> str:
    return np.result_type(*dtypes).name


def promote(dtypes: tuple[str, ...], attrs: dict) -> str:
    """NumPy's type promotion of the operand dtypes (cached: graphs repeat a few combinations)."""
    return _result_type(tuple(dtypes))


def _elementwise_dtype(impl: Callable) -> Callable:
    """The dtype NumPy itself gives: apply the op to one-element arrays of the operand dtypes."""

    @functools.lru_cache(maxsize=None)
    def probe(dtypes: tuple[str, ...], attrs: tuple) -> str:
        with np.errstate(all="ignore"):
            return impl(np, *(np.ones(1, d) for d in dtypes), **{k: v for k, _, v in attrs}).dtype.name

    # The key holds each attribute's type too: 2 == 2.0, but x ** 2 and x ** 2.0 differ in dtype.
    return lambda dtypes, attrs: probe(tuple(dtypes), tuple(sorted((k, type(v), v) for k, v in attrs.items())))


def _axis(op: str, axis: int, ndim: int) -> int:
    if not -ndim <= axis < ndim:
        raise ShapeError(f"{op}: axis {axis} is out of range for an operand of {ndim} dimensions")
    return axis % ndim


def _matmul_shape(shapes: tuple[Shape, ...], attrs: dict) -> Shape:
    a, b = shapes
    if not a or not b:
        raise ShapeError(f"matmul: scalar operand in {a} @ {b}; use * for scaling")
    a2 = (1,) + a if len(a) == 1 else a
    b2 = b + (1,) if len(b) == 1 else b
    if a2[-1] != b2[-2]:
        raise ShapeError(f"matmul: inner dimensions differ in {a} @ {b} ({a2[-1]} != {b2[-2]})")
    batch = broadcast("matmul", (a2[:-2], b2[:-2]))
    return batch + (a2[-2:-1] if len(a) > 1 else ()) + (b2[-1:] if len(b) > 1 else ())


def _reduced(shapes: tuple[Shape, ...], attrs: dict) -> tuple[Shape, int]:
    """Output shape and number of terms per output of ``sum`` over ``attrs['axis']``."""
    (shape,) = shapes
    axis = attrs.get("axis")
    axes = range(len(shape)) if axis is None else axis if isinstance(axis, tuple) else (axis,)
    axes = {_axis("sum", a, len(shape)) for a in axes}
    out = tuple(d for i, d in enumerate(shape) if i not in axes)
    return out, size(tuple(shape[i] for i in axes))


def _concat_shape(shapes: tuple[Shape, ...], attrs: dict) -> Shape:
    first = shapes[0]
    if not first:
        raise ShapeError("concat: cannot concatenate scalars; use stack")
    axis = _axis("concat", attrs["axis"], len(first))
    for s in shapes[1:]:
        if len(s) != len(first) or any(x != y for i, (x, y) in enumerate(zip(s, first)) if i != axis):
            raise ShapeError(f"concat: shapes {first} and {s} differ off axis {attrs['axis']}")
    return first[:axis] + (builtins.sum(s[axis] for s in shapes),) + first[axis + 1 :]


def _stack_shape(shapes: tuple[Shape, ...], attrs: dict) -> Shape:
    first = shapes[0]
    for s in shapes[1:]:
        if s != first:
            raise ShapeError(f"stack: operands differ in shape, {first} and {s}")
    axis = _axis("stack", attrs["axis"], len(first) + 1)
    return first[:axis] + (len(shapes),) + first[axis:]


def _reshape_shape(shapes: tuple[Shape, ...], attrs: dict) -> Shape:
    (shape,), new = shapes, attrs["shape"]
    if size(new) != size(shape) or any(d < 0 for d in new):
        raise ShapeError(f"reshape: cannot reshape {shape} into {new}")
    return new


def _transpose_shape(shapes: tuple[Shape, ...], attrs: dict) -> Shape:
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


def _getitem_shape(shapes: tuple[Shape, ...], attrs: dict) -> Shape:
    (shape,) = shapes
    try:  # a zero-stride view: NumPy computes the shape without allocating the array
        return np.broadcast_to(np.empty((), bool), shape)[decode_index(attrs["index"])].shape
    except (IndexError, ValueError) as exc:
        raise ShapeError(f"getitem: index {decode_index(attrs['index'])} on shape {shape}: {exc}") from None


def _square(op: str, shape: Shape) -> int:
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ShapeError(f"{op}: needs a square matrix (or a stack of them), got shape {shape}")
    return shape[-1]


def _solve_shape(shapes: tuple[Shape, ...], attrs: dict) -> Shape:
    a, b = shapes
    d = _square("solve", a)
    if len(b) == 1 and len(a) == 2 and b[0] == d:
        return b
    if len(b) >= 2 and b[-2] == d:
        return broadcast("solve", (a[:-2], b[:-2])) + b[-2:]
    raise ShapeError(f"solve: right-hand side of shape {b} does not match matrix of shape {a}")


def _fft_shape(shapes: tuple[Shape, ...], attrs: dict, out_len: Callable[[int], int]) -> Shape:
    (shape,) = shapes
    if not shape:
        raise ShapeError("fft: needs at least one axis, got a scalar")
    n = attrs.get("n") or shape[-1]
    if n < 1 or out_len(n) < 1:
        raise ShapeError(f"fft: transform length {n} is too small for shape {shape}")
    return shape[:-1] + (out_len(n),)


# ---------------------------------------------------------------- the registry entries


def _free(in_shapes: Any, out_shape: Any, attrs: Any) -> int:
    return 0


def _out_size(in_shapes: Any, out_shape: Shape, attrs: Any) -> int:
    return size(out_shape)


def _one(in_shapes: Any, out_shape: Any, attrs: Any) -> int:
    return 1


def _fft_length(in_shapes: tuple[Shape, ...], out_shape: Shape, attrs: dict) -> int:
    """The transform length N: ``n`` if given, else the input's last axis (irfft: the output's)."""
    return attrs.get("n") or in_shapes[0][-1]


def _attr_shape(in_shapes: Any, attrs: dict) -> Shape:
    return attrs["shape"]


def _attr_dtype(in_dtypes: Any, attrs: dict) -> str:
    return attrs["dtype"]


register(Op("input", 0, _attr_shape, _attr_dtype, _free, _free, None, "0", "0 (a source)"))
register(
    Op("const", 0, _attr_shape, _attr_dtype, _free, _free,
       lambda xp, value, dtype, shape: xp.asarray(value, dtype=dtype).reshape(shape),
       "0", "0 (a source)")
)

_BINARY = {"add": "add", "sub": "subtract", "mul": "multiply", "div": "true_divide"}
for _name, _ufunc in _BINARY.items():
    _impl = functools.partial(lambda xp, a, b, ufunc: getattr(xp, ufunc)(a, b), ufunc=_ufunc)
    register(
        Op(_name, 2, lambda shapes, attrs, op=_name: broadcast(op, shapes), _elementwise_dtype(_impl),
           _out_size, _one, _impl, "m (elements of the result)", "1")
    )

_UNARY = {"neg": "negative", "exp": "exp", "log": "log", "sqrt": "sqrt", "abs": "abs", "real": "real", "conj": "conj"}
for _name, _ufunc in _UNARY.items():
    _impl = functools.partial(lambda xp, a, ufunc: getattr(xp, ufunc)(a), ufunc=_ufunc)
    register(
        Op(_name, 1, lambda shapes, attrs: shapes[0], _elementwise_dtype(_impl), _out_size, _one,
           _impl, "m (elements)", "1")
    )

_pow_impl = lambda xp, a, exponent: xp.power(a, exponent)  # noqa: E731
register(Op("pow", 1, lambda shapes, attrs: shapes[0], _elementwise_dtype(_pow_impl), _out_size, _one,
            _pow_impl, "m (elements)", "1"))

register(
    Op("matmul", 2, _matmul_shape, promote,
       lambda s, o, a: size(o) * (s[0][-1] if s[0] else 1),
       lambda s, o, a: log2ceil(s[0][-1]) + 1,
       lambda xp, a, b: xp.matmul(a, b),
       "p·q·r per (p×q)·(q×r) product, times the batch", "⌈log2 q⌉ + 1")
)


def _dot_shape(shapes: tuple[Shape, ...], attrs: dict) -> Shape:
    a, b = shapes
    if len(a) != 1 or a != b:
        raise ShapeError(f"dot: needs two vectors of one length, got shapes {a} and {b}")
    return ()


register(Op("dot", 2, _dot_shape, promote, lambda s, o, a: s[0][0], lambda s, o, a: log2ceil(s[0][0]) + 1,
            lambda xp, a, b: xp.dot(a, b), "m (terms)", "⌈log2 m⌉ + 1"))


def _outer_shape(shapes: tuple[Shape, ...], attrs: dict) -> Shape:
    a, b = shapes
    if len(a) != 1 or len(b) != 1:
        raise ShapeError(f"outer: needs two vectors, got shapes {a} and {b}")
    return (a[0], b[0])


register(Op("outer", 2, _outer_shape, promote, _out_size, _one, lambda xp, a, b: xp.outer(a, b),
            "p·q", "1"))

register(
    Op("sum", 1, lambda s, a: _reduced(s, a)[0], promote,
       lambda s, o, a: size(s[0]),
       lambda s, o, a: max(1, log2ceil(_reduced(s, a)[1])),
       lambda xp, a, axis: xp.sum(a, axis=axis),
       "m (terms summed)", "⌈log2 m⌉ for m terms per output (1 if m = 1: still a copy)")
)

register(Op("concat", None, _concat_shape, promote, _out_size, _one,
            lambda xp, *arrays, axis: xp.concatenate(arrays, axis=axis), "m (elements copied)", "1"))
register(Op("stack", None, _stack_shape, promote, _out_size, _one,
            lambda xp, *arrays, axis: xp.stack(arrays, axis=axis), "m (elements copied)", "1"))

_same_dtype = lambda dtypes, attrs: dtypes[0]  # noqa: E731
register(Op("reshape", 1, _reshape_shape, _same_dtype, _free, _free,
            lambda xp, a, shape: xp.reshape(a, shape), "0 (a view)", "0 (a view)"))
register(Op("transpose", 1, _transpose_shape, _same_dtype, _free, _free,
            lambda xp, a, axes: xp.transpose(a, axes), "0 (a view)", "0 (a view)"))
register(Op("getitem", 1, _getitem_shape, _same_dtype, _free, _free,
            lambda xp, a, index: a[decode_index(index)], "0 (a view: basic indexing)", "0 (a view)"))


def _solve_work(s: tuple[Shape, ...], o: Shape, a: dict) -> int:
    d = s[0][-1]
    rhs = 1 if len(s[1]) == 1 else s[1][-1]
    return size(o[:-2]) * (d**3 + d * d * rhs) if len(o) >= 2 else d**3 + d * d


def _elimination_depth(s: tuple[Shape, ...], o: Shape, a: dict) -> int:
    # Gaussian elimination: d pivot steps, each a pivot search (a tree of ⌈log2 d⌉) and a row update.
    d = s[0][-1]
    return d * (log2ceil(d) + 1)


_float_dtype = _elementwise_dtype(lambda xp, a: xp.sqrt(a))
register(Op("solve", 2, _solve_shape, lambda dtypes, attrs: _float_dtype((promote(dtypes, attrs),), {}),
            _solve_work, _elimination_depth, lambda xp, a, b: xp.linalg.solve(a, b),
            "d³ + d²·k (d×d matrix, k right-hand sides), times the batch", "d·(⌈log2 d⌉ + 1)"))
register(Op("inv", 1, lambda s, a: (_square("inv", s[0]), s[0])[1], _float_dtype,
            lambda s, o, a: size(o[:-2]) * o[-1] ** 3, _elimination_depth,
            lambda xp, a: xp.linalg.inv(a), "d³, times the batch", "d·(⌈log2 d⌉ + 1)"))


def _fft_work(s: tuple[Shape, ...], o: Shape, a: dict) -> int:
    n = _fft_length(s, o, a)
    return size(s[0][:-1]) * n * max(1, log2ceil(n))


def _fft_depth(s: tuple[Shape, ...], o: Shape, a: dict) -> int:
    return max(1, log2ceil(_fft_length(s, o, a)))


_FFTS = {
    "fft": (lambda n: n, "fft"),
    "ifft": (lambda n: n, "ifft"),
    "rfft": (lambda n: n // 2 + 1, "rfft"),
}
for _name, (_len, _fn) in _FFTS.items():
    _impl = functools.partial(lambda xp, a, n, fn: getattr(xp.fft, fn)(a, n=n), fn=_fn)
    register(Op(_name, 1, functools.partial(_fft_shape, out_len=_len), _elementwise_dtype(_impl),
                _fft_work, _fft_depth, _impl, "N·⌈log2 N⌉ per transform of length N", "⌈log2 N⌉"))


def _irfft_shape(shapes: tuple[Shape, ...], attrs: dict) -> Shape:
    (shape,) = shapes
    if not shape:
        raise ShapeError("irfft: needs at least one axis, got a scalar")
    n = attrs.get("n") or 2 * (shape[-1] - 1)
    if n < 1:
        raise ShapeError(f"irfft: transform length {n} is too small for shape {shape}")
    return shape[:-1] + (n,)


_irfft_impl = lambda xp, a, n: xp.fft.irfft(a, n=n)  # noqa: E731
register(Op("irfft", 1, _irfft_shape, _elementwise_dtype(_irfft_impl),
            lambda s, o, a: size(o[:-1]) * o[-1] * max(1, log2ceil(o[-1])),
            lambda s, o, a: max(1, log2ceil(o[-1])),
            _irfft_impl, "N·⌈log2 N⌉ per transform of length N", "⌈log2 N⌉"))


# ---------------------------------------------------------------- the builders without operators


def _apply(op: str, inputs: Sequence[Any], name: str | None = None, **attrs: Any) -> Any:
    if not inputs or not all(hasattr(x, "graph") for x in inputs):
        raise ShapeError(f"{op}: operands must be depthgraph nodes, got {[type(x).__name__ for x in inputs]}")
    return inputs[0].graph.apply(op, inputs, name=name, **attrs)


def matmul(a: Any, b: Any, name: str | None = None) -> Any:
    """Matrix product with NumPy's ``@`` semantics (batched, matvec). Same as ``a @ b``."""
    return _apply("matmul", [a, b], name)


def dot(a: Any, b: Any, name: str | None = None) -> Any:
    """Inner product of two vectors of length m: work m, depth ⌈log2 m⌉ + 1.

    >>> import depthgraph
    >>> g = depthgraph.Graph()
    >>> a = g.input("a", (8,)); b = g.input("b", (8,))
    >>> dot(a, b).shape, cost(dot(a, b))
    ((), (8, 4))
    """
    return _apply("dot", [a, b], name)


def outer(a: Any, b: Any, name: str | None = None) -> Any:
    """Outer product of two vectors: shape (p, q), work p·q, depth 1."""
    return _apply("outer", [a, b], name)


def sum(x: Any, axis: int | tuple[int, ...] | None = None, name: str | None = None) -> Any:  # noqa: A001
    """Sum over ``axis`` (all axes if None) as a balanced tree: depth ⌈log2 m⌉ for m terms.

    >>> import depthgraph
    >>> g = depthgraph.Graph()
    >>> x = g.input("x", (3, 8))
    >>> s = sum(x, axis=1)
    >>> s.shape, cost(s)
    ((3,), (24, 3))
    """
    return _apply("sum", [x], name, axis=tuple(axis) if isinstance(axis, list) else axis)


def concat(nodes: Sequence[Any], axis: int = 0, name: str | None = None) -> Any:
    """Concatenate along an existing axis (a copy: work = elements, depth 1)."""
    return _apply("concat", list(nodes), name, axis=axis)


def stack(nodes: Sequence[Any], axis: int = 0, name: str | None = None) -> Any:
    """Stack along a new axis (a copy: work = elements, depth 1).

    >>> import depthgraph
    >>> g = depthgraph.Graph()
    >>> xs = [g.input(f"x{i}", (2,)) for i in range(3)]
    >>> stack(xs).shape
    (3, 2)
    """
    return _apply("stack", list(nodes), name, axis=axis)


def reshape(x: Any, shape: Sequence[int], name: str | None = None) -> Any:
    """Reshape (a free view). One dimension may be -1."""
    shape = tuple(int(d) for d in shape)
    if shape.count(-1) == 1:
        known = size(tuple(d for d in shape if d != -1))
        shape = tuple(size(x.shape) // known if known and d == -1 else d for d in shape)
    return _apply("reshape", [x], name, shape=shape)


def transpose(x: Any, axes: Sequence[int] | None = None, name: str | None = None) -> Any:
    """Permute axes (a free view); reverses them when ``axes`` is None, like ``x.T``."""
    axes = tuple(reversed(range(len(x.shape)))) if axes is None else tuple(int(a) for a in axes)
    return _apply("transpose", [x], name, axes=axes)


def solve(a: Any, b: Any, name: str | None = None) -> Any:
    """Solve ``a x = b`` for square ``a``: work d³ + d²k, depth d·(⌈log2 d⌉ + 1)."""
    return _apply("solve", [a, b], name)


def inv(a: Any, name: str | None = None) -> Any:
    """Inverse of a square matrix: work d³, depth d·(⌈log2 d⌉ + 1)."""
    return _apply("inv", [a], name)


def fft(x: Any, n: int | None = None, name: str | None = None) -> Any:
    """FFT along the last axis (zero-padded or cut to ``n``): work N⌈log2 N⌉, depth ⌈log2 N⌉."""
    return _apply("fft", [x], name, n=n)


def ifft(x: Any, n: int | None = None, name: str | None = None) -> Any:
    """Inverse FFT along the last axis; costs as `fft`."""
    return _apply("ifft", [x], name, n=n)


def rfft(x: Any, n: int | None = None, name: str | None = None) -> Any:
    """FFT of a real signal along the last axis (n//2 + 1 outputs); costs as `fft`."""
    return _apply("rfft", [x], name, n=n)


def irfft(x: Any, n: int | None = None, name: str | None = None) -> Any:
    """Inverse of `rfft`, giving ``n`` real outputs; costs as `fft` of length n."""
    return _apply("irfft", [x], name, n=n)


def _unary(op: str) -> Callable[..., Any]:
    def build(x: Any, name: str | None = None) -> Any:
        return _apply(op, [x], name)

    build.__name__ = build.__qualname__ = op
    build.__doc__ = f"Elementwise ``{_UNARY.get(op, op)}``: work m, depth 1."
    return build


exp, log, sqrt, abs, real, conj = (_unary(op) for op in ("exp", "log", "sqrt", "abs", "real", "conj"))  # noqa: A001


def cost_table() -> str:
    """The registry's cost table as Markdown (what ``docs/ops.md`` holds).

    >>> print(cost_table().splitlines()[0])
    | op | inputs | work | depth |
    """
    rows = ["| op | inputs | work | depth |", "|---|---|---|---|"]
    for name in sorted(REGISTRY):
        op = REGISTRY[name]
        arity = "any" if op.arity is None else str(op.arity)
        rows.append(f"| `{name}` | {arity} | {op.work_rule} | {op.depth_rule} |")
    return "\n".join(rows) + "\n"
