"""README.md starts with the two set-up commands, and CI runs the second."""

import re
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_readme_starts_with_the_two_setup_commands():
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```bash\n", 1)[1].split("```", 1)[0]
    lines = [line for line in first_block.splitlines() if line.strip()]
    assert lines[0].startswith("pip install . && mnistkit benchmark")
    assert lines[1].startswith('pip install -e ".[test]" && pytest')
    assert lines[1].endswith("# install, then run the tests")
    # Nothing but a title and one sentence come before the commands.
    assert readme.index("```bash") < 300


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'marker="# install, then run the tests"' in ci
    assert 'eval "$test_command"' in ci


def test_readme_quick_start_runs_as_written(capsys, tmp_path, monkeypatch):
    readme = (ROOT / "README.md").read_text()
    quick_start, save_and_load = [
        block.split("```", 1)[0] for block in readme.split("```python\n")[1:3]
    ]
    namespace = {}
    exec(compile(quick_start, "README.md", "exec"), namespace)
    # The accuracy the README states, with the defaults.
    stated = float(re.search(r"# about (0\.\d+)", quick_start).group(1))
    assert float(capsys.readouterr().out) == pytest.approx(stated, abs=0.01)
    # Then the block that saves, loads, predicts and exports that model.
    monkeypatch.chdir(tmp_path)
    exec(compile(save_and_load, "README.md", "exec"), namespace)
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "digits.mnistkit",
        "digits.onnx",
    ]


def test_docs_front_page_shows_the_readme_quick_start():
    readme = (ROOT / "README.md").read_text()
    code = readme.split("```python\n", 1)[1].split("```", 1)[0]
    index = (ROOT / "docs" / "index.rst").read_text()
    block = index.split(".. code-block:: python\n\n", 1)[1].split("\n\n..", 1)[0]
    assert textwrap.dedent(block).strip() == code.strip()
