"""This checkout beside an earlier one: fit-time ratios, predict latency, memory.

Runs the same measurements on two checkouts of mnistkit, in one command, on
the same machine, the checkouts taking turns:

- each checkout's own ``benchmarks/cpu_benchmark.py`` (the Keras example,
  scikeras and ``CNNClassifier`` on the same network, the presets, and the
  resident memory that a 30-fit ``GridSearchCV`` leaves behind), from which
  the per-round fit-time ratios against the Keras example of the same round
  are read;
- the median latency of ``predict`` on 1 and 32 images of the default
  ``CNNClassifier`` and ``MLPClassifier``, and the resident memory that the
  same 30-fit search leaves behind in a process of its own, measured here
  through the public API alone, so that the code measuring is the same for
  both.

Each checkout runs in processes of its own, with its directory first on
``PYTHONPATH``; make the earlier one with ``git worktree add ../base main~1``
(or any commit)::

    MNISTKIT_DATA=../shared/data python benchmarks/compare_checkouts.py \\
        --baseline ../base

Ratios on this page's table are this checkout's figure over the baseline's:
below 1 is faster (or smaller).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parents[1]

# What the latency probe runs in each checkout's own process.
LATENCY_PROBE = """
import statistics, time
import mnistkit
from mnistkit import CNNClassifier, MLPClassifier, load_train_test
data = load_train_test("mnist", n_train={n_train}, random_state=0)
X, y, X_test = data.X_train / 255.0, data.y_train, data.X_test / 255.0
figures = {{"package": mnistkit.__file__}}
for name, model in [("cnn", CNNClassifier(random_state=0)),
                    ("mlp", MLPClassifier(random_state=0))]:
    model.fit(X, y)
    for n in (1, 32):
        rows = X_test[:n]
        model.predict(rows)
        times = []
        for _ in range({calls}):
            start = time.perf_counter()
            model.predict(rows)
            times.append(time.perf_counter() - start)
        figures[f"{{name}} predict {{n}} image(s), ms"] = 1000 * statistics.median(
            times
        )
print("FIGURES " + json.dumps(figures))
"""


# The 30-fit grid search of cpu_benchmark.py, in a process of its own: the
# memory a search leaves behind depends on what the process did before it
# (within cpu_benchmark.py's run, tens of MiB either way), less so here.
MEMORY_PROBE = """
import gc, numpy as np
from sklearn.model_selection import GridSearchCV
from mnistkit import load_train_test, make_preset
def resident():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096
data = load_train_test("mnist", n_train=3000, random_state=0)
X, y = data.X_train / 255.0, data.y_train
estimator = make_preset("cnn-fast").fit(X, y)
gc.collect()
before = resident()
grid = {{"learning_rate": list(np.geomspace(0.002, 0.03, 10))}}
GridSearchCV(estimator, grid, cv=3, refit=False, n_jobs=1).fit(X, y)
gc.collect()
print("FIGURES " + json.dumps({{"search memory growth, own process, MiB":
                               (resident() - before) / 2**20}}))
"""


def run_in(checkout, args, *, env_extra=None, log=None):
    """Run ``python ARGS`` with `checkout` first on the path; its stdout."""
    env = dict(os.environ, PYTHONPATH=str(checkout), **(env_extra or {}))
    result = subprocess.run(
        [sys.executable, *args],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if log is not None:
        log.write_text(result.stdout + result.stderr)
    if result.returncode:
        raise RuntimeError(
            f"{' '.join(args[:2])} failed in {checkout}:\n{result.stderr[-3000:]}"
        )
    return result.stdout


def probe_figures(checkout, code):
    """The figures that a probe's `code` prints, run in `checkout`'s process."""
    output = run_in(checkout, ["-c", "import json\n" + code])
    line = next(line for line in output.splitlines() if line.startswith("FIGURES "))
    return json.loads(line.removeprefix("FIGURES "))


def cpu_benchmark_figures(checkout, output, options):
    """Median per-round fit-time ratios and the search's memory, from one run."""
    output.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    text = run_in(
        checkout,
        ["benchmarks/cpu_benchmark.py", *options, "--output", str(output)],
        log=output / "log.txt",
    )
    figures = {"cpu_benchmark.py wall s": time.perf_counter() - start}
    results = pd.read_csv(output / "results.csv")
    per_round = results.pivot_table(index="round", columns="model", values="fit_s")
    for model in per_round.columns:
        if model != "keras-example":
            ratio = per_round[model] / per_round["keras-example"]
            figures[f"fit s {model} / keras-example (median)"] = ratio.median()
    outside = results.assign(outside_s=results.fit_s - results.keras_fit_s)
    for model, rows in outside.groupby("model"):
        if model in ("scikeras", "mnistkit-example"):
            figures[f"s outside keras.Model.fit, {model} (median)"] = rows[
                "outside_s"
            ].median()
    for line in text.splitlines():
        if "resident memory growth over" in line:
            figures["search memory growth, MiB"] = float(
                line.rsplit(":", 1)[1].split()[0]
            )
    return figures


def _median_cell(values):
    """The median of `values`, and a table cell: the median, then each value."""
    if not values:
        return None, ""
    median = statistics.median(values)
    each = ", ".join(f"{value:.3f}" for value in values)
    return median, f"{median:.3f} ({each})"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--baseline", required=True, help="an earlier checkout")
    parser.add_argument("--n-train", type=int, default=12_000)
    parser.add_argument("--repeats", type=int, default=3, help="benchmark rounds")
    parser.add_argument("--calls", type=int, default=300, help="predict calls")
    parser.add_argument("--output", default="compare-checkouts-results")
    parser.add_argument(
        "--rounds", type=int, default=2, help="whole comparisons, medians reported"
    )
    args = parser.parse_args(argv)
    checkouts = {"baseline": Path(args.baseline).resolve(), "this": HERE}
    output = Path(args.output).resolve()
    options = [
        "--n-train",
        str(args.n_train),
        "--repeats",
        str(args.repeats),
        "--accurate-seeds",
        "0",
        "--wrappers",
        "--memory-fits",
        "30",
    ]
    figures = {name: {} for name in checkouts}
    for round_ in range(args.rounds):
        # The checkouts take turns at going first, so that a drift of the
        # machine favours neither.
        order = ["baseline", "this"][:: 1 if round_ % 2 == 0 else -1]
        for name in order:
            latency = LATENCY_PROBE.format(n_train=args.n_train, calls=args.calls)
            measured = probe_figures(checkouts[name], latency)
            measured.update(probe_figures(checkouts[name], MEMORY_PROBE.format()))
            measured.update(
                cpu_benchmark_figures(
                    checkouts[name], output / f"{name}-{round_}", options
                )
            )
            for key, value in measured.items():
                figures[name].setdefault(key, []).append(value)
            print(f"round {round_}: measured {measured.pop('package')}", flush=True)

    from mnistkit.machine import describe_machine

    keys = [key for key in figures["this"] if key != "package"]
    lines = [
        f"Machine: {describe_machine()}; Python {sys.version.split()[0]}.",
        f"baseline: {checkouts['baseline']}; this: {checkouts['this']}; "
        f"{args.rounds} rounds, medians (each round's figures in brackets).",
        "",
        "| figure | baseline | this checkout | this / baseline |",
        "| --- | --- | --- | --- |",
    ]
    for key in keys:
        base = _median_cell(figures["baseline"].get(key, []))
        this = _median_cell(figures["this"][key])
        ratio = f"{this[0] / base[0]:.3f}" if base[0] else ""
        lines.append(f"| {key} | {base[1]} | {this[1]} | {ratio} |")
    text = "\n".join(lines)
    output.mkdir(parents=True, exist_ok=True)
    (output / "comparison.md").write_text(text + "\n")
    print("\n" + text)


if __name__ == "__main__":
    main()
