"""Causal convolution with a known kernel: y_k = Σ_{l ≤ k} K_l u_{k-l}, for k = 0..L-1.

This is the SSM's output once its kernel K (K_0 = D, K_l = C A^{l-1} B) is known: y is the
causal convolution of K and u, truncated to L. Two ways to compute it:

* **direct** — each y_k is its own inner product of K_0..K_k with u_k..u_0, a balanced tree:
  Θ(L²) work, Θ(log L) span.
* **FFT** — zero-pad both to a length N ≥ 2L-1 (so the circular convolution does not wrap
  into the first L outputs), transform, multiply, transform back: Θ(L log L) work, Θ(log L)
  span.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

import depthgraph
from algorithms.registry import register


def conv_inputs(rng: np.random.Generator, L: int, **switches: bool) -> dict[str, np.ndarray]:
    # A standard normal K, not one decaying like an SSM kernel: with K_l ~ 0.9^l the tail would
    # be below rounding at L = 1000, and a test could not see an error in the late taps.
    return {"K": rng.standard_normal(L), "u": rng.standard_normal(L)}


def _conv_graph(L: int, convolve: Callable[[depthgraph.Node, depthgraph.Node], depthgraph.Node]) -> depthgraph.Graph:
    g = depthgraph.Graph()
    K, u = g.input("K", (L,)), g.input("u", (L,))
    g.output("y", convolve(K, u))
    return g


@register("conv-direct", conv_inputs, L=16)
def conv_direct(L: int) -> depthgraph.Graph:
    """Causal convolution y_k = Σ_{l≤k} K_l u_{k-l}, each y_k a balanced-tree inner product.

    Granularity: one ``dot`` node per output position, ``y_k = dot(K[:k+1], u[k::-1])`` (the
    slices are free views), then one ``stack`` of the L outputs. Drawn, each y_k is its own
    tree over K_0..K_k and u_k..u_0; the positions are independent of one another.

    Work: Σ_{k<L} (k+1) (the dots) + L (the stack) = L(L+3)/2 = Θ(L²).
    Span: ⌈log2 L⌉ + 1 (the longest dot, y_{L-1}) + 1 (the stack) = Θ(log L). Steps: 2.

    Examples
    --------
    >>> import depthgraph
    >>> a = depthgraph.analyze(conv_direct(L=8))
    >>> a.work, a.span, a.steps
    (44, 5, 2)
    >>> a = depthgraph.analyze(conv_direct(L=4096))
    >>> a.work, a.span, a.steps
    (8394752, 14, 2)
    """
    return _conv_graph(L, lambda K, u: depthgraph.ops.stack(
        [depthgraph.ops.dot(K[: k + 1], u[k::-1], name=f"y_{k}") for k in range(L)]))


def fft_length(L: int, pow2: bool) -> int:
    """The padded transform length: 2L, or the smallest power of two ≥ 2L-1 if ``pow2``.

    >>> [fft_length(L, False) for L in (1, 5, 8)], [fft_length(L, True) for L in (1, 5, 8)]
    ([2, 10, 16], [1, 16, 16])
    """
    return 1 << (2 * L - 2).bit_length() if pow2 else 2 * L


@register("conv-fft", conv_inputs, L=16, pow2=False)
def conv_fft(L: int, pow2: bool) -> depthgraph.Graph:
    """Causal convolution by FFT: y = irfft(rfft(K, N) · rfft(u, N), N)[:L].

    The transform length N must be at least 2L-1 so that the circular convolution of length N
    wraps nothing into the first L outputs. N = 2L (the default; the answer key's choice) or,
    with ``pow2=True``, the next power of two ≥ 2L-1. The two agree when L is a power of two.
    Elsewhere the power of two costs up to about twice the modelled work (L = 2^j + 1 pads to
    2^{j+2} instead of 2^{j+1} + 2) and no less depth: ⌈log2 N⌉ is the same for both. The model
    flatters N = 2L, though: its N·⌈log2 N⌉ is the radix-2 count, and a real FFT of a length
    with a large prime factor (L = 1009, N = 2018) falls back to slower algorithms such as
    Bluestein's, which pads to a power of two internally anyway. The switch lets the analysis
    (and measurement) show the difference.

    Granularity: each transform is one ``rfft``/``irfft`` op costing work N·⌈log2 N⌉ and depth
    ⌈log2 N⌉ (docs/ops.md), not explicit butterfly nodes (those would be 3·N·log2 N nodes,
    about 1.5 million at L = 2^14). The product is one elementwise ``mul`` of N/2 + 1 complex
    values; y is a free view of the first L outputs. Every y_k depends on every K_l and u_m
    through the transforms, so there is no per-position chain to draw: the DAG is
    two rfft → mul → irfft → y.

    Work: 3·N·⌈log2 N⌉ + N/2 + 1 = Θ(L log L); with N = 2L, 6L·(⌈log2 L⌉ + 1) + L + 1.
    Span: 2·⌈log2 N⌉ + 1 = Θ(log L) (the two forward transforms run side by side). Steps: 3.

    Examples
    --------
    >>> import depthgraph
    >>> a = depthgraph.analyze(conv_fft(L=8, pow2=False))
    >>> a.work, a.span, a.steps
    (201, 9, 3)
    >>> a = depthgraph.analyze(conv_fft(L=4096, pow2=False))
    >>> a.work, a.span, a.steps
    (323585, 27, 3)
    >>> [depthgraph.analyze(conv_fft(L=5, pow2=p)).work for p in (False, True)]
    [126, 201]
    """
    n = fft_length(L, pow2)
    ops = depthgraph.ops
    return _conv_graph(L, lambda K, u: ops.irfft(ops.rfft(K, n=n) * ops.rfft(u, n=n), n=n)[:L])
