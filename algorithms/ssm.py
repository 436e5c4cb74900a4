"""State-space models run step by step: the SSM recurrence.

Conventions: x_0 = 0; for k = 0..L-1, y_k = C x_k + D u_k and x_{k+1} = A x_k + B u_k, with
A (n, n), B (n, 1), C (1, n), D (1, 1), u (L,), y (L,).
"""

from __future__ import annotations

import numpy as np

import depthgraph
from algorithms.registry import register


def stable_ssm(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """A random SSM whose A has spectral radius 0.9, so powers of A neither blow up nor vanish fast."""
    m = rng.standard_normal((n, n))
    return {
        "A": 0.9 * m / np.max(np.abs(np.linalg.eigvals(m))),
        "B": rng.standard_normal((n, 1)),
        "C": rng.standard_normal((1, n)),
        "D": rng.standard_normal((1, 1)),
    }


def recurrence_inputs(rng: np.random.Generator, L: int, n: int) -> dict[str, np.ndarray]:
    return {**stable_ssm(rng, n), "u": rng.standard_normal(L)}


@register("recurrence", recurrence_inputs, L=16, n=4)
def recurrence(L: int, n: int) -> depthgraph.Graph:
    """The SSM recurrence, one node per position and op: x_{k+1} = A x_k + B u_k, y_k = C x_k + D u_k.

    Granularity: each step k is a matvec ``A @ x_k``, a scaled input ``B * u_k`` and their sum
    ``x_{k+1}``; the output ``y_k`` reads ``x_k``. The state chain x_1 → x_2 → … → x_{L-1} is
    the critical path. x_0 = 0 is folded in (x_1 = B u_0, y_0 = D u_0), and x_L is never built.

    Work: L·n² (the matvecs) + O(L·n) = Θ(L n²).
    Span: (L-1)·(⌈log2 n⌉ + 2) + 2 = Θ(L log n): each step a matvec tree plus an add,
    then x_1 = B u_0 and the final stack. Steps: 2L.

    Examples
    --------
    >>> import depthgraph
    >>> a = depthgraph.analyze(recurrence(L=4, n=4))
    >>> a.span, a.steps
    (14, 8)
    """
    g = depthgraph.Graph()
    A, B, C, D = g.input("A", (n, n)), g.input("B", (n, 1)), g.input("C", (1, n)), g.input("D", (1, 1))
    u = g.input("u", (L,))
    x = None
    ys = []
    for k in range(L):
        u_k = u[k]
        if x is None:
            y = g.apply("mul", [D, u_k], name=f"y_{k}")
        else:
            y = g.apply("add", [C @ x, D * u_k], name=f"y_{k}")
        ys.append(y[0, 0])
        if k + 1 < L:
            x = g.apply("mul", [B, u_k], name=f"x_{k + 1}") if x is None else g.apply(
                "add", [A @ x, B * u_k], name=f"x_{k + 1}")
    g.output("y", depthgraph.ops.stack(ys))
    return g


def ltv_inputs(rng: np.random.Generator, L: int, n: int) -> dict[str, np.ndarray]:
    # |a_k| < 1 keeps the state bounded however long the sequence.
    return {
        "a": rng.uniform(-0.99, 0.99, (L, n)),
        "Bk": rng.standard_normal((L, n)),
        "Ck": rng.standard_normal((L, n)),
        "D": rng.standard_normal((1, 1)),
        "u": rng.standard_normal(L),
    }


@register("ssm-ltv", ltv_inputs, L=16, n=4)
def ssm_ltv(L: int, n: int) -> depthgraph.Graph:
    """Time-varying diagonal SSM by a Blelloch scan: x_{k+1} = a_k ⊙ x_k + Bk_k u_k, y_k = Ck_k·x_k + D u_k.

    Inputs a, Bk, Ck (L, n), D (1, 1), u (L,); output y (L,); x_0 = 0. The states are the
    linear recurrence h_t = a_t ⊙ h_{t-1} + b_t with b_t = Bk_t u_t and x_{k+1} = h_k, computed by
    `algorithms.scan.linear_recurrence` (Blelloch). Only x_1 … x_{L-1} are read, so the scan runs
    over the first L-1 positions (a_{L-1} and Bk_{L-1} are not needed).

    Granularity: one node per position and op — b_t = Bk_t·u_t (n elements), the scan's combines
    (a2·a1, a2·b1 and an add, n elements each), and per output the dot Ck_k·x_k, D·u_k and
    their sum — then a final stack of the L outputs.

    Work: W(L-1) + n(L-1) + 3L - 1 = Θ(L n), where W(m) is the work of ``scan-blelloch`` at
    L = m (it counts nm for its stack, which here is the nm of the products b_t): n(L-1) for the
    dots, L for D·u_k, L-1 adds and L for the stack; for L - 1 = 2^k that is
    n(7(L-1) - 3k - 5) + 3L - 1.
    Span (L ≥ 2): S(L-1) + ⌈log2 n⌉ + 3 = Θ(log L + log n), where S(m) is the span of
    ``scan-blelloch`` at L = m (4 log2 m - 3 for m = 2^k ≥ 4): b_t, the scan, the dot
    (⌈log2 n⌉ + 1), the add and the stack. The answer key says Θ(log L): it leaves out the dot
    product y_k = Ck_k·x_k, a tree of n terms, which adds ⌈log2 n⌉ to every output.
    Steps: S(L-1) + 3 (every op but the dot is 1 deep). For L = 1, y_0 = D u_0: span 2.

    Examples
    --------
    >>> import depthgraph
    >>> a = depthgraph.analyze(ssm_ltv(L=9, n=4))
    >>> a.work, a.span, a.steps
    (194, 14, 12)
    """
    # Imported here, not at the top: importing algorithms.scan registers the scans, and
    # algorithms/__init__.py imports this module first so that `names()` starts with its algorithms.
    from algorithms.scan import linear_recurrence

    g = depthgraph.Graph()
    a, Bk, Ck = g.input("a", (L, n)), g.input("Bk", (L, n)), g.input("Ck", (L, n))
    D, u = g.input("D", (1, 1)), g.input("u", (L,))
    b = [g.apply("mul", [Bk[k], u[k]], name=f"b_{k}") for k in range(L - 1)]
    d = D[0, 0]
    ys = [d * u[0]]
    for k, x_k in enumerate(linear_recurrence(a[: L - 1], b, "blelloch"), start=1):
        ys.append(g.apply("add", [depthgraph.ops.dot(Ck[k], x_k), d * u[k]], name=f"y_{k}"))
    g.output("y", depthgraph.ops.stack(ys))
    return g
