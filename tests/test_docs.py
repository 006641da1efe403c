"""`make docs`: the docs site builds from nbs/ offline, and its pages load nothing from another site."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from conftest import ROOT


def test_docs_site_builds_offline(tmp_path):
    site = tmp_path / 'site'
    t0 = time.time()
    r = subprocess.run(
        [str(Path(sys.executable).parent / 'mkdocs'), 'build', '-q', '-f', str(ROOT / 'mkdocs.yml'), '-d', str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, 'NO_MKDOCS_2_WARNING': '1'},
    )
    assert r.returncode == 0, r.stderr
    print(f"docs built in {time.time() - t0:.1f} s")
    pages = sorted(site.rglob('*.html'))
    names = {p.relative_to(site).as_posix() for p in pages}
    assert {
        'index.html',
        '00_core.html',
        '65_predict.html',
        '67_dicom_seg.html',
        'paper/02_grading.html',
        'guide/predict.html',
    } <= names
    home = (site / 'index.html').read_text(encoding='utf-8')
    assert 'Quick start' in home  # the home page is README.md
    assert 'href="guide/predict.html"' in home  # its links into nbs/ work on the site
    for img in re.findall(r'!\[[^\]]*\]\(([^)\s]+)\)', (ROOT / 'README.md').read_text(encoding='utf-8')):
        assert (site / img).exists(), img  # with the figures it shows
    assert (site / 'assets' / 'javascripts' / 'iframe-worker-shim.js').exists()
    for p in pages:
        h = p.read_text(encoding='utf-8')
        remote = re.findall(r'<(?:script|link|img|iframe)\b[^>]*(?:src|href)="(?:https?:)?//[^"]*"', h)
        assert not remote, (p.name, remote)  # no CDN: scripts, styles, fonts
        assert 'src=""' not in h and not re.search(r'<[^>]*(?:cdnjs|unpkg|fonts\.googleapis)', h), (
            p.name
        )  # in a tag, not in prose
    assert (site / '67_dicom_seg.html').read_text(encoding='utf-8').count('write_disc_seg') > 0
    assert '<math' in (site / '40_metrics.html').read_text(encoding='utf-8')  # TeX drawn as MathML
    assert not (ROOT / '.cache').exists() or not any(
        (ROOT / '.cache').glob('mkdocs-jupyter*')
    )  # nothing written in the tree
