"""The notebooks run top to bottom (small size)"""

import os

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = os.path.join(os.path.dirname(__file__), "..", "notebooks")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["01_quickstart.ipynb",
                                  "02_lasco_adaptation.ipynb",
                                  "03_precoding_and_prediction.ipynb"])
def test_notebook_executes(name, monkeypatch):
    monkeypatch.setenv("LASCO_NOTEBOOK_SMALL", "1")
    nb = nbformat.read(os.path.join(NOTEBOOKS, name), as_version=4)
    NotebookClient(nb, timeout=900, kernel_name="python3",
                   resources={"metadata": {"path": NOTEBOOKS}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code"
              for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
