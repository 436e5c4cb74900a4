"""Executor overheads: the synthetic graphs, the host's speed from them, and the overheads fitted to them."""

import dataclasses

import numpy as np
import pytest

from depthgraph import execute
from depthgraph.calibrate import calibrate
from depthgraph.cost import Profile
from depthgraph.errors import ParameterError
from depthgraph.overheads import OVERHEAD_GRAPHS, SPEED_GRAPHS, ladder, fit_overheads, host_speed
from depthgraph.prediction import levels_units, predict


def test_host_speed_needs_one_time_per_speed_graph():

    with pytest.raises(ParameterError, match=f"one time per speed graph \\({len(SPEED_GRAPHS)}\\), got 1"):
        host_speed(Profile("numpy", "test CPU", {}, "", {}), [1.0])


def test_fit_overheads_recovers_the_overheads_that_made_the_timings():
    # Timings made by the prediction itself with known overheads (NumPy: one timeline, so a
    # graph's time is its calls plus each overhead times its count): the fit must give them back.
    p = calibrate("numpy", only=["add"], max_elements=1024, progress=False, trials=3, min_samples=2, seconds=0)
    known = {"eager:node": 3e-6, "eager:run": 2e-5, "levels:direct": 1e-6, "levels:group": 4e-6,
             "levels:segment": 5e-7, "levels:gather": 2e-6, "levels:run": 3e-5,
             **{f"dask-{s}:{name}": value for s in ("sync", "threads")
                for name, value in (("task", 5e-5), ("run", 1e-4), ("byte", 1e-10))}}
    truth = dataclasses.replace(p, overheads=known)
    timed = {executor: [predict(g, executor, truth).seconds for g in OVERHEAD_GRAPHS[executor]]
             for executor in ("eager", "levels")}
    for s in ("sync", "threads"):
        timed[f"dask-{s}"] = [predict(g, "dask", truth, scheduler=s, blocks=1, min_task_work=0).seconds
                              for g in OVERHEAD_GRAPHS["dask"]]
    assert fit_overheads(p, timed) == pytest.approx(known, rel=1e-6)


@pytest.mark.parametrize("copies, gathers", [(0, 0), (1, 2), (2, 6)])
def testladders_read_their_rows_rotated_by_the_copies_asked(copies, gathers):
    # One cycle (add, matmul, sub, matmul) on random rows, against the same steps in float64
    # NumPy; the gathers by hand: each rotated operand of a step copies (the product's M is
    # shared), 0, 1 + 0 + 1 + 0 or 2 + 1 + 2 + 1 of them.
    rng = np.random.default_rng(0)
    x, y, m = rng.standard_normal((16, 64)), rng.standard_normal((16, 64)), rng.standard_normal((64, 64))
    graph = ladder(16, 4, copies)
    rows = x
    for step in range(4):
        rows = np.roll(rows, -int(copies == 2), axis=0)
        shifted_y = np.roll(y, -int(copies >= 1), axis=0)
        rows = [rows + shifted_y, rows @ m, rows - shifted_y, rows @ m][step]
    np.testing.assert_allclose(execute(graph, {"X": x, "Y": y, "M": m})["X"], rows, rtol=1e-12)
    assert sum(unit.counts.get("gather", 0) for unit in levels_units(graph)) == gathers


def test_the_levels_overhead_graphs_set_gathers_per_group_apart():
    # With one ratio of gathers to groups their overheads cannot be told apart (the fit trades
    # one for the other); the ladders of 0 and 2 copies add ratios below and above the others'.
    ratios = set()
    for graph in OVERHEAD_GRAPHS["levels"]:
        counts = [unit.counts for unit in levels_units(graph)]
        groups = sum(c.get("group", 0) for c in counts)
        if groups >= 4:
            ratios.add(round(sum(c.get("gather", 0) for c in counts) / groups, 1))
    assert min(ratios) == 0.0 and max(ratios) >= 1.2 and len(ratios) >= 3


def test_overhead_times_of_another_set_of_graphs_are_refused():

    p = calibrate("numpy", only=["add"], max_elements=1024, progress=False, trials=3, min_samples=2, seconds=0)
    older = {**p.overhead_timings, "levels": p.overhead_timings["levels"][:19]}  # before the eleventh session
    with pytest.raises(ParameterError, match="19 times of the 'levels' overhead graphs, but this version has 25"):
        fit_overheads(p, older)


def test_a_profile_at_another_host_speed_refits_to_overheads_at_that_speed():
    # On NumPy every cost is the host's: twice as slow, the call models and the timings double,
    # and so do the overheads fitted from them.
    p = calibrate("numpy", only=["add"], max_elements=1024, progress=False, trials=3, min_samples=2, seconds=0)
    slow = p.at_host_speed(2.0)
    assert slow.overhead_timings["levels"] == pytest.approx([2 * t for t in p.overhead_timings["levels"]])
    assert fit_overheads(slow, slow.overhead_timings) == pytest.approx({k: 2 * v for k, v in p.overheads.items()})


def test_fitting_overheads_without_the_graphs_times_is_a_clear_error():
    p = calibrate("numpy", only=["add"], max_elements=1024, progress=False, trials=3, min_samples=2, seconds=0)
    with pytest.raises(ParameterError, match="no times of the 'eager' and 'levels' overhead graphs: calibrate again"):
        fit_overheads(p, {})
    with pytest.raises(ParameterError, match="no times of the 'levels' overhead graphs"):
        fit_overheads(p, {"eager": p.overhead_timings["eager"]})
