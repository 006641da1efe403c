"""Re-wrap the `__all__` list that `nbdev-export` writes at the top of each module of `ldd_study/`, so that no line of
the library is over 120 characters: nbdev wraps the list at 120 columns and then puts `__all__ = ` in front of its first
line. `make export` runs it after `nbdev-export`; it changes nothing else and is idempotent:

    .venv/bin/python tools/wrap_all.py ldd_study/*.py
"""

import ast
import re
import sys
from pathlib import Path
from textwrap import TextWrapper

WIDTH = 120
ALL_LIST = re.compile(r'^__all__ = \[.*?\]$', re.M | re.S)
WRAPPER = TextWrapper(width=WIDTH, initial_indent='__all__ = ', subsequent_indent=' ' * 11, break_long_words=False)


def wrapped_all(match: re.Match) -> str:
    "The `__all__ = [...]` of `match`, wrapped at `WIDTH` columns with `__all__ = ` counted in its first line."
    names = ast.literal_eval(match.group(0).removeprefix('__all__ = '))
    return '\n'.join(WRAPPER.wrap(str(names)))


def rewrap(path: Path) -> bool:
    "Re-wrap the `__all__` of the module at `path` in place; True when its text changed."
    text = path.read_text()
    new = ALL_LIST.sub(wrapped_all, text, count=1)
    if new != text:
        path.write_text(new)
    return new != text


if __name__ == '__main__':
    changed = [p for p in map(Path, sys.argv[1:]) if p.name != '_modidx.py' and rewrap(p)]
    print(f"wrap_all: {len(changed)} of {len(sys.argv) - 1} modules re-wrapped")
