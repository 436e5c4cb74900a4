"""The report: every algorithm of the library drawn, tabulated and plotted, tied together in one HTML page.

`write` is what ``depthgraph report -o DIR`` runs. For each algorithm it

1. draws the graph at a small size (`DRAW_SIZES`), critical path highlighted (`depthgraph.render`);
2. analyses it at doubling lengths up to the table's size (`SIZES`; T, the attention context, is
   swept as L), for the plot of work and span against L (`depthgraph.plots.scaling`), and plots
   the parallelism profile at the table's size;
3. takes its line of the complexity table at the table's size: work, span, steps, parallelism and
   the growth classes fitted from sweeps, beside the course answer key (`complexity_rows`);
4. times one run of the levels executor at the table's size on the chosen backend (NumPy on the
   CPU, CuPy on a GPU): the plan is compiled and run once, then the median of `REPEAT` runs.

The default sizes (L = T = 1024, n = d = 16) keep the whole report under a minute on a two-core
CPU; the table in ``docs/complexity.md`` is the same analysis at L = 4096, n = d = 64. Given a
validation CSV (``depthgraph validate`` writes one), the report adds the predicted-vs-measured plot.
The page refers to its files by relative paths, so the folder can be moved or served as it is.
"""

from __future__ import annotations

import datetime
import html
import platform
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import depthgraph
from algorithms.registry import Algorithm, get, names
from algorithms.table import Row, complexity_rows
from depthgraph import plots
from depthgraph.errors import GraphvizUnavailable
from depthgraph.timing import Clock

DRAW_SIZES = {"L": 8, "T": 8, "n": 2, "d": 2}
DRAW_MAX_NODES = 300  # every algorithm at DRAW_SIZES drawn whole, not summarised
SIZES = {"L": 1024, "T": 1024, "n": 16, "d": 16}
SWEEP_START = 16
REPEAT = 3
BACKENDS = ("numpy", "cupy")


@dataclass
class Section:
    """One algorithm's part of the report; file paths are relative to the report's folder."""

    name: str
    summary: str
    row: Row
    small: dict[str, int]  # the diagram's sizes
    diagram: str | None  # None: Graphviz could not be loaded
    profile: str
    levels_s: float  # median levels-executor run at the table's size


@dataclass
class Report:
    """What `write` produced: the page, the files it refers to, the sections, and how long it took."""

    index: Path
    files: list[str] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    seconds: float = 0.0
    device: str = ""
    no_diagrams: str | None = None  # why there are no diagrams, if there are none

    def summary(self) -> str:
        """One line: what is in the report and how long it took."""
        agree = sum(bool(s.row.agrees) for s in self.sections)
        keyed = sum(s.row.agrees is not None for s in self.sections)
        return (f"report: {len(self.sections)} algorithms drawn and analysed ({agree} of {keyed} grow as the "
                f"answer key says), timed on {self.device}, {len(self.files)} files, {self.seconds:.0f} s")


def write(out_dir: str | Path, backend: str = "numpy", validation: str | Path | None = None,
          sizes: Mapping[str, int] | None = None, progress: bool = True) -> Report:
    """Build, draw, analyse, plot and time every algorithm; write ``out_dir/index.html`` and its files.

    Parameters
    ----------
    out_dir : str or Path
        The report's folder (created if needed); ``index.html`` goes there, diagrams into
        ``diagrams/``, plots into ``plots/``.
    backend : {"numpy", "cupy"}
        The array backend of the levels-executor timings ("cupy" needs CuPy and a GPU).
    validation : str or Path, optional
        A CSV with columns algorithm, executor, predicted_s, measured_s: plotted and linked.
    sizes : mapping, optional
        Sizes of the table, the sweep's top and the timings: any of L, T, n, d (default `SIZES`;
        T defaults to L).
    progress : bool
        Show a progress bar on stderr.

    Returns
    -------
    Report

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     report = write(tmp, sizes={"L": 64, "n": 4, "d": 4}, progress=False)
    ...     all((report.index.parent / f).is_file() for f in report.files)
    True
    >>> [s.name for s in report.sections] == names()
    True
    """
    from tqdm import tqdm

    start = time.perf_counter()
    if backend not in BACKENDS:
        raise depthgraph.ParameterError(f"report: unknown backend {backend!r}; choose from {', '.join(BACKENDS)}")
    sizes = _sizes(sizes or {})
    clock = Clock(backend)
    out = Path(out_dir)
    for folder in (out, out / "diagrams", out / "plots"):
        folder.mkdir(parents=True, exist_ok=True)
    report = Report(out / "index.html", device=f"{backend} on {clock.device}")
    if validation is not None:  # first: a bad CSV should fail before the minute of work, not after
        plots.predicted_vs_measured(validation, out / "plots/validation.png")
        report.files.append("plots/validation.png")
    scaling_rows: list[dict] = []

    with tqdm(total=len(names()), desc="report", unit="algorithm", file=sys.stderr, disable=not progress) as bar:
        for row in complexity_rows(sizes, progress=lambda name: bar.set_postfix_str(name)):
            spec = get(row.name)
            small = spec.params(**{k: v for k, v in DRAW_SIZES.items() if k in spec.defaults})
            diagram = f"diagrams/{row.name}.svg"
            report.no_diagrams = report.no_diagrams or _draw(spec, small, out / diagram)
            diagram = None if report.no_diagrams else diagram
            length = "L" if "L" in row.params else "T"
            analyses = {x: depthgraph.analyze(spec.build(**{**row.params, length: x}))
                        for x in _doubling(SWEEP_START, row.params[length])}
            scaling_rows += [{"algorithm": row.name, "L": x, "work": a.work, "span": a.span}
                             for x, a in analyses.items()]
            profile = f"plots/profile-{row.name}.png"
            plots.parallelism_profile(analyses[row.params[length]], out / profile,
                                      title=f"{row.name} ({_sizes_text(row.params)})")
            report.sections.append(Section(row.name, spec.doc.strip().splitlines()[0], row, small, diagram, profile,
                                           _time_levels(clock, spec, row.params)))
            report.files += [f for f in (diagram, profile) if f]
            bar.update()

    plots.scaling(scaling_rows, out / "plots/scaling.png", x="L",
                  title=f"work and span against L (T for attention); {_sizes_text(_widths(sizes))}")
    report.files.append("plots/scaling.png")
    report.seconds = time.perf_counter() - start
    report.index.write_text(_html(report, sizes, backend, validation))
    return report


def _time_levels(clock: Clock, spec: Algorithm, params: dict[str, int]) -> float:
    """Median seconds of one levels-executor run (`depthgraph.timing.Clock.wall`)."""
    graph = spec.build(**params)
    inputs = {k: clock.xp.asarray(v) for k, v in spec.inputs(seed=0, **params).items()}
    seconds, _ = clock.wall(lambda: depthgraph.execute(graph, inputs, executor="levels", backend=clock.backend),
                            min_repeats=REPEAT, min_seconds=0.0)
    return seconds


def _draw(spec: Algorithm, params: dict[str, int], path: Path) -> str | None:
    """Draw one algorithm; None, with the reason, where Graphviz's libraries can't be loaded (GPU images)."""
    try:
        depthgraph.render(spec.build(**params), path, max_nodes=DRAW_MAX_NODES,
                          title=f"{spec.name} ({_sizes_text(params)})")
    except GraphvizUnavailable as exc:
        return str(exc)
    return None


def _sizes(given: Mapping[str, int]) -> dict[str, int]:
    unknown = sorted(set(given) - set(SIZES))
    if unknown:
        raise depthgraph.ParameterError(f"report: unknown size(s) {', '.join(unknown)}; it takes {', '.join(SIZES)}")
    sizes = {**SIZES, **{k: v for k, v in given.items() if v is not None}}
    if "T" not in given or given["T"] is None:
        sizes["T"] = sizes["L"]
    for key, value in sizes.items():
        least = SWEEP_START if key in ("L", "T") else 1  # lengths are swept from SWEEP_START up
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise depthgraph.ParameterError(f"report: {key} must be an int >= {least}, got {value!r}")
    return sizes


def _doubling(start: int, stop: int) -> list[int]:
    """``start, 2·start, …`` up to ``stop``, then ``stop`` itself if it is not a power of two times start."""
    xs = [start]
    while xs[-1] * 2 <= stop:
        xs.append(xs[-1] * 2)
    return xs if xs[-1] == stop else xs + [stop]


def _widths(sizes: Mapping[str, int]) -> dict[str, int]:
    return {k: v for k, v in sizes.items() if k in ("n", "d")}


def _sizes_text(params: Mapping[str, object]) -> str:
    return " ".join(f"{k}={v}" for k, v in params.items() if not isinstance(v, bool))


# ---------------------------------------------------------------- the page

_STYLE = """
body { font-family: system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif; margin: 2rem auto;
       max-width: 1200px; padding: 0 1rem; color: #222; line-height: 1.4; }
h1 { margin-bottom: 0.2rem; } .meta { color: #666; margin-top: 0; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 1rem 0; }
th, td { border-bottom: 1px solid #ddd; padding: 0.3rem 0.5rem; text-align: right; white-space: nowrap; }
th { background: #f4f4f4; } td:first-child, th:first-child { text-align: left; }
td.no { color: #c62828; font-weight: bold; } .key { color: #777; font-size: 0.75rem; }
img { max-width: 100%; height: auto; } .wide { overflow-x: auto; }
.algorithm { border-top: 2px solid #eee; padding-top: 0.5rem; margin-top: 1.5rem; }
.figures { display: flex; gap: 1.5rem; align-items: flex-start; flex-wrap: wrap; }
.figures figure { margin: 0; flex: 1 1 380px; } figcaption { color: #666; font-size: 0.8rem; }
.diagram img { max-height: 900px; }
code { background: #f4f4f4; padding: 0 0.2rem; }
"""


def _html(report: Report, sizes: dict[str, int], backend: str, validation: str | Path | None) -> str:
    e = html.escape
    table_sizes = _sizes_text(sizes)
    draw_sizes = _sizes_text(DRAW_SIZES)
    head = ("algorithm", "work", "span", "steps", "parallelism", "work grows", "span grows", "answer key agrees",
            f"levels run ({backend})")
    lines = []
    for s in report.sections:
        r = s.row
        verdict = "—" if r.agrees is None else "yes" if r.agrees else "no: " + ", ".join(
            what for what, ok in (("work", r.work_agrees), ("span", r.span_agrees)) if not ok)
        cells = [f'<a href="#{e(r.name)}">{e(r.name)}</a>', f"{r.work:,}", f"{r.span:,}",
                 f"{r.steps:,}", f"{r.parallelism:,.1f}", _grows(r.work_fit, r.work_key),
                 _grows(r.span_fit, r.span_key)]
        cells = [f"<td>{c}</td>" for c in cells]
        cells.append(f'<td class="{"no" if r.agrees is False else ""}">{e(verdict)}</td>')
        cells.append(f"<td>{_ms(s.levels_s)}</td>")
        lines.append("<tr>" + "".join(cells) + "</tr>")
    table = ('<div class="wide"><table><tr>' + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>\n" + "\n".join(lines)
             + "</table></div>")

    sections = []
    for s in report.sections:
        r = s.row
        sections.append(f"""
<section class="algorithm" id="{e(s.name)}">
<h3>{e(s.name)}</h3>
<p>{e(s.summary)}</p>
<p>At {e(_sizes_text(r.params))}: work {r.work:,}, span {r.span:,}, steps {r.steps:,}, parallelism
{r.parallelism:,.1f}; work grows as {e(r.work_fit)}, span as {e(r.span_fit)}; one levels-executor run
{_ms(s.levels_s)} on {e(report.device)}.</p>
<div class="figures">
{_diagram(s, e)}
<figure><img src="{e(s.profile)}" alt="{e(s.name)} parallelism profile">
<figcaption>Nodes per level at {e(_sizes_text(r.params))}.</figcaption></figure>
</div>
</section>""")

    validation_part = ""
    if "plots/validation.png" in report.files:
        validation_part = f"""
<h2>Predicted vs measured</h2>
<p>From <code>{e(Path(validation).name)}</code>: the cost model's predicted runtime against the measured one.</p>
<img src="plots/validation.png" alt="predicted vs measured runtime">"""

    date = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
    missing = f'\n<p class="meta">No diagrams: {e(report.no_diagrams)}</p>' if report.no_diagrams else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>depthgraph report</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_STYLE}</style></head>
<body>
<h1>depthgraph report</h1>{missing}
<p class="meta">{len(report.sections)} algorithms · table and sweeps at {e(table_sizes)} · diagrams at
{e(draw_sizes)} · timings: {e(report.device)} · {report.seconds:.0f} s · {date} · depthgraph
{e(depthgraph.__version__)}, Python {e(platform.python_version())}</p>
<p><b>Work</b> counts every operation, <b>span</b> the longest chain of op depths (the critical path),
<b>steps</b> the kernel launches along it, <b>parallelism</b> = work / span. Growth classes are fitted
from sweeps of each size with the others held; the answer key is the course problem set's. The last
column is the median of {REPEAT} runs of the levels executor (each level's like ops as one batched call)
after two warm-up runs (the first compiles its plan).</p>
<h2>Scaling</h2>
<img src="plots/scaling.png" alt="work and span against L, log-log">
<h2>Complexity at {e(table_sizes)}</h2>
{table}
{validation_part}
<h2>The algorithms</h2>
{"".join(sections)}
<p class="meta">Made by <code>depthgraph report</code>.</p>
</body></html>
"""


def _diagram(s: Section, e: Callable[[str], str]) -> str:
    if s.diagram is None:
        return "<p>(no diagram: Graphviz could not be loaded here)</p>"
    return f"""<figure class="diagram"><a href="{e(s.diagram)}"><img src="{e(s.diagram)}" alt="{e(s.name)} graph"></a>
<figcaption>The graph at {e(_sizes_text(s.small))}; critical path in red, inputs blue, outputs green,
dashed: a copy of a node used far below.</figcaption></figure>"""


def _grows(fitted: str, key: str) -> str:
    """A fitted growth class with the answer key's below it."""
    return f'{html.escape(fitted)}<br><span class="key">key: {html.escape(key)}</span>'


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.2f} ms"

