"""How the benchmark follows its fits: live bars in a terminal, lines in a log."""

import fcntl
import io
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time

import pytest
from rich.console import Console

from mnistkit.benchmark import ProgressLines
from mnistkit.cli import _ProgressBars, main
from mnistkit.machine import describe_machine

# The cheapest run with a network and a baseline: 30 short epochs of the MLP
# ("auto" on the 270 digits left after the validation tenth).
TINY_BENCHMARK = ["benchmark", "--dataset", "digits", "--n-train", "300"]
ROW = dict(
    model="mlp",
    seed=0,
    accuracy=0.9644,
    fit_s=1.25,
    predict_s=0.02,
    peak_memory_mb=61.0,
    n_train=300,
    n_test=450,
)
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _wait_for(condition, timeout=10):
    # The bars are redrawn by rich's own thread, a few times a second.
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


def test_bars_follow_the_epochs_and_end_on_the_test_accuracy():
    screen = io.StringIO()
    console = Console(
        file=screen,
        force_terminal=True,
        force_interactive=True,
        color_system=None,
        width=100,
    )
    with _ProgressBars(console) as bars:
        bars.fit_started("mlp", 0, 3)
        bars.epoch_ended("mlp", 0, 1, 3, {"loss": 0.5, "accuracy": 0.8, "val_loss": 1})
        assert _wait_for(
            lambda: "1/3 loss 0.5000, accuracy 0.8000" in screen.getvalue()
        )
        bars.epoch_ended("mlp", 0, 2, 3, {"loss": 0.25, "accuracy": 0.9})
        bars.epoch_ended("mlp", 0, 3, 3, {"loss": 0.125, "accuracy": 0.95})
        bars.fit_ended(ROW)
        bars.fit_started("logreg", 0, None)  # no epochs: a bar that pulses
        assert _wait_for(lambda: "logreg (seed 0)" in screen.getvalue())
        bars.fit_ended({**ROW, "model": "logreg", "accuracy": 0.9511})
        bars.fit_ended({**ROW, "seed": 1})  # fitted elsewhere: only its end is seen
    drawn = screen.getvalue()
    assert "\r" in drawn and "\x1b[2K" in drawn  # lines redrawn in place
    final = ANSI_ESCAPE.sub("", drawn).splitlines()[-3:]  # the bars as they stay
    assert re.fullmatch(
        r"✓ mlp \(seed 0\) +━+ 3/3 test accuracy 0\.9644 0:01 *", final[0]
    )
    assert re.fullmatch(
        r"✓ logreg \(seed 0\) +━+ +test accuracy 0\.9511 0:01 *", final[1]
    )
    assert re.fullmatch(r"✓ mlp \(seed 1\) +━+ +test accuracy 0\.9644 0:01 *", final[2])


def test_lines_for_a_log_leave_out_the_epochs():
    lines = []
    progress = ProgressLines(lines.append, epochs=False)
    progress.fit_started("mlp", 0, 3)
    progress.epoch_ended("mlp", 0, 1, 3, {"loss": 0.5, "accuracy": 0.8})
    progress.fit_ended(ROW)
    assert lines == [
        "mlp (seed 0): accuracy 0.9644, fit 1.2 s, predict 0.02 s, peak memory +61 MiB"
    ]


def test_quiet_prints_the_table_only(tmp_path, capsys):
    argv = ["benchmark", "--dataset", "digits", "--models", "logreg", "--quiet"]
    assert main([*argv, "--output", str(tmp_path)]) == 0
    printed = capsys.readouterr()
    assert printed.out == (tmp_path / "results.md").read_text()
    assert printed.out.startswith("Data: digits: 1347 training / 450 test images")
    # Every table names the machine it was measured on.
    assert printed.out.splitlines()[1].startswith(f"Machine: {describe_machine()}")
    assert printed.err == ""


def _run_in_terminal(argv, columns=100, timeout=300):
    """Run the command with a pseudo-terminal as its stdout and stderr.

    Returns its exit code and everything it wrote, as the terminal got it.
    """
    controller, terminal = pty.openpty()
    size = struct.pack("HHHH", 40, columns, 0, 0)
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, size)
    env = {**os.environ, "TERM": "xterm-256color"}
    # Variables that would make rich see a terminal as something else.
    for name in ("FORCE_COLOR", "NO_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"):
        env.pop(name, None)
    process = subprocess.Popen(
        [sys.executable, "-m", "mnistkit.cli", *argv],
        stdin=subprocess.DEVNULL,
        stdout=terminal,
        stderr=terminal,
        env=env,
    )
    os.close(terminal)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not select.select([controller], [], [], 1)[0]:
                continue
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the command has closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(controller)
        if process.poll() is None and time.monotonic() >= deadline:
            process.kill()
    return process.wait(timeout=60), b"".join(chunks).decode()


@pytest.mark.slow
def test_a_terminal_shows_a_live_bar_per_model(tmp_path):
    argv = [*TINY_BENCHMARK, "--models", "mlp", "logreg", "--output", str(tmp_path)]
    code, drawn = _run_in_terminal(argv)
    assert code == 0, drawn
    assert "\x1b[2K" in drawn  # lines redrawn in place
    text = ANSI_ESCAPE.sub("", drawn)
    # Bars part way, with the epoch's loss and accuracy and the time left.
    epochs_shown = re.findall(
        r"mlp \(seed 0\) +[━╸╺]+ (\d+)/30 loss \d\.\d{4}, accuracy \d\.\d{4} "
        r"\d+:\d\d, \d+:\d\d left",
        text,
    )
    assert 1 < len(set(epochs_shown)) and int(max(epochs_shown, key=int)) < 30
    assert re.search(r"✓ mlp \(seed 0\) +━+ 30/30 test accuracy 0\.\d{4}", text)
    assert re.search(r"✓ logreg \(seed 0\) +━+ +test accuracy 0\.\d{4}", text)
    assert " epoch " not in text
    assert text.rstrip().endswith(f"Results and plots written to {tmp_path}/")
    assert (tmp_path / "results.md").read_text().strip() in text.replace("\r\n", "\n")


@pytest.mark.slow
def test_a_log_gets_one_line_per_model(tmp_path):
    argv = [*TINY_BENCHMARK, "--models", "mlp", "logreg", "--output", str(tmp_path)]
    log = tmp_path / "benchmark.log"
    with open(log, "w") as stdout:
        subprocess.run(
            [sys.executable, "-m", "mnistkit.cli", *argv],
            stdout=stdout,
            stderr=subprocess.PIPE,
            check=True,
        )
    lines = log.read_text().splitlines()
    assert lines[0] == "digits: 300 training / 450 test images of 64 pixels"
    assert [line.split(":")[0] for line in lines[1:3]] == [
        "mlp (seed 0)",
        "logreg (seed 0)",
    ]
    assert lines[3] == ""
    assert lines[4].startswith("Data: digits: 300 training")
    assert not any(" epoch " in line or "\x1b" in line for line in lines)


@pytest.mark.slow
def test_quiet_in_a_terminal_draws_no_bars(tmp_path):
    argv = ["benchmark", "--dataset", "digits", "--models", "logreg", "--quiet"]
    code, drawn = _run_in_terminal([*argv, "--output", str(tmp_path)])
    assert code == 0, drawn
    assert drawn.replace("\r\n", "\n") == (tmp_path / "results.md").read_text()
