"""Predicted vs measured runtime for every algorithm family (a benchmark, not a test).

    python bench/validate.py [--profile profile.json] [--backend cupy] [--cluster cuda] [-o DIR]

The same job as ``depthgraph validate`` (`algorithms.validate.job`): calibrate unless a profile
is given, then predict and measure every point under each executor, and write the CSV, plot and
summary into DIR. Under ``if __name__ == "__main__"``: ``--cluster`` spawns worker processes.
"""

import sys

from depthgraph.cli import main

if __name__ == "__main__":
    sys.exit(main(["validate", *sys.argv[1:]]))
