"""The report job: its page refers only to files that exist, and states the numbers the analysis gives."""

import html.parser
import importlib.util
from pathlib import Path

import pytest

import algorithms
import depthgraph
from algorithms import report

SIZES = {"L": 32, "n": 2, "d": 2}  # T defaults to L


class Links(html.parser.HTMLParser):
    """Every src and href of a page."""

    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        self.links += [value for name, value in attrs if name in ("src", "href")]


def links(page: Path) -> list[str]:
    parser = Links()
    parser.feed(page.read_text())
    return parser.links


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    csv_path = out.parent / "validation.csv"
    csv_path.write_text("family,algorithm,executor,predicted_s,measured_s\n"
                        "ssm,recurrence,levels,0.01,0.012\nconv,conv-fft,eager,0.002,0.001\n")
    return report.write(out, sizes=SIZES, validation=csv_path, progress=False)


def test_the_page_refers_only_to_files_that_exist(written):
    folder = written.index.parent
    targets = [link for link in links(written.index) if not link.startswith("#")]
    assert targets, "the page shows diagrams and plots"
    for link in targets:
        assert not Path(link).is_absolute() and "://" not in link
        assert (folder / link).is_file(), link
    assert set(targets) == set(written.files)  # and every file written is shown


def test_every_algorithm_is_drawn_and_plotted(written):
    folder = written.index.parent
    for name in algorithms.names():
        assert (folder / f"diagrams/{name}.svg").read_text().lstrip().startswith("<?xml")
        assert (folder / f"plots/profile-{name}.png").stat().st_size > 0
    assert (folder / "plots/scaling.png").is_file() and (folder / "plots/validation.png").is_file()
    assert [s.name for s in written.sections] == algorithms.names()


def test_the_page_states_the_analysis_at_the_stated_sizes(written):
    page = written.index.read_text()
    for name in algorithms.names():
        spec = algorithms.get(name)
        params = spec.params(**{k: v for k, v in {**SIZES, "T": SIZES["L"]}.items() if k in spec.defaults})
        a = depthgraph.analyze(spec.build(**params))
        sizes = " ".join(f"{k}={v}" for k, v in params.items() if not isinstance(v, bool))
        assert f"At {sizes}: work {a.work:,}, span {a.span:,}, steps {a.steps:,}, parallelism\n{a.parallelism:,.1f}" \
            in page
    assert "table and sweeps at L=32 T=32 n=2 d=2" in page


def test_the_diagrams_highlight_the_critical_path_at_the_small_size(written):
    spec = algorithms.get("kernel-doubling")
    graph = spec.build(**{k: report.DRAW_SIZES[k] for k in spec.defaults})
    svg = (written.index.parent / "diagrams/kernel-doubling.svg").read_text()
    for name in depthgraph.analyze(graph).critical_path:
        assert f"<title>{name}</title>" in svg
    assert f"L={report.DRAW_SIZES['L']} n={report.DRAW_SIZES['n']}" in svg


def test_summary_line(written):
    line = written.summary()
    keyed = [s for s in written.sections if s.row.agrees is not None]
    agree = sum(bool(s.row.agrees) for s in keyed)
    assert line.startswith(f"report: {len(algorithms.names())} algorithms drawn and analysed ({agree} of {len(keyed)} ")
    assert "\n" not in line and f"{len(written.files)} files" in line


def test_no_validation_no_validation_plot(tmp_path):
    written = report.write(tmp_path, sizes={"L": 16, "n": 1, "d": 1}, progress=False)
    assert "plots/validation.png" not in links(written.index) and not (tmp_path / "plots/validation.png").exists()


@pytest.mark.parametrize("kw, message", [
    ({"sizes": {"L": 8}}, "L must be an int >= 16"),
    ({"sizes": {"n": 0}}, "n must be an int >= 1"),
    ({"sizes": {"q": 3}}, "unknown size"),
    ({"backend": "jax"}, "unknown backend 'jax'"),
    ({"validation": "/no/such.csv"}, "cannot read the validation CSV"),
])
def test_bad_parameters(tmp_path, kw, message):
    with pytest.raises(depthgraph.ParameterError, match=message):
        report.write(tmp_path, progress=False, **kw)


def test_cupy_unavailable(tmp_path):
    if importlib.util.find_spec("cupy") is not None:
        pytest.skip("CuPy is installed")
    with pytest.raises(depthgraph.ParameterError, match="backend 'cupy' is not available"):
        report.write(tmp_path, backend="cupy", progress=False)


def test_without_graphviz_libraries_the_report_says_so_and_links_only_what_exists(tmp_path, monkeypatch):
    # As on the lent GPU image: pygraphviz's wheel loads, but not the system's GLib and X11 libraries.
    def cannot_load(*args, **kwargs):
        raise depthgraph.errors.GraphvizUnavailable("render: pygraphviz (Graphviz) cannot be loaded: libgobject missing")

    monkeypatch.setattr(depthgraph, "render", cannot_load)
    r = report.write(tmp_path, sizes={"L": 16, "n": 2, "d": 2}, progress=False)
    assert all(s.diagram is None for s in r.sections)
    page = r.index.read_text()
    assert "No diagrams: render: pygraphviz (Graphviz) cannot be loaded: libgobject missing" in page
    assert not any("diagrams/" in link for link in links(r.index))
    assert all((tmp_path / link).is_file() for link in links(r.index) if not link.startswith("#"))
