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
import dataclasses
import functools
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import numpy as np

from depthgraph import shapes
from depthgraph.errors import ShapeError, UnknownOpError
from depthgraph.shapes import broadcast, decode_index, encode_index, size  # noqa: F401  (part of ops' API)

Shape = tuple[int, ...]


def log2ceil(m: int) -> int:
    """``⌈log2 m⌉`` for ``m ≥ 1`` (0 for m = 1): the depth of a balanced binary tree of m leaves.

    >>> [log2ceil(m) for m in (1, 2, 3, 4, 5, 1024)]
    [0, 1, 2, 2, 3, 10]
    """
    return (max(m, 1) - 1).bit_length()


@dataclass(frozen=True)
class Op:
    """One registry entry.

    ``shape(in_shapes, attrs) -> Shape`` raises `ShapeError` on operands it cannot combine;
    ``dtype(in_dtypes, attrs) -> str``; ``work`` and ``depth`` take ``(in_shapes, out_shape,
    attrs)``; ``work_rule``/``depth_rule`` are the same formulas in words, for the docs.
    ``arity`` is the number of inputs, or None for a variadic op.

    ``batched(xp, *stacked, **attrs)`` is the op applied to k operands at once, each stacked
    along a new leading axis (a leading axis of 1 stands for one operand shared by all k); it
    returns the k results stacked. The levels executor runs a whole group through one such
    call. Left out, the op is elementwise and `register` fills in `elementwise_batched`; sources
    and views are never batched (the levels executor folds views into its gathers). A variadic op whose
    operands all have one shape may also have ``packed(xp, array, **attrs)``, taking all k·m
    operands as one array of shape (k, m, *operand shape): one gather and one copy, however many
    operands (a ``concat`` of thousands of columns).
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
    batched: Callable[..., Any] | None = None
    packed: Callable[..., Any] | None = None



def _align(array: Any, ndim: int) -> Any:
    """Insert unit axes after the leading (batch) axis so that stacked operands broadcast."""
    return array.reshape(array.shape[:1] + (1,) * (ndim - array.ndim) + array.shape[1:])


def _full(xp: Any, arrays: Sequence[Any]) -> list[Any]:
    """Broadcast shared operands (leading axis 1) to the group's k, for ops that don't broadcast."""
    k = max(a.shape[0] for a in arrays)
    return [a if a.shape[0] == k else xp.broadcast_to(a, (k,) + a.shape[1:]) for a in arrays]


def elementwise_batched(impl: Callable[..., Any]) -> Callable[..., Any]:
    """The batched form of an elementwise ``impl``: align ranks, then broadcasting does the rest."""

    def run(xp: Any, *stacked: Any, **attrs: Any) -> Any:
        ndim = max(a.ndim for a in stacked)
        return impl(xp, *(_align(a, ndim) for a in stacked), **attrs)

    return run


def _matmul_batched(xp: Any, a: Any, b: Any) -> Any:
    # A matrix shared by k vectors or rows is one GEMM of them stacked, not k small products
    # (CuPy's broadcasting matmul would build pointer arrays and call gemmBatched).
    if a.shape[0] == 1 and a.ndim == 3 and b.shape[0] > 1 and (b.ndim == 2 or b.ndim == 3 and b.shape[-1] == 1):
        vectors = b if b.ndim == 2 else b[..., 0]
        out = xp.matmul(vectors, a[0].T)
        return out if b.ndim == 2 else out[..., None]
    if b.shape[0] == 1 and b.ndim == 3 and a.shape[0] > 1:  # k rows (k, n) or k matrices (k, m, n) times one
        out = xp.matmul(a.reshape(-1, a.shape[-1]), b[0])
        return out.reshape(a.shape[:-1] + b.shape[-1:])
    # A 1-D operand (stacked: 2-D) is a row (a) or a column (b), dropped again from the result.
    row, column = a.ndim == 2, b.ndim == 2
    a, b = (a[:, None, :] if row else a), (b[:, :, None] if column else b)
    ndim = max(a.ndim, b.ndim)
    out = xp.matmul(_align(a, ndim), _align(b, ndim))
    out = out[..., 0] if column else out
    return (out[..., 0] if column else out[..., 0, :]) if row else out


def _batch_axis(axis: int, ndim: int) -> int:
    """A member's axis as an axis of the stacked array."""
    return axis % ndim + 1


def _sum_batched(xp: Any, a: Any, axis: Any) -> Any:
    member = a.ndim - 1
    axes = range(member) if axis is None else axis if isinstance(axis, tuple) else (axis,)
    return xp.sum(a, axis=tuple(_batch_axis(x, member) for x in axes))


def _concat_packed(xp: Any, packed: Any, axis: int) -> Any:
    # (k, m, ..., s_a, ...): bring the m operands next to the concatenated axis, then merge them.
    a = _batch_axis(axis, packed.ndim - 2)
    moved = xp.moveaxis(packed, 1, a)
    return moved.reshape(moved.shape[:a] + (moved.shape[a] * moved.shape[a + 1],) + moved.shape[a + 2:])


def _solve_batched(xp: Any, a: Any, b: Any) -> Any:
    a, b = _full(xp, [a, b])
    vector = b.ndim == a.ndim - 1  # each right-hand side a vector: solve for a column
    out = xp.linalg.solve(a, b[..., None] if vector else b)
    return out[..., 0] if vector else out


REGISTRY: dict[str, Op] = {}


def register(op: Op) -> Op:
    """Add an op to the registry (one entry per op name); an op with no ``batched`` form is
    elementwise and gets `elementwise_batched` of its implementation."""
    if op.name in REGISTRY:
        raise ValueError(f"op {op.name!r} is registered twice")
    if op.batched is None and op.arity != 0:
        op = dataclasses.replace(op, batched=elementwise_batched(op.impl))
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
    Op("matmul", 2, shapes.matmul, promote,
       lambda s, o, a: size(o) * (s[0][-1] if s[0] else 1),
       lambda s, o, a: log2ceil(s[0][-1]) + 1,
       lambda xp, a, b: xp.matmul(a, b),
       "p·q·r per (p×q)·(q×r) product, times the batch", "⌈log2 q⌉ + 1", _matmul_batched)
)


register(Op("dot", 2, shapes.dot, promote, lambda s, o, a: s[0][0], lambda s, o, a: log2ceil(s[0][0]) + 1,
            lambda xp, a, b: xp.dot(a, b), "m (terms)", "⌈log2 m⌉ + 1",
            lambda xp, a, b: xp.matmul(a[:, None, :], b[:, :, None])[:, 0, 0]))


register(Op("outer", 2, shapes.outer, promote, _out_size, _one, lambda xp, a, b: xp.outer(a, b),
            "p·q", "1", lambda xp, a, b: a[:, :, None] * b[:, None, :]))

register(
    Op("sum", 1, lambda s, a: shapes.reduced(s, a)[0], promote,
       lambda s, o, a: size(s[0]),
       lambda s, o, a: max(1, log2ceil(shapes.reduced(s, a)[1])),
       lambda xp, a, axis: xp.sum(a, axis=axis),
       "m (terms summed)", "⌈log2 m⌉ for m terms per output (1 if m = 1: still a copy)", _sum_batched)
)

register(Op("concat", None, shapes.concat, promote, _out_size, _one,
            lambda xp, *arrays, axis: xp.concatenate(arrays, axis=axis), "m (elements copied)", "1",
            lambda xp, *arrays, axis: xp.concatenate(_full(xp, arrays), axis=_batch_axis(axis, arrays[0].ndim - 1)),
            _concat_packed))
register(Op("stack", None, shapes.stack, promote, _out_size, _one,
            lambda xp, *arrays, axis: xp.stack(arrays, axis=axis), "m (elements copied)", "1",
            lambda xp, *arrays, axis: xp.stack(_full(xp, arrays), axis=_batch_axis(axis, arrays[0].ndim)),
            lambda xp, packed, axis: xp.moveaxis(packed, 1, _batch_axis(axis, packed.ndim - 1))))

_same_dtype = lambda dtypes, attrs: dtypes[0]  # noqa: E731
register(Op("reshape", 1, shapes.reshape, _same_dtype, _free, _free,
            lambda xp, a, shape: xp.reshape(a, shape), "0 (a view)", "0 (a view)"))
register(Op("transpose", 1, shapes.transpose, _same_dtype, _free, _free,
            lambda xp, a, axes: xp.transpose(a, axes), "0 (a view)", "0 (a view)"))
register(Op("getitem", 1, shapes.getitem, _same_dtype, _free, _free,
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
register(Op("solve", 2, shapes.solve, lambda dtypes, attrs: _float_dtype((promote(dtypes, attrs),), {}),
            _solve_work, _elimination_depth, lambda xp, a, b: xp.linalg.solve(a, b),
            "d³ + d²·k (d×d matrix, k right-hand sides), times the batch", "d·(⌈log2 d⌉ + 1)", _solve_batched))
register(Op("inv", 1, lambda s, a: (shapes.square("inv", s[0]), s[0])[1], _float_dtype,
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
    register(Op(_name, 1, functools.partial(shapes.fft, out_len=_len), _elementwise_dtype(_impl),
                _fft_work, _fft_depth, _impl, "N·⌈log2 N⌉ per transform of length N", "⌈log2 N⌉"))


_irfft_impl = lambda xp, a, n: xp.fft.irfft(a, n=n)  # noqa: E731
register(Op("irfft", 1, shapes.irfft, _elementwise_dtype(_irfft_impl),
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
