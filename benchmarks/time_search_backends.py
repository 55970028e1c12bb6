"""Timing one grid search in one process, in two, and on a Dask cluster.

Runs the grid-search example (``examples/plot_grid_search.py``: twelve CNN fits on the
8x8 digits, then the refit) three ways, each in a fresh Python process, and
prints the seconds its search took:

- ``1 process``: one fit after another, TensorFlow on all cores;
- ``n_jobs=2``: two joblib (loky) worker processes, each with TensorFlow on
  all cores, as scikit-learn users would run it;
- ``Dask, 2 workers``: a `distributed.LocalCluster` of two worker processes
  on 127.0.0.1 with one TensorFlow thread each
  (`mnistkit.cluster.worker_environment`), started afresh for each run so no
  run finds TensorFlow already loaded.

The three take turns, ``--repeats`` times (default 3), and the medians are
printed, each as a fraction of the first way's (``--ways`` picks and orders
them: ``one-process``, ``n-jobs``, ``dask``). ``--epochs 2`` shortens the
example's fits, for a trial.
"""

import argparse
import re
import statistics
import subprocess
import sys
from pathlib import Path

import dask
from distributed import LocalCluster

from mnistkit.cluster import ACTIVE_MEMORY_MANAGER_POLICIES, worker_environment

EXAMPLE = Path(__file__).parents[1] / "examples" / "plot_grid_search.py"
WORKERS = 2


EXAMPLE_OPTIONS = []  # the example's own options, from this script's


def search_seconds(*options):
    """Run the example with `options`; the seconds its search took."""
    output = subprocess.run(
        [sys.executable, str(EXAMPLE), *EXAMPLE_OPTIONS, *options],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return float(re.search(r"search: .* in ([\d.]+) s", output).group(1))


def on_a_local_cluster():
    policy = {"class": "mnistkit.cluster.KeepScatteredData"}
    with dask.config.set({ACTIVE_MEMORY_MANAGER_POLICIES: [policy]}):
        with LocalCluster(
            n_workers=WORKERS,
            threads_per_worker=1,
            host="127.0.0.1",
            dashboard_address=":0",  # any free port; None still takes 8787
            env=worker_environment(threads_per_worker=1),
        ) as cluster:
            return search_seconds("--scheduler", cluster.scheduler_address)


# Command-line name: (the name printed, a function running the search once).
WAYS = {
    "one-process": ("1 process", lambda: search_seconds()),
    "n-jobs": (f"n_jobs={WORKERS}", lambda: search_seconds("--n-jobs", str(WORKERS))),
    "dask": (f"Dask, {WORKERS} workers", on_a_local_cluster),
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs of each (3)")
    parser.add_argument(
        "--ways",
        nargs="+",
        choices=list(WAYS),
        default=list(WAYS),
        help="the ways to run the search, the first the reference (all three)",
    )
    parser.add_argument("--epochs", type=int, help="of each fit (the example's 20)")
    args = parser.parse_args()
    if args.epochs is not None:
        EXAMPLE_OPTIONS.extend(["--epochs", str(args.epochs)])

    ways = {WAYS[way][0]: WAYS[way][1] for way in args.ways}
    seconds = {name: [] for name in ways}
    for repeat in range(args.repeats):
        for name, run in ways.items():
            seconds[name].append(run())
            print(f"run {repeat + 1}, {name}: {seconds[name][-1]:.1f} s", flush=True)

    print("\nsearch seconds (12 fits and the refit), median of", args.repeats)
    first = next(iter(seconds))
    reference = statistics.median(seconds[first])
    for name, values in seconds.items():
        median = statistics.median(values)
        print(f"{name:>16}: {median:6.1f} s  ({median / reference:.2f} of {first})")


# Dask's worker processes start by importing this file again: guard the run.
if __name__ == "__main__":
    main()
