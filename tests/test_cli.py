"""The command line: the analysis table and JSON, and one-line errors with exit status 2."""

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

import algorithms
import depthgraph
from depthgraph.cli import main


def test_analyze_json_matches_the_library(capsys):
    assert main(["analyze", "recurrence", "--L", "8", "--n", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    a = depthgraph.analyze(algorithms.get("recurrence").build(L=8, n=2))
    assert (report["work"], report["span"], report["steps"]) == (a.work, a.span, a.steps)
    assert report["critical_path"] == list(a.critical_path)
    assert report["bounds"]["8"] == [max(a.work / 8, a.span), a.work / 8 + a.span]
    assert report["params"] == {"L": 8, "n": 2}


def test_analyze_table(capsys):
    assert main(["analyze", "recurrence", "--L", "4", "--n", "4"]) == 0
    out = capsys.readouterr().out
    a = depthgraph.analyze(algorithms.get("recurrence").build(L=4, n=4))
    assert out.startswith("recurrence  (L=4 n=4)")
    for label, value in [("work", a.work), ("span", a.span), ("steps", a.steps)]:
        assert f"{label:<15} {value:,}" in out
    for p in (1, 8, 1024):
        assert f"bounds p={p} " in out
    assert f"critical path   {len(a.critical_path)} nodes" in out


@pytest.mark.parametrize(
    "argv, message",
    [
        (["analyze", "nope"], "depthgraph: error: unknown algorithm 'nope'; choose from recurrence, "),
        (["analyze", "recurrence", "--L", "0"], "depthgraph: error: recurrence: L must be an int >= 1, got 0"),
        (["analyze", "recurrence", "--L", "x"], "depthgraph: error: argument --L: expected a whole number, got 'x'"),
        (["analyze", "recurrence", "--frobnicate"], "depthgraph: error: unrecognized arguments: --frobnicate"),
        ([], "depthgraph: error: the following arguments are required: command"),
    ],
)
def test_errors_are_one_line_and_exit_2(argv, message):
    proc = subprocess.run([sys.executable, "-m", "depthgraph", *argv], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stdout == ""
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(message)


def test_list(capsys):
    assert main(["list"]) == 0
    assert capsys.readouterr().out.split()[0] == "recurrence"


def test_render(tmp_path, capsys):
    out = tmp_path / "k.svg"
    assert main(["render", "kernel-doubling", "--L", "8", "--n", "2", "-o", str(out)]) == 0
    graph = algorithms.get("kernel-doubling").build(L=8, n=2)
    path = depthgraph.analyze(graph).critical_path
    assert capsys.readouterr().out == f"{out}: {len(graph.nodes)} nodes, critical path of {len(path)}\n"
    texts = {t.text for t in ET.parse(out).iter("{http://www.w3.org/2000/svg}text")}
    titles = {t.text for t in ET.parse(out).iter("{http://www.w3.org/2000/svg}title")}
    assert set(path) <= titles and "kernel-doubling (L=8 n=2)" in texts


def test_render_defaults_to_name_svg(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["render", "conv-fft", "--no-highlight", "--show-cost"]) == 0
    svg = (tmp_path / "conv-fft.svg").read_text()
    assert "w=" in svg and "#c62828" not in svg


def test_report(tmp_path, capsys):
    assert main(["report", "-o", str(tmp_path / "r"), "--L", "16", "--n", "2", "--d", "2"]) == 0
    summary, index = capsys.readouterr().out.splitlines()
    assert summary.startswith(f"report: {len(algorithms.names())} algorithms drawn and analysed")
    assert index == str(tmp_path / "r" / "index.html") and (tmp_path / "r" / "index.html").is_file()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["render", "recurrence", "-o", "x.gif"], "depthgraph: error: render: cannot write 'x.gif': unknown suffix '.gif'"),
        (["render", "recurrence", "--L", "64", "--max-nodes", "2"], "depthgraph: error: render: max_nodes=2 is too small"),
        (["render", "nope"], "depthgraph: error: unknown algorithm 'nope'"),
        (["report", "--L", "8"], "depthgraph: error: report: L must be an int >= 16, got 8"),
        (["report", "--validation", "/no/such.csv"], "depthgraph: error: /no/such.csv: cannot read the validation CSV"),
        (["render", "recurrence", "-o", "/dev/null/g.svg"],
         "depthgraph: error: cannot write render's svg '/dev/null/g.svg': File exists"),
        (["validate", "--quick", "-o", "/dev/null"],
         "depthgraph: error: cannot write validation results '/dev/null/validation.csv': File exists"),
    ],
)
def test_render_and_report_errors_are_one_line_and_exit_2(tmp_path, argv, message):
    proc = subprocess.run([sys.executable, "-m", "depthgraph", *argv], check=False, capture_output=True, text=True,
                          cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stdout == ""
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(message)


@pytest.mark.parametrize("flags, in_situ", [([], False), (["--calls", "in-situ"], True),
                                             (["--calls", "alone"], False)])
def test_calibrate_writes_a_profile(tmp_path, capsys, flags, in_situ):
    from depthgraph.cost import Profile

    path = tmp_path / "new" / "p.json"  # its folder made
    assert main(["calibrate", "--quick", "-o", str(path), *flags]) == 0
    profile = Profile.load(path)
    assert capsys.readouterr().out.startswith(f"calibrated {len(profile.calls)} call kinds on {profile.device}")
    assert profile.backend == "numpy" and "levels:run" in profile.overheads
    assert profile.in_situ == in_situ  # NumPy's default: alone


def test_calibrate_refuses_an_output_it_cannot_write_before_timing_anything(tmp_path, capsys, monkeypatch):
    import algorithms.validate

    def never(*args, **kwargs):
        raise AssertionError("calibrated before checking the output path")

    monkeypatch.setattr(algorithms.validate, "calibrate_profile", never)
    assert main(["calibrate", "--quick", "-o", str(tmp_path)]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line == f"depthgraph: error: cannot write profile {str(tmp_path)!r}: it is a folder"
