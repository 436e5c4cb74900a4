"""The validation job: results, CSV, summary figures by hand, and the files a run leaves."""

import csv
import dataclasses
import statistics

import pytest

from algorithms.validate import COLUMNS, Result, job, summary, write_csv
from depthgraph.cli import main
from depthgraph.cost import Profile
from depthgraph.overheads import host_speed


def result(algorithm, executor, predicted, measured, launch=None, family="ssm", as_calibrated=None):
    launch = predicted if launch is None else launch
    as_calibrated = predicted if as_calibrated is None else as_calibrated
    return Result(family, algorithm, "L=8", executor, 10, 4, predicted, measured, launch, predicted - launch, 1.0,
                  as_calibrated)


def test_relative_error_and_summary_by_hand():
    rows = [result("a", "levels", 1.1, 1.0, as_calibrated=0.7), result("b", "levels", 0.5, 1.0),
            result("c", "levels", 2.0, 2.0), result("a", "eager", 3.0, 2.0, launch=1.5, family="conv")]
    assert [r.rel_error for r in rows] == [pytest.approx(0.1), -0.5, 0.0, 0.5]
    text = summary(rows)
    assert (f"levels: 3 points, median |error| {statistics.median([0.1, 0.5, 0.0]):.1%}, max 50.0% "
            f"(as calibrated, not at the host's speed: median 30.0%, max 50.0%)") in text
    assert ("conv: the model attributes 50% of predicted time to launches, 50% to throughput; "
            "errors eager +50% … +50%") in text
    assert ("ssm: the model attributes 100% of predicted time to launches, 0% to throughput; "
            "errors levels -50% … +10%") in text


def test_csv_has_every_column_and_the_relative_error(tmp_path):
    timed = dataclasses.replace(result("b", "levels", 0.5, 1.0), speed_graphs_s=(1e-3, 2.5e-05))
    write_csv([result("a", "levels", 1.1, 1.0), timed], tmp_path / "v.csv")
    rows = list(csv.DictReader(open(tmp_path / "v.csv")))
    assert tuple(rows[0]) == COLUMNS
    assert [float(r["rel_error"]) for r in rows] == [pytest.approx(0.1), -0.5]
    assert [r["speed_graphs_s"] for r in rows] == ["", "0.001 2.5e-05"]  # exact, space-separated


def test_quick_job_writes_profile_csv_plot_and_summary(tmp_path):
    results = job(tmp_path, executors=("levels", "dask"), quick=True, progress=False)
    assert {r.executor for r in results} == {"levels", "dask"}
    assert {r.family for r in results} == {"ssm", "conv", "kernel", "scan", "ridge"}
    for name in ("profile.json", "validation.csv", "validation.png", "validation.txt"):
        assert (tmp_path / name).stat().st_size > 0
    assert len(list(csv.DictReader(open(tmp_path / "validation.csv")))) == len(results)
    profile = Profile.load(tmp_path / "profile.json")
    for r in results:  # also predicted as calibrated, from the saved profile's models
        assert r.host_speed > 0 and r.predicted_as_calibrated_s > 0
        # the speed graphs' times it kept give its host speed again
        assert host_speed(profile, r.speed_graphs_s) == pytest.approx(r.host_speed)


def test_a_job_stopped_in_its_cluster_pass_keeps_the_first_passes_results(tmp_path, monkeypatch):
    # A device call can hit its time limit in the dask-cuda pass: the executors' results are on disk.
    import types

    import algorithms.validate as validation

    passes = []

    def validate(profile, executors, points, scheduler="threads", label=None, **options):
        passes.append(label)
        if label:
            raise KeyboardInterrupt  # the cluster pass is stopped
        return [result("recurrence", "levels", 1.1, 1.0), result("recurrence", "dask", 0.9, 1.0)]

    closed = []
    stub = types.SimpleNamespace(close=lambda: closed.append("client"),
                                 cluster=types.SimpleNamespace(close=lambda: closed.append("cluster")))
    monkeypatch.setattr(validation, "validate", validate)
    monkeypatch.setattr(validation, "cluster", lambda kind: stub)
    job(tmp_path, executors=("levels",), quick=True, progress=False, only=["recurrence"])  # a profile
    from depthgraph.cost import Profile

    profile = Profile.load(tmp_path / "profile.json")
    with pytest.raises(KeyboardInterrupt):
        job(tmp_path / "stopped", profile, executors=("levels", "dask"), cluster_kind="cuda", quick=True,
            progress=False)
    assert passes[-2:] == [None, "dask-cuda"] and closed == ["cluster", "client"]
    rows = list(csv.DictReader(open(tmp_path / "stopped" / "validation.csv")))
    assert [(r["executor"], float(r["rel_error"])) for r in rows] == [("levels", pytest.approx(0.1)),
                                                                      ("dask", pytest.approx(-0.1))]
    assert "levels: 1 points" in (tmp_path / "stopped" / "validation.txt").read_text()
    assert (tmp_path / "stopped" / "validation.png").stat().st_size > 0


def test_prediction_at_the_hosts_speed_follows_the_speed_graphs(tmp_path, monkeypatch):
    # The speed graphs timed at twice their predictions: the host runs twice as slow as at
    # calibration, and on NumPy every cost is the host's, so the judged prediction is twice the profile's.
    from depthgraph.overheads import SPEED_GRAPHS
    from depthgraph.cost import Profile
    from depthgraph.prediction import predict
    from depthgraph.timing import Clock

    job(tmp_path, executors=("levels",), quick=True, progress=False, only=["recurrence"])
    profile = Profile.load(tmp_path / "profile.json")
    slow = [(2 * predict(g, "levels", profile).seconds, 1.0) for g in SPEED_GRAPHS]
    monkeypatch.setattr(Clock, "walls", lambda self, runs, *a, **k: [(0.5, 1.0)] * (len(runs) - len(slow)) + slow)
    (r,) = job(tmp_path / "again", profile, executors=("levels",), quick=True, progress=False, only=["recurrence"])
    assert r.host_speed == pytest.approx(2.0) and r.measured_s == 0.5
    assert r.predicted_s == pytest.approx(2 * r.predicted_as_calibrated_s)


def test_a_profile_lacking_an_executors_overheads_fails_before_anything_is_timed(tmp_path, monkeypatch):
    # Validating dask with a profile calibrated without it: the missing overhead is named at once,
    # not after minutes of timing (the walls are never called).
    import dataclasses

    from algorithms.validate import QUICK, validate
    from depthgraph.cost import Profile
    from depthgraph.errors import ProfileError
    from depthgraph.timing import Clock

    job(tmp_path, executors=("levels",), quick=True, progress=False, only=["recurrence"])
    profile = Profile.load(tmp_path / "profile.json")
    levels_only = dataclasses.replace(profile, overheads={k: v for k, v in profile.overheads.items()
                                                          if not k.startswith("dask")})
    monkeypatch.setattr(Clock, "walls", lambda *a, **k: pytest.fail("timed before predicting"))
    with pytest.raises(ProfileError, match="no overhead 'dask-threads:task'"):
        validate(levels_only, executors=("dask",), points={"ssm": QUICK["ssm"]})


@pytest.mark.parametrize("argv, message", [
    (["validate", "--executors", "gpu"], "unknown executor(s) gpu"),
    (["validate", "--only", "nope"], "unknown algorithm 'nope'"),
    (["validate", "--profile", "missing.json"], "cannot read profile 'missing.json'"),
    (["validate", "--profile", "p.json", "--calls", "alone"], "--calls chooses how to calibrate"),
])
def test_cli_errors_are_one_line_exit_2(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
