"""How long `depthgraph.render` takes on graphs of about 10^5 nodes (target: 10 s each).

Run from the repository root::

    python bench/render_scale.py                  # every case, SVG
    python bench/render_scale.py --format png     # PNG instead (rasterising adds a little)
    python bench/render_scale.py --only recurrence,conv-direct --keep /tmp/drawings

This is a benchmark, not a test: it prints a table and exits 1 if a target is missed.

A graph this large is far beyond what Graphviz's ``dot`` lays out in reasonable time (a chain of
500 nodes with its inputs fanning out to every step already takes minutes), so `render`
summarises it: nodes of one op in a band of levels become one box, the critical path stays
highlighted (`depthgraph.drawing`). The cases are algorithms of the library at sizes giving
about 10^5 nodes, of the shapes that stress a summary differently:

* **recurrence** — a chain of 25,000 levels: bands of thousands of levels;
* **ridge-sherman-morrison** — a deeper chain (~46,000 levels) with more ops per step;
* **conv-direct** — three levels, ~33,000 nodes wide: groups of one level;
* **scan-hillis-steele** and **scan-blelloch** — logarithmic depth, wide levels, edges that skip
  levels (the Blelloch down-sweep reads the up-sweep).

Columns: **nodes** and **levels** of the graph (`Graph.nodes`, ``analyze(...).steps + 1``);
**boxes** — nodes of the drawing, at most ``--max-nodes``; **rows** — its ranks (levels, or
bands of levels in a summary); **analyze s** — `depthgraph.analyze`; **draw s** — the
rest of one `render` call given that analysis (the summary, Graphviz layout, writing the file);
**total s** — the two together, what the target bounds (building the graph is not counted: it is
the algorithm's cost, measured by ``bench/analysis_scale.py``); **ok/MISSED**.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import algorithms
import depthgraph
from depthgraph import drawing
from depthgraph.cli import positive_int

TARGET_S = 10.0
CASES = {
    "recurrence": {"L": 12_500},
    "ridge-sherman-morrison": {"T": 7_700},
    "conv-direct": {"L": 32_768},
    "scan-hillis-steele": {"L": 3_072},
    "scan-blelloch": {"L": 14_000},
}


def measure(name: str, params: dict[str, int], out: pathlib.Path, max_nodes: int) -> dict:
    """Build one case, then time `analyze` and `render` on it; count the boxes and rows drawn."""
    graph = algorithms.get(name).build(**params)
    start = time.perf_counter()
    analysis = depthgraph.analyze(graph)
    analysed = time.perf_counter()
    depthgraph.render(graph, out, max_nodes=max_nodes, analysis=analysis, title=name)
    drawn = time.perf_counter()
    agraph = drawing.to_agraph(graph, max_nodes=max_nodes, analysis=analysis)  # the same drawing, to count it
    return {
        "case": f"{name} " + " ".join(f"{k}={v}" for k, v in params.items()),
        "nodes": len(graph.nodes),
        "levels": analysis.steps + 1,
        "boxes": agraph.number_of_nodes(),
        "rows": len(agraph.subgraphs()),
        "analyze": analysed - start,
        "draw": drawn - analysed,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--format", choices=drawing.FORMATS, default="svg")
    parser.add_argument("--max-nodes", type=positive_int, default=drawing.MAX_NODES)
    parser.add_argument("--only", help="comma-separated case names")
    parser.add_argument("--keep", type=pathlib.Path, help="write the drawings into this folder")
    args = parser.parse_args()
    cases = {k: v for k, v in CASES.items() if not args.only or k in args.only.split(",")}

    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or pathlib.Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        rows = [measure(name, params, folder / f"{name}.{args.format}", args.max_nodes)
                for name, params in cases.items()]

    head = ("case", "nodes", "levels", "boxes", "rows", "analyze s", "draw s", "total s", "target s", "")
    print("| " + " | ".join(head) + " |\n|" + "---|" * len(head))
    missed = False
    for r in rows:
        total = r["analyze"] + r["draw"]
        ok = total <= TARGET_S and r["boxes"] <= args.max_nodes
        missed |= not ok
        print(f"| {r['case']} | {r['nodes']:,} | {r['levels']:,} | {r['boxes']} | {r['rows']} | {r['analyze']:.2f} | "
              f"{r['draw']:.2f} | {total:.2f} | {TARGET_S:.0f} | {'ok' if ok else 'MISSED'} |")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
