"""Authoring aid: turn a percent-format script (`# %%` code cells, `# %% [markdown]` prose cells) into a notebook.

Usage: python tools/pct2nb.py SRC.py nbs/NN_topic.ipynb
Notebooks in nbs/ stay the source of truth; this only saves typing JSON by hand.
A `# %% tags=["parameters"]` header adds cell tags (papermill).
"""

import hashlib
import json
import re
import sys
from pathlib import Path


def cells_from_percent(text: str) -> list:
    "Split percent-format `text` into notebook cells."
    cells, kind, tags, buf = [], None, [], []

    def flush():
        if kind is None:
            return
        src = "\n".join(buf).strip("\n")
        if kind == "markdown":
            src = "\n".join(line[2:] if line.startswith("# ") else line.lstrip("#") for line in src.splitlines())
        if not src.strip():
            return
        lines = src.splitlines(keepends=True)
        cid = hashlib.sha1(f"{len(cells)}:{src}".encode()).hexdigest()[:8]  # stable ids: exports don't churn
        cell = {"cell_type": kind, "id": cid, "metadata": ({"tags": tags} if tags else {}), "source": lines}
        if kind == "code":
            cell.update(execution_count=None, outputs=[])
        cells.append(cell)

    for line in text.splitlines():
        m = re.match(r"^# %%(.*)$", line)
        if m:
            flush()
            head = m.group(1)
            kind = "markdown" if "[markdown]" in head else "code"
            t = re.search(r"tags=(\[.*?\])", head)
            tags = json.loads(t.group(1)) if t else []
            buf = []
        else:
            buf.append(line)
    flush()
    return cells


def main(src: str, dst: str):
    nb = {
        "cells": cells_from_percent(Path(src).read_text()),
        "metadata": {"kernelspec": {"display_name": "python3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    Path(dst).write_text(
        json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n"
    )  # as nbdev-clean writes it


if __name__ == "__main__":
    main(*sys.argv[1:3])
