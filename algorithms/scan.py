"""Prefix scans over any associative operator, and the time-varying diagonal recurrence by scan.

The recurrence h_t = a_t ⊙ h_{t-1} + b_t (h_{-1} = 0) is a scan: the affine maps
h ↦ a ⊙ h + b compose associatively, (a1, b1) then (a2, b2) being (a2 ⊙ a1, a2 ⊙ b1 + b2), and
h_t is the b-part of the composition of maps 0..t. Three schedules of the same operator:

* **sequential** — fold left to right: L-1 combines, L-1 deep.
* **Hillis–Steele** — ⌈log2 L⌉ rounds; in the round at distance d = 1, 2, 4, … every position
  t ≥ d combines with position t - d: Σ_d (L - d) ≈ L·log2 L combines, ⌈log2 L⌉ deep.
* **Blelloch** (work-efficient) — combine neighbouring pairs, scan the ⌊L/2⌋ pair results
  recursively, then fill in the even positions with one more combine each:
  2L - popcount(L) - bit_length(L) < 2L combines, 2·log2 L - 2 deep (L = 2^k ≥ 4). This is the
  recursive form of Blelloch's up-sweep/down-sweep (the one `jax.lax.associative_scan` uses),
  and it works for any L, not only powers of two.

The scan functions take a list of items and a ``combine(earlier, later)`` function and return
the inclusive prefixes; the items can be anything ``combine`` accepts (tuples of nodes here).

Granularity of the graphs: one node per position and op (a combine is three elementwise nodes of
n elements: a2·a1, a2·b1, and the add), so the drawn DAG shows each position's chain. The a-parts
no output needs — those of the prefixes that start at position 0, which only ever meet h_{-1} = 0
— are dead nodes the graph drops, so they count neither as work nor in the span.
"""

from __future__ import annotations

from typing import Callable, Iterable, Sequence, TypeVar

import numpy as np

import depthgraph
from algorithms.registry import register

Item = TypeVar("Item")
Combine = Callable[[Item, Item], Item]


def sequential_scan(items: Sequence[Item], combine: Combine) -> list[Item]:
    """Inclusive prefixes by a left fold: L-1 combines, depth L-1.

    >>> sequential_scan([1, 2, 3, 4], lambda x, y: x + y)
    [1, 3, 6, 10]
    """
    out = list(items[:1])
    for item in items[1:]:
        out.append(combine(out[-1], item))
    return out


def hillis_steele_scan(items: Sequence[Item], combine: Combine) -> list[Item]:
    """Inclusive prefixes in ⌈log2 L⌉ rounds of combines at distance 1, 2, 4, …

    >>> hillis_steele_scan([1, 2, 3, 4, 5], lambda x, y: x + y)
    [1, 3, 6, 10, 15]
    """
    out = list(items)
    distance = 1
    while distance < len(out):
        out = out[:distance] + [combine(out[t - distance], out[t]) for t in range(distance, len(out))]
        distance *= 2
    return out


def blelloch_scan(items: Sequence[Item], combine: Combine) -> list[Item]:
    """Work-efficient inclusive prefixes: pair up, scan the pairs recursively, fill in the rest.

    The recursion is over levels (log2 L deep), not over items.

    >>> blelloch_scan([1, 2, 3, 4, 5], lambda x, y: x + y)
    [1, 3, 6, 10, 15]
    >>> blelloch_scan(["a", "b", "c"], lambda x, y: x + y)
    ['a', 'ab', 'abc']
    """
    if len(items) < 2:
        return list(items)
    pair_prefixes = blelloch_scan([combine(items[i], items[i + 1]) for i in range(0, len(items) - 1, 2)], combine)
    out = [items[0]]
    for t in range(1, len(items)):
        # odd t ends a pair: its prefix is done; even t adds one item to the prefix before it
        out.append(pair_prefixes[t // 2] if t % 2 else combine(pair_prefixes[t // 2 - 1], items[t]))
    return out


SCANS = {"sequential": sequential_scan, "hillis-steele": hillis_steele_scan, "blelloch": blelloch_scan}


def affine_combine(earlier: tuple, later: tuple) -> tuple:
    """Compose h ↦ a1 ⊙ h + b1 then h ↦ a2 ⊙ h + b2 into h ↦ (a2 ⊙ a1) ⊙ h + (a2 ⊙ b1 + b2)."""
    (a1, b1), (a2, b2) = earlier, later
    return a2 * a1, a2 * b1 + b2


def linear_recurrence(a: Iterable[depthgraph.Node], b: Iterable[depthgraph.Node],
                      method: str = "blelloch") -> list[depthgraph.Node]:
    """The states h_0 … h_{L-1} of h_t = a_t ⊙ h_{t-1} + b_t, h_{-1} = 0, by the scan ``method``.

    ``a`` and ``b`` are the per-position coefficient vectors a_t, b_t of shape (n,): a node of
    shape (L, n) (iterated by rows, which are free views) or a list of nodes.

    >>> g = depthgraph.Graph()
    >>> h = linear_recurrence(g.input("a", (3, 2)), g.input("b", (3, 2)))
    >>> [x.shape for x in h], h[0].op, h[2].op
    ([(2,), (2,), (2,)], 'getitem', 'add')
    """
    return [h for _, h in SCANS[method](list(zip(a, b)), affine_combine)]


def scan_inputs(rng: np.random.Generator, L: int, n: int) -> dict[str, np.ndarray]:
    # |a_t| < 1 keeps the state bounded however long the sequence.
    return {"a": rng.uniform(-0.99, 0.99, (L, n)), "b": rng.standard_normal((L, n))}


def _scan_graph(method: str, L: int, n: int) -> depthgraph.Graph:
    g = depthgraph.Graph()
    a, b = g.input("a", (L, n)), g.input("b", (L, n))
    g.output("h", depthgraph.ops.stack(linear_recurrence(a, b, method)))
    return g


@register("scan-sequential", scan_inputs, L=16, n=4)
def scan_sequential(L: int, n: int) -> depthgraph.Graph:
    """Time-varying diagonal recurrence h_t = a_t ⊙ h_{t-1} + b_t, h_{-1} = 0, by a left fold.

    Inputs a, b of shape (L, n); output h (L, n). Granularity: one node per position and op;
    step t is h_t = a_t ⊙ h_{t-1} + b_t, a multiply then an add of n elements (the fold's
    a-parts a_t ⊙ a_{t-1} ⊙ … are dead: the prefix starts at h_{-1} = 0), and a final stack.

    Work: 2n(L-1) + nL (the stack) = n(3L - 2) = Θ(L n).
    Span: 2(L-1) + 1 = 2L - 1 = Θ(L); steps = span (every op is 1 deep).

    Examples
    --------
    >>> import depthgraph
    >>> a = depthgraph.analyze(scan_sequential(L=8, n=2))
    >>> a.work, a.span
    (44, 15)
    """
    return _scan_graph("sequential", L, n)


@register("scan-hillis-steele", scan_inputs, L=16, n=4)
def scan_hillis_steele(L: int, n: int) -> depthgraph.Graph:
    """The time-varying diagonal recurrence by Hillis–Steele: ⌈log2 L⌉ rounds over all positions.

    Granularity: one node per position, round and op (a combine is a2·a1, a2·b1 and an add, each
    on n elements), then a final stack.

    Work: Σ over rounds d = 1, 2, 4, … < L of 2n(L - d) (b-parts) + n·max(L - 2d, 0) (the live
    a-parts: a prefix that already starts at position 0 needs none), plus nL for the stack;
    for L = 2^k that is n(3L(k - 1) + 4) = Θ(L n log L).
    Span: 2⌈log2 L⌉ + 1 if L is a power of two, else 2⌈log2 L⌉ = Θ(log L) (each combine is a
    multiply then an add on the b-part; the last round of a non-power of two reaches a partner
    that finished early). Steps = span.

    Examples
    --------
    >>> import depthgraph
    >>> a = depthgraph.analyze(scan_hillis_steele(L=8, n=2))
    >>> a.work, a.span
    (104, 7)
    """
    return _scan_graph("hillis-steele", L, n)


@register("scan-blelloch", scan_inputs, L=16, n=4)
def scan_blelloch(L: int, n: int) -> depthgraph.Graph:
    """The time-varying diagonal recurrence by Blelloch's work-efficient scan (recursive form, any L).

    Granularity: one node per position, level and op (a combine is a2·a1, a2·b1 and an add, each
    on n elements), then a final stack.

    Work: 2n per combine (b-part) for 2L - popcount(L) - bit_length(L) combines, n per live
    a-part (⌊m/2⌋ - 1 on a level of m items: the first pair starts at position 0), plus nL for
    the stack; for L = 2^k that is n(6L - 3k - 5) = Θ(L n).
    Span: 4 log2 L - 3 for L = 2^k ≥ 4 (up-sweep 2 per level, down-sweep 2 per level but one,
    and the stack), at most 4⌈log2 L⌉ - 1 for any L ≥ 2 = Θ(log L). Steps = span.

    Examples
    --------
    >>> import depthgraph
    >>> a = depthgraph.analyze(scan_blelloch(L=8, n=2))
    >>> a.work, a.span
    (68, 9)
    """
    return _scan_graph("blelloch", L, n)


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
    `linear_recurrence` (Blelloch). Only x_1 … x_{L-1} are read, so the scan runs
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
