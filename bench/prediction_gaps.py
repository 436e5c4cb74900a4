"""Where the cost model misses, kind of group by kind of group.

Run from the repository root, on the machine the profile was calibrated on::

    python bench/prediction_gaps.py --profile profile.json                  # NumPy profile
    python bench/prediction_gaps.py --profile profile.json --top 30         # CuPy profile: also replay
    python bench/prediction_gaps.py --profile profile.json --synthetic      # and the overhead ladders
    python bench/prediction_gaps.py --profile profile.json --in-thread      # groups run in a worker thread

This is a diagnostic benchmark, not a test: it prints tables. For small (launch-bound) graphs of
every family — not the validation sizes — it runs each group of the levels schedule as the
executor does and times it on the host (``--passes`` passes, each scaled to the profile's host
speed by a reference taken before it, `depthgraph.timing`), and on a GPU also replays each
capturable group alone (copies of it in one CUDA graph, timed by events, as calibration times a
footprint). Each group is compared with its modelled time — the host timeline of its calls and
overheads, and the device time of its calls replayed — and the groups are pooled by kind: (op,
form, number of calls). The tables list
the kinds by the time the model misses over all graphs, so the first rows are where a better
model would gain most. Replay's kinds are what ``depthgraph.predict(..., cuda_graph=True)`` costs.

``--synthetic`` adds the levels executor's overhead ladders (`depthgraph.overheads`) with 0, 1
and 2 copies per step, whose gather groups the overhead fit is made from, beside the algorithms'
own gather groups. ``--in-thread`` runs the groups in a worker thread, as a Dask task runs on a
threaded scheduler or a distributed worker, rather than in the main thread.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import pathlib
import statistics
import sys
import time
from typing import Any

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import algorithms
from depthgraph.cli import positive_int
from depthgraph.cost import Profile
from depthgraph.executors import levels
from depthgraph.executors.backend import bind_inputs
from depthgraph.ir import Graph
from depthgraph.overheads import ladder, overhead_inputs
from depthgraph.prediction import LEVELS_OVERHEADS, Unit, _overheads, _Timeline, group_calls, group_counts
from depthgraph.timing import Clock

CASES = [("recurrence", {"L": 64, "n": 16}), ("conv-fft", {"L": 1024}), ("kernel-doubling", {"L": 1024, "n": 16}),
         ("kernel-doubling", {"L": 1024, "n": 512}), ("kernel-diagonal", {"L": 1024, "n": 64}),
         ("scan-blelloch", {"L": 256, "n": 16}), ("ssm-ltv", {"L": 256, "n": 16}),
         ("ridge-sherman-morrison", {"T": 64, "d": 16}), ("ridge-sherman-morrison", {"T": 32, "d": 256}),
         ("ridge-causal-solve", {"T": 64, "d": 16})]
PER_CALL = 1e-5  # a guess of one group's device seconds: sizes each graph to ~100 replayed copies


def kind(group: levels.Group) -> tuple:
    calls = group_calls(group)
    return group.op, "direct" if group.direct is not None else calls[-1].form, len(calls)


def modelled(group: levels.Group, profile: Profile, overheads: dict, replayed: bool) -> float:
    """The group's modelled host seconds, or with ``replayed`` its device seconds from a CUDA graph."""
    line = _Timeline(profile)  # one unit on a fresh timeline: what `predict` charges this group
    line.run(Unit("", 0, group_calls(group), {} if replayed else group_counts(group)), overheads, replayed)
    return line.device if replayed else line.host


def cases(synthetic: bool, xp: Any) -> list[tuple[str, str, Graph, dict]]:
    """(name, label, graph, inputs on ``xp``) of every graph probed: `CASES`, then with
    ``synthetic`` ladders of 50 steps with 0, 1 and 2 copies per step (`depthgraph.overheads.ladder`)."""
    out = []
    for name, sizes in CASES:
        spec = algorithms.get(name)
        params = spec.params(**sizes)
        inputs = {k: xp.asarray(v) for k, v in spec.inputs(seed=0, **params).items()}
        out.append((name, f"{name} {' '.join(f'{k}={v}' for k, v in sizes.items())}", spec.build(**params), inputs))
    for copies in (0, 1, 2) if synthetic else ():
        graph = ladder(16, 50, copies)
        out.append((f"ladder-{copies}", f"ladder width=16 length=50 copies={copies}", graph, overhead_inputs(graph, xp)))
    return out


def host_times(plan: levels.Schedule, bound: dict, clock: Clock, profile: Profile, passes: int) -> list[float]:
    """Median host seconds of each group, run in order as the levels executor runs it, after a
    warm-up pass (kernels compiled, FFT plans and solver handles made: once per process)."""
    slabs = levels.load(plan, bound, clock.xp)
    for group in plan.groups:
        levels.run_group(group, slabs, plan, clock.xp)
    times: list[list[float]] = [[] for _ in plan.groups]
    for _ in range(passes):
        scale = profile.host_reference / clock.reference()
        slabs = levels.load(plan, bound, clock.xp)
        clock.sync()
        for group, mine in zip(plan.groups, times):
            start = time.perf_counter()
            levels.run_group(group, slabs, plan, clock.xp)
            mine.append((time.perf_counter() - start) * scale)
        clock.sync()
    return [statistics.median(t) for t in times]


def replay_times(plan: levels.Schedule, bound: dict, clock: Clock, profile: Profile) -> list[float | None]:
    """Device seconds of each capturable group replayed alone, as calibration times a footprint
    (`depthgraph.timing.Clock.replayed`); None for the others."""
    from depthgraph.executors.cuda_graphs import CapturableCupy, captures

    xp = CapturableCupy(clock.xp)
    slabs = levels.load(plan, bound, xp)
    out: list[float | None] = []
    for group in plan.groups:
        replayable = captures(group) and all(profile.replays(call.op) for call in group_calls(group))
        out.append(clock.replayed(lambda g=group: levels.compute(g, slabs, plan, xp), PER_CALL, 5, 3)
                   if replayable else None)
        levels.run_group(group, slabs, plan, xp)
    clock.sync()
    return out


def table(title: str, pooled: dict[tuple, list[Any]], top: int) -> None:
    """The ``top`` kinds the model misses most either way, by time missed: under-modelled first."""
    print(f"\n{title}: the {top} kinds missed most, by time missed (measured − modelled, over all graphs)")
    print(f"  {'op, form, calls':<34}{'groups':>7}{'measured µs':>13}{'modelled µs':>13}{'missed ms':>11}  graphs")
    largest = sorted(pooled.items(), key=lambda kv: -abs(kv[1][1] - kv[1][2]))[:top]
    for key, (n, measured, model, names) in sorted(largest, key=lambda kv: kv[1][2] - kv[1][1]):
        print(f"  {', '.join(map(str, key)):<34}{n:>7}{measured / n * 1e6:>13.1f}{model / n * 1e6:>13.1f}"
              f"{(measured - model) * 1e3:>11.3f}  {', '.join(sorted(names))}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", required=True, help="from `depthgraph calibrate` on this machine")
    parser.add_argument("--passes", type=positive_int, default=5)
    parser.add_argument("--top", type=positive_int, default=15, help="kinds listed: those missed most, either way")
    parser.add_argument("--synthetic", action="store_true", help="also the overhead ladders (module doc)")
    parser.add_argument("--in-thread", action="store_true", help="run the groups in a worker thread (module doc)")
    args = parser.parse_args()
    profile = Profile.load(args.profile)
    clock = Clock(profile.backend)
    overheads = _overheads(profile, "levels", LEVELS_OVERHEADS)
    replay_overheads = {**overheads, **_overheads(profile, "graphs", ("launch", "kernel"))} if clock.gpu else {}
    pooled: dict[str, dict[tuple, list[Any]]] = {"host": {}, "replay": {}}
    # One worker thread, kept for the whole run as a Dask worker keeps its threads.
    thread = concurrent.futures.ThreadPoolExecutor(1) if args.in_thread else None
    print(f"{clock.device}; profile of {profile.date}; groups run in {'a worker' if thread else 'the main'} thread")
    print(f"  {'graph':<44}{'groups':>7}{'host measured ms':>18}{'modelled ms':>13}")
    for name, label, graph, inputs in cases(args.synthetic, clock.xp):
        plan = levels.schedule(graph)
        bound = bind_inputs(graph, inputs, clock.xp)
        timed = (plan, bound, clock, profile, args.passes)
        measured = {"host": thread.submit(host_times, *timed).result() if thread else host_times(*timed)}
        if clock.gpu:
            measured["replay"] = replay_times(plan, bound, clock, profile)
        for side, times in measured.items():
            for group, seconds in zip(plan.groups, times):
                if seconds is not None:
                    model = modelled(group, profile, replay_overheads if side == "replay" else overheads,
                                     side == "replay")
                    entry = pooled[side].setdefault(kind(group), [0, 0.0, 0.0, set()])
                    entry[0] += 1
                    entry[1] += seconds
                    entry[2] += model
                    entry[3].add(name)
        host_model = sum(modelled(g, profile, overheads, False) for g in plan.groups)
        print(f"  {label:<44}{len(plan.groups):>7}{sum(measured['host']) * 1e3:>18.3f}{host_model * 1e3:>13.3f}")
    table("Host (levels executor), at the profile's host speed", pooled["host"], args.top)
    if clock.gpu:
        table("Device (each group replayed alone from a CUDA graph)", pooled["replay"], args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
