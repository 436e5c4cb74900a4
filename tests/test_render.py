"""Drawings: formats, the critical path's highlight, ranks by level, distinct sources and outputs,
stubs, and summaries of large graphs. The SVG is parsed as XML; what it should show is computed
from `depthgraph.analyze` and the graph itself."""

import itertools
import re
import sys
import xml.etree.ElementTree as ET

import pytest

import algorithms
import depthgraph
from depthgraph import drawing, ops

SVG = "{http://www.w3.org/2000/svg}"


def svg_nodes(svg: str) -> dict[str, dict]:
    """Each drawn node by id: its outline's stroke and fill, its label's lines, its label's height."""
    nodes = {}
    for g in ET.fromstring(svg).iter(SVG + "g"):
        if g.get("class") != "node":
            continue
        outline = next(e for e in g if e.tag != SVG + "title" and e.get("stroke"))
        texts = g.findall(SVG + "text")
        nodes[g.find(SVG + "title").text] = {
            "stroke": outline.get("stroke"),
            "fill": outline.get("fill"),
            "dashed": outline.get("stroke-dasharray") is not None,
            "lines": [t.text for t in texts],
            "y": min(float(t.get("y")) for t in texts),
        }
    return nodes


def svg_edges(svg: str) -> dict[tuple[str, str], str]:
    """Each drawn edge (tail, head) and its stroke colour."""
    edges = {}
    for g in ET.fromstring(svg).iter(SVG + "g"):
        if g.get("class") == "edge":
            tail, head = g.find(SVG + "title").text.split("->")
            edges[tail, head] = g.find(SVG + "path").get("stroke")
    return edges


def draw(graph, tmp_path, **kw) -> str:
    return depthgraph.render(graph, tmp_path / "g.svg", **kw).read_text()


def small(name: str) -> depthgraph.Graph:
    spec = algorithms.get(name)
    return spec.build(**{k: v for k, v in {"L": 8, "T": 8, "n": 2, "d": 2}.items() if k in spec.defaults})


@pytest.mark.parametrize("suffix, magic", [(".svg", b"<?xml"), (".png", b"\x89PNG"), (".pdf", b"%PDF"),
                                           (".dot", b"digraph")])
def test_each_format_is_written(tmp_path, suffix, magic):
    path = depthgraph.render(small("kernel-doubling"), tmp_path / f"k{suffix}")
    data = path.read_bytes()
    assert path == tmp_path / f"k{suffix}" and len(data) > 100
    assert data.lstrip().startswith(magic) or magic in data[:200]


def test_unknown_suffix_names_it_and_the_allowed_ones(tmp_path):
    with pytest.raises(depthgraph.ParameterError, match=r"'\.jpeg'; use \.svg, \.png, \.pdf or \.dot"):
        depthgraph.render(small("kernel-doubling"), tmp_path / "k.jpeg")
    assert not (tmp_path / "k.jpeg").exists()


@pytest.mark.parametrize("name", ["kernel-doubling", "recurrence", "scan-blelloch", "ridge-noncausal"])
def test_critical_path_and_only_it_is_highlighted(tmp_path, name):
    graph = small(name)
    path = depthgraph.analyze(graph).critical_path
    svg = draw(graph, tmp_path)
    nodes, edges = svg_nodes(svg), svg_edges(svg)
    assert {n for n, a in nodes.items() if a["stroke"] == drawing.CRITICAL_COLOUR} == set(path)
    assert {e for e, colour in edges.items() if colour == drawing.CRITICAL_COLOUR} == set(itertools.pairwise(path))


def test_no_highlight(tmp_path):
    svg = draw(small("recurrence"), tmp_path, highlight=None)
    assert drawing.CRITICAL_COLOUR not in svg


def test_nodes_are_ranked_by_level(tmp_path):
    graph = small("scan-hillis-steele")
    a = depthgraph.analyze(graph)
    nodes = svg_nodes(draw(graph, tmp_path))
    # Ops that launch a kernel sit in the row of their level (sources and views may be drawn lower).
    rows = {}
    for k, names in enumerate(a.levels):
        for name in names:
            node = graph.node(name)
            if ops.cost(node)[1] > 0:
                rows.setdefault(k, set()).add(nodes[name]["y"])
    assert all(len(ys) == 1 for ys in rows.values())
    ys = [rows[k].pop() for k in sorted(rows)]
    assert ys == sorted(ys) and len(set(ys)) == len(ys)  # deeper levels lower down


def test_inputs_outputs_and_ops_look_different(tmp_path):
    graph = small("recurrence")
    nodes = svg_nodes(draw(graph, tmp_path, highlight=None))
    outputs = {n.name for n in graph.outputs.values()}
    inputs = set(graph.inputs)
    ops_ = {n.name for n in graph.nodes if n.op not in ("input", "const") and n.name not in outputs}
    looks = {kind: {(nodes[n]["fill"], nodes[n]["stroke"]) for n in names if n in nodes}
             for kind, names in (("in", inputs), ("out", outputs), ("op", ops_))}
    assert looks["in"] and looks["out"] and looks["op"]
    assert not looks["in"] & looks["out"] and not looks["in"] & looks["op"] and not looks["out"] & looks["op"]


def test_every_edge_is_drawn_or_stubbed(tmp_path):
    graph = small("recurrence")
    svg = draw(graph, tmp_path)
    nodes, edges = svg_nodes(svg), svg_edges(svg)
    stubs = {n: a["lines"][0] for n, a in nodes.items() if a["dashed"]}  # stub id -> the node it copies
    assert stubs, "the recurrence's A is used on every step: some edges must be stubs"
    drawn = {(stubs.get(u, u), v) for u, v in edges}
    assert drawn == {(x.name, n.name) for n in graph.nodes for x in n.inputs}


def test_show_cost(tmp_path):
    graph = small("kernel-doubling")
    nodes = svg_nodes(draw(graph, tmp_path, show_cost=True))
    for name, attrs in depthgraph.to_networkx(graph).nodes(data=True):
        assert f"w={attrs['work']:,} d={attrs['depth']}" in nodes[name]["lines"]


def levels_named(lines: list[str]) -> set[int]:
    named = set()
    for line in lines:
        if m := re.fullmatch(r"levels? (\d+)(?:–(\d+))?", line):
            lo, hi = int(m[1]), int(m[2] or m[1])
            named |= set(range(lo, hi + 1))
    return named


@pytest.mark.parametrize("name, params, limit", [
    ("recurrence", {"L": 3000}, 60),           # a chain of 6000 levels: bands of many levels
    ("scan-hillis-steele", {"L": 512}, 150),  # 20 wide levels: one row per level
    ("conv-direct", {"L": 2048}, 20),         # 3 levels of thousands of nodes
])
def test_summary_stays_under_the_limit_and_names_every_critical_level(tmp_path, name, params, limit):
    graph = algorithms.get(name).build(**params)
    a = depthgraph.analyze(graph)
    assert len(graph.nodes) > limit
    nodes = svg_nodes(draw(graph, tmp_path, max_nodes=limit))
    assert len(nodes) < limit  # the acceptance item: fewer drawn nodes than the limit
    level_of = {n: k for k, names in enumerate(a.levels) for n in names}
    critical = [attrs for attrs in nodes.values() if attrs["stroke"] == drawing.CRITICAL_COLOUR]
    named = set().union(*(levels_named(attrs["lines"]) for attrs in critical))
    assert {level_of[n] for n in a.critical_path} <= named


def test_summary_keeps_critical_nodes_explicit_when_rows_are_levels(tmp_path):
    graph = algorithms.get("scan-hillis-steele").build(L=512)
    nodes = svg_nodes(draw(graph, tmp_path))
    assert len(graph.nodes) > drawing.MAX_NODES
    assert set(depthgraph.analyze(graph).critical_path) <= set(nodes)


def test_bad_parameters(tmp_path):
    graph = small("kernel-doubling")
    with pytest.raises(depthgraph.ParameterError, match="highlight"):
        depthgraph.render(graph, tmp_path / "g.svg", highlight="slack")
    with pytest.raises(depthgraph.ParameterError, match="max_nodes must be an int >= 1"):
        depthgraph.render(graph, tmp_path / "g.svg", max_nodes=0)
    with pytest.raises(depthgraph.ParameterError, match="max_nodes=2 is too small"):
        depthgraph.render(algorithms.get("recurrence").build(L=64), tmp_path / "g.svg", max_nodes=2)


def test_repr_svg_for_notebooks():
    graph = small("kernel-doubling")
    drawn = {n for n, attrs in svg_nodes(graph._repr_svg_()).items() if not attrs["dashed"]}  # stubs are dashed
    assert drawn == {n.name for n in graph.nodes}
    assert depthgraph.Graph()._repr_svg_() is None


def test_graphviz_that_cannot_load_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "pygraphviz", None)  # import then raises ImportError, as without GLib
    with pytest.raises(depthgraph.ParameterError, match="pygraphviz .Graphviz. cannot be loaded"):
        depthgraph.render(small("conv-fft"), tmp_path / "g.svg")
