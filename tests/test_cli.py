"""The command line: the analysis table and JSON, and one-line errors with exit status 2."""

import json
import subprocess
import sys

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
