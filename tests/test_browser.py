"""The pages a person opens, in a real browser (headless Chromium, tests/browser.py): the report HTML, the predict
gallery and the docs site, each from file:// with no network; every image has a non-zero natural size and no console
error is raised. Skipped, with the reason, where chromium or playwright is missing.

`LDD_SCREENSHOT=docs/images/gallery.png .venv/bin/pytest tests/test_browser.py -k gallery` also writes the README's
screenshot of the gallery (made on the SYNTHETIC demo cases of `ldd_study.gallery.demo_cases`).
"""

import os
import re
from pathlib import Path
import pandas as pd
import pytest
from browser import ROOT, assert_page_ok, browser, check_page, docs_page_or_skip, open_page  # noqa: F401 (browser: a fixture)
from ldd_study import report
from ldd_study.testing import demo_results
from ldd_study.gallery import DEMO_CASES, SUMMARY_COLUMNS, demo_cases, write_gallery

PNG = b'\x89PNG\r\n\x1a\n'
SERIOUS = ['patient-02', 'patient-03', 'patient-06']  # the demo cases with a disc graded serious (Pfirrmann IV-V)


@pytest.fixture(scope='module')
def gallery(tmp_path_factory):
    "A predict DIR of the synthetic demo cases with its gallery."
    out = tmp_path_factory.mktemp('gallery') / 'out'
    demo_cases(out)
    write_gallery(out)
    return out


def visible_cases(page) -> list:
    return [c.get_attribute('data-case') for c in page.locator('article.card').all() if c.is_visible()]


def test_gallery_loads_offline_with_its_images(browser, gallery, tmp_path):
    shot = Path(os.environ.get('LDD_SCREENSHOT') or tmp_path / 'gallery.png')
    if not shot.is_absolute():
        shot = ROOT / shot
    chk = assert_page_ok(
        browser,
        gallery / 'index.html',
        screenshot=shot,
        min_images=len(DEMO_CASES),
        width=1400,
        height=1180,
        action=lambda page: page.select_option('#flag', 'any'),
    )  # the screenshot: the 3 flagged cases
    assert all(w == 640 for _, w, _ in chk.images), chk.images  # the overlays, at their own width
    assert shot.read_bytes()[:8] == PNG and shot.stat().st_size > 50_000
    assert len(pd.read_csv(gallery / 'summary.csv').columns) == len(SUMMARY_COLUMNS)


def test_gallery_filters_and_sorts(browser, gallery):
    page, chk = open_page(browser, gallery / 'index.html')
    try:
        assert visible_cases(page) == list(DEMO_CASES)
        page.select_option('#grade', 'serious')
        assert visible_cases(page) == SERIOUS
        assert page.text_content('#shown') == f"3 of {len(DEMO_CASES)} cases shown"
        card = page.locator('article.card[data-case="patient-02"]')  # the other discs' rows are dimmed
        assert [r.get_attribute('class') or '' for r in card.locator('tbody tr').all()] == [
            'dim',
            'dim',
            'dim',
            'dim',
            '',
        ]
        page.select_option('#flag', 'missing-level')
        assert visible_cases(page) == []  # patient-04 has no serious disc
        page.select_option('#grade', 'all')
        assert visible_cases(page) == ['patient-04']
        page.select_option('#flag', 'none')
        assert visible_cases(page) == ['patient-01', 'patient-02', 'patient-06']
        page.select_option('#flag', 'all')
        page.fill('#find', '05')
        assert visible_cases(page) == ['patient-05']
        page.fill('#find', '')
        page.select_option('#sort', 'confidence')
        assert visible_cases(page)[:2] == ['patient-03', 'patient-05']  # a disc at 0.48, then 0.55
        page.select_option('#sort', 'worst')
        assert visible_cases(page)[:3] == SERIOUS
        page.select_option('#sort', 'name')
        assert visible_cases(page) == list(DEMO_CASES)
        assert not chk.problems, chk.problems
    finally:
        page.context.close()


def test_report_html_loads_offline_with_its_figures(browser, tmp_path):
    "The grading report, rendered by papermill on a SYNTHETIC results folder (as tests/test_reports.py does)."
    from test_reports import fast_params

    res = demo_results(tmp_path / 'results', patients=6, cv=False, left_out=False)
    nb = [n for n in report.report_notebooks() if n.stem == '02_grading']
    written = report.render_reports(res, tmp_path / 'reports', notebooks=nb, params=fast_params(), progress=False)
    html = [p for p in written if p.suffix == '.html']
    assert len(html) == 1
    assert_page_ok(browser, html[0], min_images=3)
    text = page_text(browser, html[0])
    assert 'Data and licences.' in text and 'no patient data' in text
    assert COMMIT.search(text) or 'commit unknown' in text


def test_the_checks_see_a_broken_page(browser, tmp_path):
    "The checks are not blind: a missing image, a console error, a script error and a remote script are each named."
    (tmp_path / 'ok.png').write_bytes((ROOT / 'docs' / 'images' / 'gallery.png').read_bytes())
    (tmp_path / 'broken.html').write_text(
        '<!DOCTYPE html><html><head><link rel="icon" href="data:,">'
        '<script src="https://cdn.example.org/lib.js"></script></head><body>'
        '<img src="ok.png"><img src="missing.png">'
        '<script>console.error("boom"); undefined_function();</script></body></html>'
    )
    problems = '\n'.join(check_page(browser, tmp_path / 'broken.html').problems)
    for why in (
        "image 'missing.png' has natural size 0 × 0",
        'console error: boom',
        'script error: ReferenceError',
        'remote request refused (the page must work offline): https://cdn.example.org/lib.js',
        'request failed: ' + (tmp_path / 'missing.png').as_uri(),
    ):
        assert why in problems, (why, problems)
    assert "'ok.png'" not in problems


def test_docs_page(browser):
    assert_page_ok(browser, docs_page_or_skip(), min_images=0)


COMMITTED_REPORT_PAGES = sorted((ROOT / 'reports').glob('*/*.html'))
COMMIT = re.compile(r'commit [0-9a-f]{7} of \d{4}-\d\d-\d\d')


def page_text(browser, path) -> str:
    "The text a reader sees on the page at `path` (opened offline from file://)."
    page, _ = open_page(browser, path)
    try:
        return page.inner_text('body')
    finally:
        page.context.close()


@pytest.mark.parametrize(
    'page', COMMITTED_REPORT_PAGES, ids=[f'{p.parent.name}/{p.name}' for p in COMMITTED_REPORT_PAGES]
)
def test_committed_report_page_names_its_sources_licences_and_commit(browser, page):
    """Every report page kept in git names each cohort's source and licence, and the commit that made it, as a reader
    sees it."""
    text = page_text(browser, page)
    assert 'Data and licences.' in text, f'{page}: no data-and-licences footer'
    assert 'CC BY 4.0' in text and 'van der Graaf' in text, f'{page}: SPIDER and its licence are not named'
    if 'LSMA' in text:
        assert 'Sudirman' in text and 'LSMA-PQR' in text, f'{page}: LSMA shown but its sources not named'
    assert COMMIT.search(text), f'{page}: no commit named'
    assert 'papermill' not in text and 'render_reports' not in text, f'{page}: says how the page was made'
