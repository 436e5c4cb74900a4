"""The complexity table: every algorithm's analysed cost and fitted growth, beside the answer key.

For each algorithm, the graph is analysed at the given sizes; then each size parameter (the
length L or T, the width n or d) is swept over doubling values up to the given one (widths at
least to 256) with the others held, and `depthgraph.growth.fit` classes how work and span grow in it. Whether the
variables combine as a product or a sum is read off the mixed difference
f(x, y) − f(x/2, y) − f(x, y/2) + f(x/2, y/2), which vanishes for a sum. The answer key's
formulas are swept the same way, and agree when, in every swept parameter, what each doubling
adds to the DAG's cost stays within a constant factor of what it adds to the answer's: a real
difference in growth, not an artefact of the sweep's range.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

import depthgraph
from algorithms.answer_key import ANSWER_KEY
from algorithms.registry import get, names
from depthgraph.growth import fit, label, same_growth

SWEPT = ("L", "T", "n", "d")  # the size parameters whose growth is fitted
SWEEP_START = {"L": 16, "T": 16, "n": 2, "d": 2}
# Widths are swept at least this far: over 2..64 alone, n³ and n²·log² n look alike. A graph's
# node count does not depend on its width, so the longer sweep costs little.
WIDTH_SWEEP_STOP = 256


@dataclass(frozen=True)
class Row:
    """One algorithm's line of the table."""

    name: str
    params: dict[str, int]
    work: int
    span: int
    steps: int
    parallelism: float
    work_fit: str
    span_fit: str
    work_key: str
    span_key: str
    work_agrees: bool | None
    span_agrees: bool | None

    @property
    def agrees(self) -> bool | None:
        """Whether work and span grow as the answer key says (None where the key has no entry)."""
        return None if self.work_agrees is None else self.work_agrees and self.span_agrees


def _doubling_sizes(start: int, stop: int) -> list[int]:
    sizes = [start]
    while sizes[-1] * 2 <= stop:
        sizes.append(sizes[-1] * 2)
    return sizes


def _sweeps(params: dict[str, int]) -> dict[str, list[int]]:
    """The doubling sizes to sweep each size parameter over (those large enough for 5 points)."""
    stop = {p: max(v, WIDTH_SWEEP_STOP) if p in ("n", "d") else v for p, v in params.items()}
    return {p: _doubling_sizes(SWEEP_START[p], stop[p]) for p in SWEPT if p in params and stop[p] >= 16 * SWEEP_START[p]}


def grows_alike(cost: Callable[..., float], other: Callable[..., float], params: dict[str, int]) -> bool:
    """Whether two costs grow alike in every swept parameter (`depthgraph.growth.same_growth`).

    >>> grows_alike(lambda L: 3 * L + 40, lambda L: L, {"L": 1024})
    True
    >>> grows_alike(lambda L, n: L * n, lambda L, n: L, {"L": 1024, "n": 64})
    False
    """
    return all(
        same_growth(xs, [cost(**{**params, var: x}) for x in xs], [other(**{**params, var: x}) for x in xs], var)
        for var, xs in _sweeps(params).items()
    )


def growth_class(cost: Callable[..., float], params: dict[str, int]) -> str:
    """Fitted growth of ``cost(**params)`` in each swept parameter, as "Θ(…)".

    >>> growth_class(lambda L, n: L * n * n + 5, {"L": 4096, "n": 64})
    'Θ(L·n²)'
    >>> growth_class(lambda L, n: 3 * (L - 1).bit_length() + n.bit_length(), {"L": 4096, "n": 64})
    'Θ(log L + log n)'
    """
    sweeps = _sweeps(params)
    swept = list(sweeps)
    labels = {var: label(*fit(xs, [cost(**{**params, var: x}) for x in xs], var), var) for var, xs in sweeps.items()}
    if not swept:
        return "—"  # too small a size to sweep: no class can be fitted
    shown = [labels[v] for v in swept if labels[v] != "1"]
    if not shown:
        return "Θ(1)"
    joiner = "·"
    if len(shown) == 2:
        x, y = swept
        half = {x: params[x] // 2, y: params[y] // 2}
        corners = [cost(**{**params, **dict(zip((x, y), c))}) for c in
                   ((params[x], params[y]), (half[x], params[y]), (params[x], half[y]), (half[x], half[y]))]
        mixed = corners[0] - corners[1] - corners[2] + corners[3]
        joiner = " + " if abs(mixed) <= 1e-3 * abs(corners[0] - corners[3]) else "·"
    return f"Θ({joiner.join(shown)})"


def complexity_rows(sizes: dict[str, int], progress: Callable[[str], None] | None = None) -> Iterator[Row]:
    """One `Row` per algorithm, each size parameter taken from ``sizes`` where the algorithm has it."""
    for name in names():
        spec = get(name)
        params = spec.params(**{k: v for k, v in sizes.items() if k in spec.defaults})
        if progress:
            progress(name)
        cache: dict[tuple, depthgraph.Analysis] = {}

        def analysed(**p: int) -> depthgraph.Analysis:
            key = tuple(sorted(p.items()))
            if key not in cache:
                cache[key] = depthgraph.analyze(spec.build(**p))
            return cache[key]

        a = analysed(**params)
        answer = ANSWER_KEY.get(name)
        swept = {k: v for k, v in params.items() if k in SWEPT}

        def on_key(of: Callable[..., float]) -> Callable[..., float]:
            return lambda **p: of(**{k: p[k] for k in swept})

        def work(**p: int) -> int:
            return analysed(**p).work

        def span(**p: int) -> int:
            return analysed(**p).span

        yield Row(
            name, params, a.work, a.span, a.steps, a.parallelism,
            work_fit=growth_class(work, params),
            span_fit=growth_class(span, params),
            work_key=answer.work if answer else "—",
            span_key=answer.span if answer else "—",
            work_agrees=grows_alike(work, on_key(answer.work_of), params) if answer else None,
            span_agrees=grows_alike(span, on_key(answer.span_of), params) if answer else None,
        )


def format_table(rows: list[Row]) -> str:
    """The rows as a Markdown table; disagreements with the answer key are flagged."""
    head = ("algorithm", "sizes", "work", "span", "steps", "parallelism", "work grows", "answer key",
            "span grows", "answer key", "agrees")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        verdict = "—" if r.agrees is None else "yes" if r.agrees else "**NO**: " + ", ".join(
            what for what, ok in (("work", r.work_agrees), ("span", r.span_agrees)) if not ok)
        sizes = " ".join(f"{k}={v}" for k, v in r.params.items())
        lines.append(
            f"| {r.name} | {sizes} | {r.work:,} | {r.span:,} | {r.steps:,} | {r.parallelism:,.1f} | {r.work_fit} | "
            f"{r.work_key} | {r.span_fit} | {r.span_key} | {verdict} |"
        )
    return "\n".join(lines) + "\n"
