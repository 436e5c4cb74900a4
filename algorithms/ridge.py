"""Ridge attention: each query reads the values through a ridge regression on the keys.

Inputs q, k, v of shape (T, d) (rows q_t, k_t, v_t, t = 1..T) and λ > 0 of shape ().
Causal ridge attention gives, for every position t, with K_t, V_t the first t rows of k, v
(position t included) and M_t = K_tᵀK_t + λI,

    o_t = V_tᵀ K_t M_t^{-1} q_t = S_t M_t^{-1} q_t,    S_t = V_tᵀK_t = Σ_{s≤t} v_s k_sᵀ,

and, as an optional output ``alpha`` (T, T), the attention weights α_t = K_t M_t^{-1} q_t
(length t, possibly negative: ridge weights are not a softmax) in the first t entries of row t,
zeros after. Non-causal ridge attention uses all T pairs for every query. Three schedules:

* **Sherman–Morrison** — keep M_t^{-1} by rank-1 updates, one position after the other:
  Θ(T d²) work, Θ(T log d) span (the update chain).
* **causal solve** — prefix sums of k_t k_tᵀ and v_t k_tᵀ by a log-depth scan, then T
  independent solves: Θ(T d³) work, Θ(log T + d log d) span (the scan, then one solve).
* **non-causal** — one d×d system for all queries: Θ(T d² + d³) work,
  Θ(log T + d log d) span.

The ``solve`` op costs d³ work and d·(⌈log2 d⌉ + 1) depth (docs/ops.md), which is why the
"solve depth" of the answer key is d log d here.
"""

from __future__ import annotations

import numpy as np

import depthgraph
from algorithms.registry import register
from algorithms.scan import blelloch_scan
from depthgraph import Node, ops


def ridge_inputs(rng: np.random.Generator, T: int, d: int, **switches: bool) -> dict[str, np.ndarray]:
    return {
        "q": rng.standard_normal((T, d)),
        "k": rng.standard_normal((T, d)),
        "v": rng.standard_normal((T, d)),
        # λ bounded away from 0 keeps every M_t = K_tᵀK_t + λI well conditioned, also for t < d
        # where K_tᵀK_t alone is singular.
        "lam": np.array(rng.uniform(0.5, 2.0)),
    }


def _ridge_graph(T: int, d: int) -> tuple[depthgraph.Graph, Node, Node, Node, Node]:
    g = depthgraph.Graph()
    q, k, v = (g.input(name, (T, d)) for name in "qkv")
    return g, q, k, v, g.input("lam", ())


def _causal_outputs(g: depthgraph.Graph, k: Node, states: list[tuple[Node, Node]], weights: bool) -> depthgraph.Graph:
    """Declare o_t = S_t w_t and, if ``weights``, α_t = K_t w_t, from each position's (S_t, w_t = M_t^{-1} q_t)."""
    T = len(states)
    g.output("o", ops.stack([g.apply("matmul", [S, w], name=f"o_{t + 1}") for t, (S, w) in enumerate(states)]))
    if weights:
        zeros = g.constant(np.zeros(T - 1))  # one constant; each row pads with a free slice of it
        rows = [k[: t + 1] @ w for t, (_, w) in enumerate(states)]
        g.output("alpha", ops.stack([ops.concat([row, zeros[: T - 1 - t]]) if t < T - 1 else row
                                     for t, row in enumerate(rows)]))
    return g


@register("ridge-sherman-morrison", ridge_inputs, T=16, d=4, weights=False)
def ridge_sherman_morrison(T: int, d: int, weights: bool) -> depthgraph.Graph:
    """Causal ridge attention with M_t^{-1} kept by Sherman–Morrison rank-1 updates.

    Recurrence, from M_0^{-1} = I/λ and S_0 = 0, for t = 1..T:
    u_t = M_{t-1}^{-1} k_t (also (k_tᵀ M_{t-1}^{-1})ᵀ, since M^{-1} is symmetric),
    M_t^{-1} = M_{t-1}^{-1} − (u_t / (1 + k_tᵀu_t)) u_tᵀ, S_t = S_{t-1} + v_t k_tᵀ,
    w_t = M_t^{-1} q_t, o_t = S_t w_t (and α_t = K_t w_t if ``weights``).

    Granularity: one node per position and op (nodes ``Minv_t``, ``S_t``, ``o_t`` are named),
    so the drawn DAG shows the inverse chain Minv_0 → Minv_1 → … → Minv_T, the cheaper S
    chain beside it, and each o_t hanging off both.

    Work: T(7d² + 3d + 1) = Θ(T d²) — per position two d×d matvecs on the chain, the outer
    products and matrix adds/subtracts, and two matvecs for o_t; plus I/λ and the final stack.
    With ``weights``, α adds Σ_t t·d + 2T² − T = Θ(T² d) (the weights are T²/2 numbers).
    Span: T(2⌈log2 d⌉ + 6) + 2⌈log2 d⌉ + 4 = Θ(T log d): each update is a matvec and a dot
    (⌈log2 d⌉ + 1 each), then add, divide, outer, subtract; after Minv_T come w_T, o_T and the
    stack, and I/λ comes before Minv_0 → Minv_1. Steps: 6T + 4.

    Examples
    --------
    >>> import depthgraph
    >>> a = depthgraph.analyze(ridge_sherman_morrison(T=4096, d=64, weights=False))
    >>> a.work, a.span, a.steps
    (118231040, 73744, 24580)
    """
    g, q, k, v, lam = _ridge_graph(T, d)
    Minv = g.apply("div", [g.constant(np.eye(d)), lam], name="Minv_0")
    one = g.constant(1.0)  # shared by every step's 1 + k_tᵀu_t, rather than a constant per step
    S = None
    states = []
    for t in range(T):
        k_t = k[t]
        u = Minv @ k_t
        Minv = g.apply("sub", [Minv, ops.outer(u / (one + ops.dot(k_t, u)), u)], name=f"Minv_{t + 1}")
        vk = ops.outer(v[t], k_t)
        S = g.apply("add", [S, vk], name=f"S_{t + 1}") if S is not None else vk
        states.append((S, Minv @ q[t]))
    return _causal_outputs(g, k, states, weights)


def _add_pairs(earlier: tuple[Node, Node], later: tuple[Node, Node]) -> tuple[Node, Node]:
    return earlier[0] + later[0], earlier[1] + later[1]


@register("ridge-causal-solve", ridge_inputs, T=16, d=4, weights=False)
def ridge_causal_solve(T: int, d: int, weights: bool) -> depthgraph.Graph:
    """Causal ridge attention from scanned prefix sums and T independent solves.

    Recurrence: (P_t, S_t) = Σ_{s≤t} (k_s k_sᵀ, v_s k_sᵀ), the inclusive prefix sums by a
    Blelloch scan (`algorithms.scan.blelloch_scan`, combine = elementwise addition of the pair);
    then, independently for each t, w_t = solve(P_t + λI, q_t), o_t = S_t w_t (α_t = K_t w_t).

    Granularity: one node per position and op: the outer products, the scan's pair additions
    (drawn, the up- and down-sweep trees over the positions), and per position an add of λI,
    a ``solve`` (named ``w_t``) and a matvec ``o_t``. No position waits for another's solve.

    Work: T(d³ + 5d²) for the outer products, λI adds, solves and matvecs, plus fewer than 2T
    scan combines of 2d² each, plus d² + Td = Θ(T d³).
    Span: 1 (outer) + D(T) + 1 (+ λI) + d(⌈log2 d⌉ + 1) (solve) + ⌈log2 d⌉ + 1 (o_t) + 1 (stack)
    = Θ(log T + d log d), where D(T) ≤ 2⌈log2 T⌉ − 1 is the scan's depth in additions
    (2 log2 T − 2 for T a power of two ≥ 4). Steps: D(T) + 5.

    Examples
    --------
    >>> import depthgraph
    >>> a = depthgraph.analyze(ridge_causal_solve(T=4096, d=64, weights=False))
    >>> a.work, a.span, a.steps
    (1224888320, 480, 27)
    """
    g, q, k, v, lam = _ridge_graph(T, d)
    lam_eye = lam * g.constant(np.eye(d))
    prefixes = blelloch_scan([(ops.outer(k[t], k[t]), ops.outer(v[t], k[t])) for t in range(T)], _add_pairs)
    states = [(S, g.apply("solve", [P + lam_eye, q[t]], name=f"w_{t + 1}")) for t, (P, S) in enumerate(prefixes)]
    return _causal_outputs(g, k, states, weights)


@register("ridge-noncausal", ridge_inputs, T=16, d=4, weights=False)
def ridge_noncausal(T: int, d: int, weights: bool) -> depthgraph.Graph:
    """Non-causal ridge attention: every query against all T pairs, o_t = Vᵀ K (KᵀK + λI)^{-1} q_t.

    With M = KᵀK + λI (symmetric), the rows o_tᵀ = q_tᵀ M^{-1} KᵀV form O = Q · solve(M, KᵀV);
    with ``weights``, α = Q · solve(M, Kᵀ) is (T, T) and has no zeros (every query sees every key).

    Granularity: whole-matrix ops (KᵀK, KᵀV, one d×d solve, one (T×d)(d×d) product): no
    position depends on another, so there is no per-position chain to draw; the DAG shows the
    two reductions over T, the solve, and the product.

    Work: 3Td² (KᵀK, KᵀV, Q·X) + 2d³ + 2d² (solve with d right-hand sides, λI and its add)
    = Θ(T d² + d³). With ``weights``: + d³ + d²T + T²d.
    Span: ⌈log2 T⌉ + 1 (KᵀK) + 1 (+ λI) + d(⌈log2 d⌉ + 1) (solve) + ⌈log2 d⌉ + 1 (Q·X)
    = Θ(log T + d log d). Steps: 4.

    Examples
    --------
    >>> import depthgraph
    >>> a = depthgraph.analyze(ridge_noncausal(T=4096, d=64, weights=False))
    >>> a.work, a.span, a.steps
    (50864128, 469, 4)
    """
    g, q, k, v, lam = _ridge_graph(T, d)
    M = g.apply("add", [k.T @ k, lam * g.constant(np.eye(d))], name="M")
    g.output("o", q @ ops.solve(M, k.T @ v))
    if weights:
        g.output("alpha", q @ ops.solve(M, k.T))
    return g
