"""Clean report HTML that was exported before render_reports sanitised its notebooks (see nbs/60_report.ipynb,
"Reports without machine detail"): drop the stderr output blocks and rewrite the machine's paths as the report now
would, relative to the project that rendered it (`--project`), `../…` beside it, `…` elsewhere. Embedded images are
left as they are. Edits the files in place and prints what it changed.

    python tools/scrub_report_html.py --project /work/study2 reports/spider_sample/*.html
"""
import argparse, re
from pathlib import Path
from ldd_study.report import path_anchors, scrub_paths

STDERR_BLOCK = re.compile(                       # one stderr output of nbconvert's lab template, with its prompt if shown
    r'<div class="jp-OutputArea-child">\s*(?:<div class="jp-OutputPrompt[^"]*">[^<]*</div>\s*)?'
    r'<div class="jp-RenderedText jp-OutputArea-output" data-mime-type="application/vnd\.jupyter\.stderr"[^>]*>\s*'
    r'<pre>.*?</pre>\s*</div>\s*</div>\s*', re.S)
DATA_URI = re.compile(r'(data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+)')   # embedded images: never rewritten


def scrub_html(html: str, anchors: dict) -> tuple[str, int]:
    "`html` without stderr output blocks and with `anchors`' paths rewritten outside embedded data; and how many blocks went."
    html, n = STDERR_BLOCK.subn('', html)
    parts = DATA_URI.split(html)
    return ''.join(p if i % 2 else scrub_paths(p, anchors) for i, p in enumerate(parts)), n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('html', nargs='+', type=Path)
    ap.add_argument('--project', required=True, type=Path, help='the project folder on the machine that rendered the HTML')
    a = ap.parse_args()
    anchors = path_anchors(root=a.project)
    for f in a.html:
        old = f.read_text(encoding='utf-8')
        new, n = scrub_html(old, anchors)
        f.write_text(new, encoding='utf-8')
        print(f'{f}: {n} stderr block(s) dropped, {len(old) - len(new)} characters fewer')


if __name__ == '__main__':
    main()
