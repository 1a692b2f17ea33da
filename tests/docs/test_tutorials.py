"""The tutorials in docs/tutorials/ run top to bottom, and are committed without outputs.

Each notebook asserts its own key numbers (e.g. the vanilla RNN's gradient vanishing over 50
steps), so running it here is the check that its claims still hold. The suite runs the short
version (``RNNLAB_TUTORIAL_FAST=1``: fewer training steps, same claims).
"""

from __future__ import annotations

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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_tutorial_runs(path, tmp_path, monkeypatch):
    monkeypatch.setenv("RNNLAB_TUTORIAL_FAST", "1")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    nb = nbformat.read(path, as_version=4)
    # the kernel is this interpreter's ipykernel (the project venv), run in a scratch folder
    # so the tutorials' runs/ land there
    client = nbclient.NotebookClient(
        nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    client.execute()
