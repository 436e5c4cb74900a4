"""Plots: each format is written; what they show (titles, legends, points) is read back from SVG
written with text kept as text, and compared with numbers computed here."""

import statistics
import xml.etree.ElementTree as ET

import matplotlib
import pytest

import algorithms
import depthgraph
from depthgraph import plots

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(autouse=True)
def text_as_text():
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # otherwise SVG text is drawn as paths
        yield


def texts(svg_path) -> list[str]:
    return [t.text or "" for t in ET.parse(svg_path).iter(SVG + "text")]


def points(svg_path) -> int:
    """Markers drawn by scatter in the axes, not counting the legend's: a collection of several
    points draws each as a <use> of one marker, a collection of one draws a <path>."""
    root = ET.parse(svg_path).getroot()
    legend = {id(e) for g in root.iter(SVG + "g") if (g.get("id") or "").startswith("legend") for e in g.iter()}
    count = 0
    for g in root.iter(SVG + "g"):
        if (g.get("id") or "").startswith("PathCollection") and id(g) not in legend:
            count += len(list(g.iter(SVG + "use"))) or len(g.findall(SVG + "path"))
    return count


@pytest.mark.parametrize("suffix, magic", [(".png", b"\x89PNG"), (".svg", b"<svg"), (".pdf", b"%PDF")])
def test_each_format_is_written(tmp_path, suffix, magic):
    graph = algorithms.get("scan-blelloch").build(L=16, n=2)
    data = plots.parallelism_profile(graph, tmp_path / f"p{suffix}").read_bytes()
    assert magic in data[:400]


def test_parallelism_profile_states_the_analysis(tmp_path):
    graph = algorithms.get("kernel-doubling").build(L=64, n=4)
    a = depthgraph.analyze(graph)
    path = plots.parallelism_profile(a, tmp_path / "p.svg", title="kernel-doubling")
    shown = " ".join(texts(path))
    assert "kernel-doubling" in shown
    assert f"work {a.work:,} · span {a.span:,} · steps {a.steps:,} · parallelism {a.parallelism:,.1f}" in shown
    assert texts(plots.parallelism_profile(graph, tmp_path / "g.svg", title="kernel-doubling")) == texts(path)


def test_scaling_has_a_line_per_algorithm(tmp_path):
    rows = []
    for name in ("recurrence", "kernel-doubling"):
        for L in (16, 32, 64):
            a = depthgraph.analyze(algorithms.get(name).build(L=L, n=4))
            rows.append({"algorithm": name, "L": L, "work": a.work, "span": a.span})
    shown = texts(plots.scaling(rows, tmp_path / "s.svg", title="SSM kernels"))
    assert {"recurrence", "kernel-doubling", "SSM kernels", "work against L", "span against L"} <= set(shown)


def test_scaling_rejects_bad_rows(tmp_path):
    with pytest.raises(depthgraph.ParameterError, match="lacks span"):
        plots.scaling([{"algorithm": "a", "L": 2, "work": 3}], tmp_path / "s.png")
    with pytest.raises(depthgraph.ParameterError, match="no rows"):
        plots.scaling([], tmp_path / "s.png")


def write_validation(path, rows):
    # The columns issue 5's `depthgraph validate` writes: more than the plot needs.
    head = "family,algorithm,sizes,executor,nodes,steps,predicted_s,measured_s,rel_error,launch_s,throughput_s"
    lines = [head] + [f"ssm,{a},L=8,{e},10,4,{p},{m},0,0,0" for a, e, p, m in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_predicted_vs_measured(tmp_path):
    rows = [("recurrence", "levels", 0.010, 0.012), ("recurrence", "eager", 0.020, 0.018),
            ("conv-fft", "levels", 0.001, 0.0015), ("conv-fft", "dask", 0.3, 0.1), ("recurrence", "levels", 0.05, 0.04)]
    csv_path = write_validation(tmp_path / "v.csv", rows)
    path = plots.predicted_vs_measured(csv_path, tmp_path / "v.svg")
    shown = " ".join(texts(path))
    median = statistics.median(abs(p - m) / m for _, _, p, m in rows)
    assert f"{len(rows)} points, median |error| {median:.0%}" in shown
    assert all(label in shown for label in ("executor levels", "executor eager", "executor dask", "conv-fft"))
    assert points(path) == len(rows)


@pytest.mark.parametrize("content, message", [
    ("algorithm,executor,predicted_s\nx,levels,1\n", "missing column.*measured_s"),
    ("algorithm,executor,predicted_s,measured_s\n", "no rows"),
    ("algorithm,executor,predicted_s,measured_s\nx,levels,1,0\n", "line 2: measured_s must be a positive"),
    ("algorithm,executor,predicted_s,measured_s\nx,levels,fast,1\n", "line 2: predicted_s must be a positive"),
])
def test_predicted_vs_measured_rejects_bad_csv(tmp_path, content, message):
    (tmp_path / "v.csv").write_text(content)
    with pytest.raises(depthgraph.ParameterError, match=message):
        plots.predicted_vs_measured(tmp_path / "v.csv", tmp_path / "v.png")


def test_predicted_vs_measured_missing_file(tmp_path):
    with pytest.raises(depthgraph.ParameterError, match="cannot read the validation CSV: No such file"):
        plots.predicted_vs_measured(tmp_path / "none.csv", tmp_path / "v.png")


def test_unknown_suffix(tmp_path):
    with pytest.raises(depthgraph.ParameterError, match=r"'\.gif'; use \.png, \.svg or \.pdf"):
        plots.parallelism_profile(algorithms.get("conv-fft").build(L=8), tmp_path / "p.gif")
