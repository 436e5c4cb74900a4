"""The SSM convolution kernel K_0 = D, K_l = C A^{l-1} B (l = 1..L-1), four ways.

Shapes as in `algorithms.ssm`: A (n, n), B (n, 1), C (1, n), D (1, 1); the output K has
shape (L,), and y = K * u (causal convolution truncated to L) is the SSM's output.

* **sequential** — the matvec chain v_1 = B, v_{l+1} = A v_l, K_l = C v_l: L-2 dependent
  matvecs, Θ(L log n) span.
* **doubling** — each column is its own node, v_{m+j} = A^m v_j (j = 1..m), so the columns
  double at each step and A^{2m} = A^m A^m: log2 L steps, each a matvec deep (all the step's
  matvecs side by side), then one concat X = [v_1 … v_{L-1}] and one matmul C X for the taps.
* **diagonal** — A = diag(a): the powers are elementwise, p_{m+j} = a^m ⊙ p_j and
  a^{2m} = a^m ⊙ a^m, so each column is one multiply, and K_l = Σ_i C_i B_i a_i^{l-1} is one
  matmul at the end.
* **DPLR** — A = I + p pᵀ has the closed form A^k = I + ((1+‖p‖²)^k − 1)/‖p‖² · p pᵀ, so
  only the scalar powers s^k of s = 1 + ‖p‖² are needed.

The last three double by one helper, `doubling_columns`, which takes any L (the last step
computes only the columns still needed). Its granularity is one node per position: drawn at
small L, each column's chain v_1 → v_{1+2^a} → … → v_l (through the binary digits of l-1) is
visible, and the levels executor runs each step's column products as one batched call.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

import depthgraph
from algorithms.registry import register
from algorithms.ssm import stable_ssm

Node = depthgraph.Node

#: `kernel-dplr` warns when its estimated relative error exceeds this.
DPLR_TOLERANCE = 1e-8


def doubling_columns(first: Node, power: Node, count: int, op: str, symbol: str, column: str = "v",
                     together: str = "X") -> Node:
    """The columns [v_1 … v_count] of v_{j+1} = M v_j, v_1 = ``first``, by doubling, one node each.

    A step with power M^m makes the columns v_{m+j} = M^m v_j for j = 1..r, r = min(m, count - m),
    each its own node (named ``{column}_{m+j}``: ``v_5``, ``p_5``, ``s_5``), all one ``op`` deep
    and side by side; M^{2m} = M^m M^m (named ``{symbol}^{2m}``: ``A^4``, ``a^4``, ``s^4``) is
    formed only while a next step needs it. ``op`` applies a power of M to a column and squares
    it: ``"matmul"`` for a dense M, ``"mul"`` for a diagonal M stored as a column (n, 1) or for a
    scalar. J = ⌈log2 count⌉ steps (J - 1 squarings, count - 1 column products), then one
    ``concat`` along axis 1 (named ``together``) gathers the columns into one matrix (for
    count = 1, ``first`` itself is returned: no concat).

    >>> g = depthgraph.Graph()
    >>> row = doubling_columns(g.constant([[1.0]]), g.input("s", ()), 5, "mul", "s", "s", "S")
    >>> _ = g.output("powers", row)
    >>> depthgraph.execute(g, {"s": np.float64(2.0)})["powers"]
    array([[ 1.,  2.,  4.,  8., 16.]])
    >>> [v.name for v in row.inputs[1:]], [x.name for x in g.node("s_5").inputs]
    (['s_2', 's_3', 's_4', 's_5'], ['s^4', 'const_0'])
    """
    g = first.graph
    columns, m = [first], 1
    while m < count:
        r = min(m, count - m)
        columns += [g.apply(op, [power, columns[j]], name=f"{column}_{m + j + 1}") for j in range(r)]
        m += r
        if m < count:
            power = g.apply(op, [power, power], name=f"{symbol}^{m}")
    return columns[0] if count == 1 else depthgraph.ops.concat(columns, axis=1, name=together)


def _output_kernel(g: depthgraph.Graph, D: Node, taps: list[Node]) -> depthgraph.Graph:
    """Declare K = (D, taps…): D and each tap a row of shape (1, ·), K a vector of shape (L,)."""
    g.output("K", depthgraph.ops.concat([D[0]] + [t[0] for t in taps], name="K"))
    return g


def _ssm_inputs(g: depthgraph.Graph, first: str, first_shape: tuple[int, ...], n: int) -> tuple[Node, ...]:
    return (g.input(first, first_shape), g.input("B", (n, 1)), g.input("C", (1, n)), g.input("D", (1, 1)))


def dense_inputs(rng: np.random.Generator, L: int, n: int) -> dict[str, np.ndarray]:
    return stable_ssm(rng, n)


def _readout(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Standard normal B, C, D, as `stable_ssm` draws them, for the structured A's."""
    return {"B": rng.standard_normal((n, 1)), "C": rng.standard_normal((1, n)), "D": rng.standard_normal((1, 1))}


@register("kernel-sequential", dense_inputs, L=16, n=4)
def kernel_sequential(L: int, n: int) -> depthgraph.Graph:
    """SSM kernel K_l = C A^{l-1} B by the matvec chain v_1 = B, v_{l+1} = A v_l, K_l = C v_l.

    Granularity: one node per position and op: the matvec ``v_{l+1} = A @ v_l`` and the tap
    ``K_l = C @ v_l``; the chain v_2 → v_3 → … → v_{L-1} is the critical path. K_0 = D, and
    the final ``concat`` gathers D and the L-1 taps into K.

    Work: (L-2)·n² (matvecs) + (L-1)·n (taps) + L (concat) = Θ(L n²) for L ≥ 2.
    Span: (L-1)·(⌈log2 n⌉ + 1) + 1 = Θ(L log n): L-2 matvecs, the last tap, the concat.
    Steps: L. (L = 1: K = D, work 1, span 1.)

    Examples
    --------
    >>> a = depthgraph.analyze(kernel_sequential(L=16, n=4))
    >>> a.work, a.span, a.steps
    (300, 46, 16)
    """
    g = depthgraph.Graph()
    A, B, C, D = _ssm_inputs(g, "A", (n, n), n)
    taps, v = [], B
    for l in range(1, L):
        taps.append(g.apply("matmul", [C, v], name=f"K_{l}"))
        if l + 1 < L:
            v = g.apply("matmul", [A, v], name=f"v_{l + 1}")
    return _output_kernel(g, D, taps)


@register("kernel-doubling", dense_inputs, L=16, n=4)
def kernel_doubling(L: int, n: int) -> depthgraph.Graph:
    """SSM kernel by doubling: v_{m+j} = A^m v_j (j = 1..m), A^{2m} = A^m A^m, then K = (D, C X).

    v_l = A^{l-1} B, v_1 = B. A step with power A^m makes the columns v_{m+1} … v_{2m}, each
    from one already made: J = ⌈log2(L-1)⌉ steps bring them to the L-1 columns the taps need;
    the last step computes only the columns still missing, and A^{2m} is formed only when a
    later step uses it (J-1 squarings). X = [v_1 … v_{L-1}] (n × (L-1)) is their concat.

    Granularity: one node per position — the matvec ``v_{m+j} = A^m @ v_j`` — plus one per
    squaring ``A^{2m}``, then one ``concat`` X, one matmul ``C @ X`` for all taps and the final
    ``concat``. So position l's chain runs through the steps of the binary digits of l-1
    (v_1 → v_2 → v_4 → v_8 for l = 8, with A^1, A^2, A^4 beside it); the levels executor runs
    each step's r column matvecs as one batched matmul, A^m broadcast.

    Work: (J-1)·n³ (squarings) + (L-2)·n² (column matvecs) + n·(L-1) (concat X, none at L = 2)
    + n·(L-1) (C X) + L (concat) = Θ(n³ log L + L n²).
    Span: J·(⌈log2 n⌉ + 1) + 1 + ⌈log2 n⌉ + 1 + 1 = (J+1)·(⌈log2 n⌉ + 1) + 2 = Θ(log L · log n)
    for L ≥ 3: each step one matvec deep (the squaring runs beside it), then X, C X and the
    final concat ((J+1)·(⌈log2 n⌉ + 1) + 1 at L = 2, with no concat X). Steps: J + 3 (L ≥ 3).

    Examples
    --------
    >>> a = depthgraph.analyze(kernel_doubling(L=16, n=4))
    >>> a.work, a.span, a.steps
    (552, 17, 7)
    """
    g = depthgraph.Graph()
    A, B, C, D = _ssm_inputs(g, "A", (n, n), n)
    taps = [C @ doubling_columns(B, A, L - 1, "matmul", "A", "v", "X")] if L > 1 else []
    return _output_kernel(g, D, taps)


def diagonal_inputs(rng: np.random.Generator, L: int, n: int) -> dict[str, np.ndarray]:
    # |a_i| < 0.95 keeps the powers bounded however long the kernel.
    return {"a": rng.uniform(-0.95, 0.95, n), **_readout(rng, n)}


@register("kernel-diagonal", diagonal_inputs, L=16, n=4)
def kernel_diagonal(L: int, n: int) -> depthgraph.Graph:
    """SSM kernel for a diagonal A = diag(a): K_l = Σ_i C_i B_i a_i^{l-1}, powers by doubling.

    The columns p_l = a^{l-1} (elementwise, (n, 1)) double as p_{m+j} = a^m ⊙ p_j (j = 1..m),
    a^{2m} = a^m ⊙ a^m, from p_1 = 1 (a constant); J = ⌈log2(L-1)⌉ steps reach the L-1 powers
    a^0 … a^{L-2}, gathered by one concat into P = [p_1 … p_{L-1}] (n × (L-1)). Then the taps
    are one matmul, (C ⊙ Bᵀ) · P (1 × n times n × (L-1)).

    Granularity: one node per position (the multiply ``p_{m+j} = a^m ⊙ p_j``) and per squaring
    ``a^{2m}``, as in `kernel_doubling`, then the concat P and one matmul for all taps.

    Work: (L-2)·n (columns) + (J-1)·n (squarings) + n·(L-1) (concat P, none at L = 2) + n (C ⊙ Bᵀ)
    + (L-1)·n (matmul) + L = Θ(L n).
    Span: J + 1 + ⌈log2 n⌉ + 1 + 1 = J + ⌈log2 n⌉ + 3 = Θ(log L + log n) for L ≥ 2: each step
    one multiply, then the concat P, the matmul (a tree over n) and the final concat (at L = 2,
    C ⊙ Bᵀ takes P's place).

    Examples
    --------
    >>> a = depthgraph.analyze(kernel_diagonal(L=16, n=4))
    >>> a.work, a.span, a.steps
    (208, 9, 7)
    """
    g = depthgraph.Graph()
    a, B, C, D = _ssm_inputs(g, "a", (n,), n)
    taps = []
    if L > 1:
        powers = doubling_columns(g.constant(np.ones((n, 1))), depthgraph.ops.reshape(a, (n, 1)), L - 1, "mul", "a", "p", "P")
        taps.append((C * B.T) @ powers)
    return _output_kernel(g, D, taps)


def dplr_inputs(rng: np.random.Generator, L: int, n: int) -> dict[str, np.ndarray]:
    # A = I + p pᵀ has spectral radius s = 1 + ‖p‖² > 1: it is never stable, and K grows like
    # s^L. ‖p‖² = 0.5/L keeps s^L ≈ e^0.5 for every L, and ‖p‖² far above eps (no cancellation).
    p = rng.standard_normal(n)
    return {"p": p * math.sqrt(0.5 / L) / np.linalg.norm(p), **_readout(rng, n)}


def dplr_check(inputs: dict[str, Any], L: int, n: int) -> None:
    """Refuse inputs whose powers of s = 1 + ‖p‖² overflow, and warn where cancellation costs precision.

    The largest power the graph forms is s^(L-2): it overflows float64 when
    (L-2)·log1p(‖p‖²) > log(max float64) ≈ 709.8 (`depthgraph.ParameterError`). The
    coefficient (s^k − 1)/‖p‖² cancels when ‖p‖² is small: s = 1 + ‖p‖² is rounded to eps,
    so s^k − 1 ≈ k‖p‖² carries an absolute error of about k·eps and the coefficient, hence the
    rank-one part of K, a relative error of about eps/‖p‖² (K itself is that inaccurate where
    the rank-one part dominates C B). Above `DPLR_TOLERANCE` this warns (RuntimeWarning).
    """
    q = float(np.dot(inputs["p"], inputs["p"]))
    if L < 2:  # K = D: the graph reads no power of s
        return
    if q == 0.0:
        raise depthgraph.ParameterError("kernel-dplr: input p is zero (or ‖p‖² underflows); "
                                        "the closed form divides by ‖p‖²")
    limit = math.log(np.finfo(np.float64).max)
    if (L - 2) * math.log1p(q) > limit:
        raise depthgraph.ParameterError(
            f"kernel-dplr: (1 + ‖p‖²)^(L-2) overflows float64 for input p: ‖p‖² = {q:.3g}, L = {L}, "
            f"(L-2)·log1p(‖p‖²) = {(L - 2) * math.log1p(q):.4g} > log(max float64) = {limit:.4g}; "
            f"A = I + p pᵀ is unstable (spectral radius 1 + ‖p‖²), so need ‖p‖² < "
            f"{math.expm1(limit / (L - 2)):.3g} at this L"
        )
    error = np.finfo(np.float64).eps / q
    if L > 2 and error > DPLR_TOLERANCE:  # at L = 2 the only coefficient, s^0 − 1 = 0, is exact
        warnings.warn(
            f"kernel-dplr: ‖p‖² = {q:.3g} is so small that ((1 + ‖p‖²)^k − 1)/‖p‖² cancels: the "
            f"rank-one part of K (all of K where C B is small) has an estimated relative error of "
            f"eps/‖p‖² = {error:.2g} > {DPLR_TOLERANCE:g}",
            RuntimeWarning,
            stacklevel=3,
        )


@register("kernel-dplr", dplr_inputs, checker=dplr_check, L=16, n=4)
def kernel_dplr(L: int, n: int) -> depthgraph.Graph:
    """SSM kernel for A = I + p pᵀ by the closed form K_l = C B + ((s^{l-1} − 1)/‖p‖²)(C p)(pᵀ B).

    A^k = I + ((1+‖p‖²)^k − 1)/‖p‖² · p pᵀ, so with s = 1 + ‖p‖² only the scalars s^k are
    needed: the columns s_l = s^{l-1} double as s_{m+j} = s^m s_j (j = 1..m), s^{2m} = s^m s^m,
    from s_1 = 1 (J = ⌈log2(L-1)⌉ steps), and one concat makes the row S = [s^0 … s^{L-2}]. The n-sized work is four inner products: ‖p‖²,
    C p, pᵀ B, C B. Then K_l = C B + (S − 1)·((C p)(pᵀ B)/‖p‖²).

    A = I + p pᵀ is never stable (its spectral radius is s > 1), so K grows like s^L; the
    checker `dplr_check` (run by ``Algorithm.run``) raises where s^(L-2) overflows and warns
    where ‖p‖² is so small that s^k − 1 cancels. The test inputs take ‖p‖² = 0.5/L.

    Granularity: one node per scalar op, per position (``s_{m+j} = s^m · s_j``) and per
    squaring ``s^{2m}``, as in `kernel_doubling`, then the concat S and three elementwise ops
    over the L-1 taps.

    Work: 4n (inner products) + 3 (s and the rank-one factor) + (L-2) + (J-1) (columns and
    squarings) + (L-1) (concat S) + 3(L-1) (the taps) + L (concat) = Θ(n + L) for L ≥ 3.
    Span: ⌈log2 n⌉ + 1 (‖p‖²) + 1 (s) + J (doubling) + 1 (concat S) + 3 (S − 1, times, plus C B)
    + 1 (concat) = ⌈log2 n⌉ + J + 7 = Θ(log n + log L) for L ≥ 3.

    Examples
    --------
    >>> a = depthgraph.analyze(kernel_dplr(L=16, n=4))
    >>> a.work, a.span, a.steps
    (112, 13, 11)
    """
    g = depthgraph.Graph()
    p, B, C, D = _ssm_inputs(g, "p", (n,), n)
    taps = []
    if L > 1:
        norm2 = depthgraph.ops.dot(p, p, name="norm2")
        s = g.apply("add", [norm2, g.constant(1.0)], name="s")
        powers = doubling_columns(g.constant([[1.0]]), s, L - 1, "mul", "s", "s", "S")
        rank_one = (C @ p) * (p @ B) / norm2
        taps.append((C @ B) + (powers - 1.0) * rank_one)
    return _output_kernel(g, D, taps)
