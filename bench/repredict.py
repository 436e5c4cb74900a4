"""Predict a validation run's points again with another profile, against the times it measured.

Run from the repository root (no device needed: the graphs are only predicted)::

    python bench/repredict.py --csv validation.csv --profile validated.json --other other.json
    python bench/repredict.py --csv validation.csv --profile validated.json --refit

This is a diagnostic benchmark, not a test: it prints a table. Two profiles calibrated on one
host minutes apart (say, one in situ and one timed alone, `depthgraph.calibrate`) are compared
on the same measurements: the levels rows of ``--csv``, measured with ``--profile``. Each is
taken to the host's speed while the points were measured: ``--profile`` by the factor the run
recorded (``host_speed``), ``--other`` by its own factor, measured from the speed graphs' times
the run kept (`depthgraph.overheads.host_speed`; column ``speed_graphs_s``) — or, for a CSV from
before they were kept, estimated as the recorded factor times the median ratio of the two
profiles' predictions of the speed graphs. Errors as calibrated (no speed factor) are printed too. ``--refit`` compares with ``--profile`` fitted again from its own
measurements by this version (`depthgraph.calibrate.refit`): a change to the fits judged on
measurements already taken.
"""

from __future__ import annotations

import argparse
import csv
import pathlib
import statistics
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import algorithms
import depthgraph
from depthgraph.calibrate import refit
from depthgraph.cost import Profile
from depthgraph.errors import DepthGraphError
from depthgraph.overheads import SPEED_GRAPHS, host_speed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--csv", required=True, help="validation.csv of a `depthgraph validate` run")
    parser.add_argument("--profile", required=True, help="the profile that run validated")
    other_profile = parser.add_mutually_exclusive_group(required=True)
    other_profile.add_argument("--other", help="another profile, calibrated on the same host")
    other_profile.add_argument("--refit", action="store_true", help="--profile fitted again by this version")
    args = parser.parse_args()
    try:
        with open(args.csv, newline="") as file:
            rows = [r for r in csv.DictReader(file) if r.get("executor") == "levels"]
        validated = Profile.load(args.profile)
        other = refit(validated) if args.refit else Profile.load(args.other)
    except (OSError, DepthGraphError) as exc:
        parser.exit(2, f"repredict.py: {exc}\n")
    if not rows:
        parser.exit(2, f"repredict.py: no levels rows in {args.csv}\n")
    speed = float(rows[0]["host_speed"])
    kept = rows[0].get("speed_graphs_s")
    if kept:
        try:
            other_speed, how = host_speed(other, [float(s) for s in kept.split()]), "measured"
        except DepthGraphError as exc:  # times of another set of speed graphs than this version's
            parser.exit(2, f"repredict.py: {exc}\n")
    else:
        other_speed, how = speed * statistics.median(depthgraph.predict(g, "levels", validated).seconds
                                                     / depthgraph.predict(g, "levels", other).seconds
                                                     for g in SPEED_GRAPHS), "estimated"
    profiles = {"validated": validated.at_host_speed(speed), "other": other.at_host_speed(other_speed),
                "validated as calibrated": validated, "other as calibrated": other}
    print(f"host speed: validated {speed:.2f} (recorded), other {other_speed:.2f} ({how})")
    print(f"  {'algorithm':24s}{'sizes':18s}{'measured ms':>12s}" + "".join(f"{name:>26s}" for name in profiles))
    errors: dict[str, list[float]] = {name: [] for name in profiles}
    for row in rows:
        spec = algorithms.get(row["algorithm"])
        sizes = {key: int(value) for key, value in (pair.split("=") for pair in row["sizes"].split())}
        graph = spec.build(**spec.params(**sizes))
        measured = float(row["measured_s"])
        cells = ""
        for name, profile in profiles.items():
            errors[name].append(depthgraph.predict(graph, "levels", profile).seconds / measured - 1)
            cells += f"{errors[name][-1]:>+26.1%}"
        print(f"  {row['algorithm']:24s}{row['sizes']:18s}{measured * 1e3:12.3f}{cells}")
    for name, values in errors.items():
        magnitudes = [abs(e) for e in values]
        print(f"{name}: {len(values)} points, median |error| {statistics.median(magnitudes):.1%}, "
              f"max {max(magnitudes):.1%}")


if __name__ == "__main__":
    main()
