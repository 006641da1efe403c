"The hospital layouts end to end: a DICOM series + 3D Slicer-style NIfTI mask + grades.csv, and 2D images with masks."

import json
import numpy as np
import SimpleITK as sitk
from ldd_study.core import load_params
from ldd_study.io import read_cohort, load_case
from ldd_study.phantom import phantom_patient, phantom_config
from conftest import cli
from test_predict import write_dicom_series


def _phantom_case(seed=3):
    cfg = phantom_config(load_params())
    return phantom_patient(1, [2, 3, 4, 1, 5], np.random.default_rng(seed), cfg)  # (slice, row, col) uint8


def test_folder_layout_dicom_nifti_grades(tmp_path):
    vol, msk = _phantom_case()
    series = write_dicom_series(vol, tmp_path / 'images' / 'P1' / 'T2_SAG', spacing=(1.25, 1.25, 4.0))
    r = sitk.ImageSeriesReader()
    r.SetFileNames(sitk.ImageSeriesReader.GetGDCMSeriesFileNames(str(series)))
    ref = r.Execute()
    flip = not np.array_equal(sitk.GetArrayFromImage(ref), vol)  # ITK may stack the files the other way round
    m = sitk.GetImageFromArray(msk[::-1] if flip else msk)
    m.CopyInformation(ref)  # a labelmap on the series' grid, as Slicer saves it
    (tmp_path / 'masks').mkdir()
    sitk.WriteImage(m, str(tmp_path / 'masks' / 'T2_SAG.nii.gz'))
    (tmp_path / 'grades.csv').write_text(
        "patient,level,pfirrmann\nP1,L5-S1,2\nP1,L4-L5,3\nP1,L3-L4,4\nP1,L2-L3,1\nP1,L1-L2,5\n"
    )
    c = read_cohort(tmp_path, 'folder')
    assert c.problems == [] and c.table.patient.tolist() == ['P1'] and c.table.series.tolist() == ['T2_SAG']
    assert c.table.iloc[0].grades == {1: 2, 2: 3, 3: 4, 4: 1, 5: 5}
    case = load_case(c.table.iloc[0])
    assert case.image.shape == vol.shape and case.mask.shape == vol.shape
    order = slice(None) if np.array_equal(case.image, vol) else slice(None, None, -1)  # sagittal order: L->R or R->L
    assert np.array_equal(case.image, vol[order]) and np.array_equal(
        case.mask, msk[order]
    )  # image and mask stay aligned
    rc, out, err = cli('inspect', tmp_path, '--source', 'folder', '--json')
    rep = json.loads(out)
    assert rc == 0, err
    assert rep['graded_discs'] == 5 and rep['matched_discs'] == 5


def test_images2d_layout(tmp_path):
    vol, msk = _phantom_case(4)
    k = vol.shape[0] // 2
    (tmp_path / 'images').mkdir()
    (tmp_path / 'masks').mkdir()
    sitk.WriteImage(sitk.GetImageFromArray(vol[k]), str(tmp_path / 'images' / '7_sag.png'))
    sitk.WriteImage(sitk.GetImageFromArray(msk[k]), str(tmp_path / 'masks' / '7_sag.png'))
    (tmp_path / 'grades.csv').write_text("patient,level,pfirrmann\n7,L5-S1,4\n7,L4-L5,3\n")
    c = read_cohort(tmp_path, 'images2d')
    assert c.problems == [] and c.table.patient.tolist() == ['7']
    case = load_case(c.table.iloc[0])
    assert case.image.shape == (1, *vol.shape[1:]) and set(np.unique(case.mask)) <= {0, 1, 2, 3}
    rc, out, err = cli('inspect', tmp_path, '--source', 'images2d', '--json')
    assert rc == 0, err
    assert json.loads(out)['matched_discs'] == 2
