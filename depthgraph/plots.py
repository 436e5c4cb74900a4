"""Plots with matplotlib: a graph's parallelism profile, work and span against size, and predicted
against measured runtime.

Each function draws one figure into a file (.png, .svg or .pdf, by suffix) and returns its path.
Figures are made as `matplotlib.figure.Figure` objects, never through ``pyplot``: no global
state, no GUI backend, so plotting works on a headless machine and from threads.
"""

from __future__ import annotations

import csv
import itertools
import math
import pathlib
import statistics
from collections.abc import Iterable, Mapping

from matplotlib.figure import Figure

from depthgraph.analysis import Analysis, analyze
from depthgraph.drawing import output_format
from depthgraph.errors import ParameterError
from depthgraph.ir import Graph

FORMATS = ("png", "svg", "pdf")
VALIDATION_COLUMNS = ("algorithm", "executor", "predicted_s", "measured_s")
MARKERS = "os^vD<>pPX*hd"


def parallelism_profile(source: Graph | Analysis, path: str | pathlib.Path, title: str | None = None) -> pathlib.Path:
    """Plot the number of nodes at each level (`Analysis.widths`): how much runs side by side, step by step.

    Parameters
    ----------
    source : Graph or Analysis
        A graph, or its `depthgraph.analyze` result.
    path : str or pathlib.Path
        The file to write (.png, .svg or .pdf).
    title : str, optional
        The plot's title; its work, span, steps and parallelism are added below it.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import pathlib, tempfile, depthgraph
    >>> g = depthgraph.Graph(); x = g.input("x", (8,))
    >>> _ = g.output("s", depthgraph.ops.sum(x * x))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     parallelism_profile(g, pathlib.Path(tmp) / "profile.png").stat().st_size > 0
    True
    """
    fmt = output_format(path, FORMATS, "parallelism_profile")
    a = source if isinstance(source, Analysis) else analyze(source)
    widths = a.widths
    fig = Figure(figsize=(6.4, 3.2), layout="constrained")
    ax = fig.subplots()
    ax.stairs(widths, range(len(widths) + 1), fill=True, color="#4c78a8", alpha=0.85)
    ax.set_xlabel("level (step)")
    ax.set_ylabel("nodes at the level")
    if widths and max(widths) > 50 * max(min(widths), 1):
        ax.set_yscale("log")
    ax.set_xlim(0, max(len(widths), 1))
    stats = f"work {a.work:,} · span {a.span:,} · steps {a.steps:,} · parallelism {a.parallelism:,.1f}"
    ax.set_title(f"{title}\n{stats}" if title else stats, fontsize=9)
    fig.savefig(path, format=fmt, dpi=110)
    return pathlib.Path(path)


def scaling(rows: Iterable[Mapping], path: str | pathlib.Path, x: str = "L", title: str | None = None) -> pathlib.Path:
    """Plot work and span against a size on log-log axes, one line per algorithm.

    Parameters
    ----------
    rows : iterable of mappings
        One per (algorithm, size), with keys ``"algorithm"``, ``x``, ``"work"`` and ``"span"``.
    path : str or pathlib.Path
        The file to write (.png, .svg or .pdf).
    x : str
        The key of the size, also the horizontal axis' label.
    title : str, optional
        A title over both panels.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import pathlib, tempfile
    >>> rows = [{"algorithm": "chain", "L": L, "work": 4 * L, "span": L} for L in (16, 32, 64)]
    >>> rows += [{"algorithm": "tree", "L": L, "work": L, "span": L.bit_length()} for L in (16, 32, 64)]
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     scaling(rows, pathlib.Path(tmp) / "scaling.svg").read_text().count("<svg") > 0
    True
    """
    fmt = output_format(path, FORMATS, "scaling")
    series: dict[str, list[Mapping]] = {}
    for row in rows:
        missing = [k for k in ("algorithm", x, "work", "span") if k not in row]
        if missing:
            raise ParameterError(f"scaling: a row lacks {', '.join(missing)}: {dict(row)}")
        series.setdefault(row["algorithm"], []).append(row)
    if not series:
        raise ParameterError("scaling: no rows to plot")
    fig = Figure(figsize=(11, 4.6), layout="constrained")
    axes = fig.subplots(1, 2)
    styles = _styles(series)
    for ax, cost in zip(axes, ("work", "span")):
        for name, points in series.items():
            points = sorted(points, key=lambda r: r[x])
            ax.plot([r[x] for r in points], [r[cost] for r in points], label=name, **styles[name])
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel(x)
        ax.set_ylabel(cost)
        ax.set_title(f"{cost} against {x}", fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
    axes[1].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8, frameon=False)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.savefig(path, format=fmt, dpi=110)
    return pathlib.Path(path)


def predicted_vs_measured(csv_path: str | pathlib.Path, path: str | pathlib.Path, colour_by: str = "executor",
                          marker_by: str = "algorithm") -> pathlib.Path:
    """Scatter predicted against measured runtime on log-log axes, with the line y = x.

    Parameters
    ----------
    csv_path : str or pathlib.Path
        A CSV with at least the columns `VALIDATION_COLUMNS` (``depthgraph validate`` writes one);
        other columns are ignored.
    path : str or pathlib.Path
        The file to write (.png, .svg or .pdf).
    colour_by, marker_by : str
        The columns whose values pick each point's colour and marker.

    Returns
    -------
    pathlib.Path

    Examples
    --------
    >>> import pathlib, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     csv_path = pathlib.Path(tmp) / "validation.csv"
    ...     _ = csv_path.write_text("algorithm,executor,predicted_s,measured_s\\n"
    ...                             "recurrence,levels,0.010,0.012\\nconv-fft,eager,0.002,0.0015\\n")
    ...     predicted_vs_measured(csv_path, pathlib.Path(tmp) / "validation.png").stat().st_size > 0
    True
    """
    fmt = output_format(path, FORMATS, "predicted_vs_measured")
    rows = _read_validation(csv_path, {colour_by, marker_by})
    colours = {v: f"C{i % 10}" for i, v in enumerate(dict.fromkeys(r[colour_by] for r in rows))}
    markers = {v: m for v, m in zip(dict.fromkeys(r[marker_by] for r in rows), itertools.cycle(MARKERS))}
    fig = Figure(figsize=(7.5, 5.6), layout="constrained")
    ax = fig.subplots()
    groups: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        groups.setdefault((r[colour_by], r[marker_by]), []).append(r)
    for (colour, marker), group in groups.items():
        ax.scatter([r["measured_s"] for r in group], [r["predicted_s"] for r in group], color=colours[colour],
                   marker=markers[marker], s=36, alpha=0.85, edgecolors="none")
    values = [v for r in rows for v in (r["measured_s"], r["predicted_s"])]
    lo, hi = min(values) / 2, max(values) * 2
    ax.plot([lo, hi], [lo, hi], color="black", linewidth=1, label="predicted = measured")
    for factor in (0.5, 2):
        ax.plot([lo, hi], [lo * factor, hi * factor], color="grey", linewidth=0.8, linestyle=":")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_xlabel("measured (s)")
    ax.set_ylabel("predicted (s)")
    errors = [abs(r["predicted_s"] - r["measured_s"]) / r["measured_s"] for r in rows]
    ax.set_title(f"predicted vs measured: {len(rows)} points, median |error| {statistics.median(errors):.0%} "
                 "(dotted: ×2 and ×½)", fontsize=10)
    handles = [ax.scatter([], [], color=c, marker="o", label=f"{colour_by} {v}") for v, c in colours.items()]
    handles += [ax.scatter([], [], color="grey", marker=m, label=v) for v, m in markers.items()]
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=7, frameon=False)
    fig.savefig(path, format=fmt, dpi=110)
    return pathlib.Path(path)


def _read_validation(csv_path: str | pathlib.Path, extra: set[str]) -> list[dict]:
    """The CSV's rows, checked: the needed columns present, times positive numbers."""
    try:
        with open(csv_path, newline="") as f:
            reader = csv.DictReader(f)
            fields, rows = reader.fieldnames or (), list(reader)
    except OSError as exc:
        raise ParameterError(f"{csv_path}: cannot read the validation CSV: {exc.strerror}") from None
    needed = list(VALIDATION_COLUMNS) + sorted(extra - set(VALIDATION_COLUMNS))
    missing = [c for c in needed if c not in fields]
    if missing:
        raise ParameterError(f"{csv_path}: missing column(s) {', '.join(missing)}; "
                             f"a validation CSV needs {', '.join(needed)}")
    if not rows:
        raise ParameterError(f"{csv_path}: no rows to plot")
    for line, row in enumerate(rows, start=2):
        for column in ("predicted_s", "measured_s"):
            try:
                value = float(row[column])
            except (TypeError, ValueError):  # None where a row is short
                value = math.nan
            if not value > 0:
                raise ParameterError(f"{csv_path}, line {line}: {column} must be a positive number of seconds, "
                                     f"got {row[column]!r}")
            row[column] = value
    return rows


def _styles(series: Mapping[str, object]) -> dict[str, dict]:
    """A colour, marker and line style per series, distinct for up to 20 series."""
    return {name: {"color": f"C{i % 10}", "marker": MARKERS[i % len(MARKERS)], "linestyle": "-" if i < 10 else "--",
                   "markersize": 4} for i, name in enumerate(series)}
