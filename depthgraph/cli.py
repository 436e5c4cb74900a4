"""The command line: ``depthgraph analyze NAME [--L ...] [--n ...] [--json]``.

Bad names, sizes and flags print one line on stderr and exit with status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from depthgraph.analysis import analyze
from depthgraph.errors import DepthGraphError

BOUND_PROCESSORS = (1, 8, 1024)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse prints usage and the message: keep one line
        self.exit(2, f"depthgraph: error: {message}\n")


def _size(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def _parser(size_params: Sequence[str]) -> argparse.ArgumentParser:
    parser = _Parser(prog="depthgraph", description="Work and critical-path depth of parallel algorithms.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    commands.add_parser("list", help="list the algorithms")
    analyze_cmd = commands.add_parser("analyze", help="work, span, steps and bounds of one algorithm")
    analyze_cmd.add_argument("name", help="algorithm name (see `depthgraph list`)")
    for param in size_params:
        analyze_cmd.add_argument(f"--{param}", type=_size, help=f"size {param} (default: the algorithm's)")
    analyze_cmd.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return parser


def analysis_report(name: str, params: dict[str, int]) -> dict:
    """Build algorithm ``name`` at ``params`` and return its analysis as plain data."""
    import algorithms

    spec = algorithms.get(name)
    params = spec.params(**params)
    graph = spec.build(**params)
    a = analyze(graph)
    return {
        "algorithm": name,
        "params": params,
        "nodes": len(graph.nodes),
        "work": a.work,
        "span": a.span,
        "steps": a.steps,
        "parallelism": a.parallelism,
        "critical_path": list(a.critical_path),
        "bounds": {str(p): list(a.bounds(p)) for p in BOUND_PROCESSORS},
    }


def _table(report: dict) -> str:
    sizes = " ".join(f"{k}={v}" for k, v in report["params"].items())
    path = report["critical_path"]
    shown = " → ".join(path if len(path) <= 6 else path[:3] + ["…"] + path[-2:])
    rows = [
        ("nodes", f"{report['nodes']:,}"),
        ("work", f"{report['work']:,}"),
        ("span", f"{report['span']:,}"),
        ("steps", f"{report['steps']:,}"),
        ("parallelism", f"{report['parallelism']:,.2f}"),
        ("critical path", f"{len(path):,} nodes: {shown}"),
    ] + [
        (f"bounds p={p}", f"{lo:,.1f} ≤ T_p ≤ {hi:,.1f}")
        for p, (lo, hi) in ((p, report["bounds"][p]) for p in report["bounds"])
    ]
    return "\n".join([f"{report['algorithm']}  ({sizes})"] + [f"  {k:<15} {v}" for k, v in rows])


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``depthgraph`` command; returns the exit status."""
    import algorithms

    size_params = sorted({p for n in algorithms.names() for p in algorithms.get(n).defaults})
    args = _parser(size_params).parse_args(argv)
    try:
        if args.command == "list":
            for name in algorithms.names():
                spec = algorithms.get(name)
                print(f"{name:<24} {spec.doc.strip().splitlines()[0] if spec.doc else ''}")
            return 0
        given = {p: getattr(args, p) for p in size_params if getattr(args, p) is not None}
        report = analysis_report(args.name, given)
    except DepthGraphError as exc:
        print(f"depthgraph: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2) if args.json else _table(report))
    return 0
