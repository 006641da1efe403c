"""End to end: the report notebooks (nbs/paper/, kept out of nbdev-test by nbs/paper/.notest) rendered by papermill
on SYNTHETIC results folders written by `ldd_study.testing.demo_results` — made-up numbers, never a result."""

import json
import sys
from pathlib import Path
import nbformat
import pandas as pd
import pytest
from ldd_study.core import load_params, project_root
from ldd_study.testing import demo_results
from ldd_study.report import render_reports
from ldd_study.tables import (
    PAPER_COLUMNS,
    ACC_ALL,
    ABLATION_COLUMNS,
    ABLATION_DIFF,
    POOLED,
    LEFT_OUT_COLUMNS,
    CV_SET,
    TEST_SET,
)

PNG = b'\x89PNG\r\n\x1a\n'
TABLE_COLUMNS = {
    'table1_segmentation': ['set', 'discs', 'patients', 'Dice median (Q1, Q3)', 'IoU median (Q1, Q3)'],
    'table2_grading': [
        'set',
        'discs',
        'patients',
        'not found',
        *PAPER_COLUMNS,
        ACC_ALL,
        'QWK',
        'AUC mild/moderate',
        'ECE',
        'Brier',
    ],
    'table2_grades': ['set', 'discs', 'patients', 'not found', ACC_ALL, 'QWK', 'within one'],
    'ablation': [*ABLATION_COLUMNS.values(), ABLATION_DIFF],
    'paper_comparison': ['quantity', 'set', 'paper (Ding et al. 2024)', 'ours', 'what differs'],
    'cv_grading': ['set', 'discs', 'not found', *PAPER_COLUMNS, ACC_ALL],
    'left_out': LEFT_OUT_COLUMNS,
}
STDERR_HTML = (
    'data-mime-type="application/vnd.jupyter.stderr"'  # an stderr output block (the CSS names it in quotes of its own)
)
FIGURES = ['fig2_segmentation.png', 'fig3_roc.png', 'confusion_groups.png', 'calibration.png', 'training_curves.png']


def fast_params():
    "The project's params with few bootstrap resamples and a low dpi: the same code paths, in seconds."
    p = load_params()
    p['stats'] = {**p['stats'], 'resamples': 100}
    p['report'] = {**p.get('report', {}), 'dpi': 60}
    return p


def render(tmp_path, **fake):
    res = demo_results(tmp_path / 'results', **fake)
    out = tmp_path / 'reports'
    written = render_reports(res, out, params=fast_params(), progress=False)
    return out, written


def machine_paths(tmp_path):
    "Absolute paths of this machine a shared report must not show: the test's folder, home, the venv, the project."
    paths = [str(tmp_path), str(Path.home()), sys.prefix, str(project_root())]
    return [p for p in paths if Path(p) != Path(Path(p).anchor)]


def check_private(tmp_path, nb_path, html_path):
    "No machine path in the executed notebook or its HTML, and no stderr output in either."
    nb_text, html = nb_path.read_text(encoding='utf-8'), html_path.read_text(encoding='utf-8')
    for p in machine_paths(tmp_path):
        assert p not in nb_text, (nb_path.name, p)
        assert p not in html, (html_path.name, p)
    cells = json.loads(nb_text)['cells']
    assert not [
        o for c in cells for o in c.get('outputs', []) if o.get('output_type') == 'stream' and o.get('name') == 'stderr'
    ]
    assert STDERR_HTML not in html


def check_common(out, written, tmp_path):
    for nb in ('01_segmentation', '02_grading', '03_cohorts'):
        assert out / f'{nb}.ipynb' in written and out / f'{nb}.html' in written
        check_private(tmp_path, out / f'{nb}.ipynb', out / f'{nb}.html')
        html = (out / f'{nb}.html').read_text(encoding='utf-8')
        assert 'These numbers are synthetic' in html and 'not a clinical result' in html
        assert (
            'Data and licences.' in html and 'Settings that differ from params.yaml as committed' in html
        )  # the footer
        assert 'papermill' not in html and 'render_reports' not in html  # no word on how the page was made
        assert nb == '03_cohorts' or 'src="data:image/png;base64' in html  # figures inside the page (03: only with CV)
        assert '<script src="http' not in html  # nothing to fetch: it opens offline
        cells = json.loads((out / f'{nb}.ipynb').read_text())['cells']
        assert not [o for c in cells for o in c.get('outputs', []) if o.get('output_type') == 'error']
    for f in FIGURES:
        b = (out / 'figures' / f).read_bytes()
        assert b[:8] == PNG and len(b) > 2000, f


def check_table(out, stem, columns):
    t = pd.read_csv(out / "tables" / f"{stem}.csv", keep_default_na=False)  # "n/a" stays text
    missing = [c for c in columns if c not in t.columns]
    assert not missing, (stem, missing, list(t.columns))
    md = (out / 'tables' / f'{stem}.md').read_text(encoding='utf-8')
    assert md.startswith('| ') and md.count('\n') == len(t) + 2
    return t


def test_reports_full(tmp_path):
    "Every output on a results folder with grades, cross-validation and discs the U-Net missed."
    out, written = render(tmp_path, seed=0)
    check_common(out, written, tmp_path)
    assert (out / 'figures' / 'confusion_grades.png').read_bytes()[:8] == PNG
    for stem, cols in TABLE_COLUMNS.items():
        check_table(out, stem, cols)
    t2 = pd.read_csv(out / 'tables' / 'table2_grading.csv').set_index('set')
    assert t2.index.tolist() == [CV_SET, TEST_SET]  # the cross-validation heads Table 2; no tuning row
    pred = pd.read_csv(tmp_path / 'results' / 'predictions.csv')
    te = pred[(pred.crop == 'auto') & (pred.set == 'test')]
    assert t2.loc[TEST_SET, 'discs'] == len(te) and t2.loc[TEST_SET, 'not found'] == int((~te.found).sum())
    assert float(t2.loc[TEST_SET, ACC_ALL].split()[0]) == pytest.approx(
        (te.found & (te.group_pred == te.group_true)).mean(), abs=5e-4
    )
    cvt = pd.read_csv(out / 'tables' / 'cv_grading.csv').set_index('set')
    assert t2.loc[CV_SET, ACC_ALL] == cvt.loc[POOLED, ACC_ALL]  # the headline row is the pooled cross-validation
    assert 'The headline is the cross-validation' in (out / '02_grading.html').read_text(encoding='utf-8')


def test_reports_show_what_was_left_out(tmp_path):
    "The cohort's problems and unmatched discs (cohort.json) appear as a table in the segmentation report's HTML."
    out, written = render(tmp_path, seed=1, cv=False)
    html = (out / '01_segmentation.html').read_text(encoding='utf-8')
    assert 'Left out: 2 cohort problems and 1 graded disc' in html
    lo = check_table(out, 'left_out', LEFT_OUT_COLUMNS)
    assert lo['file or disc'].tolist()[:2] == ['masks/99_t2.mha', 'radiological_gradings.csv']
    for cell in lo['file or disc'].tolist() + lo['reason'].tolist():
        assert f'<td>{cell}</td>' in html, cell  # every row of the table is in the page


def test_reports_tiny(tmp_path):
    "Tiny data: 2 test patients, no 'serious' disc in the test set, groups only, no CV: NaN metrics, no crash."
    out, written = render(tmp_path, seed=3, patients=6, grades=False, cv=False, drop_class='serious', left_out=False)
    check_common(out, written, tmp_path)
    assert 'Left out: none.' in (out / '01_segmentation.html').read_text(encoding='utf-8')
    assert len(check_table(out, 'left_out', LEFT_OUT_COLUMNS)) == 0
    t2 = check_table(out, 'table2_grading', TABLE_COLUMNS['table2_grading']).set_index('set')
    assert t2.index.tolist() == [TEST_SET]  # no cross-validation: the test split heads it
    assert t2.loc[TEST_SET, 'AUC mild/serious'] == 'n/a'
    for stem in ('table1_segmentation', 'ablation', 'paper_comparison'):
        check_table(out, stem, TABLE_COLUMNS[stem])
    assert not (out / 'tables' / 'table2_grades.csv').exists() and not (out / 'tables' / 'cv_grading.csv').exists()
    assert not (out / 'figures' / 'confusion_grades.png').exists()


def test_reports_private(tmp_path, capfd):
    """A notebook that prints its absolute folders and writes to stderr: the report shows neither, the log keeps the
    stderr."""
    nb = nbformat.v4.new_notebook(
        metadata={'kernelspec': {'display_name': 'python3', 'language': 'python', 'name': 'python3'}}
    )
    nb.cells = [
        nbformat.v4.new_code_cell('results_dir = "."\nout_dir = "."\nparams = None', metadata={'tags': ['parameters']}),
        nbformat.v4.new_code_cell(
            'import sys\nprint("read", results_dir)\nsys.stderr.write(f"warning about {out_dir}\\n")\n'
            'from IPython.display import Markdown\nMarkdown(f"`{sys.prefix}` and `{results_dir}/cohort.json`")'
        ),
    ]
    src = tmp_path / 'paper' / '03_probe.ipynb'
    src.parent.mkdir()
    nbformat.write(nb, src)
    res = demo_results(tmp_path / 'results')
    out = tmp_path / 'reports'
    written = render_reports(res, out, notebooks=[src], params=fast_params(), progress=False)
    assert written == [out / '03_probe.ipynb', out / '03_probe.html']
    check_private(tmp_path, *written)
    run = nbformat.read(written[0], as_version=4)
    assert [o.text for o in run.cells[-1].outputs if o.output_type == 'stream'] == ['read …/results\n']
    assert run.cells[-1].outputs[-1].data['text/markdown'].endswith('and `…/results/cohort.json`')
    assert run.metadata.papermill.output_path == '…/03_probe.ipynb'
    assert run.metadata.papermill.parameters['results_dir'] == '…/results'
    assert 'injected-parameters' in run.cells[1].metadata.tags and '"…/results"' in run.cells[1].source
    assert f'warning about {out}' in capfd.readouterr().err  # the stage's log keeps it


def test_reports_two_cohorts(tmp_path):
    """Two cohorts (the second with boxes, not masks): the cohort table, Table 2 per cohort and pooled, box hits, the
    transfer table, Fig. 3 per cohort; Table 1 holds the masked cohort only."""
    out, written = render(tmp_path, seed=5, patients=16, cohorts=('SPIDER', 'LSMA'))
    check_common(out, written, tmp_path)
    ct = check_table(out, 'cohorts', ['cohort', 'patients', 'graded discs', 'grade I', 'mild'])
    assert ct.cohort.tolist() == ['SPIDER', 'LSMA', 'all']
    cc = check_table(
        out,
        'cohort_characteristics',
        [
            'cohort',
            'site',
            'sequence',
            'scanners (series)',
            'reference',
            'patients',
            'women / men',
            'age, years: median [Q1, Q3]',
        ],
    )
    assert cc.cohort.tolist() == ['SPIDER', 'LSMA']
    cg = check_table(out, 'cohort_grading', TABLE_COLUMNS['cv_grading'])
    assert cg.set.tolist() == ['SPIDER', 'LSMA', 'pooled']
    assert check_table(out, 'box_hits', ['cohort', 'discs', 'centre in its box, at its level']).cohort.tolist() == [
        'LSMA'
    ]
    tt = check_table(out, 'transfer', ['trained on', f'SPIDER: {ACC_ALL}', f'LSMA: {ACC_ALL}', 'LSMA: QWK (5 grades)'])
    assert tt['trained on'].tolist() == ['SPIDER', 'LSMA', 'all cohorts']
    for f in ('fig3_roc_SPIDER.png', 'fig3_roc_LSMA.png', 'fig3_roc_pooled.png'):
        assert (out / 'figures' / f).read_bytes()[:8] == PNG
    html = (out / '03_cohorts.html').read_text(encoding='utf-8')
    assert 'no patient data' in html and 'Sudirman S' not in html  # synthetic: no public cohort is cited
    assert 'id="cell-id=injected-parameters"' in html  # not papermill's random id: a rerun, the same bytes
    seg = pd.read_csv(tmp_path / 'results' / 'seg_discs.csv')
    t1 = pd.read_csv(out / 'tables' / 'table1_segmentation.csv').set_index('set')
    assert t1.loc[TEST_SET, 'discs'] == int(
        ((seg.set == 'test') & seg.in_box.isna()).sum()
    )  # Table 1: discs with masks only
