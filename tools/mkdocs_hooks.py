"""mkdocs hooks (mkdocs.yml `hooks:`) that keep the docs site whole and offline.

- The home page is README.md (it lies above the docs_dir nbs/), with the report figures it shows at the same paths, its
  links into nbs/ made relative to the site, and the release models' MODEL_CARD.md beside it.
- The iframe-worker shim that mkdocs-material's offline plugin needs (search from file://) is served from the site
  itself (tools/docs_assets/), not from a CDN.
- mkdocs-jupyter's notebook pages would load MathJax (with no URL set, an empty `<script src="">`) and, for mermaid
  diagrams, mermaid from a CDN: both are dropped. The notebooks' `$…$` TeX is turned into MathML when the site is built
  (latex2mathml), which browsers draw themselves.
"""

import html
import re
from pathlib import Path
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[1]
SHIM = 'assets/javascripts/iframe-worker-shim.js'
_MATHJAX = re.compile(r'<!-- Load mathjax -->.*?<!-- End of mathjax configuration -->', re.S)
_MERMAID = re.compile(r'<script type="module">(?:(?!</script>).)*?mermaid(?:(?!</script>).)*?</script>', re.S)
_RAW = re.compile(r'(<(pre|code|script|style|textarea)\b.*?</\2>)', re.S | re.I)  # left as they are
_TEX = re.compile(r'(?<![\\$])\$([^$<\n]+?)\$(?!\$)')


def on_files(files, config):
    "Add README.md as index.md, the images it links (paths relative to the project root) and the iframe-worker shim."
    readme = (ROOT / 'README.md').read_text(encoding='utf-8')
    card = ROOT / 'ldd_study' / 'release' / 'MODEL_CARD.md'
    if card.is_file():
        files.append(File.generated(config, 'release/MODEL_CARD.md', abs_src_path=str(card)))
    site_readme = readme.replace('](nbs/', '](').replace(
        '](ldd_study/release/', '](release/'
    )  # links as the site lays pages out
    files.append(File.generated(config, 'index.md', content=site_readme))
    for link in sorted(set(re.findall(r'!\[[^\]]*\]\(([^)\s]+)\)', readme))):
        p = ROOT / link
        if not link.startswith(('http:', 'https:', '/')) and p.is_file():
            files.append(File.generated(config, link, abs_src_path=str(p)))
    files.append(
        File.generated(config, SHIM, abs_src_path=str(ROOT / 'tools' / 'docs_assets' / 'iframe-worker-shim.js'))
    )
    return files


def tex_to_mathml(text: str) -> str:
    "`text` (HTML) with each inline `$…$` outside pre/code/script/style turned into MathML."
    from latex2mathml.converter import convert

    def one(m):
        try:
            return convert(html.unescape(m.group(1)))
        except Exception:
            return m.group(0)  # not TeX after all: left as written

    return ''.join(
        part if i % 3 == 1 else _TEX.sub(one, part) if i % 3 == 0 else '' for i, part in enumerate(_RAW.split(text))
    )


def on_post_page(output, page, config):
    "A notebook page without MathJax or mermaid from a CDN, its TeX as MathML."
    if not page.file.src_uri.endswith('.ipynb'):
        return output
    return tex_to_mathml(_MERMAID.sub('', _MATHJAX.sub('', output)))
