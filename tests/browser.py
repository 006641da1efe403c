"""Headless Chromium for the tests (a helper, not collected): open a page from file://, check it, take a screenshot.

The browser is Debian's `chromium` (`apt-get install chromium`; .ci/run installs it where it can), driven by the pip
package playwright (in the `dev` extra) through `executable_path`: `playwright install`, which downloads a browser of
its own, is never needed. Where either is missing, `browser_or_skip` skips the test and says which one and how to
get it.

A page is opened offline: any request that is not file:, data:, blob: or about: is refused and named, so a remote
script, style sheet or font shows up as a failure instead of a silent wait. `check_page` returns what a person would
meet: each image's natural size, console errors, uncaught script errors, refused and failed requests.

A test of one more page is two lines, e.g. the docs site:

    def test_docs_page(browser):
        assert_page_ok(browser, docs_page_or_skip())
"""

from __future__ import annotations
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
# --headless is playwright's own; it gives every launch a fresh temporary profile (its stand-in for --user-data-dir)
CHROMIUM_ARGS = [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-dev-shm-usage',
]
LOCAL_SCHEMES = ('file:', 'data:', 'blob:', 'about:')
WAIT_IMAGES = """() => Promise.all(Array.from(document.images, i => i.complete ? null :
                    new Promise(r => { i.addEventListener('load', r); i.addEventListener('error', r); })))"""
IMAGES = (
    "() => Array.from(document.images, i => [i.getAttribute('src').slice(0, 120), i.naturalWidth, i.naturalHeight])"
)


def chromium_path() -> str | None:
    "The chromium executable: on PATH, else /usr/bin/chromium; None when there is none."
    exe = shutil.which('chromium')
    if exe:
        return exe
    return '/usr/bin/chromium' if os.access('/usr/bin/chromium', os.X_OK) else None


def skip_reason() -> str | None:
    "Why the browser tests cannot run here, or None when they can."
    if chromium_path() is None:
        return (
            "headless Chromium not found: install the Debian package `chromium` (apt-get install -y chromium; "
            ".ci/run does where it can)"
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the pip package playwright is not installed: .venv/bin/pip install -e '.[dev]'"
    return None


@pytest.fixture(scope='module')
def browser():
    "One headless Chromium for a test module; skipped with the reason where it cannot start."
    why = skip_reason()
    if why:
        pytest.skip(why)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@dataclass
class PageCheck:
    "What opening a page showed."

    url: str
    images: list = field(default_factory=list)  # [src (first 120 characters), naturalWidth, naturalHeight]
    console_errors: list = field(default_factory=list)
    page_errors: list = field(default_factory=list)  # uncaught exceptions in the page's scripts
    refused: list = field(default_factory=list)  # requests that would leave the machine
    failed: list = field(default_factory=list)  # local requests that failed (a missing file)

    @property
    def problems(self) -> list[str]:
        "Everything a person would notice as broken, one line each."
        out = [f"image {s!r} has natural size {w} × {h}" for s, w, h in self.images if not (w > 0 and h > 0)]
        out += [f"console error: {m}" for m in self.console_errors] + [f"script error: {m}" for m in self.page_errors]
        out += [f"remote request refused (the page must work offline): {u}" for u in self.refused]
        return out + [f"request failed: {u}" for u in self.failed]


def open_page(browser, path, width: int = 1360, height: int = 1000):
    "A new page showing `path` from file://, offline, all its images loaded; (page, PageCheck filled as it loads)."
    path = Path(path).resolve()
    chk = PageCheck(path.as_uri())
    ctx = browser.new_context(viewport=dict(width=width, height=height), offline=True)
    page = ctx.new_page()
    page.on('console', lambda m: chk.console_errors.append(m.text) if m.type == 'error' else None)
    page.on(
        'pageerror',
        lambda e: chk.page_errors.append(f"{getattr(e, 'name', None) or 'Error'}: {getattr(e, 'message', e)}"),
    )
    page.on('requestfailed', lambda r: None if r.url in chk.refused else chk.failed.append(f"{r.url} ({r.failure})"))

    def route(r):
        if r.request.url.startswith(LOCAL_SCHEMES):
            return r.continue_()
        chk.refused.append(r.request.url)
        r.abort('blockedbyclient')

    page.route('**/*', route)
    page.goto(chk.url, wait_until='load')
    page.evaluate(WAIT_IMAGES)
    chk.images = page.evaluate(IMAGES)
    return page, chk


def check_page(browser, path, screenshot=None, width: int = 1360, height: int = 1000, action=None) -> PageCheck:
    """Open `path`, run `action(page)` if given, take a screenshot of the window into `screenshot` if given, close it;
    what it showed."""
    page, chk = open_page(browser, path, width, height)
    try:
        if action:
            action(page)
        if screenshot:
            Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(screenshot))
    finally:
        page.context.close()
    return chk


def assert_page_ok(browser, path, screenshot=None, min_images: int = 1, **kw) -> PageCheck:
    """Open `path` from file://: at least `min_images` images, each with a non-zero natural size, no console or script
    error, nothing remote."""
    chk = check_page(browser, path, screenshot, **kw)
    assert len(chk.images) >= min_images, f"{path}: {len(chk.images)} images, expected at least {min_images}"
    assert not chk.problems, f"{path}:\n" + '\n'.join(chk.problems)
    return chk


def docs_page_or_skip(name: str = 'index.html') -> Path:
    "A page of the built docs site (`make docs` writes _docs/); the test is skipped when it has not been built."
    p = ROOT / '_docs' / name
    if not p.exists():
        pytest.skip(f"_docs/{name} not built (make docs builds the docs site)")
    return p
