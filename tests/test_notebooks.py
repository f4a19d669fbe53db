"""The notebooks in notebooks/: committed without outputs, and each runs top to bottom.

Execution uses a small population (PROMOSIM_NOTEBOOK_SHOPPERS), few replications
(PROMOSIM_NOTEBOOK_REPS) and a small Sobol design (PROMOSIM_NOTEBOOK_SOBOL_BASE) so the whole set
stays within a few minutes; the notebooks read those variables, with full-size defaults for
people. Each runs in a fresh python3 kernel started in the
repository root, like `jupyter nbconvert --execute` from there; a cell that raises fails the test.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
TEST_SHOPPERS = "5000"
TEST_REPS = "3"
TEST_SOBOL_BASE = "8"  # Saltelli base sample of 04 (4 x 8 design points)


def test_the_notebooks_are_there():
    """The four notebooks the README lists."""
    names = [p.name for p in NOTEBOOKS]
    assert names == [
        "01_quickstart.ipynb",
        "02_compare_strategies.ipynb",
        "03_calibrate_on_transactions.ipynb",
        "04_sweep_and_sensitivity.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs(path):
    """Valid nbformat, and no outputs or execution counts in any code cell."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    dirty = [
        k
        for k, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, (
        f"{path.name}: cells {dirty} have outputs or execution counts; clear them "
        "before committing (e.g. `jupyter nbconvert --clear-output --inplace`)"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_runs_top_to_bottom(path, tmp_path, monkeypatch):
    """Every cell runs without error at test size, and the notebook draws figures."""
    monkeypatch.setenv("PROMOSIM_NOTEBOOK_SHOPPERS", TEST_SHOPPERS)
    monkeypatch.setenv("PROMOSIM_NOTEBOOK_REPS", TEST_REPS)
    monkeypatch.setenv("PROMOSIM_NOTEBOOK_SOBOL_BASE", TEST_SOBOL_BASE)
    monkeypatch.setenv("PROMOSIM_NOTEBOOK_OUT", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}}
    )
    try:
        client.execute()
    except CellExecutionError as exc:
        pytest.fail(f"{path.name} failed:\n{exc}", pytrace=False)
    errors = [
        out
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
        if out.output_type == "error"
    ]
    assert not errors
    images = sum(
        "image/png" in out.get("data", {})
        for cell in nb.cells
        if cell.cell_type == "code"
        for out in cell.outputs
    )
    assert images > 0, f"{path.name} drew no figure"
