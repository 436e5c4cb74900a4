"""The coarse partition (ranges of levels × blocks) and the subgraphs its tasks run."""

import pytest

import algorithms
import depthgraph
from depthgraph import ops
from depthgraph.executors.partition import partition_nodes, subgraph


def test_subgraph_helper_names_inputs_after_producers():
    g = depthgraph.Graph()
    x = g.input("x", (3,))
    y = ops.exp(x, name="y")
    z = g.output("z", ops.sum(y * y, name="z"))
    sub = subgraph(g, [z], [z])
    assert list(sub.inputs) == ["mul_2"] and list(sub.outputs) == ["z"]
    assert sub.node("z").op == "sum"


def test_independent_chains_are_packed_into_blocks_of_equal_work():
    # 6 chains of 3 exp nodes on x[c] (a view of an input: a free source, in no block), 8 elements
    # each: work 24 per chain; under min_task_work one range, packed into 3 blocks of 2 chains.
    g = depthgraph.Graph()
    x = g.input("x", (6, 8))
    for c in range(6):
        g.output(f"c{c}", ops.exp(ops.exp(ops.exp(x[c]))))
    (blocks,) = partition_nodes(g, blocks=3, min_task_work=10**6)
    assert [len(block) for block in blocks] == [6, 6, 6]
    assert all(n.op == "exp" for block in blocks for n in block)


@pytest.mark.parametrize("name", algorithms.names())
@pytest.mark.parametrize("blocks, min_task_work", [(1, 0), (3, 10), (4, 10**9)])
def test_every_op_node_is_in_one_task_and_task_edges_only_go_to_later_ranges(name, blocks, min_task_work):
    # The module doc's acyclicity argument, checked edge by edge on every algorithm.
    spec = algorithms.get(name)
    params = spec.params(**{k: v for k, v in {"L": 16, "n": 3, "T": 16, "d": 3}.items() if k in spec.defaults})
    g = spec.build(**params)
    ranges = partition_nodes(g, blocks, min_task_work)
    owner = {}
    for r, range_blocks in enumerate(ranges):
        assert 1 <= len(range_blocks) <= blocks
        for b, members in enumerate(range_blocks):
            assert members and members == sorted(members, key=lambda n: n.index)
            for node in members:
                assert node not in owner
                owner[node] = (r, b)
    for node in g.nodes:
        if node.op == "input":
            assert node not in owner
        elif node not in owner:  # a free source: a constant, or a view of inputs and constants only
            assert node.op == "const" or all(x.op == "input" or x not in owner for x in node.inputs)
        for x in node.inputs:
            if x in owner and node in owner:
                (rx, bx), (rn, bn) = owner[x], owner[node]
                assert rx < rn or (rx, bx) == (rn, bn)
