"""Graphviz drawings of a graph: ranked by level, the critical path highlighted, large graphs summarised.

`render` writes a drawing as SVG, PNG, PDF or DOT (chosen by the file's suffix) through
pygraphviz, whose wheel bundles the Graphviz engine. `to_agraph` gives the `pygraphviz.AGraph`
itself, to restyle or lay out another way.

**Ranks.** Nodes are drawn in rows by level (`depthgraph.analyze`), so a chain reads top to
bottom and a row's width is the parallelism of that level. Inputs sit in the top row. Constants
and views of inputs are sources too (level 0), but are drawn just above the node that first uses
them: in the top row they would pull long edges across the whole drawing.

**Stubs.** An edge off the critical path that would cross `STUB_ROWS` or more rows is drawn as a
short dashed edge from a dashed copy of its source (a stub, named after it) beside its user. Long
edges make Graphviz's ``dot`` layout slow (each becomes one hidden node per row it crosses) and a
fan of them makes a drawing unreadable: an input such as the matrix A of a recurrence is used on
every step.

**Styles.** Inputs are blue inverted houses, constants grey, outputs green with a double border,
other ops white rounded boxes. The critical path (``highlight="critical"``) is drawn in
`CRITICAL_COLOUR` with a thick border, nodes and edges; nothing else has that colour.

**Summaries.** A drawing of more than ``max_nodes`` boxes would take ``dot`` minutes and show
nothing legible, so above that limit nodes are grouped: those of one op, role (input, constant,
output, other) and row become one box "op ×count" drawn as a stack, while the critical path's
nodes keep boxes of their own. If that is still too many, rows are merged into bands of 2, 4, 8, …
levels, and the critical path's nodes in one band (of one role) become one highlighted box, so
the path still reads as a chain. Every box of a summary names the levels it covers, so every
level of the critical path stays named.
"""

from __future__ import annotations

import itertools
import pathlib
from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from depthgraph import ops
from depthgraph.analysis import Analysis, analyze
from depthgraph.errors import GraphvizUnavailable, ParameterError
from depthgraph.files import writable_path
from depthgraph.ir import Graph, Node

if TYPE_CHECKING:
    import pygraphviz

FORMATS = ("svg", "png", "pdf", "dot")
MAX_NODES = 150
STUB_ROWS = 2
CRITICAL_COLOUR = "#c62828"
HIGHLIGHTS = ("critical", None)
FONT = "Helvetica"

_STYLE = {
    "input": {"shape": "invhouse", "style": "filled", "fillcolor": "#cfe2f3"},
    "const": {"shape": "box", "style": "filled", "fillcolor": "#eeeeee", "fontsize": "9"},
    "output": {"shape": "box", "style": "filled", "fillcolor": "#d9ead3", "peripheries": "2"},
    "op": {"shape": "box", "style": "rounded,filled", "fillcolor": "white"},
    "stub": {"shape": "invhouse", "style": "dashed,filled", "fillcolor": "#eaf2fa", "color": "#6f8fb0",
             "fontsize": "9", "fontcolor": "#4a6a8a"},
}
_GROUP = {"shape": "box3d"}  # a box standing for several nodes is drawn as a stack
_CRITICAL_NODE = {"color": CRITICAL_COLOUR, "penwidth": "3", "fontcolor": CRITICAL_COLOUR}
_CRITICAL_EDGE = {"color": CRITICAL_COLOUR, "penwidth": "2.5"}
_STUB_EDGE = {"style": "dashed", "color": "#6f8fb0"}


@dataclass
class _Box:
    """One drawn node: a graph node, a group of them, or a stub (a copy of a box beside a distant user)."""

    role: str
    rank: int
    critical: bool
    members: list[int] = field(default_factory=list)


@dataclass
class _Plan:
    """What to draw: boxes by key, edges (key pairs) with whether each is critical, the band width."""

    boxes: dict[Hashable, _Box]
    edges: dict[tuple[Hashable, Hashable], bool]
    band: int  # 0: every node drawn; k >= 1: grouped by op within bands of k levels


def to_agraph(graph: Graph, highlight: str | None = "critical", show_cost: bool = False,
              max_nodes: int = MAX_NODES, analysis: Analysis | None = None, title: str | None = None
              ) -> pygraphviz.AGraph:
    """The drawing of ``graph`` as a `pygraphviz.AGraph` (not yet laid out); see `render`.

    Examples
    --------
    >>> import depthgraph
    >>> g = depthgraph.Graph(); x = g.input("x", (8,))
    >>> _ = g.output("total", depthgraph.ops.sum(x * x))
    >>> a = to_agraph(g)
    >>> sorted(a.nodes()), a.get_node("sum_2").attr["color"] == CRITICAL_COLOUR
    (['mul_1', 'sum_2', 'x'], True)
    """
    try:  # loads Graphviz's libraries (~0.2 s): only drawing needs them, not `import depthgraph`
        import pygraphviz
    except ImportError as exc:  # the wheel bundles Graphviz, not GLib and X11's client libraries: slim images lack them
        raise GraphvizUnavailable(f"render: pygraphviz (Graphviz) cannot be loaded: {exc}; its wheel needs the system's "
                             "GLib and X11 client libraries (Debian/Ubuntu: libglib2.0-0 libx11-6 libxext6 "
                             "libxrender1)") from None

    if highlight not in HIGHLIGHTS:
        raise ParameterError(f"render: highlight must be 'critical' or None, got {highlight!r}")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ParameterError(f"render: max_nodes must be an int >= 1, got {max_nodes!r}")
    nodes = graph.nodes
    analysis = analysis or analyze(graph)
    level = _levels(nodes, analysis)
    plan = _plan(graph, nodes, level, analysis, max_nodes, highlight == "critical")
    outputs: dict[int, str] = {}
    for name, node in graph.outputs.items():
        outputs[node.index] = f"{outputs[node.index]}, {name}" if node.index in outputs else name

    stats = f"work {analysis.work:,} · span {analysis.span:,} · steps {analysis.steps:,}"
    if plan.band:
        rows = "level" if plan.band == 1 else f"band of {plan.band} levels"
        stats += (f"\nsummary of {len(nodes):,} nodes: one box per op and {rows}"
                  + (", critical path in red" if highlight else ""))
    agraph = pygraphviz.AGraph(directed=True, strict=False, rankdir="TB", fontname=FONT, fontsize="12",
                               labelloc="t", label=f"{title}\n{stats}" if title else stats,
                               ranksep="0.3", nodesep="0.2")
    agraph.node_attr.update(fontname=FONT, fontsize="10", height="0.3", margin="0.08,0.03")
    agraph.edge_attr.update(color="#555555", arrowsize="0.6")
    ids = _ids(plan, nodes)
    by_rank: dict[int, list[str]] = {}
    for key, box in plan.boxes.items():
        attrs = dict(_STYLE[box.role])
        if len(box.members) > 1:
            attrs.update(_GROUP)
        if box.critical:
            attrs.update(_CRITICAL_NODE)
        if box.role == "stub":
            label = _stub_label(plan.boxes[key[1]], nodes, level)
        else:
            label = _box_label(box, nodes, level, outputs, show_cost, plan.band)
        agraph.add_node(ids[key], label=label, **attrs)
        by_rank.setdefault(box.rank, []).append(ids[key])
    for (u, v), critical in plan.edges.items():
        style = _CRITICAL_EDGE if critical else _STUB_EDGE if plan.boxes[u].role == "stub" else {}
        agraph.add_edge(ids[u], ids[v], **style)
    for rank, members in sorted(by_rank.items()):
        agraph.add_subgraph(members, name=f"rank {rank}", rank="same")
    return agraph


def render(graph: Graph, path: str | pathlib.Path, highlight: str | None = "critical", show_cost: bool = False,
           max_nodes: int = MAX_NODES, analysis: Analysis | None = None, title: str | None = None) -> pathlib.Path:
    """Draw ``graph`` with Graphviz into ``path``: .svg, .png, .pdf, or .dot (the source, not laid out).

    Parameters
    ----------
    graph : Graph
        The graph; only the nodes its outputs need are drawn (as `Graph.nodes`).
    path : str or pathlib.Path
        The file to write; its suffix picks the format (`FORMATS`).
    highlight : "critical" or None
        Draw the critical path (`Analysis.critical_path`) bold in `CRITICAL_COLOUR`, or nothing.
    show_cost : bool
        Add each node's work and depth to its label (a group's total work).
    max_nodes : int
        The most boxes to draw; a larger graph is summarised (see the module's docstring).
    analysis : Analysis, optional
        ``depthgraph.analyze(graph)``, if already computed.
    title : str, optional
        A first line for the drawing's caption (the second gives work, span and steps).

    Returns
    -------
    pathlib.Path
        ``path``.

    Examples
    --------
    >>> import pathlib, tempfile, depthgraph
    >>> g = depthgraph.Graph(); A = g.input("A", (4, 4)); x = g.input("x", (4,))
    >>> _ = g.output("y", A @ (A @ x))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     svg = depthgraph.render(g, pathlib.Path(tmp) / "y.svg").read_text()
    >>> svg.count('class="node"'), f'stroke="{CRITICAL_COLOUR}"' in svg
    (4, True)
    """
    path = pathlib.Path(path)
    fmt = output_format(path, FORMATS, "render")
    agraph = to_agraph(graph, highlight, show_cost, max_nodes, analysis, title)
    if fmt == "dot":
        agraph.write(str(path))
    else:
        agraph.draw(str(path), format=fmt, prog="dot")
    return path


def output_format(path: str | pathlib.Path, formats: tuple[str, ...], who: str) -> str:
    """The format a file's suffix names, if ``who`` can write it, with the file's folder made
    (`depthgraph.files.writable_path`); `ParameterError` for an unknown suffix, `OutputError`
    for a path that cannot be written.

    >>> output_format("chain.svg", FORMATS, "render")
    'svg'
    >>> output_format("chain.jpeg", FORMATS, "render")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    depthgraph.errors.ParameterError: render: ... unknown suffix '.jpeg'; use .svg, .png, .pdf or .dot
    """
    path = pathlib.Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in formats:
        allowed = ", ".join("." + f for f in formats[:-1]) + " or ." + formats[-1]
        suffix = path.suffix or "(none)"
        raise ParameterError(f"{who}: cannot write {path.name!r}: unknown suffix {suffix!r}; use {allowed}")
    writable_path(path, f"{who}'s {fmt}")
    return fmt


def _levels(nodes: list[Node], analysis: Analysis) -> list[int]:
    """Each node's level, by position in ``nodes``."""
    level_of = {name: k for k, names in enumerate(analysis.levels) for name in names}
    return [level_of[node.name] for node in nodes]


def _plan(graph: Graph, nodes: list[Node], level: list[int], analysis: Analysis, max_nodes: int,
          highlight: bool) -> _Plan:
    """The boxes and edges to draw: every node if they fit in ``max_nodes``, else the narrowest
    bands of levels whose summary fits (bands of 1, 2, 4, … levels)."""
    local = {node.index: i for i, node in enumerate(nodes)}
    preds = [[local[x.index] for x in node.inputs] for node in nodes]
    free = [ops.cost(node)[1] == 0 for node in nodes]
    rank = _ranks(nodes, preds, level, free)
    outputs = {local[node.index] for node in graph.outputs.values()}
    role = [node.op if node.op in ("input", "const") else "output" if i in outputs else "op"
            for i, node in enumerate(nodes)]
    path = [local[graph.node(name).index] for name in analysis.critical_path] if highlight else []
    critical = set(path)
    critical_edges = set(itertools.pairwise(path))

    band, last_rank = 0, max(rank)
    while True:
        key = _keys(nodes, rank, level, role, critical, band)
        groups = len(set(key))  # a lower bound on the boxes, cheaper than the plan
        plan = None
        if groups <= max_nodes:
            plan = _edges(preds, key, rank, level, free, role, critical, critical_edges, band)
        if plan and len(plan.boxes) <= max_nodes:
            return plan
        if band > last_rank:  # one band holds every level: no coarser summary exists
            raise ParameterError(
                f"render: max_nodes={max_nodes} is too small: a summary of all {analysis.steps + 1} levels in one "
                f"band needs {len(plan.boxes) if plan else groups} boxes"
            )
        band = 1 if band == 0 else 2 * band


def _ranks(nodes: list[Node], preds: list[list[int]], level: list[int], free: list[bool]) -> list[int]:
    """The row each node is drawn in: its level, except that a constant or a view at level 0 is
    drawn just above its first user (a free user: beside it)."""
    rank = list(level)
    first_use = [None] * len(nodes)  # the highest row a node's users want it in
    for i in range(len(nodes) - 1, -1, -1):  # users before what they use
        if level[i] == 0 and nodes[i].op != "input" and first_use[i] is not None:
            rank[i] = first_use[i]
        want = rank[i] - (not free[i])
        for j in preds[i]:
            if first_use[j] is None or want < first_use[j]:
                first_use[j] = max(want, 0)
    return rank


def _keys(nodes, rank, level, role, critical, band) -> list[Hashable]:
    """Each node's box: itself when every node is drawn (band 0); in a summary, its group (band, op,
    role, is a source). Critical nodes keep boxes of their own in bands of one level; in wider bands
    they are grouped by band and role only, so the path reads as one box per band."""
    if band == 0:
        return list(range(len(nodes)))
    return [
        (i if band == 1 else (rank[i] // band, role[i])) if i in critical else
        (rank[i] // band, nodes[i].op, role[i], level[i] == 0)
        for i in range(len(nodes))
    ]


def _edges(preds, key, rank, level, free, role, critical, critical_edges, band) -> _Plan:
    """The boxes of ``key``, stubs for long edges off the critical path, and the edges between them."""
    width = max(band, 1)
    boxes: dict[Hashable, _Box] = {}
    for i, k in enumerate(key):
        box = boxes.get(k)
        if box is None:
            box = boxes[k] = _Box(role[i], rank[i] // width, i in critical)
        box.members.append(i)
    edges: dict[tuple[Hashable, Hashable], bool] = {}
    for v, operands in enumerate(preds):
        row = (rank[v] - (not free[v])) // width  # where v's operands would sit: the row above, or beside a view
        for u in operands:
            ku, kv = key[u], key[v]
            if ku == kv:
                continue  # an edge inside a group
            on_path = (u, v) in critical_edges
            if not on_path and row - boxes[ku].rank >= STUB_ROWS:
                stub = ("stub", ku, row)
                if stub not in boxes:
                    boxes[stub] = _Box("stub", row, False)
                ku = stub
            edges[ku, kv] = edges.get((ku, kv), False) or on_path
    return _Plan(boxes, edges, band)


def _ids(plan: _Plan, nodes: list[Node]) -> dict[Hashable, str]:
    """Graphviz node ids: a node drawn alone keeps its name; a group or stub gets a fresh id."""
    names = {node.name for node in nodes}
    ids = {}
    for n, (key, box) in enumerate(plan.boxes.items()):
        if isinstance(key, int):
            ids[key] = nodes[key].name
            continue
        fresh = f"{box.role} {n}"
        while fresh in names:
            fresh += "'"
        ids[key] = fresh
    return ids


def _stub_label(source: _Box, nodes: list[Node], level: list[int]) -> str:
    """A stub names what it copies: a node by name, a group by op, count and levels."""
    if len(source.members) == 1:
        return nodes[source.members[0]].name
    return f"{_counts(source, nodes)}\n{_level_range(source, level)}"


def _counts(box: _Box, nodes: list[Node]) -> str:
    """What a group holds, e.g. "matmul ×1,024 · add ×1,024"."""
    return " · ".join(f"{op} ×{k:,}" for op, k in Counter(nodes[i].op for i in box.members).items())


def _level_range(box: _Box, level: list[int]) -> str:
    lo, hi = min(level[i] for i in box.members), max(level[i] for i in box.members)
    return f"level {lo}" if lo == hi else f"levels {lo}–{hi}"


def _shape(shape: tuple[int, ...]) -> str:
    return "[" + "×".join(map(str, shape)) + "]" if shape else "scalar"


def _box_label(box: _Box, nodes: list[Node], level: list[int], outputs: dict[int, str], show_cost: bool,
               band: int) -> str:
    """A box's label: name and op (a scalar constant's value) and shape, or "op ×count"; work and
    depth if asked; the levels covered in a summary. Names are shown because stubs and
    `Analysis.critical_path` refer to nodes by name."""
    first = nodes[box.members[0]]
    if len(box.members) > 1:
        lines = [_counts(box, nodes)]
        if show_cost:
            lines.append(f"work {sum(ops.cost(nodes[i])[0] for i in box.members):,}")
    else:
        value = first.kwargs.get("value")
        if isinstance(value, (int, float)):
            head = f"{value:g}"
        elif first.op == "input" or first.name.startswith(first.op):  # "A", "mul_19": the name says it all
            head = first.name
        else:
            head = f"{first.name}: {first.op}"  # a name the builder chose, such as "A^2"
        lines = [head, _shape(first.shape)]
        if box.role == "output":
            lines.append("→ " + outputs[first.index])
        if show_cost:
            work, depth = ops.cost(first)
            lines.append(f"w={work:,} d={depth}")
    if band:
        lines.append(_level_range(box, level))
    return "\n".join(lines)
