"""
Grid search over CNN hyperparameters in a Pipeline
==================================================

`PixelNormalizer` and `CNNClassifier` in one scikit-learn `Pipeline`, tuned by
`GridSearchCV` like any other estimator: the parameters are flat, so the grid
names them directly (``cnnclassifier__learning_rate``). Cross-validation
stratifies, because the CNN is a classifier to scikit-learn.

This runs on the 8x8 digits bundled with scikit-learn, in about 30 seconds
on 2 CPU cores; on MNIST, load it with `mnistkit.load_mnist` instead.

Run as a script, it takes three options: ``--n-jobs 2`` fits two candidates
at a time in local processes, ``--scheduler tcp://HOST:8786`` sends the fits
to the workers of a Dask cluster (``pip install "mnistkit[distributed]"``),
and ``--epochs 2`` makes each fit shorter, for a quick look.
The estimators are the same either way; see "Scaling out" in the user guide.
"""

# %%
# The data and the pipeline
# -------------------------
import argparse
import time

import joblib
import pandas as pd
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline

from mnistkit import CNNClassifier, PixelNormalizer, load_digits_images

X, y = load_digits_images(return_X_y=True)  # pixels 0..255, like MNIST's
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
pipeline = make_pipeline(
    PixelNormalizer(), CNNClassifier(epochs=20, batch_size=64, random_state=0)
)

# %%
# The search
# ----------
# Four candidates, three folds: twelve fits. Every fit is seeded by
# ``random_state``, so the search gives the same scores each time it runs.
search = GridSearchCV(
    pipeline,
    {
        "cnnclassifier__filters": [(8, 16), (16, 32)],
        "cnnclassifier__learning_rate": [0.003, 0.01],
    },
    cv=3,
)

# %%
# Where the fits run is joblib's choice, not the estimator's: one at a time
# here by default, in parallel processes with ``--n-jobs``, on a Dask cluster
# inside ``joblib.parallel_config(backend="dask")``.
parser = argparse.ArgumentParser(description="Grid search over CNN parameters.")
parser.add_argument("--n-jobs", type=int, help="fits at once on this machine")
parser.add_argument("--scheduler", help="Dask scheduler address, tcp://HOST:PORT")
parser.add_argument("--epochs", type=int, default=20, help="of each fit (20)")
args = parser.parse_args()
search.set_params(estimator__cnnclassifier__epochs=args.epochs)
if args.scheduler:
    from distributed import Client

    client = Client(args.scheduler)  # joblib's "dask" backend uses this client
    where = joblib.parallel_config(backend="dask")
else:
    where = joblib.parallel_config(n_jobs=args.n_jobs)
with where:
    start = time.perf_counter()
    search.fit(X_train, y_train)
    search_seconds = time.perf_counter() - start
if args.scheduler:
    client.close()
print(f"search: 12 fits and the refit in {search_seconds:.1f} s")
print("best parameters:", search.best_params_)
print(f"best cross-validated accuracy: {search.best_score_:.3f}")

# %%
# Every candidate's scores, from ``cv_results_``:
results = pd.DataFrame(search.cv_results_)
columns = ["param_cnnclassifier__filters", "param_cnnclassifier__learning_rate"]
table = results[columns + ["mean_test_score", "std_test_score", "rank_test_score"]]
print(table.sort_values("rank_test_score").to_string(index=False))

# %%
# The refitted best pipeline on the held-out quarter
# --------------------------------------------------
print(f"test accuracy: {search.score(X_test, y_test):.3f}")

# %%
# Mean cross-validated accuracy of each candidate, with its standard deviation
# across the folds:
labels = [
    f"filters {filters}\nlr {learning_rate}"
    for filters, learning_rate in zip(
        results["param_cnnclassifier__filters"],
        results["param_cnnclassifier__learning_rate"],
        strict=True,
    )
]
axes = results.plot.barh(
    y="mean_test_score", xerr="std_test_score", legend=False, figsize=(6, 3)
)
axes.set_yticks(range(len(labels)), labels)
axes.set_xlabel("mean cross-validated accuracy")
axes.set_xlim(0.8, 1.0)
axes.figure.tight_layout()
