"Run every notebook in nbs/ (not the report notebooks in nbs/paper/) through nbdev's test runner."

from pathlib import Path
import os
import pytest
import nbdev.test as nbt  # not `from nbdev.test import test_nb`: pytest would collect it as a test

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / 'nbs').glob('[0-9]*.ipynb'))


@pytest.mark.parametrize('nb', NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook(nb, monkeypatch):
    monkeypatch.chdir(nb.parent)
    ok, secs = nbt.test_nb(str(nb), force_flags=os.environ.get('LDD_TEST_FLAGS', '').split(), do_print=False)
    assert ok, f"{nb.name} failed (see the traceback above)"
