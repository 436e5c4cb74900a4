"""Cost models and profiles: fitting against closed forms, JSON round trips, clear errors."""

import dataclasses

import numpy as np
import pytest

from depthgraph.cost import CallModel, Linear, Measurement, Profile, fit_calls, fit_linear, footprint_bands, nnls
from depthgraph.errors import OutputError, ProfileError


def profile(**overrides):
    fields = {"backend": "numpy", "device": "made up", "versions": {"numpy": "2"}, "date": "2026-11-22",
              "calls": {"add:impl": CallModel(Linear(1e-6, 2e-9, 3e-10), Linear(4e-6), 5),
                        "matmul:shared": CallModel(Linear(2e-5))},
              "overheads": {"eager:node": 1e-6, "eager:run": 5e-6}}
    return Profile(**{**fields, **overrides})


def test_fit_linear_recovers_coefficients_of_exact_data():
    rng = np.random.default_rng(0)
    work = rng.integers(1, 10**8, 40).astype(float)
    nbytes = rng.integers(1, 10**9, 40).astype(float)
    seconds = 3e-6 + 2e-11 * work + 5e-13 * nbytes
    m = fit_linear(work, nbytes, seconds)
    assert m.latency == pytest.approx(3e-6, rel=1e-6)
    assert m.per_work == pytest.approx(2e-11, rel=1e-6)
    assert m.per_byte == pytest.approx(5e-13, rel=1e-6)


def test_fit_linear_recovers_a_cost_per_step_of_exact_data():
    # a small solve: d·(log2 d + 1) steps, d³ + d² work, 8(d² + 2d) bytes, at d = 1 … 64
    d = np.array([1, 2, 4, 8, 16, 32, 64], dtype=float)
    steps, work, nbytes = d * (np.log2(d) + 1), d ** 3 + d ** 2, 8 * (d ** 2 + 2 * d)
    m = fit_linear(work, nbytes, 3e-6 + 1e-7 * steps + 2e-12 * work, steps)
    assert (m.latency, m.per_step, m.per_work) == pytest.approx((3e-6, 1e-7, 2e-12), rel=1e-6)
    assert m.per_byte == pytest.approx(0, abs=1e-20)
    assert fit_linear(work, nbytes, 3e-6 + 2e-12 * work).per_step == 0  # no steps given: none fitted
    latency, throughput = m.split(work[3], nbytes[3], steps[3])
    assert (latency, throughput) == pytest.approx((3e-6 + 1e-7 * 32, 2e-12 * 576), rel=1e-6)


def test_fit_linear_leaves_out_samples_of_zero_seconds():
    # Calibration subtracts the neighbour's cost, so a tiny call can come out at 0 s: it has no
    # relative error to weigh, and the others still give the exact line.
    work = np.array([0.0, 1e3, 1e5, 1e7])
    seconds = 2e-6 + 1e-12 * work
    seconds[0] = 0.0
    m = fit_linear(work, 8 * work, seconds)
    assert m.seconds(1e6, 8e6) == pytest.approx(2e-6 + 1e-6)
    assert fit_linear([1, 2], [8, 16], [0.0, 0.0]) == Linear()


def test_fit_linear_never_returns_a_negative_coefficient():
    # Time falling with size: the unconstrained fit's slope is negative; NNLS keeps it at 0 and the
    # best constant in relative error lies between the samples.
    m = fit_linear([1, 10, 100], [8, 80, 800], [3e-6, 2e-6, 1e-6])
    assert m.per_work == 0 and m.per_byte == 0
    assert 1e-6 < m.latency < 3e-6


def test_nnls_matches_an_exhaustive_check():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((12, 3)), rng.standard_normal(12)
    x = nnls(a, b)
    assert (x >= 0).all()
    best = np.sum((a @ x - b) ** 2)
    for _ in range(2000):  # no random non-negative point does better
        y = np.abs(rng.standard_normal(3)) * rng.uniform(0, 3)
        assert np.sum((a @ y - b) ** 2) >= best - 1e-9


def test_linear_split_sums_to_seconds():
    m = Linear(1e-5, 1e-9, 1e-10)
    latency, throughput = m.split(1000, 8000)
    assert latency == 1e-5
    assert latency + throughput == pytest.approx(m.seconds(1000, 8000))
    assert throughput == pytest.approx(1000 * 1e-9 + 8000 * 1e-10)


def test_profile_json_round_trip(tmp_path):
    p = profile(synchronous=False)
    path = tmp_path / "profile.json"
    p.save(path)
    assert Profile.load(path) == p


@pytest.mark.parametrize("text, message", [
    ("not json", "not a depthgraph profile"),
    ('{"format": 99}', "profile format is not 1"),
    ('{"format": 1, "backend": "numpy"}', "not a depthgraph profile"),
])
def test_bad_profile_files_raise_profile_error(text, message):
    with pytest.raises(ProfileError, match=message):
        Profile.from_json(text)


def test_save_makes_the_folder_and_names_a_path_it_cannot_write(tmp_path):
    p = profile(synchronous=False)
    p.save(tmp_path / "a" / "b" / "profile.json")
    assert Profile.load(tmp_path / "a" / "b" / "profile.json") == p
    with pytest.raises(OutputError, match="cannot write profile .*: it is a folder"):
        p.save(tmp_path / "a")
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError, match="cannot write profile .*file/profile.json"):
        p.save(tmp_path / "file" / "profile.json")


def test_missing_profile_file_is_named(tmp_path):
    with pytest.raises(ProfileError, match="cannot read profile .*nope.json"):
        Profile.load(tmp_path / "nope.json")


def test_a_missing_op_is_named_and_another_form_of_a_known_op_is_used():
    p = profile()
    with pytest.raises(ProfileError, match="no model for op 'exp'.*covers add, matmul"):
        p.call("exp", "impl")
    assert p.call("matmul", "impl") is p.calls["matmul:shared"]
    with pytest.raises(ProfileError, match="no overhead 'levels:group'"):
        p.overhead("levels:group")


def test_replayed_calls_cost_the_device_their_graph_time_only():
    graph = CallModel(Linear(1e-5), Linear(4e-6), 3, graph=Linear(2e-6, 1e-12))
    p = profile(calls={"add:impl": graph, "solve:impl": CallModel(Linear(4e-5), Linear(1e-4))})
    assert Profile.from_json(p.to_json()) == p  # the graph model survives the round trip
    assert p.call("add", "batched", replayed=True) == CallModel(Linear(), Linear(2e-6, 1e-12))
    assert p.replays("add") and not p.replays("solve")
    with pytest.raises(ProfileError, match="no CUDA-graph models: calibrate with --backend cupy"):
        profile().call("add", "impl", replayed=True)


def test_at_host_speed_scales_host_costs_only():
    p = profile(synchronous=False, host_reference=2e-3, overheads={"levels:group": 4e-6, "graphs:kernel": 3e-7},
                calls={"add:impl": CallModel(Linear(1e-6, 2e-9, 3e-10), Linear(4e-6, 1e-9), 5, Linear(1e-6))})
    q = p.at_host_speed(1.5)  # the host 1.5× slower than at calibration
    m, base = q.call("add", "impl"), p.call("add", "impl")
    assert (m.host.latency, m.host.per_work, m.host.per_byte) == pytest.approx((1.5e-6, 3e-9, 4.5e-10))
    assert (m.device, m.graph, m.samples) == (base.device, base.graph, base.samples)
    assert q.overheads == pytest.approx({"levels:group": 6e-6, "graphs:kernel": 3e-7})  # a device overhead: kept
    assert q.host_reference == pytest.approx(3e-3)  # its reference would take 1.5× as long
    assert Profile.from_json(q.to_json()) == q


@pytest.mark.parametrize("factor", [0.0, -1.0, float("nan"), float("inf")])
def test_at_host_speed_needs_a_positive_factor(factor):
    with pytest.raises(ProfileError, match="a host speed is a positive factor"):
        profile(host_reference=1e-3).at_host_speed(factor)


def two_regimes(footprints, slow_from, footprint=lambda f: f):
    """Measurements of a call whose device time per byte is 10× higher from footprint ``slow_from``
    (as CuPy's batched LU gives way to one solve per matrix): 2 µs + 1 or 10 ps per byte."""
    return [Measurement(f"f={f} k={k}", footprint(f), k * f, k * f, 1, 1e-5,
                        2e-6 + (1e-12 if f < slow_from else 1e-11) * k * f)
            for f in footprints for k in (1, 8)]


def test_fit_calls_cuts_a_kind_where_its_cost_changes_and_calls_pick_the_band_of_their_footprint():
    footprints = [2 ** i for i in range(10, 24, 2)]  # 1 KiB … 4 MiB
    calls = fit_calls({"solve:batched": two_regimes(footprints, 2 ** 20)}, gpu=True)
    edge = round((2 ** 18 * 2 ** 20) ** 0.5)  # between the footprints either side of the change
    assert sorted(calls) == ["solve:batched", f"solve:batched@{edge}"]
    assert [m.samples for m in calls.values()] == [10, 4]  # 5 footprints below, 2 above, 2 batches each
    p = profile(calls=calls, synchronous=False)
    for f in (2 ** 12, 2 ** 22):  # each band fits its own regime exactly
        per_byte = 1e-12 if f < 2 ** 20 else 1e-11
        assert p.call("solve", "batched", f).device.seconds(8 * f, 8 * f) == pytest.approx(2e-6 + per_byte * 8 * f)
    assert p.call("solve", "batched", None) is calls["solve:batched"]  # no footprint: the first band
    assert p.call("solve", "impl", 2 ** 22) is calls[f"solve:batched@{edge}"]  # another form, by footprint too
    assert Profile.from_json(p.to_json()) == p


def test_a_kind_one_line_fits_is_one_band_and_copies_are_never_cut():
    footprints = [2 ** i for i in range(10, 24, 2)]
    one_line = fit_calls({"add:batched": two_regimes(footprints, 2 ** 30)}, gpu=True)
    assert list(one_line) == ["add:batched"]
    copies = two_regimes(footprints, 2 ** 20, footprint=lambda f: None)
    assert [edge for edge, _ in footprint_bands(copies, lambda m: m.device, steps=True)] == [0]
    assert list(fit_calls({"gather:copy": copies}, gpu=True)) == ["gather:copy"]


@pytest.mark.parametrize("gpu", [False, True])
def test_a_copys_host_cost_is_fitted_on_the_slabs_it_reads_and_an_ops_is_not(gpu):
    # Host seconds 20 µs + 0.2 µs per slab read, whatever the bytes (rows of 1 or 64 KiB from
    # each slab, as calibration's gathers vary them): a copy's fit recovers both terms and puts
    # nothing on bytes; an op's host fit has no per-step term, so it must use latency and bytes.
    def rows(footprint):
        return [Measurement(f"sources={s}", footprint(s), 0, 1024 * kib * s, s, 2e-5 + 2e-7 * s, 1e-6 * s)
                for s in (1, 2, 8, 32, 256) for kib in (1, 64)]

    copy = fit_calls({"gather:copy": rows(lambda s: None)}, gpu)["gather:copy"].host
    assert copy.latency == pytest.approx(2e-5) and copy.per_step == pytest.approx(2e-7)
    assert copy.per_byte == pytest.approx(0.0, abs=1e-18)
    op = fit_calls({"add:impl": rows(lambda s: 4096)}, gpu)["add:impl"].host
    assert op.per_step == 0.0 and op.per_byte > 0


def test_measurements_survive_the_json_round_trip_and_follow_the_host_speed():
    rows = tuple(two_regimes([2 ** 10, 2 ** 12], 2 ** 20))
    p = profile(measurements={"add:batched": rows}, host_reference=1e-3)
    assert Profile.from_json(p.to_json()) == p
    slower = p.at_host_speed(2.0).measurements["add:batched"]
    assert [m.host for m in slower] == [2e-5] * 4 and [m.device for m in slower] == [m.device for m in rows]


def test_a_profile_from_before_in_situ_timing_loads_as_timed_alone():
    from pathlib import Path

    path = Path(__file__).parents[1] / "docs" / "benchmarks" / "h200-profile-session9.json"
    assert "in_situ" not in path.read_text()
    profile = Profile.load(path)
    assert profile.in_situ is False and profile.calls
    assert Profile.from_json(dataclasses.replace(profile, in_situ=True).to_json()).in_situ is True
