"""Every Python block of README.md runs: the blocks are executed in order in one namespace
(in a temporary directory, matplotlib on the Agg backend), as a reader would paste them."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

README = Path(__file__).resolve().parents[1] / "README.md"


def python_blocks() -> list:
    text = README.read_text(encoding="utf-8")
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def test_readme_has_the_setup_commands_first():
    text = README.read_text(encoding="utf-8")
    first_block = re.search(r"^```[a-z]*\n(.*?)^```", text, flags=re.S | re.M).group(1)
    assert first_block.split("\n")[0].startswith("make demo")
    assert first_block.split("\n")[1].startswith("make test")


@pytest.mark.r  # the tour ends with compare_with_r, which runs R
def test_readme_python_blocks_run(tmp_path, monkeypatch):
    blocks = python_blocks()
    assert len(blocks) >= 10
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": "readme"}
    for i, code in enumerate(blocks):
        exec(compile(code, f"README.md python block {i + 1}", "exec"), namespace)  # noqa: S102
    assert (tmp_path / "diagnostics.png").exists()
    check = namespace["check"]
    assert check["equal"].all()
