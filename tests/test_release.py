"""The release models shipped in the package: the files are the ones their record names, and a fresh clone grades a
DICOM series, a NIfTI volume, a MetaImage and a PNG of real scans with them, no training step, no phantom warning."""

import json
import numpy as np
import SimpleITK as sitk
from conftest import cli, ROOT
from test_predict import write_dicom_series
from ldd_study.release import RELEASE_DIR, RELEASE_FILES, file_sha256, release_version


def test_release_files_are_the_recorded_ones():
    rec = json.loads((RELEASE_DIR / 'release.json').read_text())
    assert set(rec['files']) == set(RELEASE_FILES)
    for f, h in rec['files'].items():
        assert file_sha256(RELEASE_DIR / f) == h, f  # what make release-models wrote
    assert rec['version'] == release_version(rec['files'])
    card = (RELEASE_DIR / 'MODEL_CARD.md').read_text()
    assert f"Version **{rec['version']}**" in card and 'Not a medical device' in card.replace('**', '')
    assert set(rec['trained_on']) == {'SPIDER', 'LSMA', 'SPIDER TSE'}
    from ldd_study.predict import load_predictor, default_model_dir

    assert default_model_dir() == RELEASE_DIR  # predict's default with no --model
    p = load_predictor()
    assert p.info['version'] == rec['version'] and p.info['model_card']['matches'] and not p.trained_on_phantom


def test_release_grades_real_scans_without_training(sample, tmp_path):
    vol = sitk.ReadImage(str(sample / 'images' / '110_t2_SPACE.mha'))
    sitk.WriteImage(vol, str(tmp_path / 'spider1.nii.gz'))
    a = sitk.GetArrayFromImage(vol)  # (slices, rows, cols) as SPIDER stores it
    write_dicom_series(
        a.astype(np.int16),
        tmp_path / 'spider1_dicom',
        spacing=(vol.GetSpacing()[1], vol.GetSpacing()[0], vol.GetSpacing()[2]),
    )
    png = sorted((ROOT.parent / 'shared' / 'data' / 'lsma_t2' / 'images').glob('*.png'))[0]
    inputs = [sample / 'images' / '110_t2_SPACE.mha', tmp_path / 'spider1.nii.gz', tmp_path / 'spider1_dicom', png]
    rc, out, err = cli('predict', *inputs, '--out', tmp_path / 'graded', '--quiet')
    assert rc == 0, err
    assert 'phantom' not in err
    rec = json.loads((RELEASE_DIR / 'release.json').read_text())
    cases = [p for p in (tmp_path / 'graded').iterdir() if p.is_dir()]
    assert len(cases) == len(inputs)
    for c in cases:
        rep = json.loads((c / 'report.json').read_text())
        assert rep['model']['version'] == rec['version'] and rep['model']['model_card']['version'] == rec['version'], (
            c.name
        )
        assert not any('phantom' in w for w in rep['warnings'])
        assert len((c / 'grades.csv').read_text().splitlines()) >= 4, c.name  # header and at least three discs
