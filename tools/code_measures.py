"""The readability figures of the code (issue #23's targets), printed: functions over 50 lines, public functions of
`stages.py` that are not stages, export cells of the notebooks (count, median, over 40 and over 50 lines), library lines
over 120 characters (nbdev's `_modidx.py` index aside), and functions that take a params dict.

    .venv/bin/python tools/code_measures.py            # this checkout
    .venv/bin/python tools/code_measures.py --rev REV  # the notebooks and library of a commit (e.g. to compare)
"""

import argparse
import ast
import json
import re
import statistics
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXPORT = re.compile(r'\s*#\|\s*export')


def source_files(rev: str | None, folder: str, suffix: str) -> dict[str, str]:
    "Path -> text of the files under `folder` ending in `suffix`, at commit `rev` (None: the working tree)."
    if rev is None:
        return {str(p.relative_to(ROOT)): p.read_text() for p in sorted((ROOT / folder).rglob(f'*{suffix}'))}
    names = subprocess.run(
        ['git', 'ls-tree', '-r', '--name-only', rev, folder], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    show = ['git', 'show']
    return {
        n: subprocess.run([*show, f'{rev}:{n}'], cwd=ROOT, capture_output=True, text=True, check=True).stdout
        for n in names
        if n.endswith(suffix)
    }


def long_functions(library: dict[str, str], most: int = 50) -> list[tuple[int, str, str]]:
    "(lines, module, name) of every function of the library longer than `most` lines."
    found = []
    for path, text in library.items():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno + 1 > most:
                found.append((node.end_lineno - node.lineno + 1, Path(path).name, node.name))
    return sorted(found, reverse=True)


def non_stage_functions(stages_text: str) -> list[str]:
    "Public top-level functions of stages.py whose name does not start with `stage_`."
    tree = ast.parse(stages_text)
    names = [n.name for n in tree.body if isinstance(n, ast.FunctionDef) and not n.name.startswith('_')]
    return [n for n in names if not n.startswith('stage_')]


def export_cell_lines(notebooks: dict[str, str]) -> list[int]:
    "Lines of each `#| export` cell of the library notebooks (not the report notebooks of paper/ and validate/)."
    sizes = []
    for path, text in notebooks.items():
        if '/paper/' in path or '/validate/' in path or '.ipynb_checkpoints' in path:
            continue
        for cell in json.loads(text)['cells']:
            source = ''.join(cell['source'])
            if cell['cell_type'] == 'code' and EXPORT.match(source):
                sizes.append(source.count('\n') + 1)
    return sizes


def main(rev: str | None) -> None:
    "Print the figures of `rev` (None: the working tree)."
    library = {p: t for p, t in source_files(rev, 'ldd_study', '.py').items() if not p.endswith('_modidx.py')}
    cells = export_cell_lines(source_files(rev, 'nbs', '.ipynb'))
    long = long_functions(library)
    stages = next(t for p, t in library.items() if p.endswith('stages.py'))
    wide = [
        f"{Path(p).name}:{i}" for p, t in library.items() for i, line in enumerate(t.splitlines(), 1) if len(line) > 120
    ]
    takes_params = sum(len(re.findall(r'^\s*def \w+\(.*\bparams\b', t, re.M)) for t in library.values())
    print(f"{rev or 'working tree'}")
    print(f"functions over 50 lines: {len(long)} {[f'{m}:{n} ({k})' for k, m, n in long]}")
    print(f"public non-stage functions of stages.py: {non_stage_functions(stages)}")
    print(
        f"export cells: {len(cells)}, median {statistics.median(cells)} lines, over 40: {sum(c > 40 for c in cells)}, "
        f"over 50: {sum(c > 50 for c in cells)}, longest {max(cells)}"
    )
    print(f"library lines over 120 characters: {len(wide)} {wide}")
    print(f"def lines with a `params` argument: {takes_params}")


if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rev', help='a commit (default: the working tree)')
    main(parser.parse_args().rev)
