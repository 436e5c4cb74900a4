"""The Dask executor's task graphs: one task per op, the coarse partition, options, results."""

from __future__ import annotations

import pickle
import subprocess
import sys

import dask
import networkx as nx
import numpy as np
import pytest

import algorithms
import depthgraph
from depthgraph import ops
from depthgraph.executors import dask as dask_executor
from depthgraph import execute


def _chains(width=8, length=6, n=3):
    """``width`` independent chains of ``length`` elementwise steps, one output each."""
    g = depthgraph.Graph()
    x = g.input("x", (width, n))
    for c in range(width):
        y = x[c]
        for _ in range(length):
            y = ops.exp(-y * y) + 0.25
        g.output(f"c{c}", y)
    return g, {"x": np.random.default_rng(0).standard_normal((width, n))}


def _channels(count, n=2000, length=10):
    """``count`` independent chains, each reading its own input ``x{c}`` and writing output ``c{c}``."""
    g = depthgraph.Graph()
    inputs = {}
    for c in range(count):
        y = g.input(f"x{c}", (n,))
        inputs[f"x{c}"] = np.random.default_rng(c).standard_normal(n)
        for _ in range(length):
            y = ops.exp(-y * y) + 0.25
        g.output(f"c{c}", y)
    return g, inputs


def _tree(leaves=16, n=4):
    """A tree reduction of ``leaves`` matrices by matmul: wide at the bottom, one root."""
    g = depthgraph.Graph()
    X = g.input("X", (leaves, n, n))
    level = [X[i] for i in range(leaves)]
    while len(level) > 1:
        level = [level[i] @ level[i + 1] for i in range(0, len(level), 2)]
    g.output("root", level[0])
    return g, {"X": np.random.default_rng(1).standard_normal((leaves, n, n)) / 2}


def _deps(dsk, key):
    task = dsk[key]
    return {a for a in task[1:] if isinstance(a, tuple) and a in dsk} if isinstance(task, tuple) else set()


def _tasks(dsk, kind="task"):
    return [k for k in dsk if k[1] == kind]


def _dag(dsk):
    d = nx.DiGraph()
    d.add_nodes_from(dsk)
    d.add_edges_from((u, k) for k in dsk for u in _deps(dsk, k))
    return d


def test_op_partition_has_one_task_per_live_node():
    spec = algorithms.get("scan-blelloch")
    g, inputs = spec.build(L=8, n=2), spec.inputs(L=8, n=2)
    dsk, keys = depthgraph.to_dask(g, inputs, partition="op")
    live = [n for n in g.nodes if n.op != "input"]
    assert len(dsk) == len(live) + len(g.inputs)
    assert len(_tasks(dsk, "node")) == len(live) and len(_tasks(dsk, "input")) == len(g.inputs)
    assert all(k in dsk for k in keys.values())
    # Each node task depends on exactly its operands' keys.
    key = {k[2]: k for k in dsk}  # node name -> key
    for node in live:
        assert _deps(dsk, key[node.name]) == {key[x.name] for x in node.inputs}


@pytest.mark.parametrize("name", algorithms.names())
def test_coarse_partition_has_far_fewer_tasks(name):
    spec = algorithms.get(name)
    params = {k: v for k, v in {"L": 32, "n": 3, "T": 32, "d": 3}.items() if k in spec.defaults}
    g, inputs = spec.build(**params), spec.inputs(**params)
    fine, _ = depthgraph.to_dask(g, inputs, partition="op")
    coarse, keys = depthgraph.to_dask(g, inputs, blocks=4)
    n_fine = len(fine) - len(g.inputs)
    n_coarse = len(coarse) - len(g.inputs) - len(_tasks(coarse, "output"))
    assert n_coarse <= max(4, n_fine // 4)
    assert nx.is_directed_acyclic_graph(_dag(coarse))
    out = dask.get(coarse, list(keys.values()))
    ref = execute(g, inputs)
    for (name_, _), value in zip(keys.items(), out):
        np.testing.assert_allclose(value, ref[name_], rtol=1e-12, atol=1e-14)


def test_small_graph_is_one_task():
    g, inputs = _chains(width=1)
    dsk, _ = depthgraph.to_dask(g, inputs)
    assert len(_tasks(dsk)) == 1 and len(_tasks(dsk, "output")) == 1


def test_wide_graph_splits_into_blocks_and_ranges_are_independent():
    g, inputs = _chains(width=8, length=12)
    for min_task_work in (10**9, 1):  # one range; then a range per level
        dsk, keys = depthgraph.to_dask(g, inputs, blocks=4, min_task_work=min_task_work)
        tasks = _tasks(dsk)
        ranges = {k[2] for k in tasks}
        if min_task_work > 1:
            assert len(ranges) == 1
        else:
            assert len(ranges) > 1
        for r in ranges:
            members = [k for k in tasks if k[2] == r]
            assert 2 <= len(members) <= 4
            for k in members:  # tasks of one range never depend on each other, only on earlier ranges
                assert all(d[1] == "input" or d[2] < r for d in _deps(dsk, k))
        out = dict(zip(keys, dask.get(dsk, list(keys.values()))))
        ref = execute(g, inputs)
        for name in ref:
            np.testing.assert_allclose(out[name], ref[name], rtol=1e-14)


def test_join_at_the_top_does_not_fuse_the_work_below():
    g, inputs = _tree(leaves=16)
    dsk, keys = depthgraph.to_dask(g, inputs, blocks=4, min_task_work=64)
    first = [k for k in _tasks(dsk) if k[2] == 0]
    assert len(first) == 4  # the subtrees below the joins run as 4 blocks
    assert dask.get(dsk, keys["root"]).shape == (4, 4)
    np.testing.assert_allclose(dask.get(dsk, keys["root"]), execute(g, inputs)["root"], rtol=1e-12)
    one, _ = depthgraph.to_dask(g, inputs, blocks=1)
    assert len(_tasks(one)) == 1


def test_constants_and_views_of_inputs_are_copied_not_shipped():
    g = depthgraph.Graph()
    x = g.input("x", (4,))
    c = g.constant([1.0, 2.0, 3.0, 4.0])
    a = ops.exp(x[:2] * c[:2])
    b = ops.exp(x[2:] * c[2:])
    g.output("a", a)
    g.output("b", b)
    g.output("c", c)
    g.output("x", x)
    dsk, keys = depthgraph.to_dask(g, {"x": np.zeros(4)}, blocks=2)
    assert len(_tasks(dsk)) == 2  # the shared constant does not join the two halves
    assert keys["x"][1] == "input" and len(_tasks(dsk, "free")) == 1
    out = dict(zip(keys, dask.get(dsk, list(keys.values()))))
    np.testing.assert_array_equal(out["c"], [1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(out["b"], [1.0, 1.0])


def test_keys_are_unique_per_call_and_the_plan_is_reused():
    g, inputs = _chains(width=4)
    d1, k1 = depthgraph.to_dask(g, inputs, blocks=2)
    d2, k2 = depthgraph.to_dask(g, {"x": 2 * inputs["x"]}, blocks=2)
    assert not set(d1) & set(d2)
    t1, t2 = (sorted((d[k] for k in _tasks(d)), key=lambda t: t[0].graph.to_json()) for d in (d1, d2))
    assert [a[0] for a in t1] == [b[0] for b in t2]  # the same subgraph objects: compiled once
    assert not np.allclose(dask.get(d1, k1["c0"]), dask.get(d2, k2["c0"]))


def test_task_graph_pickles():
    spec = algorithms.get("kernel-doubling")
    g, inputs = spec.build(L=6, n=3), spec.inputs(L=6, n=3)
    for partition in ("levels", "op"):
        dsk, keys = depthgraph.to_dask(g, inputs, partition=partition, min_task_work=1)
        dsk2 = pickle.loads(pickle.dumps(dsk))
        np.testing.assert_allclose(dask.get(dsk2, keys["K"]), execute(g, inputs)["K"], rtol=1e-12)


@pytest.mark.parametrize(
    "options, message",
    [
        ({"partition": "blocks"}, r"unknown partition 'blocks'; choose from levels, op"),
        ({"blocks": 0}, r"blocks must be an int >= 1 .* got 0"),
        ({"blocks": 2.5}, r"blocks must be an int >= 1 .* got 2.5"),
        ({"min_task_work": -1}, r"min_task_work must be a number >= 0 .* got -1"),
        ({"backend": "torch"}, r"unknown backend 'torch'"),
    ],
)
def test_bad_options(options, message):
    g, inputs = _chains(width=2)
    with pytest.raises(depthgraph.ParameterError, match=message):
        depthgraph.to_dask(g, inputs, **options)
    with pytest.raises(depthgraph.ParameterError, match=message):
        execute(g, inputs, executor="dask", **options)


def test_unknown_scheduler_and_bad_inputs():
    g, inputs = _chains(width=2)
    with pytest.raises(depthgraph.ParameterError, match=r"unknown scheduler 'processes'; choose from sync, threads"):
        execute(g, inputs, executor="dask", scheduler="processes")
    with pytest.raises(depthgraph.InputError, match="missing"):
        depthgraph.to_dask(g, {})


@pytest.mark.parametrize("scheduler", ["sync", "threads"])
@pytest.mark.parametrize("partition", ["levels", "op"])
def test_results_equal_eager(scheduler, partition):
    g, inputs = _tree(leaves=8)
    out = execute(g, inputs, executor="dask", scheduler=scheduler, partition=partition, min_task_work=1)
    np.testing.assert_allclose(out["root"], execute(g, inputs)["root"], rtol=1e-12)


def test_distributed_spreads_blocks_over_workers():
    distributed = pytest.importorskip("distributed")
    g, inputs = _chains(width=8, length=20, n=20000)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        with distributed.get_task_stream(client) as stream:
            out = execute(g, inputs, executor="dask", scheduler=client, to_host=True)
        ref = execute(g, inputs)
    workers = {t["worker"] for t in stream.data if "task" in str(t["key"])}
    assert len(workers) == 2
    for name in ref:
        np.testing.assert_allclose(out[name], ref[name], rtol=1e-14)


def test_distributed_inputs_go_only_to_the_workers_that_read_them(monkeypatch):
    distributed = pytest.importorskip("distributed")
    g, inputs = _channels(4)  # four channels, each its own input: each should reach one worker only
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        scattered = []
        scatter = client.scatter
        monkeypatch.setattr(client, "scatter", lambda data, **kw: scattered.append((list(data), kw)) or scatter(data, **kw))
        out = execute(g, inputs, executor="dask", scheduler=client, to_host=True, min_task_work=1)
    ref = execute(g, inputs)
    sent_to = {key[2]: kw["workers"] for keys, kw in scattered for key in keys}
    assert sorted(sent_to) == sorted(inputs)
    assert all(len(sent_to[f"x{c}"]) == 1 for c in range(4))
    assert len({w for c in range(4) for w in sent_to[f"x{c}"]}) == 2  # the channels are spread over both
    for name in ref:
        np.testing.assert_allclose(out[name], ref[name], rtol=1e-14)


def test_input_placement_does_not_trust_the_clients_cached_worker_list(monkeypatch):
    # The client's periodic refresh caches totals only ("workers" empty); when it landed between
    # scheduler_info's fetch and return, placement divided by zero workers (a CI failure).
    distributed = pytest.importorskip("distributed")
    g, inputs = _channels(2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        monkeypatch.setattr(client, "scheduler_info", lambda *a, **kw: {"workers": {}})
        out = execute(g, inputs, executor="dask", scheduler=client, to_host=True, min_task_work=1)
    ref = execute(g, inputs)
    for name in ref:
        np.testing.assert_allclose(out[name], ref[name], rtol=1e-14)


def test_a_cluster_without_workers_is_a_clear_error():
    distributed = pytest.importorskip("distributed")
    g, inputs = _channels(1)
    with distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        with pytest.raises(depthgraph.ParameterError, match="no workers"):
            execute(g, inputs, executor="dask", scheduler=client)


def test_inputs_scattered_once_stay_on_the_cluster():
    distributed = pytest.importorskip("distributed")
    from depthgraph.executors.dask import scatter_inputs

    g, inputs = _channels(4)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        futures = scatter_inputs(client, g, inputs, min_task_work=1)
        holders = client.who_has(list(futures.values()))
        runs = [execute(g, futures, executor="dask", scheduler=client, to_host=True, min_task_work=1)
                for _ in range(2)]
        bad = client.scatter({"x0": np.ones(7)})["x0"]
        with pytest.raises(depthgraph.InputError, match="input 'x0' has shape"):
            execute(g, {**futures, "x0": bad}, executor="dask", scheduler=client, min_task_work=1)
    with pytest.raises(depthgraph.ParameterError, match="need scheduler=<that cluster's Client>"):
        execute(g, futures, executor="dask", scheduler="threads")
    assert sorted(futures) == sorted(inputs)
    assert all(len(workers) == 1 for workers in holders.values())  # each channel's input on one worker
    assert len({w for workers in holders.values() for w in workers}) == 2
    ref = execute(g, inputs)
    for out in runs:
        for name in ref:
            np.testing.assert_allclose(out[name], ref[name], rtol=1e-14)


def test_distributed_workers_receive_each_subgraph_once():
    distributed = pytest.importorskip("distributed")
    g, inputs = _chains(width=4, length=6, n=1000)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        first = execute(g, inputs, executor="dask", scheduler=client, to_host=True, min_task_work=1)
        sent = set(dask_executor._SENT[client.id])
        second = execute(g, inputs, executor="dask", scheduler=client, to_host=True, min_task_work=1)
        dsk, _ = dask_executor.to_dask(g, inputs, blocks=2, min_task_work=1)
        tokens = {t[0].token for t in dsk.values() if isinstance(t, tuple) and isinstance(t[0], dask_executor._SubgraphTask)}
        shipped = dask_executor._by_token(client, dsk)
    ref = execute(g, inputs)
    # the second run and a third plan send nothing new: tasks carry tokens, workers hold the graphs
    assert len(tokens) >= 2 and tokens == sent == dask_executor._SENT[client.id]
    assert all(t[0].graph is None for t in shipped.values() if isinstance(t, tuple) and isinstance(t[0], dask_executor._SubgraphTask))
    for name in ref:
        np.testing.assert_allclose(first[name], ref[name], rtol=1e-14)
        np.testing.assert_allclose(second[name], ref[name], rtol=1e-14)


def test_import_depthgraph_does_not_import_dask():
    code = "import sys, depthgraph; depthgraph.to_dask; print('dask' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip() == "False"
