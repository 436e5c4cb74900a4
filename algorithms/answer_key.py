"""The course problem set's answer key (DESIGN.md): the work and span each algorithm should show.

Each answer is a formula as text and as a function of the sizes, so the same growth fit
(`depthgraph.growth`) can be run on the answer and on the analysed DAG over one sweep and the
two compared like for like. Algorithms the problem set did not cover have no entry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable


def lg(x: float) -> float:
    """log2, as the answer key uses it."""
    return math.log2(x)


@dataclass(frozen=True)
class Answer:
    work: str
    span: str
    work_of: Callable[..., float]
    span_of: Callable[..., float]


ANSWER_KEY: dict[str, Answer] = {
    "recurrence": Answer("Θ(L·n²)", "Θ(L·log n)", lambda L, n: L * n * n, lambda L, n: L * lg(n)),
    "conv-direct": Answer("Θ(L²)", "Θ(log L)", lambda L: L * L, lambda L: lg(L)),
    "conv-fft": Answer("Θ(L·log L)", "Θ(log L)", lambda L: L * lg(L), lambda L: lg(L)),
    "kernel-sequential": Answer("Θ(L·n²)", "Θ(L·log n)", lambda L, n: L * n * n, lambda L, n: L * lg(n)),
    "kernel-doubling": Answer("Θ(n³·log L + L·n²)", "Θ(log L·log n)", lambda L, n: n**3 * lg(L) + L * n * n,
                              lambda L, n: lg(L) * lg(n)),
    "kernel-diagonal": Answer("Θ(L·n)", "Θ(log L + log n)", lambda L, n: L * n, lambda L, n: lg(L) + lg(n)),
    "kernel-dplr": Answer("Θ(n + L)", "Θ(log n + log L)", lambda L, n: n + L, lambda L, n: lg(n) + lg(L)),
    "scan-blelloch": Answer("Θ(L·n)", "Θ(log L)", lambda L, n: L * n, lambda L, n: lg(L)),
    "scan-hillis-steele": Answer("Θ(L·n·log L)", "Θ(log L)", lambda L, n: L * n * lg(L), lambda L, n: lg(L)),
    "ssm-ltv": Answer("Θ(L·n)", "Θ(log L)", lambda L, n: L * n, lambda L, n: lg(L)),
    "ridge-sherman-morrison": Answer("Θ(T·d²)", "Θ(T·log d)", lambda T, d: T * d * d, lambda T, d: T * lg(d)),
    # "polylog(T) + solve depth": the solve depth is the registry's d·(⌈log2 d⌉ + 1).
    "ridge-noncausal": Answer("Θ(T·d² + d³)", "polylog(T) + Θ(d·log d)", lambda T, d: T * d * d + d**3,
                              lambda T, d: lg(T) + d * lg(d)),
}
