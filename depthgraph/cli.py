"""The command line: ``depthgraph list | analyze NAME | table | calibrate | validate | render NAME | report``.

The algorithm library is loaded by module name (`LIBRARY`), so the engine has no static
dependency on it. Bad names, sizes and flags print one line on stderr and exit with status 2,
never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from types import ModuleType

from depthgraph.analysis import analyze
from depthgraph.drawing import MAX_NODES, render
from depthgraph.errors import DepthGraphError, ParameterError
from depthgraph.files import writable_path

LIBRARY = "algorithms"
BOUND_PROCESSORS = (1, 8, 1024)
TABLE_SIZES = {"L": 4096, "n": 64, "d": 64}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse prints usage and the message: keep one line
        self.exit(2, f"depthgraph: error: {message}\n")


def _size(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def positive_int(text: str) -> int:
    """An argparse type: a whole number >= 1 (the benches' counts, sizes and repeats).

    >>> positive_int("3")
    3
    >>> positive_int("0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected a whole number >= 1, got '0'
    """
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """An argparse type: a finite number > 0 (the benches' seconds and ridge penalties).

    >>> positive_float("0.5")
    0.5
    >>> positive_float("nan")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected a finite number > 0, got 'nan'
    """
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return value


def _algorithm_arguments(command: argparse.ArgumentParser, sizes: list[str], switches: list[str]) -> None:
    """An algorithm's name, its sizes (``--L 8``) and its switches (``--weights``)."""
    command.add_argument("name", help="algorithm name (see `depthgraph list`)")
    for param in sizes:
        command.add_argument(f"--{param}", type=_size, help=f"size {param} (default: the algorithm's)")
    for param in switches:
        command.add_argument(f"--{param}", action="store_true", default=None, help=f"switch on {param}")


def _parser(library: ModuleType) -> argparse.ArgumentParser:
    defaults = {}
    for name in library.names():
        defaults.update(library.get(name).defaults)
    sizes = sorted(p for p, v in defaults.items() if not isinstance(v, bool))
    switches = sorted(p for p, v in defaults.items() if isinstance(v, bool))

    parser = _Parser(prog="depthgraph", description="Work and critical-path depth of parallel algorithms.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    commands.add_parser("list", help="list the algorithms")
    analyze_cmd = commands.add_parser("analyze", help="work, span, steps and bounds of one algorithm")
    _algorithm_arguments(analyze_cmd, sizes, switches)
    analyze_cmd.add_argument("--json", action="store_true", help="print JSON instead of a table")
    table_cmd = commands.add_parser("table", help="every algorithm's work, span and growth beside the answer key")
    for param in sorted(TABLE_SIZES.keys() | {"T"}):
        default = TABLE_SIZES.get(param, "the value of L")
        table_cmd.add_argument(f"--{param}", type=_size, help=f"size {param} (default {default})")
    calibrate_cmd = commands.add_parser("calibrate", help="time every op on a device and fit a cost profile")
    calibrate_cmd.add_argument("--backend", choices=("numpy", "cupy"), default="numpy")
    calibrate_cmd.add_argument("-o", "--output", default="profile.json", help="profile file (default profile.json)")
    calibrate_cmd.add_argument("--quick", action="store_true", help="small sizes and few trials (a smoke test)")
    calibrate_cmd.add_argument("--cluster", choices=("local", "cuda"),
                               help="also fit the per-task overhead of a one-worker Dask cluster of this kind")
    calls_help = ("in-situ: time each call alternating with the executor's own Python, net of it; alone: each call "
                  "repeated in a loop (default: in-situ on cupy, alone on numpy)")
    calibrate_cmd.add_argument("--calls", choices=("in-situ", "alone"), help=calls_help)
    validate_cmd = commands.add_parser("validate", help="predicted vs measured runtime for every algorithm family")
    validate_cmd.add_argument("--profile", help="profile from `depthgraph calibrate` (default: calibrate first)")
    validate_cmd.add_argument("--backend", choices=("numpy", "cupy"), default="numpy",
                              help="backend to calibrate for when no profile is given")
    validate_cmd.add_argument("--executors", default="levels,eager,dask",
                              help="comma-separated from levels, graphs (levels replaying CUDA graphs: cupy), "
                                   "eager, dask (default levels,eager,dask; empty with --cluster: the cluster only)")
    validate_cmd.add_argument("--only", help="comma-separated algorithm names (default every validation point)")
    validate_cmd.add_argument("--cluster", choices=("local", "cuda"),
                              help="also run dask on a one-worker cluster (cuda: dask-cuda, one GPU)")
    validate_cmd.add_argument("-o", "--output", default="validation", help="directory for CSV, plot, summary")
    validate_cmd.add_argument("--quick", action="store_true", help="tiny sizes (a smoke test)")
    validate_cmd.add_argument("--calls", choices=("in-situ", "alone"), help=f"when calibrating first: {calls_help}")
    render_cmd = commands.add_parser("render", help="draw one algorithm's graph, critical path highlighted")
    _algorithm_arguments(render_cmd, sizes, switches)
    render_cmd.set_defaults(algorithm_params=sizes + switches)
    render_cmd.add_argument("-o", "--output", help="file to write: .svg, .png, .pdf or .dot (default NAME.svg)")
    render_cmd.add_argument("--show-cost", action="store_true", help="add each node's work and depth")
    render_cmd.add_argument("--no-highlight", action="store_true", help="do not highlight the critical path")
    render_cmd.add_argument("--max-nodes", type=_size, default=MAX_NODES,
                            help=f"summarise graphs needing more boxes than this (default {MAX_NODES})")
    report_cmd = commands.add_parser("report", help="draw, tabulate, plot and time every algorithm into one HTML page")
    report_cmd.add_argument("-o", "--output", default="report", help="folder of index.html (default report)")
    report_cmd.add_argument("--backend", choices=("numpy", "cupy"), default="numpy",
                            help="array backend of the levels-executor timings (cupy: on a GPU)")
    report_cmd.add_argument("--validation", help="a validation CSV (`depthgraph validate`) to plot")
    for param in ("L", "T", "n", "d"):
        report_cmd.add_argument(f"--{param}", type=_size, help=f"size {param} of the table and sweeps (default: "
                                f"the report's{', or L' if param == 'T' else ''})")
    return parser


def _in_situ(args: argparse.Namespace) -> bool | None:
    """``--calls`` as `depthgraph.calibrate.calibrate`'s ``in_situ`` (None: the backend's default)."""
    return None if args.calls is None else args.calls == "in-situ"


def _calibrate(library: ModuleType, args: argparse.Namespace) -> str:
    validation = importlib.import_module(f"{LIBRARY}.validate")
    writable_path(args.output, "profile")  # a bad -o fails now, not after minutes of timing
    client = validation.cluster(args.cluster) if args.cluster else None
    try:
        profile = validation.calibrate_profile(args.backend, client, args.quick, progress=True, in_situ=_in_situ(args))
    finally:
        if client is not None:
            client.cluster.close()
            client.close()
    profile.save(args.output)
    return f"calibrated {len(profile.calls)} call kinds on {profile.device}: {args.output}"


def _validate(library: ModuleType, args: argparse.Namespace) -> str:
    from depthgraph.cost import Profile

    validation = importlib.import_module(f"{LIBRARY}.validate")
    executors = [e for e in args.executors.split(",") if e]
    unknown = [e for e in executors if e not in validation.EXECUTORS]
    if unknown or not executors and not args.cluster:
        raise ParameterError(f"unknown executor(s) {', '.join(unknown) or '(none given)'}; "
                             f"choose from {', '.join(validation.EXECUTORS)}")
    if args.profile and args.calls:
        raise ParameterError("--calls chooses how to calibrate; a profile given with --profile is already calibrated")
    profile = Profile.load(args.profile) if args.profile else None
    only = [name for name in (args.only or "").split(",") if name]
    for name in only:
        library.get(name)  # an unknown name: a clear error before any work
    results = validation.job(args.output, profile, args.backend, executors, args.cluster, args.quick, only=only,
                             in_situ=_in_situ(args))
    return validation.summary(results) + f"\nwritten to {args.output}/ (validation.csv, .png, .txt, profile.json)"


def analysis_report(library: ModuleType, name: str, params: dict) -> dict:
    """Build algorithm ``name`` of ``library`` at ``params`` and return its analysis as plain data."""
    spec = library.get(name)
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


def _report_text(report: dict) -> str:
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
    ] + [(f"bounds p={p}", f"{lo:,.1f} ≤ T_p ≤ {hi:,.1f}") for p, (lo, hi) in report["bounds"].items()]
    return "\n".join([f"{report['algorithm']}  ({sizes})"] + [f"  {k:<15} {v}" for k, v in rows])


def _table(library: ModuleType, args: argparse.Namespace) -> str:
    sizes = {p: getattr(args, p) or v for p, v in TABLE_SIZES.items()}
    sizes["T"] = args.T or sizes["L"]
    progress = lambda name: print(f"  sweeping {name} …", file=sys.stderr)
    return library.format_table(list(library.complexity_rows(sizes, progress=progress)))


def _render(library: ModuleType, args: argparse.Namespace) -> str:
    params = {p: getattr(args, p) for p in args.algorithm_params if getattr(args, p) is not None}
    spec = library.get(args.name)
    params = spec.params(**params)
    graph = spec.build(**params)
    analysis = analyze(graph)
    title = f"{args.name} (" + " ".join(f"{k}={v}" for k, v in params.items() if not isinstance(v, bool)) + ")"
    path = render(graph, args.output or f"{args.name}.svg", highlight=None if args.no_highlight else "critical",
                  show_cost=args.show_cost, max_nodes=args.max_nodes, analysis=analysis, title=title)
    return f"{path}: {len(graph.nodes):,} nodes, critical path of {len(analysis.critical_path):,}"


def _report(args: argparse.Namespace) -> str:
    report = importlib.import_module(f"{LIBRARY}.report")
    sizes = {p: getattr(args, p) for p in ("L", "T", "n", "d") if getattr(args, p) is not None}
    written = report.write(args.output, backend=args.backend, validation=args.validation, sizes=sizes)
    return f"{written.summary()}\n{written.index}"


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``depthgraph`` command; returns the exit status."""
    library = importlib.import_module(LIBRARY)
    args = _parser(library).parse_args(argv)
    try:
        if args.command == "list":
            for name in library.names():
                doc = library.get(name).doc.strip()
                print(f"{name:<24} {doc.splitlines()[0] if doc else ''}")
            return 0
        if args.command in ("calibrate", "validate"):
            print(_calibrate(library, args) if args.command == "calibrate" else _validate(library, args))
            return 0
        if args.command == "table":
            print(_table(library, args), end="")
            return 0
        if args.command in ("render", "report"):
            print(_render(library, args) if args.command == "render" else _report(args))
            return 0
        given = {p: v for p, v in vars(args).items() if p not in ("command", "name", "json") and v is not None}
        report = analysis_report(library, args.name, given)
    except DepthGraphError as exc:
        print(f"depthgraph: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2) if args.json else _report_text(report))
    return 0
