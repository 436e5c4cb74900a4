"""The complexity table: analysed figures, fitted growth, and flags against the answer key."""

import math

import pytest

import algorithms
import depthgraph
from algorithms import answer_key, table
from depthgraph.cli import main

SIZES = {"L": 256, "T": 256, "n": 32, "d": 32}


@pytest.fixture(scope="module")
def rows():
    return {row.name: row for row in algorithms.complexity_rows(SIZES)}


def test_every_algorithm_has_a_row_with_its_analysis(rows):
    assert list(rows) == algorithms.names()
    for name in ("recurrence", "scan-blelloch"):
        a = depthgraph.analyze(algorithms.get(name).build(L=256, n=32))
        r = rows[name]
        assert (r.work, r.span, r.steps, r.parallelism) == (a.work, a.span, a.steps, a.parallelism)


def test_fitted_classes_of_hand_analysed_algorithms(rows):
    # recurrence: work L·n² + O(L·n), span (L-1)(⌈log2 n⌉ + 2) + 2 (tests/algorithms/test_ssm.py)
    assert (rows["recurrence"].work_fit, rows["recurrence"].span_fit) == ("Θ(L·n²)", "Θ(L·log n)")
    assert rows["scan-sequential"].span_fit == "Θ(L)"


# The disagreements docs/complexity.md explains: ssm-ltv's output dot products add log n to the span.
KNOWN_DISAGREEMENTS = {"ssm-ltv": (True, False)}


def test_the_answer_key_agrees_where_it_has_an_entry(rows):
    for name, row in rows.items():
        if name not in answer_key.ANSWER_KEY:
            assert (row.work_agrees, row.span_agrees) == (None, None), name
        else:
            assert (row.work_agrees, row.span_agrees) == KNOWN_DISAGREEMENTS.get(name, (True, True)), name


def test_a_wrong_answer_is_flagged(monkeypatch):
    wrong = answer_key.Answer("Θ(L·n²)", "Θ(log L)", lambda L, n: L * n * n, lambda L, n: math.log2(L))
    monkeypatch.setitem(answer_key.ANSWER_KEY, "recurrence", wrong)
    row = next(table.complexity_rows({"L": 256, "n": 32}))
    assert (row.work_agrees, row.span_agrees, row.agrees) == (True, False, False)
    assert "| **NO**: span |" in table.format_table([row])


@pytest.mark.parametrize(
    "cost, expected",
    [
        (lambda L, n: L * n * n + 3 * L * n, "Θ(L·n²)"),
        (lambda L, n: 2 * L.bit_length() + 5 * n.bit_length() + 40, "Θ(log L + log n)"),
        (lambda L, n: L.bit_length() * n.bit_length(), "Θ(log L·log n)"),
        (lambda L, n: L * L.bit_length(), "Θ(L·log L)"),
        (lambda L, n: 7, "Θ(1)"),
    ],
)
def test_growth_class(cost, expected):
    assert table.growth_class(cost, {"L": 1024, "n": 64}) == expected


def test_growth_class_needs_a_sweep():
    assert table.growth_class(lambda L: L, {"L": 64}) == "—"


def test_cli_table(capsys):
    assert main(["table", "--L", "256", "--n", "32", "--d", "32"]) == 0
    out = capsys.readouterr()
    lines = out.out.splitlines()
    assert lines[0].startswith("| algorithm | sizes | work | span |")
    assert len(lines) == 2 + len(algorithms.names())
    assert "| recurrence | L=256 n=32 |" in out.out and "sweeping recurrence" in out.err


def test_documented_table_matches_the_code():
    """docs/complexity.md's figures are what the algorithms analyse to today."""
    import pathlib

    doc = (pathlib.Path(__file__).parents[2] / "docs" / "complexity.md").read_text()
    rows = [line.split(" | ") for line in doc.splitlines() if line.startswith("| ") and "=" in line]
    assert [r[0][2:] for r in rows] == algorithms.names()
    for name, sizes, work, span, steps, *_ in rows:
        params = {k: (v == "True") if v in ("True", "False") else int(v) for k, v in (s.split("=") for s in sizes.split())}
        a = depthgraph.analyze(algorithms.get(name[2:]).build(**params))
        assert (a.work, a.span, a.steps) == tuple(int(x.replace(",", "")) for x in (work, span, steps)), name
