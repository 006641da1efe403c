"""Rewrite each parenthesised `from ldd_study... import (...)` of the notebooks as one-line imports of at most 120
characters, so that `nbdev-export` turns them into relative imports (it rewrites only a one-line import; `ruff format`
wraps a long one in parentheses). Run it after `ruff format` whenever ruff wrapped such an import, then `ruff format`
again:

    .venv/bin/python tools/pack_imports.py nbs/*.ipynb && .venv/bin/ruff format nbs && make export
"""

import json
import re
import sys

WIDTH = 120
PARENTHESISED = re.compile(r'^([ \t]*)from (ldd_study[\w.]*) import \((.*?)\)[ \t]*$', re.M | re.S)


def packed(match: re.Match) -> str:
    "The import of `match` as one-line imports of the same module, each at most `WIDTH` characters."
    indent, module, body = match.groups()
    if '#' in body:  # a comment inside the parentheses: left for a person to place
        print(f"{module}: an import with a comment inside its parentheses, left as it is", file=sys.stderr)
        return match.group(0)
    names = [n.strip() for n in body.replace('\n', ' ').split(',') if n.strip()]
    head, lines, current = f'{indent}from {module} import ', [], []
    for name in names:
        if current and len(head + ', '.join([*current, name])) > WIDTH:
            lines.append(current)
            current = []
        current.append(name)
    lines.append(current)
    return '\n'.join(head + ', '.join(line) for line in lines)


def pack_notebook(path: str) -> int:
    "Pack the imports of every code cell of the notebook `path`; the number of cells changed."
    with open(path) as f:
        nb = json.load(f)
    changed = 0
    for cell in nb['cells']:
        if cell['cell_type'] != 'code':
            continue
        source = ''.join(cell['source'])
        new = PARENTHESISED.sub(packed, source)
        if new != source:
            cell['source'] = new.splitlines(True)
            changed += 1
    if changed:
        with open(path, 'w') as f:
            json.dump(nb, f, indent=1, ensure_ascii=False)
            f.write('\n')
    return changed


if __name__ == '__main__':
    for p in sys.argv[1:]:
        if n := pack_notebook(p):
            print(f"{p}: {n} cell(s)")
