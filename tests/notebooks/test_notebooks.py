"""The example notebooks in ``notebooks/``: committed clean, and executed end to end.

Each notebook runs in a fresh ``python3`` kernel (ipykernel's own kernel
spec, present on any install of the ``dev`` extra) with the notebook folder as
its working directory, as Jupyter runs it. ``MPLBACKEND=Agg`` is set, as CI
sets it, so a notebook that forgot ``%matplotlib inline`` shows no figure and
fails here. Temporary files go to the test's own directory through ``TMPDIR``.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
EXPECTED = (
    "01_quickstart",
    "02_train_and_compare",
    "03_market_analysis",
    "04_bring_your_own_agent",
)
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT_S = 300  # the slowest cell takes well under a minute on 2 cores


def _code_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def _tree(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


def test_every_documented_notebook_is_present() -> None:
    assert sorted(path.stem for path in NOTEBOOKS) == sorted(EXPECTED)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_is_committed_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    dirty = [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert dirty == [], f"{path.name}: cells {dirty} keep outputs; clear them before committing"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs_and_shows_figures(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    # pytest -n 2 already runs two kernels on two cores: more torch threads only spin.
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    notebook = nbformat.read(path, as_version=4)
    before = _tree(NOTEBOOK_DIR)

    # execute() raises CellExecutionError, naming the cell and the traceback, on any error.
    NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    ).execute()

    outputs = [output for cell in _code_cells(notebook) for output in cell.outputs]
    # Cells tagged "raises-exception" would run past an error: none may.
    assert not [output for output in outputs if output.output_type == "error"]
    figures = [output for output in outputs if "image/png" in output.get("data", {})]
    assert figures, f"{path.name} displayed no figure"
    assert all(cell.execution_count is not None for cell in _code_cells(notebook))
    assert _tree(NOTEBOOK_DIR) == before, f"{path.name} wrote into notebooks/"
