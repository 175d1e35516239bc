"""The example notebooks in ``notebooks/``: stored with their outputs, which a fresh run reproduces.

Each notebook runs as ``notebooks/refresh.py`` runs it (its :func:`execute`): a fresh
``python3`` kernel (ipykernel's own kernel spec, present on any install of the
``dev`` extra) with the notebook folder as its working directory, as Jupyter runs
it, ``MPLBACKEND=Agg`` as CI sets it (a notebook that forgot ``%matplotlib inline``
shows no figure and fails here) and one torch thread. Temporary files go to the
test's own directory through ``TMPDIR``. The stored text outputs must equal the
fresh run's (figures compared by presence: their pixels move with matplotlib's
version); after a change, ``python notebooks/refresh.py`` stores the new ones.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import nbformat
import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parents[2] / "notebooks"
EXPECTED = (
    "01_quickstart",
    "02_train_and_compare",
    "03_market_analysis",
    "04_bring_your_own_agent",
)
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
#: What a reader downloads: the figures at Jupyter's inline resolution stay well under it.
SIZE_BUDGET_BYTES = 400 * 1024
REFRESH = "python notebooks/refresh.py"


def _refresh_module() -> ModuleType:
    """``notebooks/refresh.py`` (a script of the checkout, not a package module)."""
    spec = importlib.util.spec_from_file_location("notebook_refresh", NOTEBOOK_DIR / "refresh.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


refresh = _refresh_module()


def _code_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def _tree(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*")}


def test_every_documented_notebook_is_present() -> None:
    assert sorted(path.stem for path in NOTEBOOKS) == sorted(EXPECTED)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_is_stored_with_its_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    cells = _code_cells(notebook)
    counts = [cell.execution_count for cell in cells]
    assert counts == list(range(1, len(cells) + 1)), f"{path.name}: run it with {REFRESH}"
    outputs = [output for cell in cells for output in cell.outputs]
    assert not [output for output in outputs if output.output_type == "error"]
    assert [output for output in outputs if "image/png" in output.get("data", {})]
    # nothing volatile: no execution timings, no stderr (warnings, a cold cache's notice)
    assert not [cell for cell in cells if "execution" in cell.metadata]
    assert not [output for output in outputs if output.get("name") == "stderr"]
    size = path.stat().st_size
    assert size < SIZE_BUDGET_BYTES, f"{path.name}: {size:,} bytes, budget {SIZE_BUDGET_BYTES:,}"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs_to_its_stored_outputs(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    before = _tree(NOTEBOOK_DIR)

    # CellExecutionError, naming the cell and the traceback, on any error.
    fresh = refresh.execute(path)

    outputs = [output for cell in _code_cells(fresh) for output in cell.outputs]
    # Cells tagged "raises-exception" would run past an error: none may.
    assert not [output for output in outputs if output.output_type == "error"]
    figures = [output for output in outputs if "image/png" in output.get("data", {})]
    assert figures, f"{path.name} displayed no figure"
    assert _tree(NOTEBOOK_DIR) == before, f"{path.name} wrote into notebooks/"
    stored = refresh.text_outputs(nbformat.read(path, as_version=4))
    for index, (mine, theirs) in enumerate(zip(stored, refresh.text_outputs(fresh), strict=True)):
        assert mine == theirs, f"{path.name}, code cell {index}: stored outputs differ; {REFRESH}"
