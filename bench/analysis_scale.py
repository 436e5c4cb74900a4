"""How long it takes to build and analyse graphs of 10^5 and 10^6 nodes, and how much memory it needs.

Run from the repository root::

    python bench/analysis_scale.py                       # N = 10^5 and 10^6, both shapes
    python bench/analysis_scale.py --sizes 100000        # only N = 10^5
    python bench/analysis_scale.py --memory tracemalloc  # Python-heap peak instead of RSS
    python bench/analysis_scale.py --profile chain 100000  # cProfile one case, print hotspots

This is a benchmark, not a test: it prints a table and exits 1 if a target is missed.

What it measures, for each size N and each of two DAG shapes:

* **chain** — one input ``x`` of shape (4,) and N elementwise ops ``x = ops.exp(x)`` one after
  another: N + 1 nodes, the deepest graph there is (it also proves nothing recurses).
* **tree** — a balanced binary tree of ``+`` over N/2 scalar leaves, as a user writes a reduction
  by hand: one input ``x`` of shape (N/2,), the leaves ``x[0] … x[N/2 - 1]`` (``getitem``
  views, so every leaf goes through the indexing shape rule), then pairwise ``a + b`` level by
  level (an odd one out is carried up). 1 + N/2 + (N/2 - 1) = N nodes, N/2 of them at level 0:
  the widest graph there is.

Columns: **build s** — creating the graph (``Graph.input`` and N op calls, each going through
``Graph.apply``: registry lookup, shape and dtype rules, ``Node`` creation); **analyze s** — one
``depthgraph.analyze(graph)`` call (live-node pass, costs, the forward and backward passes,
levels, critical path, the earliest/latest dicts); **total s** — the two together, which is what
the target bounds; **peak MiB** — memory, see below; **target s** — 2 s for N = 10^5 and 20 s
for N = 10^6 (build + analyze, on a 2-core CPU; linear scaling from 10^5 leaves 2x headroom);
**ok/MISSED** — whether total s is within the target.

Every case runs in a fresh child interpreter, so one case's garbage, caches and peak memory do
not leak into the next. Memory is measured in one of two ways (the table's header says which):

* ``--memory rss`` (the default): the growth of the child's peak resident set size
  (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) over its size after the imports and warm-up,
  measured in the same pass as the times (reading ru_maxrss costs nothing). Everything the
  process touched: Python objects, allocator slack, NumPy.
* ``--memory tracemalloc``: the Python-heap peak seen by `tracemalloc` during a *second*,
  separate build + analyze of the same graph (tracemalloc slows allocation several times, so
  the times always come from the first, untraced pass).

Before its times count, each case checks the analysis against numbers known in closed form
(chain: span = steps = N, work = 4N, a critical path of N + 1 nodes; tree: span = steps =
⌈log2 N/2⌉, work = N/2 - 1), so an analysis that broke and got fast cannot pass.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import json
import os
import platform
import pstats
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import depthgraph  # noqa: E402
from depthgraph import ops  # noqa: E402
from depthgraph.cli import positive_int  # noqa: E402

TARGETS = {100_000: 2.0, 1_000_000: 20.0}  # seconds, build + analyze
CHAIN_WIDTH = 4  # elements of the chain's vector: work per op


def target_for(n: int) -> float:
    """The target of a size: the table's entry, or 2 s per 10^5 nodes for any other size."""
    return TARGETS.get(n, 2.0 * n / 100_000)


# ---------------------------------------------------------------- the two shapes


def build_chain(n: int) -> depthgraph.Graph:
    """x -> exp -> exp -> ... (n ops): n + 1 nodes."""
    g = depthgraph.Graph()
    x = g.input("x", (CHAIN_WIDTH,))
    for _ in range(n):
        x = ops.exp(x)
    g.output("y", x)
    return g


def build_tree(n: int) -> depthgraph.Graph:
    """A balanced tree of adds over the n/2 scalar leaves x[i] of one input: n nodes."""
    m = max(n // 2, 1)
    g = depthgraph.Graph()
    x = g.input("x", (m,))
    level = [x[i] for i in range(m)]
    while len(level) > 1:
        nxt = [level[i] + level[i + 1] for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    g.output("total", level[0])
    return g


BUILDERS = {"chain": build_chain, "tree": build_tree}


def check(shape: str, n: int, g: depthgraph.Graph, a: depthgraph.Analysis) -> None:
    """Raise AssertionError unless the analysis gives the closed-form numbers of the shape."""
    if shape == "chain":
        expected = {"nodes": n + 1, "span": n, "steps": n, "work": CHAIN_WIDTH * n, "path": n + 1, "levels": n + 1}
    else:
        m = max(n // 2, 1)
        depth = ops.log2ceil(m)
        expected = {"nodes": 1 + m + (m - 1), "span": depth, "steps": depth, "work": m - 1, "path": depth + 2,
                    "levels": depth + 1}
    got = {"nodes": len(g), "span": a.span, "steps": a.steps, "work": a.work, "path": len(a.critical_path),
           "levels": len(a.levels)}
    if got != expected:
        raise AssertionError(f"{shape} N={n}: analysis gives {got}, expected {expected}")
    if len(a.earliest) != len(g) or len(a.latest) != len(g):
        raise AssertionError(f"{shape} N={n}: earliest/latest cover {len(a.earliest)} of {len(g)} nodes")


# ---------------------------------------------------------------- one case, in a child process


def _rss_mib() -> float:
    # ru_maxrss is KiB on Linux, bytes on macOS.
    scale = 1 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * scale / 2**20


def run_case(shape: str, n: int, memory: str) -> dict:
    """Build and analyse one graph; times from an untraced pass, memory as ``memory`` says."""
    build = BUILDERS[shape]
    depthgraph.analyze(build(100))  # warm up imports and the registry's caches
    gc.collect()
    rss_before = _rss_mib()

    t0 = time.perf_counter()
    g = build(n)
    t1 = time.perf_counter()
    a = depthgraph.analyze(g)
    t2 = time.perf_counter()
    rss_peak = _rss_mib() - rss_before
    check(shape, n, g, a)
    result = {"shape": shape, "n": n, "nodes": len(g), "build": t1 - t0, "analyze": t2 - t1, "total": t2 - t0,
              "peak_mib": rss_peak}

    if memory == "tracemalloc":
        import tracemalloc

        del g, a
        gc.collect()
        tracemalloc.start()
        g = build(n)
        a = depthgraph.analyze(g)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        result["peak_mib"] = peak / 2**20
    return result


def run_in_child(shape: str, n: int, memory: str) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--child", shape, str(n), "--memory", memory]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"case {shape} N={n} failed (exit {proc.returncode})")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- profile one case


def profile_case(shape: str, n: int, top: int) -> None:
    """cProfile build and analyze of one case separately; print the top functions by own time."""
    build = BUILDERS[shape]
    depthgraph.analyze(build(100))
    prof = cProfile.Profile()
    g = prof.runcall(build, n)
    _print_profile(prof, f"build of {shape} N={n}", top)
    prof = cProfile.Profile()
    a = prof.runcall(depthgraph.analyze, g)
    _print_profile(prof, f"analyze of {shape} N={n}", top)
    check(shape, n, g, a)


def _print_profile(prof: cProfile.Profile, label: str, top: int) -> None:
    print(f"\n=== cProfile: {label} (sorted by own time) ===")
    pstats.Stats(prof).strip_dirs().sort_stats("tottime").print_stats(top)


# ---------------------------------------------------------------- the table


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=positive_int, nargs="+", default=[100_000, 1_000_000], metavar="N")
    p.add_argument("--shapes", nargs="+", choices=sorted(BUILDERS), default=["chain", "tree"])
    p.add_argument("--memory", choices=["rss", "tracemalloc"], default="rss",
                   help="rss: ru_maxrss growth in the timed pass (default); tracemalloc: Python-heap peak of a "
                        "second, untimed pass")
    p.add_argument("--profile", nargs=2, metavar=("SHAPE", "N"), help="cProfile one case instead of the table")
    p.add_argument("--top", type=int, default=25, help="functions to list with --profile")
    p.add_argument("--child", nargs=2, metavar=("SHAPE", "N"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.child:
        print(json.dumps(run_case(args.child[0], int(args.child[1]), args.memory)))
        return 0
    if args.profile:
        profile_case(args.profile[0], int(args.profile[1]), args.top)
        return 0

    memory_note = {
        "rss": "peak MiB = growth of ru_maxrss (peak RSS) over the warmed-up child, same pass as the times",
        "tracemalloc": "peak MiB = tracemalloc peak of a separate, untimed pass (times from the untraced pass)",
    }[args.memory]
    print(f"depthgraph {depthgraph.__version__}, Python {platform.python_version()}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs; each case in a fresh process; {memory_note}")
    header = f"{'shape':<6} {'nodes':>9} {'build s':>8} {'analyze s':>9} {'total s':>8} {'peak MiB':>9} " \
             f"{'target s':>8}  result"
    print(header)
    print("-" * len(header))
    missed = 0
    for n in args.sizes:
        for shape in args.shapes:
            r = run_in_child(shape, n, args.memory)
            target = target_for(n)
            ok = r["total"] <= target
            missed += not ok
            print(f"{shape:<6} {r['nodes']:>9} {r['build']:>8.2f} {r['analyze']:>9.2f} {r['total']:>8.2f} "
                  f"{r['peak_mib']:>9.1f} {target:>8g}  {'ok' if ok else 'MISSED'}", flush=True)
    print(f"\nanalysis checked against closed-form span/steps/work for every case; "
          f"{'all targets met' if not missed else f'{missed} target(s) MISSED'}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
