"""Calibration mechanics on NumPy: what is sampled, the timing's robustness, the profile it writes."""

import dataclasses
import itertools

import numpy as np
import pytest

from depthgraph.calibrate import MAX_COPIES, ROTATE_BYTES, calibrate, samples
from depthgraph.errors import ParameterError
from depthgraph.overheads import OVERHEAD_OPS
from depthgraph.timing import Clock


def test_samples_cover_every_form_of_the_chosen_ops_with_their_registry_costs():
    chosen = samples("numpy", only=["matmul", "concat"], max_elements=4096)
    kinds = {s.kind for s in chosen}
    assert {"matmul:impl", "matmul:dot", "matmul:batched", "matmul:shared", "concat:impl", "concat:packed"} <= kinds
    assert {f"{op}:impl" for op in OVERHEAD_OPS} <= kinds  # the overhead graphs' ops, always
    assert "gather:copy" in kinds
    for s in chosen:
        if s.kind == "matmul:impl":
            a, b = s.make()
            # matvec or matmul of an s×s matrix: work = s·s per column, as the registry counts it
            columns = 1 if b.ndim == 1 else b.shape[1]
            assert s.work == a.shape[0] * a.shape[1] * columns
            assert np.allclose(s.call(np, [a, b]), a @ b)
        if s.kind == "matmul:dot":  # a row times a column (or a 1×1 matrix times a vector): one element out
            a, b = s.make()
            assert (a @ b).size == 1 and s.work == a.size
            assert np.allclose(s.call(np, [a, b]), a @ b)


def test_shared_samples_share_the_larger_operand_and_compute_each_members_product():
    chosen = [s for s in samples("numpy", only=["matmul"], max_elements=4096) if s.kind == "matmul:shared"]
    row_times_matrix = 0
    for s in chosen:
        a, b = s.make()
        shared, stacked = (a, b) if len(a) == 1 else (b, a)
        assert len(shared) == 1 and shared[0].size >= stacked[0].size  # the matrix, not the vectors
        row_times_matrix += len(b) == 1
        k = len(stacked)
        expected = np.stack([np.matmul(a[min(i, len(a) - 1)], b[min(i, len(b) - 1)]) for i in range(k)])
        np.testing.assert_allclose(s.call(np, [a, b]), expected, rtol=1e-12)
    assert row_times_matrix  # rows times a shared matrix (kernel-doubling's C·A^m) are sampled too


def test_samples_carry_the_ops_span_as_steps():
    chosen = samples("numpy", only=["solve"], max_elements=4096)
    for s in chosen:
        if s.kind.startswith("solve"):
            d = s.make()[0].shape[-1]
            assert s.steps == d * (int(np.ceil(np.log2(d))) + 1), s.label  # d pivot steps of ⌈log2 d⌉ + 1
        elif s.kind == "gather:copy":
            assert s.steps == len(s.make())  # the slabs it reads


def test_no_sample_exceeds_the_element_limit():
    for s in samples("numpy", max_elements=1024):
        assert all(a.size <= 1024 for a in s.make()), s.label


def test_unknown_ops_are_named():
    with pytest.raises(ParameterError, match="no calibration specimen for op.*nope"):
        samples("numpy", only=["nope"])


def test_operands_rotate_over_copies_bigger_than_the_caches():
    (small,) = [s for s in samples("numpy", only=["add"], max_elements=16) if s.kind == "add:impl" and s.work == 16]
    made = []

    def counting_make():
        made.append(small.make())
        return made[-1]

    call = dataclasses.replace(small, make=counting_make).setup(np)
    assert len(made) == MAX_COPIES  # 384 bytes: far under ROTATE_BYTES, so the most copies
    results = [call() for _ in range(MAX_COPIES)]
    assert all(np.array_equal(r, m[0] + m[1]) for r, m in zip(results, made))  # each copy in turn
    big = dataclasses.replace(small, nbytes=ROTATE_BYTES, make=counting_make)
    made.clear()
    big.setup(np)
    assert len(made) == 1


def test_calibrate_fits_every_sampled_kind_and_every_overhead():
    p = calibrate("numpy", only=["add"], max_elements=1024, progress=False, trials=3, min_samples=2, seconds=0)
    assert p.backend == "numpy" and p.synchronous and p.versions["numpy"] == np.__version__
    assert {"add:impl", "add:batched", "add:shared", "gather:copy"} <= set(p.calls)
    for name in ("eager:node", "eager:run", "levels:direct", "levels:group", "levels:segment", "levels:gather", "levels:run",
                 "dask-sync:task", "dask-threads:task", "dask-sync:byte", "dask-threads:byte"):
        assert p.overheads[name] >= 0
    # a bigger add costs at least as much: the fitted coefficients are non-negative
    model = p.call("add", "impl").host
    assert model.seconds(10**6, 24 * 10**6) >= model.seconds(10, 240) > 0
    assert p.host_reference > 0


@pytest.mark.parametrize("in_situ", [False, True])
def test_host_times_are_fitted_at_one_host_speed(monkeypatch, in_situ):
    # A host that runs 4× slower for every third footprint: each call costs 10 µs of host at the
    # reference speed (1 ms), so 40 µs while the reference takes 4 ms. Kept relative to the
    # reference, every footprint gives 10 µs; taken as measured, the fit would land between.
    # In situ each call is timed beside the neighbour (2 µs at the reference speed), subtracted.
    import depthgraph.calibrate as calibration

    slowdown = itertools.cycle([1.0, 1.0, 4.0])
    now = {}

    def reference(self):
        now["slowdown"] = next(slowdown)
        return 1e-3 * now["slowdown"]

    def neighbour():
        pass

    def measure(self, call, *args, **kwargs):
        return (2e-6 if call is neighbour else 1e-5 + 2e-6 * in_situ) * now["slowdown"], 0.0

    monkeypatch.setattr(Clock, "reference", reference)
    monkeypatch.setattr(Clock, "measure", measure)
    monkeypatch.setattr(calibration, "_neighbour", lambda: neighbour)
    p = calibrate("numpy", only=["add"], max_elements=64, progress=False, trials=3, min_samples=2, seconds=0,
                  in_situ=in_situ)
    assert p.host_reference == pytest.approx(1e-3)  # the median reference
    assert p.in_situ == in_situ
    for model in p.calls.values():
        assert model.host.seconds(0, 0) == pytest.approx(1e-5)
        assert model.host.per_work == model.host.per_byte == 0


@pytest.mark.parametrize("in_situ", [False, True])
def test_each_sample_is_timed_alone_or_as_its_call_then_the_neighbour(monkeypatch, in_situ):
    import depthgraph.calibrate as calibration

    order, runs = [], []

    def measure(self, call, *args, **kwargs):
        order.clear()
        call()
        runs.append(tuple(order))
        return 1e-6, 0.0

    def logged(sample):
        return dataclasses.replace(sample, call=lambda xp, ops: order.append("call") or sample.call(xp, ops))

    real = calibration.samples(backend="numpy", only=["add"], max_elements=64)
    monkeypatch.setattr(calibration, "_neighbour", lambda: lambda: order.append("neighbour"))
    monkeypatch.setattr(calibration, "samples", lambda *a, **k: [logged(s) for s in real])
    monkeypatch.setattr(Clock, "measure", measure)
    calibrate("numpy", only=["add"], max_elements=64, progress=False, trials=3, min_samples=2, seconds=0,
              in_situ=in_situ)
    if in_situ:  # the neighbour alone first, then each call beside it
        assert runs == [("neighbour",)] + [("call", "neighbour")] * len(real)
    else:
        assert runs == [("call",)] * len(real)


def test_the_in_situ_neighbour_is_the_levels_executor_on_numpy_host_work_only(monkeypatch):
    import depthgraph.calibrate as calibration

    seen = []
    real = calibration.execute
    monkeypatch.setattr(calibration, "execute",
                        lambda graph, inputs, **options: seen.append(options) or real(graph, inputs, **options))
    result = calibration._neighbour()()
    assert seen == [{"executor": "levels"}]  # the default backend: NumPy, whatever is calibrated
    assert isinstance(result["z"], np.ndarray) and (result["z"] == 2.0).all()  # 1 + 1 on 64 elements
    assert result["z"].shape == (64,)


def test_gather_samples_copy_half_of_each_slabs_rows_as_rows_or_scattered_elements():
    chosen = [s for s in samples("numpy", only=["add"], max_elements=4096) if s.kind == "gather:copy"]
    assert {s.steps for s in chosen} == {1, 2, 8, 32, 256}  # slabs read: up to one full kernel launch
    assert {s.label.split()[-1] for s in chosen} == {"rows", "scattered"}
    for s in chosen:
        slabs = s.make()
        rows, width = slabs[0].shape
        out = s.call(np, slabs)
        picked = max(rows // 2, 1)
        assert out.size == len(slabs) * picked * width
        if s.label.endswith("rows"):  # whole rows, each a run: one 24-byte entry per row
            assert s.nbytes == 2 * out.nbytes + 24 * len(slabs) * picked
            gathered = {tuple(row) for row in out.reshape(-1, width)}
            assert gathered <= {tuple(row) for slab in slabs for row in slab}
        else:  # scattered elements, each a run of one
            assert s.nbytes == 2 * out.nbytes + 24 * out.size
            assert set(out.tolist()) <= set(np.concatenate([slab.ravel() for slab in slabs]).tolist())
    assert not [s for s in samples("numpy", only=["add"], max_elements=4096) if s.kind == "copyto:buffer"]  # CuPy only


def test_a_profile_keeps_the_overhead_timings_it_was_fitted_to(tmp_path):
    from depthgraph.overheads import OVERHEAD_GRAPHS, fit_overheads
    from depthgraph.cost import Profile

    p = calibrate("numpy", only=["add"], max_elements=1024, progress=False, trials=3, min_samples=2, seconds=0)
    assert {kind: len(times) for kind, times in p.overhead_timings.items()} == {
        "eager": len(OVERHEAD_GRAPHS["eager"]), "levels": len(OVERHEAD_GRAPHS["levels"]),
        "dask-sync": len(OVERHEAD_GRAPHS["dask"]), "dask-threads": len(OVERHEAD_GRAPHS["dask"])}
    p.save(tmp_path / "p.json")
    again = Profile.load(tmp_path / "p.json")
    assert again == p and fit_overheads(again, again.overhead_timings) == p.overheads
