"""The tutorials in docs/tutorials/ run top to bottom, and are committed without outputs.

Each notebook asserts its own key numbers (e.g. the vanilla RNN's gradient vanishing over 50
steps), so running it here is the check that its claims still hold. The suite runs the short
version (``RNNLAB_TUTORIAL_FAST=1``: fewer training steps, same claims).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="the dev extra (nbformat) is not installed")
nbclient = pytest.importorskip("nbclient", reason="the dev extra (nbclient) is not installed")

TUTORIALS = Path(__file__).resolve().parents[2] / "docs" / "tutorials"
NOTEBOOKS = sorted(TUTORIALS.glob("*.ipynb"))


def test_the_course_is_there_in_order():
    names = [p.stem for p in NOTEBOOKS]
    assert len(names) == 8, names
    assert [n[:2] for n in names] == [f"{i:02d}" for i in range(1, 9)], names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_outputs_are_stripped(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, (
                f"{path.name} cell {i} has outputs: clear them before committing "
                "(jupyter nbconvert --clear-output --inplace)"
            )


def _one_session(tmp_path: Path) -> tuple[nbformat.NotebookNode, list[str]]:
    """All the tutorials as one notebook, each starting from an empty namespace in a folder of
    its own (``%reset -f``, ``chdir``): one kernel start and one torch import instead of
    eight, the same independence as running them one by one. Returns it and, per cell, the
    tutorial it came from."""
    cells, owner = [], []
    for path in NOTEBOOKS:
        work = tmp_path / path.stem
        work.mkdir()
        cells.append(nbformat.v4.new_code_cell(
            f"%reset -f\nimport os, sys\nos.chdir({str(work)!r})\n"
            f"assert sys.prefix == {sys.prefix!r}, 'the kernel runs another Python'"
        ))  # fmt: skip
        nb = nbformat.read(path, as_version=4)
        cells += [c for c in nb.cells if c.cell_type == "code"]
        owner += [path.name] * (1 + sum(c.cell_type == "code" for c in nb.cells))
    return nbformat.v4.new_notebook(cells=cells, metadata=nb.metadata), owner


def test_tutorials_run(tmp_path, monkeypatch):
    monkeypatch.setenv("RNNLAB_TUTORIAL_FAST", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    nb, owner = _one_session(tmp_path)
    # the kernel is this interpreter's ipykernel (the project venv)
    client = nbclient.NotebookClient(nb, timeout=180, kernel_name="python3")
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as e:
        failed = next(
            i
            for i, c in enumerate(nb.cells)
            if any(o.get("output_type") == "error" for o in c.outputs)
        )
        raise AssertionError(f"tutorial {owner[failed]} failed:\n{e}") from None
