"""Grid searches on a Dask cluster through joblib, with the estimators unchanged.

The cluster is a `distributed.LocalCluster` of two worker processes on
127.0.0.1, set up as the user guide says: TensorFlow on one thread per worker
(`mnistkit.cluster.worker_environment`) and scattered data kept on both
workers (`mnistkit.cluster.KeepScatteredData`). TensorFlow orders its sums by
thread, so the one-process reference search runs in a fresh process with the
workers' thread settings. The log loss, unlike accuracy, changes with the last
bits of the weights, so equal scores mean equal fits.
"""

import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import ProcessPoolExecutor

import dask
import joblib
import numpy as np
import pytest
from distributed import Client, LocalCluster, get_task_stream
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from conftest import FAST_CNN
from mnistkit import CNNClassifier, PixelNormalizer, load_digits_images
from mnistkit.cli import main
from mnistkit.cluster import (
    ACTIVE_MEMORY_MANAGER_POLICIES,
    KeepScatteredData,
    worker_environment,
)

# The tests share a cluster (module fixtures): pytest-xdist's loadgroup
# distribution sends them to one worker.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("dask-cluster")]

THREAD_SETTINGS = worker_environment(threads_per_worker=1)


def make_cnn_pipeline():
    return make_pipeline(
        PixelNormalizer(), CNNClassifier(**{**FAST_CNN, "epochs": 5}, random_state=0)
    )


def make_search():
    """Two candidates, three folds: six fits of a small seeded CNN."""
    grid = {"cnnclassifier__filters": [(8,), (16,)]}
    scoring = {"accuracy": "accuracy", "log_loss": "neg_log_loss"}
    return GridSearchCV(
        make_cnn_pipeline(), grid, cv=3, scoring=scoring, refit="accuracy"
    )


def search_outcome(search):
    """best_params_ and every test score of cv_results_."""
    scores = {
        key: list(values)
        for key, values in search.cv_results_.items()
        if "test_" in key
    }
    return search.best_params_, scores


def run_in_this_process(X, y):
    """The search with n_jobs=None (one fit after another), and one fit's weights."""
    outcome = search_outcome(make_search().fit(X, y))
    return outcome, network_weights(make_cnn_pipeline().fit(X, y))


def network_weights(pipeline):
    return pipeline[-1].model_.get_weights()


@pytest.fixture(scope="module")
def images():
    X, y = load_digits_images("train", return_X_y=True)
    return X[:600], y[:600]


@pytest.fixture(scope="module")
def reference(images):
    """`run_in_this_process` in a fresh process with the workers' settings."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in THREAD_SETTINGS.items():
            patch.setenv(name, value)  # inherited by the process spawned below
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(1, mp_context=context) as one_process:
            return one_process.submit(run_in_this_process, *images).result()


@pytest.fixture(scope="module")
def cluster():
    policy = {"class": "mnistkit.cluster.KeepScatteredData"}
    with dask.config.set({ACTIVE_MEMORY_MANAGER_POLICIES: [policy]}):
        with LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            # Any free port: None would still take 8787, which another test
            # process may hold (distributed then warns).
            dashboard_address=":0",
            env=THREAD_SETTINGS,
        ) as cluster:
            yield cluster


@pytest.fixture
def client(cluster):
    with Client(cluster) as client:
        client.wait_for_workers(2, timeout=60)
        yield client


def test_reference_uses_the_log_loss(reference):
    (best_params, scores), _ = reference
    assert best_params
    assert all(score < 0 for score in scores["mean_test_log_loss"])


def test_search_on_dask_matches_one_process(client, images, reference):
    search = make_search()
    with get_task_stream(client) as tasks, joblib.parallel_config(backend="dask"):
        search.fit(*images)
    assert search_outcome(search) == reference[0]
    # Both workers took fits: the search was really spread out.
    assert {task["worker"] for task in tasks.data} == set(client.run(os.getpid))


def test_search_on_a_worker_of_two_threads_matches_one_process(images, reference):
    # One worker process running two fits at a time, in two threads.
    with (
        LocalCluster(
            n_workers=1,
            threads_per_worker=2,
            processes=True,
            host="127.0.0.1",
            dashboard_address=":0",
            env=THREAD_SETTINGS,
        ) as cluster,
        Client(cluster) as client,
    ):
        search = make_search()
        with get_task_stream(client) as tasks, joblib.parallel_config(backend="dask"):
            search.fit(*images)
    assert search_outcome(search) == reference[0]
    # The fits really ran side by side: some overlapped in time.
    spans = sorted(
        (span["start"], span["stop"])
        for task in tasks.data
        for span in task["startstops"]
        if span["action"] == "compute"
    )
    assert any(
        later_start < stop
        for (_, stop), (later_start, _) in zip(spans, spans[1:], strict=False)
    )


def test_search_survives_a_killed_worker(client, images, reference):
    search, errors = make_search(), []

    def run_search():
        try:
            with joblib.parallel_config(backend="dask"):
                search.fit(*images)
        except BaseException as error:  # re-raised in the test's thread
            errors.append(error)

    pids = client.run(os.getpid)
    thread = threading.Thread(target=run_search, daemon=True)
    thread.start()
    victim = _wait_for_busy_worker(client, timeout=120)
    # Dask cannot recompute scattered data; KeepScatteredData copies it to the
    # other worker within a cycle of the memory manager.
    _wait_for_copies_of_scattered_data(client, timeout=30)
    assert client.processing()[victim], "the worker to kill must be fitting"
    os.kill(pids[victim], signal.SIGKILL)

    thread.join(timeout=600)
    assert not thread.is_alive(), "the search hung after a worker died"
    assert not errors, errors
    assert victim not in client.scheduler_info()["workers"]  # it really died
    assert search_outcome(search) == reference[0]


def test_benchmark_command_fits_on_the_scheduler(client, tmp_path, capsys):
    with get_task_stream(client) as tasks:
        code = main(
            [
                "benchmark",
                "--dataset",
                "digits",
                "--n-train",
                "300",
                "--models",
                "mlp",
                "logreg",
                "--seeds",
                "2",
                "--scheduler",
                client.scheduler.address,
                "--output",
                str(tmp_path),
            ]
        )
    assert code == 0
    out = capsys.readouterr().out
    assert f"Fitting on the Dask cluster at {client.scheduler.address}" in out
    results = (tmp_path / "results.csv").read_text().splitlines()
    assert len(results) == 1 + 2 * 2  # header, two models, two seeds each
    assert len(tasks.data) >= 4  # the four fits ran as tasks on the cluster


def test_search_command_fits_on_the_scheduler(client, tmp_path, capsys):
    with get_task_stream(client) as tasks:
        code = main(
            ["search", "--model", "logreg", "--dataset", "digits", "--n-train", "300"]
            + ["--param", "C=0.1,1", "--cv", "2", "--quiet"]
            + ["--scheduler", client.scheduler.address, "--output", str(tmp_path)]
        )
    assert code == 0
    assert "GridSearchCV of logreg: 2 candidates" in capsys.readouterr().out
    assert (tmp_path / "best_model.mnistkit").exists()
    assert len(tasks.data) >= 4  # the four fits ran as tasks on the cluster


def test_benchmark_command_names_an_unreachable_scheduler(
    tmp_path, capsys, monkeypatch
):
    # Nothing listens on port 9: the message, not Dask's retries, is tested.
    monkeypatch.setattr("mnistkit.cli._SCHEDULER_TIMEOUT_S", 2)
    code = main(
        ["benchmark", "--dataset", "digits", "--models", "logreg"]
        + ["--scheduler", "tcp://127.0.0.1:9", "--output", str(tmp_path)]
    )
    assert code == 2
    error = capsys.readouterr().err
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in error
    assert not (tmp_path / "results.csv").exists()


def test_fit_on_a_worker_is_the_fit_in_one_process(client, images, reference):
    X, y = images
    # Sent to the worker and back with cloudpickle, unfitted then fitted.
    fitted = client.submit(make_cnn_pipeline().fit, X, y).result()
    # The weights, not predictions: this process may run TensorFlow on more
    # threads than the worker did, and its sums are ordered differently.
    weights, expected = network_weights(fitted), reference[1]
    assert len(weights) == len(expected)
    for array, expected_array in zip(weights, expected, strict=True):
        np.testing.assert_array_equal(array, expected_array)


def _wait_for_busy_worker(client, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        busy = [worker for worker, tasks in client.processing().items() if tasks]
        if busy:
            return busy[0]
        time.sleep(0.05)
    raise AssertionError(f"no worker started a fit in {timeout} s")


def _wait_for_copies_of_scattered_data(client, timeout):
    def copies(dask_scheduler):
        scattered = [
            task
            for task in dask_scheduler.tasks.values()
            if task.state == "memory" and task.run_spec is None
        ]
        return [len(task.who_has) for task in scattered]

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        counts = client.run_on_scheduler(copies)
        if counts and min(counts) >= 2:
            return
        time.sleep(0.1)
    raise AssertionError(f"scattered data not copied to both workers: {counts}")


def test_keep_scattered_data_only_copies_what_dask_cannot_recompute():
    from types import SimpleNamespace

    def task(state, run_spec, holders):
        return SimpleNamespace(state=state, run_spec=run_spec, who_has=set(holders))

    scattered, computed = task("memory", None, "a"), task("memory", "f()", "a")
    tasks = dict(s=scattered, c=computed, w=task("waiting", None, ""))
    policy = KeepScatteredData(copies=3)
    policy.manager = SimpleNamespace(
        scheduler=SimpleNamespace(tasks=tasks, workers=dict.fromkeys("ab"))
    )
    suggestions = list(policy.run())
    # One copy more, to the only other worker; never more than the workers.
    assert [(s.op, s.ts) for s in suggestions] == [("replicate", scattered)]
