"""Shared data and fast settings: scikit-learn's bundled 8x8 digits, offline.

Most fits in the tests train tiny networks for a few hundred steps, where
TensorFlow's graph optimizer (grappler) costs more than it saves: it rewrites
each new training graph before its first step. The tests switch it off, and
ran in about two thirds of the time. It changes how TensorFlow schedules the
same operations, not what they compute, and every comparison in the tests is
between fits made under this same setting. Tests that start a fresh
interpreter or a Dask worker run with TensorFlow's defaults.
"""

import importlib
import importlib.util
import inspect
import os
import pkgutil
import shutil
import signal
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from sklearn.datasets import load_digits

import mnistkit
from mnistkit import CNNClassifier, MLPClassifier

# Property-based tests draw the same examples on every run (derandomize), keep
# no database of failures on disk, and allow for fits that take a second.
settings.register_profile(
    "mnistkit",
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("mnistkit")


def pytest_configure(config):
    # In pytest's own process only: a process that imports this module to run
    # a test's function (the Dask tests' reference) keeps TensorFlow's default.
    from mnistkit.runtime import tf

    tf.config.optimizer.set_experimental_options({"disable_meta_optimizer": True})
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # pytest-xdist starts a worker per core: one TensorFlow thread each,
        # not a thread per core in every worker, which made the tier slower
        # by a tenth. (tests/test_reproducibility.py runs its threads test once
        # more with TensorFlow's defaults.)
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        # The same for the processes the tests start (scripts, commands,
        # fresh interpreters), which inherit the environment.
        from mnistkit.cluster import worker_environment

        os.environ.update(worker_environment(threads_per_worker=1))


# Small networks and few epochs: enough to learn the digits well above chance
# in a second or so per fit on a 2-core CPU. One step per call into
# TensorFlow: on a few hundred images, tracing the default loop of 8 costs
# more than it saves. Both compute in float32 on every machine (the MLP's
# default "auto" would take bfloat16 on some CPUs only), so that a test gets
# the same network everywhere; the bfloat16 tests ask for it.
FAST_CNN = dict(
    filters=(16,),
    dense_units=32,
    dropout=0.0,
    epochs=5,
    batch_size=32,
    learning_rate=0.02,
    steps_per_execution=1,
    dtype_policy="float32",
)
FAST_MLP = dict(
    hidden_layer_sizes=(32,),
    dropout=0.0,
    epochs=5,
    batch_size=32,
    learning_rate=0.02,
    steps_per_execution=1,
    dtype_policy="float32",
)


def fast_cnn(**params):
    return CNNClassifier(**{**FAST_CNN, "random_state": 0, **params})


def fast_mlp(**params):
    return MLPClassifier(**{**FAST_MLP, "random_state": 0, **params})


@pytest.fixture(params=[fast_cnn, fast_mlp], ids=["cnn", "mlp"])
def make_classifier(request):
    """Each test using it runs once with a small CNN and once with a small MLP."""
    return request.param


@pytest.fixture(scope="session")
def digits():
    """600 digits as raw intensities 0..16, shape (600, 64), and their labels."""
    X, y = load_digits(return_X_y=True)
    return X[:600], y[:600]


@pytest.fixture(scope="session")
def digits01(digits):
    """The same digits scaled to [0, 1] as float32."""
    X, y = digits
    return (X / 16).astype("float32"), y


ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


def interruptible_as_in_a_terminal():
    """For ``subprocess.Popen(preexec_fn=...)``: Ctrl-C interrupts the child.

    A child inherits an ignored SIGINT from a test run started in the
    background by a shell without job control (``cmd &`` in a script), and
    Python then never raises KeyboardInterrupt; a terminal never ignores it.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def benchmark_script(name):
    """A script of benchmarks/ imported as a module, without running it."""
    path = ROOT / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def shared_data():
    """../shared/data, the real MNIST files: required in CI, skipped elsewhere."""
    if not (SHARED_DATA / "mnist").is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"CI must have the reference data in {SHARED_DATA}")
        pytest.skip(f"no reference data in {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _close_figures():
    """Close the figures a test or doctest left open, so none pile up in a worker."""
    yield
    pyplot = sys.modules.get("matplotlib.pyplot")  # never imported just for this
    if pyplot is not None:
        pyplot.close("all")


@pytest.fixture
def browser():
    """Debian's headless Chromium through its chromedriver: nothing downloaded."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    chromedriver = shutil.which("chromedriver") or "/usr/bin/chromedriver"
    for program in (chromium, chromedriver):
        if not Path(program).is_file():
            pytest.fail(
                f"no {program}: the browser test needs Debian's chromium and "
                "chromium-driver (apt-get install chromium chromium-driver)"
            )
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--window-size=1400,900",
        "--lang=en-US",
    ):
        options.add_argument(argument)
    # Every request the page makes, to check that none leaves this machine.
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(chromedriver))
    yield driver
    driver.quit()


def public_objects():
    """Each public function and class, by dotted name, as docs/api.rst lists them.

    Functions behind functools.cache count too.
    """
    for info in pkgutil.iter_modules(mnistkit.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"mnistkit.{info.name}")
        for name, obj in vars(module).items():
            unwrapped = inspect.unwrap(obj) if callable(obj) else obj
            if (
                not name.startswith("_")
                and (inspect.isfunction(unwrapped) or inspect.isclass(obj))
                and getattr(obj, "__module__", None) == module.__name__
            ):
                yield f"{module.__name__}.{name}", obj
