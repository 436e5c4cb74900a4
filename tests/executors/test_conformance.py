"""Executor conformance: every executor × scheduler gives eager's float64 results (dask-style).

The tests are written once, in `ExecutorConformance`; each subclass names an executor and its
options. Every algorithm of `algorithms` runs at two small sizes on the NumPy backend and each
output is compared with eager execution: relative error (norm of the difference over norm of
the reference) ≤ 1e-10. Graph-level tests cover the corners an executor can get wrong: an
output that is an input or a constant, chains of views, broadcasting, several outputs sharing
nodes, integer dtypes.

"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pytest

import algorithms
import depthgraph
from depthgraph import ops

from depthgraph import execute

SIZES = ({"L": 5, "n": 3, "T": 5, "d": 3, "weights": True}, {"L": 8, "n": 2, "T": 8, "d": 2})
RTOL = 1e-10


def _params(name: str, size: dict) -> dict:
    return {k: v for k, v in size.items() if k in algorithms.get(name).defaults}


def _relative_error(got, want) -> float:
    got, want = np.asarray(got), np.asarray(want)
    assert got.shape == want.shape, (got.shape, want.shape)
    scale = np.linalg.norm(want)
    diff = np.linalg.norm(got.astype(np.float64) - want.astype(np.float64))
    return diff / scale if scale else diff


class ExecutorConformance:
    """Tests every executor must pass; subclasses set ``executor`` and ``options``."""

    executor = "eager"
    options: ClassVar[dict[str, Any]] = {}

    def execute(self, graph, inputs, **extra):
        return execute(graph, inputs, executor=self.executor, backend="numpy", to_host=True,
                                  **self.options, **extra)

    def check(self, graph, inputs, rtol=RTOL):
        want = execute(graph, inputs, executor="eager", to_host=True)
        got = self.execute(graph, inputs)
        assert list(got) == list(want)
        for name in want:
            assert np.asarray(got[name]).dtype == np.asarray(want[name]).dtype, name
            assert _relative_error(got[name], want[name]) <= rtol, name
        return got

    @pytest.mark.parametrize("size", range(len(SIZES)))
    @pytest.mark.parametrize("name", algorithms.names())
    def test_algorithm(self, name, size):
        params = _params(name, SIZES[size])
        spec = algorithms.get(name)
        self.check(spec.build(**params), spec.inputs(seed=size, **params))

    def test_output_is_an_input(self):
        g = depthgraph.Graph()
        x = g.input("x", (3,))
        g.output("same", x)
        g.output("twice", x + x)
        got = self.check(g, {"x": np.arange(3.0)})
        np.testing.assert_array_equal(got["same"], np.arange(3.0))

    def test_constant_outputs(self):
        g = depthgraph.Graph()
        x = g.input("x", (2,))
        c = g.constant([[1.0, 2.0], [3.0, 4.0]])
        g.output("c", c)
        g.output("ct", c.T)
        g.output("y", c @ x)
        got = self.check(g, {"x": np.ones(2)})
        np.testing.assert_array_equal(got["ct"], [[1.0, 3.0], [2.0, 4.0]])

    def test_view_chains(self):
        g = depthgraph.Graph()
        x = g.input("x", (4, 6))
        v = ops.reshape(x.T[1:5], (2, 2, 4))[1].T[::-1]
        w = ops.exp(x)[:, 2]
        g.output("v", v)
        g.output("w", ops.reshape(w, (2, 2)).T * v[0:2, 0])
        g.output("s", ops.sum(ops.transpose(ops.reshape(ops.exp(x), (3, 8)))[2:6]))
        self.check(g, {"x": np.linspace(-1, 1, 24).reshape(4, 6)})

    def test_broadcasting(self):
        g = depthgraph.Graph()
        a = g.input("a", (3, 1))
        b = g.input("b", (4,))
        s = g.input("s", ())
        g.output("outer", a * b - s)
        g.output("scaled", (a + 1.0) / (ops.sum(b) + s))
        rng = np.random.default_rng(0)
        self.check(g, {"a": rng.standard_normal((3, 1)), "b": rng.standard_normal(4), "s": np.array(0.5)})

    def test_several_outputs_sharing_nodes(self):
        g = depthgraph.Graph()
        A = g.input("A", (4, 4))
        x = g.input("x", (4,))
        ys = [x]
        for _ in range(6):
            ys.append(ops.exp(-(A @ ys[-1])))
        for i, y in enumerate(ys[1:]):
            g.output(f"y{i}", y)
        g.output("again", ys[3])
        g.output("all", ops.stack(ys))
        rng = np.random.default_rng(1)
        self.check(g, {"A": rng.standard_normal((4, 4)) / 4, "x": rng.standard_normal(4)})

    def test_integer_dtype(self):
        g = depthgraph.Graph()
        i = g.input("i", (5,), dtype="int64")
        j = g.input("j", (5,), dtype="int32")
        g.output("k", i * j + 3)
        g.output("s", ops.sum(i * i))
        g.output("f", i * 0.5)
        got = self.check(g, {"i": np.arange(5), "j": np.arange(5, dtype=np.int32)})
        assert got["k"].dtype == np.int64 and got["f"].dtype == np.float64
        np.testing.assert_array_equal(got["k"], np.arange(5) ** 2 + 3)

    def test_wide_independent_chains(self):
        g = depthgraph.Graph()
        x = g.input("x", (8, 3))
        for c in range(8):
            y = x[c]
            for _ in range(5):
                y = ops.exp(-y * y) + 0.25
            g.output(f"c{c}", y)
        self.check(g, {"x": np.random.default_rng(2).standard_normal((8, 3))})

    def test_unused_input_and_input_errors(self):
        g = depthgraph.Graph()
        x = g.input("x", (2,))
        g.input("unused", (3,))
        g.output("y", x * 2.0)
        self.check(g, {"x": np.ones(2), "unused": np.zeros(3)})
        with pytest.raises(depthgraph.InputError, match="missing"):
            self.execute(g, {"x": np.ones(2)})


class TestEager(ExecutorConformance):
    executor = "eager"


class TestLevels(ExecutorConformance):
    executor = "levels"


class TestDaskSyncOps(ExecutorConformance):
    executor = "dask"
    options: ClassVar[dict[str, Any]] = {"scheduler": "sync", "partition": "op"}


class TestDaskThreads(ExecutorConformance):
    executor = "dask"
    options: ClassVar[dict[str, Any]] = {"scheduler": "threads"}


class TestDaskThreadsSmallTasks(ExecutorConformance):
    """Coarse tasks forced small (min_task_work=1), so every graph is cut into many ranges and blocks."""

    executor = "dask"
    options: ClassVar[dict[str, Any]] = {"scheduler": "threads", "blocks": 3, "min_task_work": 1}


class TestDaskDistributed(ExecutorConformance):
    executor = "dask"

    @pytest.fixture(autouse=True, scope="class")
    @classmethod
    def _client(cls):
        distributed = pytest.importorskip("distributed")
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                           dashboard_address=None)
        client = distributed.Client(cluster)
        # Small tasks, so that blocks really run on both workers.
        cls.options = {"scheduler": client, "min_task_work": 1}
        yield
        client.close()
        cluster.close()
