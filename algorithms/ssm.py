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
