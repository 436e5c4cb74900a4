"""Prediction: made-up profiles whose predictions are computed by hand, and the breakdown's sums."""

import dataclasses

import pytest

import algorithms
import depthgraph
from depthgraph import ops
from depthgraph.cost import CallModel, Linear, Profile
from depthgraph.errors import ParameterError, ProfileError
from depthgraph.prediction import Call, group_calls, group_counts, predict

US = 1e-6
OVERHEADS = {"eager:node": 1 * US, "eager:run": 5 * US, "levels:direct": 2 * US, "levels:group": 4 * US,
             "levels:segment": 0.5 * US, "levels:gather": 0.0, "levels:run": 3 * US, "dask-threads:task": 100 * US,
             "dask-threads:run": 50 * US, "dask-threads:byte": 0.0}


def made_up(synchronous=True, calls=None):
    calls = calls or {
        "exp:impl": CallModel(Linear(10 * US, 1e-9)),
        "mul:impl": CallModel(Linear(20 * US, 0.0, 1e-10)),
    }
    return Profile("numpy", "made up", {}, "", calls, dict(OVERHEADS), synchronous)


def exp_then_square():
    g = depthgraph.Graph()
    x = g.input("x", (1000,))
    y = ops.exp(x)
    g.output("z", y * y)
    return g


def test_eager_is_the_sum_of_node_costs_by_hand():
    # exp: 1 + 10 + 1000·0.001 µs; mul: 1 + 20 + 24000 bytes · 1e-4 µs; plus 5 µs for the run.
    p = predict(exp_then_square(), "eager", made_up())
    assert p.seconds == pytest.approx((5 + 12 + 23.4) * US)
    assert [part.label for part in p.parts] == ["exp_1", "mul_2"]
    assert p.launch == pytest.approx((5 + 11 + 21) * US)
    assert p.throughput == pytest.approx((1 + 2.4) * US)


def test_levels_is_the_sum_over_groups_by_hand():
    g = exp_then_square()
    plan = depthgraph.schedule(g)
    assert [group_counts(grp) for grp in plan.groups] == [{"direct": 1}, {"direct": 1}]
    p = predict(g, "levels", made_up())
    assert p.seconds == pytest.approx((3 + 2 + 11 + 2 + 22.4) * US)
    assert p.by_level() == {1: pytest.approx(13 * US), 2: pytest.approx(24.4 * US)}


def test_an_asynchronous_device_overlaps_the_host_by_hand():
    calls = {"exp:impl": CallModel(Linear(10 * US), Linear(0.0, 1e-7)),  # device: 100 µs of throughput
             "mul:impl": CallModel(Linear(20 * US), Linear(5 * US))}
    p = predict(exp_then_square(), "eager", made_up(synchronous=False, calls=calls))
    # host: 1 + 10 = 11 µs, exp runs 11 → 111; host: 12 + 20 = 32 µs, mul waits for exp: 111 → 116.
    assert [part.seconds for part in p.parts] == [pytest.approx(111 * US), pytest.approx(5 * US)]
    assert p.seconds == pytest.approx((116 + 5) * US)
    assert p.parts[0].throughput == pytest.approx(100 * US) and p.parts[1].throughput == 0


def rows_of(perm):
    g = depthgraph.Graph()
    x = g.input("x", (4, 8))
    g.output("y", ops.stack([ops.exp(x[i]) for i in perm]))
    return g


def test_group_calls_count_work_bytes_and_gathers_by_hand():
    exp_group, stack_group = depthgraph.schedule(rows_of([0, 1, 2, 3])).groups
    # 4 members of 8 float64: 32 work, 256 bytes in and 256 out (each member's footprint 128);
    # the rows are a free view of x. The stack is one member of 32 in and 32 out.
    assert group_calls(exp_group) == (Call("exp", "batched", 32, 512, 1, 128),)
    assert group_calls(stack_group) == (Call("stack", "packed", 32, 512, 1, 512),)
    assert group_counts(exp_group) == {"group": 1, "segment": 1, "gather": 0}
    shuffled, _ = depthgraph.schedule(rows_of([2, 0, 3, 1])).groups
    # Rows out of order are one copy from one slab: 32 elements read and written (512 bytes), and
    # one entry of 24 bytes per row (each row a run of 8).
    # A copy has no footprint: its model is one band (`depthgraph.cost.footprint_bands`).
    assert group_calls(shuffled) == (Call("gather", "copy", 0, 512 + 4 * 24, 1),
                                     Call("exp", "batched", 32, 512, 1, 128))
    assert group_counts(shuffled) == {"group": 1, "segment": 1, "gather": 1}


@pytest.mark.parametrize("rows, form", [(4, "impl"), (1, "dot")])
def test_a_product_with_one_element_out_is_its_own_kind_of_call(rows, form):
    # (rows, 4)·(4, 1): with one element out CuPy takes another path, costed as matmul:dot;
    # the eager executor's call and the levels executor's one-node group agree.
    g = depthgraph.Graph()
    product = g.input("a", (rows, 4)) @ g.input("x", (4, 1))
    g.output("y", product)
    (group,) = depthgraph.schedule(g).groups
    nbytes = 8 * (rows * 4 + 4 + rows)
    expected = Call("matmul", form, rows * 4, nbytes, 3, nbytes)
    assert group_calls(group) == (expected,)
    assert depthgraph.prediction.eager_units(g)[0].calls == (expected,)


@pytest.mark.parametrize("inputs, size", [(2, 8), (9, 8), (300, 2 ** 10)])
def test_a_gather_from_many_slabs_is_one_copy(inputs, size):
    # exp of each of n separate inputs: one group whose operand is n whole slabs, one copy reading
    # n slabs (its steps): n·size float64 read and written, one 24-byte entry per slab.
    g = depthgraph.Graph()
    g.output("y", ops.stack([ops.exp(g.input(f"x{i}", (size,))) for i in range(inputs)]))
    exp_group = depthgraph.schedule(g).groups[0]
    assert group_calls(exp_group)[0] == Call("gather", "copy", 0, 2 * inputs * size * 8 + 24 * inputs, inputs)
    assert exp_group.operands[0].launches == -(-inputs // 256)  # 256 slab addresses per kernel launch


def test_a_batched_solve_costs_the_device_its_steps_once_by_hand():
    # 4 independent 16×16 solves: one batched call; each member's span is 16·(4 + 1) = 80 steps,
    # and the members run side by side, so the call pays 80 steps, not 320.
    g = depthgraph.Graph()
    A, b = g.input("A", (4, 16, 16)), g.input("b", (4, 16))
    g.output("x", ops.stack([ops.solve(A[i], b[i]) for i in range(4)]))
    solve_group = depthgraph.schedule(g).groups[0]
    (call,) = [c for c in group_calls(solve_group) if c.op == "solve"]
    assert (call.form, call.work, call.steps) == ("batched", 4 * (16 ** 3 + 16 ** 2), 80)
    calls = {"solve:batched": CallModel(Linear(10 * US), Linear(2 * US, per_step=0.1 * US)),
             "stack:packed": CallModel(Linear(10 * US), Linear(1 * US))}
    p = predict(g, "levels", made_up(synchronous=False, calls=calls))
    # host: group 4 + 2 segments 1 + solve 10 = 15 µs, the device's solve 15 → 15 + 2 + 8 = 25;
    # host: 15 + group 4 + a segment 0.5 + stack 10 = 29.5, the stack 29.5 → 30.5; the run's 3 µs.
    assert p.seconds == pytest.approx(33.5 * US)
    assert p.parts[0].launch == pytest.approx(p.parts[0].seconds)  # the steps cost depth, not work


@pytest.mark.parametrize("executor", ["eager", "levels", "dask"])
def test_breakdown_sums_to_the_total(executor):
    g = algorithms.get("kernel-doubling").build(L=64, n=4)
    p = predict(g, executor, made_up_for(g))
    assert sum(part.seconds for part in p.parts) + p.run_overhead == pytest.approx(p.seconds)
    assert p.launch + p.throughput == pytest.approx(p.seconds)
    assert sum(p.by_level().values()) == pytest.approx(p.seconds - p.run_overhead)


def made_up_for(*graphs):
    """A synchronous profile with every kind of call any of ``graphs`` makes: 10 µs + 1 ns per unit of work."""
    kinds = {f"{op}:{form}" for op in ops.REGISTRY for form in ("impl", "dot", "batched", "shared", "packed")}
    kinds.add("gather:copy")
    return made_up(calls={k: CallModel(Linear(10 * US, 1e-9, 1e-11)) for k in kinds})


@pytest.mark.parametrize("executor", ["eager", "levels", "dask"])
@pytest.mark.parametrize("name, small, large", [
    ("kernel-doubling", {"L": 64, "n": 4}, {"L": 1024, "n": 4}),
    ("scan-blelloch", {"L": 16, "n": 4}, {"L": 256, "n": 4}),
    ("conv-fft", {"L": 64}, {"L": 4096}),
])
def test_prediction_grows_with_size(executor, name, small, large):
    spec = algorithms.get(name)
    g_small, g_large = spec.build(**small), spec.build(**large)
    profile = made_up_for(g_small, g_large)
    assert predict(g_large, executor, profile).seconds > predict(g_small, executor, profile).seconds


def two_chains():
    g = depthgraph.Graph()
    for c in range(2):  # two chains that never meet
        x = g.input(f"x{c}", (64,))
        for _ in range(20):
            x = ops.exp(x)
        g.output(f"y{c}", x)
    return g


def test_dask_spreads_independent_tasks_over_workers():
    g = two_chains()
    profile = made_up_for(g)
    one = predict(g, "dask", profile, workers=1, blocks=2, min_task_work=10**9)
    two = predict(g, "dask", profile, workers=2, blocks=2, min_task_work=10**9)
    # Two tasks of equal cost (each its chain) and two getters: on two workers the tasks overlap.
    task = one.parts[1].seconds  # parts[0]: the inputs and outputs sent, free on the threads scheduler
    assert one.parts[0].seconds == 0
    assert one.seconds == pytest.approx(2 * task + 2 * 100 * US + 50 * US)
    assert two.seconds == pytest.approx(task + 100 * US + 50 * US)


def test_a_cluster_is_sent_the_inputs_and_sends_the_outputs_back_by_hand():
    g = two_chains()
    threads = made_up_for(g)
    cluster = {**threads.overheads, "dask-distributed:task": 100 * US, "dask-distributed:run": 50 * US,
               "dask-distributed:byte": 1e-9}  # 1 ns a byte: 1 GB/s
    sent = predict(g, "dask", dataclasses.replace(threads, overheads=cluster), scheduler="distributed",
                   blocks=2, min_task_work=10**9)
    plain = predict(g, "dask", threads, blocks=2, min_task_work=10**9)
    # two inputs and two outputs of 64 float64: 2048 bytes, 2.048 µs before the tasks start
    assert sent.parts[0].seconds == sent.parts[0].throughput == pytest.approx(2.048 * US)
    assert sent.seconds == pytest.approx(plain.seconds + 2.048 * US)
    assert sum(p.seconds for p in sent.parts) + sent.run_overhead == pytest.approx(sent.seconds)


def test_errors_name_the_problem():
    g = exp_then_square()
    with pytest.raises(ParameterError, match="needs a profile"):
        predict(g, "levels")
    with pytest.raises(ParameterError, match="unknown executor 'gpu'"):
        predict(g, "gpu", made_up())
    with pytest.raises(ParameterError, match="workers must be an int >= 1"):
        predict(g, "dask", made_up(), workers=0)
    g.output("s", ops.sum(g.node("x")))
    with pytest.raises(ProfileError, match="no model for op 'sum'"):
        predict(g, "eager", made_up())


def replay_profile():
    """Latencies only, in µs: copies 10 host / 2 device; a solve 40 / 100 run eagerly; an add 3 on the device
    replayed from a graph; a graph launch 5 on the host; a replay's own cost 7."""
    calls = {"copyto:buffer": CallModel(Linear(10 * US), Linear(2 * US)),
             "solve:impl": CallModel(Linear(40 * US), Linear(100 * US)),
             "add:impl": CallModel(Linear(20 * US), Linear(20 * US), graph=Linear(3 * US))}
    overheads = {**OVERHEADS, "levels:direct": 6 * US, "graphs:launch": 5 * US, "graphs:run": 7 * US,
                 "graphs:kernel": 0.0}
    return Profile("cupy", "made up", {}, "", calls, overheads, synchronous=False)


def test_cuda_graph_replay_by_hand():
    g = depthgraph.Graph()
    x, y = g.input("x", (64,)), g.input("y", (64,))
    s = x + y
    g.output("z", (s + y) + y)  # three adds in a row: one graph
    p = predict(g, "levels", replay_profile(), cuda_graph=True)
    # Copies in: host 10, 20; device 0→12, 20→22. Launch: host 25; adds on the device 25→28→31→34.
    # The output's copy: host 35, device 35→37; then the replay's own 7 µs.
    assert p.seconds == pytest.approx(44 * US)
    assert sum(part.seconds for part in p.parts) + p.run_overhead == pytest.approx(p.seconds)


def test_cuda_graph_replay_runs_large_solves_between_graphs_by_hand():
    g = depthgraph.Graph()
    a, b = g.input("A", (128, 128)), g.input("b", (128,))
    w = ops.solve(a, b)  # 128×128 does not fit the capturable solve: cuSOLVER, between graphs
    g.output("w2", w + w)
    p = predict(g, "levels", replay_profile(), cuda_graph=True)
    # Copies in: host 10, 20; device 12, 22. The solve, run as the levels executor runs it: host
    # 20 + 6 (direct) + 40 = 66, device 66→166; its result copied into the recording: host 76,
    # device 166→168. The add's graph: launch, host 81; device 168→171. Copy out: host 91,
    # device 171→173. Plus 7.
    assert p.seconds == pytest.approx(180 * US)
    assert [part.label for part in p.parts][1:3] == ["solve×1", "add×1"]


def test_cuda_graph_prediction_errors_name_the_problem():
    g = exp_then_square()
    with pytest.raises(ProfileError, match="no CUDA-graph models"):
        predict(g, "levels", made_up(), cuda_graph=True)
    with pytest.raises(ParameterError, match="option of the levels executor, not of 'eager'"):
        predict(g, "eager", replay_profile(), cuda_graph=True)


def test_each_replayed_call_pays_the_kernel_gap_on_the_device_by_hand():
    g = depthgraph.Graph()
    x, y = g.input("x", (64,)), g.input("y", (64,))
    g.output("z", ((x + y) + y) + y)
    profile = replay_profile()
    gapped = Profile(profile.backend, profile.device, {}, "", profile.calls,
                     {**profile.overheads, "graphs:kernel": 0.5 * US}, synchronous=False)
    # As in test_cuda_graph_replay_by_hand, but each add takes 3.5 µs: the adds run 25 → 35.5, so the
    # output's copy (queued by the host at 35) runs 35.5 → 37.5; plus 7.
    assert predict(g, "levels", gapped, cuda_graph=True).seconds == pytest.approx(44.5 * US)
