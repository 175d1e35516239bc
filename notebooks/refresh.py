"""Re-execute the notebooks in place, storing their outputs (figures included).

    python notebooks/refresh.py                              # every notebook
    python notebooks/refresh.py notebooks/01_quickstart.ipynb

Run it after changing the dynamics, a notebook or anything a notebook prints; the
test suite (``tests/notebooks/test_notebooks.py``) executes every notebook afresh
and fails when a stored text output differs from the fresh one. A run is
deterministic within one build of torch: each notebook runs in a fresh ``python3``
kernel in this folder (as Jupyter runs it) with ``MPLBACKEND=Agg``, one thread
for torch and a fixed ``PYTHONHASHSEED``; its seeds are its own.
What would differ from run to run is not stored: execution timings, the kernel's
version, stderr (warnings, the compiling notice of a cold cache); a temporary
folder's random name is compared as ``<tmp>``.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

NOTEBOOK_DIR = Path(__file__).resolve().parent
CELL_TIMEOUT_S = 600  # the slowest cell (03: 20,000 PPO steps) takes about a minute on 2 idle cores
#: The kernel's environment: the same figures and the same floating-point work every run.
KERNEL_ENV = {
    "MPLBACKEND": "Agg",
    "OMP_NUM_THREADS": "1",
    "PYTHONHASHSEED": "0",
}
#: tempfile.mkdtemp's folders, named by the notebooks' prefixes (lepton-runs-, lepton-byoa-)
_TEMPORARY = re.compile(r"/\S*?/(lepton-[a-z]+-)[A-Za-z0-9_]+")


def execute(path: Path, env: dict[str, str] | None = None) -> nbformat.NotebookNode:
    """``path`` run afresh in a new kernel: its cells with their outputs, nothing volatile.

    The kernel inherits this process's environment; ``env`` (default
    :data:`KERNEL_ENV`) is set for the run and restored after it.
    """
    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    saved = {name: os.environ.get(name) for name in KERNEL_ENV | (env or {})}
    os.environ.update(KERNEL_ENV | (env or {}))
    try:
        # execute() raises CellExecutionError, naming the cell and the traceback, on any error.
        NotebookClient(
            notebook,
            timeout=CELL_TIMEOUT_S,
            kernel_name="python3",
            record_timing=False,
            resources={"metadata": {"path": str(path.parent)}},
        ).execute()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = [
                output
                for output in cell.outputs
                if not (output.output_type == "stream" and output.name == "stderr")
            ]
    notebook.metadata["language_info"] = {"name": "python"}
    return notebook


def text_outputs(notebook: nbformat.NotebookNode) -> list[list[str]]:
    """Per code cell, its outputs as text: stdout, results' text/plain, and which are figures."""
    cells = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        texts: list[str] = []
        previous_stream = None
        for output in cell.outputs:
            stream = output.name if output.output_type == "stream" else None
            if stream is not None and stream == previous_stream:
                # The kernel cuts a stream into outputs as its buffer flushes, at no fixed
                # place: consecutive pieces of one stream compare as one text.
                texts[-1] += _TEMPORARY.sub(r"<tmp>/\1", output.text)
            else:
                texts.append(_as_text(output))
            previous_stream = stream
        cells.append(texts)
    return cells


def _as_text(output: Any) -> str:
    if output.output_type == "stream":
        text = f"{output.name}: {output.text}"
    elif output.output_type == "error":
        text = f"error: {output.ename}: {output.evalue}"
    else:
        data = output.get("data", {})
        # a figure is compared by its presence: its pixels move with matplotlib's version
        kinds = sorted(kind for kind in data if kind.startswith("image/"))
        text = f"{output.output_type}: {data.get('text/plain', '')} {' '.join(kinds)}".strip()
    return _TEMPORARY.sub(r"<tmp>/\1", text)


def refresh(path: Path) -> None:
    """Run ``path`` and write it back with its outputs."""
    nbformat.write(execute(path), path)


def main(argv: list[str]) -> None:
    paths = [Path(arg) for arg in argv] or sorted(NOTEBOOK_DIR.glob("*.ipynb"))
    for path in paths:
        print(f"running {path.name} ...", flush=True)
        refresh(path)
        print(f"stored {path.name} ({path.stat().st_size / 1024:.0f} KiB)", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
