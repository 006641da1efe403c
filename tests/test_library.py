"""The library is what the notebooks say: `ldd_study/` is exactly what `make export` (nbdev-export, then
tools/wrap_all.py) makes of `nbs/`, so nobody edits it by hand or forgets to export; and no line of it is over 120
characters (nbdev's `_modidx.py` index aside)."""

import filecmp
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ROOT / 'ldd_study'


def test_library_is_the_export_of_the_notebooks(tmp_path):
    shutil.copy(ROOT / 'pyproject.toml', tmp_path)
    shutil.copytree(ROOT / 'nbs', tmp_path / 'nbs', ignore=shutil.ignore_patterns('.ipynb_checkpoints'))
    (tmp_path / 'ldd_study').mkdir()
    shutil.copy(LIBRARY / '__init__.py', tmp_path / 'ldd_study')
    subprocess.run([str(Path(sys.executable).parent / 'nbdev-export')], cwd=tmp_path, check=True)
    exported = sorted((tmp_path / 'ldd_study').glob('*.py'))
    subprocess.run([sys.executable, str(ROOT / 'tools' / 'wrap_all.py'), *map(str, exported)], check=True)
    assert [p.name for p in exported] == sorted(p.name for p in LIBRARY.glob('*.py'))
    differ = [p.name for p in exported if not filecmp.cmp(p, LIBRARY / p.name, shallow=False)]
    assert differ == [], f"ldd_study/ differs from the export of nbs/ in {differ}: run `make export`"


def test_no_library_line_is_over_120_characters():
    long_lines = [
        f"{path.name}:{number}"
        for path in sorted(LIBRARY.glob('*.py'))
        if path.name != '_modidx.py'
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if len(line) > 120
    ]
    assert long_lines == []
