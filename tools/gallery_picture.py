"""The README's gallery picture: `ldd-study predict` with the release models on real SPIDER T2-SPACE scans, the gallery
opened in headless Chromium (Debian's `chromium`, driven by playwright), the top of the page saved as a PNG.

    .venv/bin/python tools/gallery_picture.py                 # writes docs/images/gallery_spider.png

SPIDER: van der Graaf JW, van Hooff ML, Buckens CFM, et al. Scientific Data 11, 264 (2024), CC BY 4.0. The release
models trained on these patients: the picture shows what predict writes, not how accurate it is.
"""

import argparse
import subprocess
import sys
import tempfile
from pathlib import Path

from ldd_study.core import sample_root

PATIENTS = ('110', '127', '141', '5', '7')  # the gallery sorts by case name: 110 and 127 show first
CHROMIUM = '/usr/bin/chromium'


def grade_scans(scans: list[Path], out: Path) -> Path:
    "Run `ldd-study predict` (release models, one thread) on `scans` into `out`; its gallery page."
    exe = Path(sys.executable).with_name('ldd-study')
    subprocess.run([str(exe), 'predict', *map(str, scans), '--out', str(out), '--threads', '1', '--quiet'], check=True)
    return out / 'index.html'


def screenshot(page_path: Path, png: Path, width: int = 1100, height: int = 1000) -> Path:
    "The top `height` pixels of `page_path` at `width`, opened offline in headless Chromium, as a PNG."
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=['--no-sandbox', '--disable-gpu'], headless=True)
        page = browser.new_context(viewport=dict(width=width, height=height), offline=True).new_page()
        page.goto(page_path.resolve().as_uri(), wait_until='load')
        png.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(png))
        browser.close()
    return png


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', default='docs/images/gallery_spider.png', help='the PNG to write')
    a = ap.parse_args(argv)
    root = sample_root()
    if root is None:
        sys.exit('gallery_picture: the SPIDER sample (../shared/data/spider_t2space) was not found')
    scans = [root / 'images' / f'{p}_t2_SPACE.mha' for p in PATIENTS]
    with tempfile.TemporaryDirectory() as tmp:
        print(screenshot(grade_scans(scans, Path(tmp) / 'graded'), Path(a.out)))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
