"""Every gallery example runs to the end, and so does the notebook."""

import runpy
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

# The notebook's runner comes with the notebook extra: pip install -e ".[notebook]"
nbformat = pytest.importorskip("nbformat")
NotebookClient = pytest.importorskip("nbclient").NotebookClient

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("plot_*.py"))
# The grid-search example runs in test_benchmark_scripts.py instead, on a Dask
# cluster through benchmarks/time_search_backends.py: the same search, every
# line but the one that picks joblib's local backend, without running it twice.
RUN_ELSEWHERE = {"plot_grid_search.py"}
RUN_HERE = [path for path in EXAMPLES if path.name not in RUN_ELSEWHERE]
NOTEBOOK = ROOT / "examples" / "mnist_classification.ipynb"


@pytest.mark.parametrize("path", RUN_HERE, ids=[path.name for path in RUN_HERE])
def test_example_runs(path, capsys, monkeypatch, shared_data):
    # Examples that use MNIST read it from the reference data, never the network.
    monkeypatch.setenv("MNISTKIT_DATA", str(shared_data))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    # As `python example.py [options]` sees it:
    monkeypatch.setattr("sys.argv", [str(path)])
    try:
        runpy.run_path(str(path), run_name="__main__")
    finally:
        plt.close("all")  # the examples leave their figures open, as scripts do
    assert capsys.readouterr().out


def test_there_are_examples():
    assert len(EXAMPLES) >= 5
    assert RUN_ELSEWHERE <= {path.name for path in EXAMPLES}


def test_notebook_is_stored_without_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code
    assert all(not cell.outputs and cell.execution_count is None for cell in code)


def test_notebook_runs_on_an_mnist_slice(monkeypatch, shared_data, tmp_path):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    # Like papermill: the cell tagged "parameters" gets the test's values.
    (parameters,) = [
        cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])
    ]
    parameters.source = "N_TRAIN = 1500"
    monkeypatch.setenv("MNISTKIT_DATA", str(shared_data))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError, with the traceback, on failure
    text = "".join(
        output.get("text", "")
        for cell in notebook.cells
        for output in cell.get("outputs", [])
    )
    accuracy = float(text.split("test accuracy: ")[1].split()[0])
    assert accuracy > 0.9  # the defaults on 1,350 images
