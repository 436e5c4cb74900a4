"""Growth classes fitted from a sweep: which x^a·log^b x a measured cost grows like.

Costs y are measured at sizes that double, x, 2x, 4x, …. The fit looks at what each doubling
*adds*, Δ = y(2x) − y(x), which cancels constant terms: a span that grows by a constant per
doubling is Θ(log x) however large its constant part, and one that does not grow at all is Θ(1).
Δ is then classed as the candidate x^a·(log2 x)^b (a = 0..3, b = 0..2) for which Δ / x^a log^b x
is flattest over the largest sizes (least-squares slope of its log against log x, over the upper
half of the sweep, closest to zero; each log factor is charged 0.03 of slope, so that a plain
power wins unless the log factor clearly fits better). Δ ~ x^a log^b x means y ~ x^a log^b x for a ≥ 1, and
y ~ log^{b+1} x for a = 0. Lower-order terms fade at the top of the sweep, so a sum such as
n³·log L + L·n² is classed by its leading term in each variable separately.
"""

from __future__ import annotations

import math
from typing import Sequence

from depthgraph.errors import ParameterError

POWERS = ("", "", "²", "³")
LOG_CHARGE = 0.03


def label(a: int, b: int, var: str) -> str:
    """Readable name of x^a·log^b x, e.g. ``label(1, 1, "L") == "L·log L"``.

    >>> label(0, 0, "n"), label(2, 0, "L"), label(0, 2, "L"), label(3, 1, "n")
    ('1', 'L²', 'log² L', 'n³·log n')
    """
    parts = ([var + POWERS[a]] if a else []) + ([f"log{POWERS[b]} {var}"] if b else [])
    return "·".join(parts) or "1"


def _trend(xs: Sequence[float], ys: Sequence[float], a: int, b: int) -> float:
    """Least-squares slope of log(y / (x^a log^b x)) against log x."""
    lx = [math.log(x) for x in xs]
    ly = [math.log(y) - a * math.log(x) - b * math.log(math.log2(x)) for x, y in zip(xs, ys)]
    mx, my = sum(lx) / len(lx), sum(ly) / len(ly)
    return sum((u - mx) * (v - my) for u, v in zip(lx, ly)) / sum((u - mx) ** 2 for u in lx)


def _top_increments(xs: Sequence[float], ys: Sequence[float], var: str) -> list[tuple[float, float]]:
    """``(x, y(2x) − y(x))`` over the upper half of a doubling sweep."""
    if len(xs) < 5 or len(xs) != len(ys) or xs[0] < 2 or any(b != 2 * a for a, b in zip(xs, xs[1:])):
        raise ParameterError(f"growth fit over {var}: needs ≥ 5 doubling sizes from 2 up, got {list(xs)}")
    steps = [(x, later - earlier) for x, earlier, later in zip(xs, ys, ys[1:])]
    return steps[len(steps) // 2 - 1 :]


def same_growth(xs: Sequence[float], ys: Sequence[float], zs: Sequence[float], var: str = "x") -> bool:
    """Whether ys and zs grow alike over a doubling sweep: what each doubling adds to one stays
    within a constant factor of what it adds to the other (their ratio, either way up, is
    classed as constant).

    >>> xs = [2**k for k in range(1, 7)]
    >>> same_growth(xs, [x * (math.log2(x) + 1) for x in xs], [x * math.log2(x) + 9 for x in xs])
    True
    >>> same_growth(xs, [math.log2(x) for x in xs], [5.0 for x in xs])
    False
    """
    top_y, top_z = _top_increments(xs, ys, var), _top_increments(xs, zs, var)
    flat_y, flat_z = all(d == 0 for _, d in top_y), all(d == 0 for _, d in top_z)
    if flat_y or flat_z:
        return flat_y and flat_z
    if any(d <= 0 for _, d in top_y + top_z):
        return False
    dx = [x for x, _ in top_y]
    ratio = [dy / dz for (_, dy), (_, dz) in zip(top_y, top_z)]
    # Alike when neither ratio of increments is better fitted by a growing class than by a constant.
    return _classify(dx, ratio) == _classify(dx, [1 / r for r in ratio]) == (0, 0)


def _classify(xs: Sequence[float], ys: Sequence[float]) -> tuple[int, int]:
    """The candidate x^a·log^b x that best flattens ys (each log factor charged `LOG_CHARGE`)."""
    # Over a short sweep x·log² x and x² look alike; the charge makes the fit take the plainer
    # class unless the log factor really flattens the curve.
    return min(((a, b) for a in range(4) for b in range(3)), key=lambda ab: abs(_trend(xs, ys, *ab)) + LOG_CHARGE * ab[1])


def fit(xs: Sequence[float], ys: Sequence[float], var: str = "x") -> tuple[int, int]:
    """``(a, b)`` such that y grows like x^a·log^b x over the top of the sweep.

    Parameters
    ----------
    xs, ys : sequences of numbers
        Sizes (at least 5, each ≥ 2, each double the one before) and the costs measured at them.
    var : str
        The size's name, used in error messages.

    Examples
    --------
    >>> xs = [2**k for k in range(4, 13)]
    >>> fit(xs, [5 * x * x + 100 * x for x in xs]), fit(xs, [3 * math.log2(x) + 70 for x in xs])
    ((2, 0), (0, 1))
    >>> fit(xs, [x * math.log2(x) for x in xs]), fit(xs, [12.0 for x in xs])
    ((1, 1), (0, 0))
    """
    top = _top_increments(xs, ys, var)
    if all(delta == 0 for _, delta in top):
        return 0, 0
    if any(delta <= 0 for _, delta in top):
        raise ParameterError(f"growth fit over {var}: the cost does not grow steadily: {list(ys)}")
    a, b = _classify([x for x, _ in top], [delta for _, delta in top])
    return (a, b) if a else (0, b + 1)
