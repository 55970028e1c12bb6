"""The default classifiers against scikit-learn's, from 200 images to 60,000.

What a user gets by swapping ``LogisticRegression()`` for ``CNNClassifier()``
in ``make_pipeline(PixelNormalizer(), ...)``, default parameters on both
sides: mnistkit's ``CNNClassifier()`` and ``MLPClassifier()`` beside
scikit-learn's ``LogisticRegression()``, ``MLPClassifier()`` and ``SVC()``,
each behind the same `PixelNormalizer`, on training sets of each size::

    MNISTKIT_DATA=../shared/data python benchmarks/training_set_size.py \\
        --dataset mnist fashion-mnist --sizes 500 2000 10000 --seeds 0 1 \\
        --output training-set-size

MNIST and Fashion-MNIST train on a stratified sample of their training
images and are scored on their test images (all 10,000, or ``--n-test``).
The 1,797 bundled 8x8 digits have no test set of that size: each seed draws
its own stratified training sample and scores on all the other digits, so
that ``--seeds 0 1 2 3`` scores 1,000 training digits on 3,188 predictions.

It prints a Markdown table (mean accuracy and its standard deviation over
the seeds, the test predictions they sum to, the median fit seconds), naming
the CPU, and with ``--output DIR`` writes ``results.csv`` (a row per fit),
``results.md`` and ``accuracy_vs_training_set_size.png``; ``--results``
draws the table and plot of earlier runs' ``results.csv`` files together.
"""

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SklearnMLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC

from mnistkit import (
    CNNClassifier,
    MLPClassifier,
    PixelNormalizer,
    load_digits_images,
    load_train_test,
    machine,
)

DATASETS = ("mnist", "fashion-mnist", "digits")

# Each model with its default parameters but the seed, in the table's order.
MODELS = {
    "mnistkit CNNClassifier()": lambda seed: CNNClassifier(random_state=seed),
    "mnistkit MLPClassifier()": lambda seed: MLPClassifier(random_state=seed),
    "sklearn LogisticRegression()": lambda seed: LogisticRegression(),
    "sklearn MLPClassifier()": lambda seed: SklearnMLPClassifier(random_state=seed),
    "sklearn SVC()": lambda seed: SVC(),
}


def training_and_test(dataset, n_train, n_test, seed):
    """Raw pixels of `n_train` training and the test images for one seed."""
    if dataset == "digits":
        X, y = load_digits_images("all", return_X_y=True)
        return train_test_split(X, y, train_size=n_train, stratify=y, random_state=seed)
    data = load_train_test(dataset, n_train=n_train, n_test=n_test, random_state=seed)
    return data.X_train, data.X_test, data.y_train, data.y_test


def run(datasets, sizes, seeds, n_test, models, log=print):
    """A row per data set, size, seed and model: accuracy, fit seconds."""
    rows = []
    for dataset in datasets:
        max_value = 16 if dataset == "digits" else 255
        for n_train in sizes:
            for seed in seeds:
                X_train, X_test, y_train, y_test = training_and_test(
                    dataset, n_train, n_test, seed
                )
                for name in models:
                    model = make_pipeline(
                        PixelNormalizer(max_value=max_value), MODELS[name](seed)
                    )
                    start = time.perf_counter()
                    model.fit(X_train, y_train)
                    fit_s = time.perf_counter() - start
                    accuracy = model.score(X_test, y_test)
                    # What "auto" took, for mnistkit's networks.
                    final = model[-1]
                    network = hasattr(final, "batch_size_")
                    rows.append(
                        dict(
                            dataset=dataset,
                            n_train=len(y_train),
                            seed=seed,
                            model=name,
                            accuracy=accuracy,
                            fit_s=fit_s,
                            n_test=len(y_test),
                            epochs=final.n_iter_ if network else None,
                            batch_size=final.batch_size_ if network else None,
                        )
                    )
                    log(
                        f"{dataset} {len(y_train)} seed {seed} {name}: "
                        f"{accuracy:.4f} in {fit_s:.1f} s"
                    )
    return pd.DataFrame(rows)


def summary_table(results):
    """The Markdown table: a row per data set and size, a column per model."""
    grouped = results.groupby(["dataset", "n_train", "model"], sort=False)
    summary = grouped.agg(
        mean=("accuracy", "mean"),
        std=("accuracy", "std"),
        fit_s=("fit_s", "median"),
        n_test=("n_test", "sum"),
    ).reset_index()
    models = list(dict.fromkeys(results["model"]))
    lines = [
        "| data set | training images | test predictions | "
        + " | ".join(models)
        + " |",
        "| --- | --- | --- | " + " | ".join("---" for _ in models) + " |",
    ]
    for (dataset, n_train), cells in summary.groupby(
        ["dataset", "n_train"], sort=False
    ):
        cells = cells.set_index("model")
        best_sklearn = (
            max(
                cells.loc[name, "mean"]
                for name in ("sklearn LogisticRegression()", "sklearn MLPClassifier()")
                if name in cells.index
            )
            if any(name.startswith("sklearn") for name in cells.index)
            else None
        )
        texts = []
        for name in models:
            cell = cells.loc[name]
            spread = "" if np.isnan(cell["std"]) else f" ± {cell['std']:.3f}"
            text = f"{cell['mean']:.3f}{spread} ({cell['fit_s']:.1f} s)"
            if name.startswith("mnistkit") and best_sklearn is not None:
                text += f", {100 * (cell['mean'] - best_sklearn):+.1f} pt"
            texts.append(text)
        lines.append(
            f"| {dataset} | {n_train:,} | {int(cells['n_test'].iloc[0]):,} | "
            + " | ".join(texts)
            + " |"
        )
    return "\n".join(lines)


def plot(results, path):
    """Accuracy against training-set size, a panel per data set."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = list(dict.fromkeys(results["dataset"]))
    figure, axes = plt.subplots(
        1, len(datasets), figsize=(4.5 * len(datasets), 3.8), squeeze=False
    )
    means = results.groupby(["dataset", "model", "n_train"], sort=False)[
        "accuracy"
    ].mean()
    for axis, dataset in zip(axes[0], datasets, strict=True):
        for model in dict.fromkeys(results["model"]):
            curve = means[dataset][model]
            style = "-o" if model.startswith("mnistkit") else "--."
            axis.plot(curve.index, curve.values, style, label=model)
        axis.set_xscale("log")
        sizes = sorted(results.loc[results["dataset"] == dataset, "n_train"].unique())
        axis.set_xticks(sizes, [f"{size:,}" for size in sizes])
        axis.minorticks_off()
        axis.set_title(dataset)
        axis.set_xlabel("training images")
        axis.grid(alpha=0.3)
    axes[0][0].set_ylabel("test accuracy")
    axes[0][-1].legend(fontsize="small", loc="lower right")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", nargs="+", choices=DATASETS, default=["mnist"])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500, 2000, 10000])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument(
        "--n-test",
        type=int,
        default=None,
        help="a stratified sample of this many test images; all by default",
    )
    parser.add_argument(
        "--models", nargs="+", choices=list(MODELS), default=list(MODELS)
    )
    parser.add_argument("--output", type=Path, help="folder for the results")
    parser.add_argument(
        "--results",
        type=Path,
        nargs="+",
        help="results.csv files of earlier runs: their table and plot, together, "
        "instead of a run",
    )
    args = parser.parse_args(argv)

    if args.results:
        results = pd.concat([pd.read_csv(path) for path in args.results])
        heading = (
            f"Default parameters on both sides; {', '.join(map(str, args.results))}"
        )
    else:
        heading = f"Default parameters on both sides; {machine.describe_machine()}"
        print(heading, flush=True)
        results = run(
            args.dataset,
            args.sizes,
            args.seeds,
            args.n_test,
            args.models,
            log=lambda line: print(line, flush=True),
        )
    heading += (
        ".\nAccuracy: mean ± standard deviation over the seeds; fit time: median; "
        "pt: mnistkit's accuracy minus the better of scikit-learn's "
        "LogisticRegression() and MLPClassifier(), in points."
    )
    table = summary_table(results)
    print(f"\n{heading}\n\n{table}")
    if args.output:
        args.output.mkdir(parents=True, exist_ok=True)
        results.to_csv(args.output / "results.csv", index=False)
        (args.output / "results.md").write_text(f"{heading}\n\n{table}\n")
        plot(results, args.output / "accuracy_vs_training_set_size.png")


if __name__ == "__main__":
    main()
