"""Every example script runs to the end."""

import runpy
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_example_runs(path, capsys, monkeypatch, shared_data):
    # Examples that use MNIST read it from the reference data, never the network.
    monkeypatch.setenv("MNISTKIT_DATA", str(shared_data))
    runpy.run_path(str(path), run_name="__main__")
    assert capsys.readouterr().out


def test_there_are_examples():
    assert EXAMPLES
