"""The mnistkit command."""

import subprocess
import sys

import pytest

from mnistkit.cli import main


def test_benchmark_prints_a_row_per_model(capsys):
    assert main(["benchmark"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Bundled 8x8 digits: 1347 train / 450 test images"
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:]}
    assert set(rows) == {"cnn", "mlp"}
    assert all(float(accuracy) > 0.9 for accuracy, _, _ in rows.values())


def test_help_and_bad_arguments(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["benchmark", "--help"])
    assert exit_info.value.code == 0
    assert "--seed" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        main(["no-such-command"])
    assert exit_info.value.code == 2


def test_console_script_is_installed():
    result = subprocess.run(
        [sys.executable, "-m", "mnistkit.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "benchmark" in result.stdout
