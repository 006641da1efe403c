"""`ldd-study prepare`: the study's cohort folders rebuilt from tiny synthetic copies of the published SPIDER and
LSMA-PQR downloads (their layouts as their publishers describe them), read back by the project's own readers."""

import contextlib
import hashlib
import io
import numpy as np
import pandas as pd
import SimpleITK as sitk
from PIL import Image
from ldd_study.cli import main
from ldd_study.io import DISC_BOX_LABELS, read_cohort, read_lsma_cohort, semantic_mask
from ldd_study.prepare import to_uint8

PIL_DIRECTION = (0, 0, 1, 1, 0, 0, 0, -1, 0)  # index axes col → posterior, row → inferior, slice → left


def prepare(*args):
    "Run `ldd-study prepare ARGS --quiet` in this process: (exit status, stdout, stderr)."
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main(['prepare', *map(str, args), '--quiet'])
    return rc, out.getvalue(), err.getvalue()


# --- a SPIDER download (Zenodo 10159290): images/, masks/ (instance labels), overview.csv, radiological_gradings.csv


def spine_mask(n=12, rows=48, cols=40, mid=7):
    "SPIDER instance labels (slice, row, col): vertebrae 1-4, discs 201-204 stacked from the bottom, canal 100 behind."
    m = np.zeros((n, rows, cols), np.uint8)
    for s in range(n):
        half = 6 - 2 * abs(s - mid)
        for k in range(1, 5):
            bottom = rows - 2 - (k - 1) * 11
            m[s, bottom - 3 : bottom, 16 - half : 16 + half] = 200 + k
            m[s, bottom - 11 : bottom - 3, 16 - half : 16 + half] = k
        if abs(s - mid) <= 1:
            m[s, 2 : rows - 2, 24:28] = 100
    return m


def spine_image(m):
    "A T2-like int16 volume for the mask `m`: CSF brightest, then discs, then bone, on a gentle ramp."
    body = (m > 0) & (m < 100)
    ramp = np.arange(m.shape[1])[:, None] * 3 + np.arange(m.shape[2])
    return (np.where(m == 100, 900, 0) + np.where(m > 200, 600, 0) + np.where(body, 300, 0) + ramp).astype(np.int16)


def write_mha(path, a, spacing, direction=None):
    "Write `a` (numpy order) with ITK `spacing`; with `direction`, an orientation recorded and the voxels stored RAS."
    path.parent.mkdir(parents=True, exist_ok=True)
    img = sitk.GetImageFromArray(np.ascontiguousarray(a))
    img.SetSpacing(spacing)
    if direction is not None:
        img.SetDirection(direction)
        img.SetOrigin((12.0, -30.0, 40.0))
        img = sitk.DICOMOrient(img, 'RAS')
    sitk.WriteImage(img, str(path), True)


def write_series(root, name, m, spacing, layout='upright'):
    "Image and mask of series `name` in SPIDER's folders: upright, upside down, sagittal axis last, or oriented."
    v = spine_image(m)
    for folder, a in (('images', v), ('masks', m)):
        if layout == 'upright':
            write_mha(root / folder / f'{name}.mha', a, spacing)
        elif layout == 'upside_down':
            write_mha(root / folder / f'{name}.mha', a[:, ::-1], spacing)
        elif layout == 'slices_last':
            write_mha(root / folder / f'{name}.mha', np.transpose(a, (1, 2, 0)), spacing)
        else:
            write_mha(root / folder / f'{name}.mha', a, spacing, PIL_DIRECTION)
    return v


def spider_download(root):
    """Patient 5: T2-SPACE stored sagittal-axis-last without orientation, T2 upside down, T1; patient 7: T2 with a
    recorded orientation; patient 9: T2 as the shared sample lies (mid-sagittal slice 6); 11: the validation subset."""
    m7, m6 = spine_mask(), spine_mask(mid=6)
    vols = {
        '5_t2_SPACE': write_series(root, '5_t2_SPACE', m7, (0.9, 0.4, 0.5), 'slices_last'),
        '5_t2': write_series(root, '5_t2', m7, (0.6, 0.6, 3.3), 'upside_down'),
        '5_t1': write_series(root, '5_t1', m7, (0.6, 0.6, 3.3)),
        '7_t2': write_series(root, '7_t2', m7, (0.7, 0.7, 4.0), 'oriented'),
        '9_t2': write_series(root, '9_t2', m6, (0.5, 0.55, 4.4)),
        '11_t2': write_series(root, '11_t2', m7, (0.6, 0.6, 3.3)),
    }
    names = list(vols)
    over = pd.DataFrame(
        dict(
            new_file_name=names,
            num_discs=4,
            sex=['F ', 'F ', 'F ', 'M', 'F', 'M'],
            subset=['training'] * 5 + ['validation'],
            PixelSpacing='[0.6, 0.6]',
        )
    )
    over.to_csv(root / 'overview.csv', index=False)
    rows = [(p, k, '', g) for p in (5, 7, 9, 11) for k, g in zip((1, 2, 3, 4), (2, 3, 4, 5))]
    grades = pd.DataFrame(rows, columns=['Patient', 'IVD label', 'Modic', 'Pfirrman grade'])
    grades.to_csv(root / 'radiological_gradings.csv', index=False)
    return vols


def tree_digest(root):
    "{relative path: sha256} of every file under `root`."
    files = [p for p in sorted(root.rglob('*')) if p.is_file()]
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def test_prepare_spider(tmp_path):
    src, out = tmp_path / 'SPIDER', tmp_path / 'out'
    vols = spider_download(src)
    rc, stdout, stderr = prepare('spider', src, out)
    assert rc == 0, stdout + stderr
    space, tse = out / 'spider_t2space', out / 'spider_t2tse'
    assert sorted(p.name for p in (space / 'images').iterdir()) == ['5_t2_SPACE.mha']
    assert sorted(p.name for p in (tse / 'images').iterdir()) == ['7_t2.mha', '9_t2.mha']  # 5: SPACE; 11: validation
    img, msk = (sitk.ReadImage(str(space / d / '5_t2_SPACE.mha')) for d in ('images', 'masks'))
    a, m = sitk.GetArrayFromImage(img), sitk.GetArrayFromImage(msk)
    assert (a.dtype, m.dtype, a.shape, m.shape) == (np.uint8, np.uint8, (9, 48, 40), (9, 48, 40))
    assert img.GetSpacing() == msk.GetSpacing() == (0.4, 0.5, 0.9)  # (col, row, slice): kept
    assert np.array_equal(m, semantic_mask(spine_mask(), 'spider')[3:12])  # upright, around slice 7
    assert np.array_equal(a, to_uint8(vols['5_t2_SPACE'][3:12]))
    assert pd.read_csv(space / 'slabs.csv').values.tolist() == [[5, '5_t2_SPACE', 3, 9, 48, 40]]
    for name, k, spacing in (('7_t2', 7, (0.7, 0.7)), ('9_t2', 6, (0.5, 0.55))):
        s = sitk.ReadImage(str(tse / 'images' / f'{name}.mha'))
        assert (s.GetDimension(), s.GetSpacing(), s.GetPixelIDTypeAsString()) == (2, spacing, '8-bit unsigned integer')
        assert np.array_equal(sitk.GetArrayFromImage(s), to_uint8(vols[name][k]))  # mid-sagittal, upright
    over = pd.read_csv(tse / 'overview.csv', dtype=str, keep_default_na=False)
    assert over.new_file_name.tolist() == ['7_t2', '9_t2'] and over.PixelSpacing.tolist() == ['[0.6, 0.6]'] * 2
    assert pd.read_csv(space / 'overview.csv', dtype=str, keep_default_na=False).sex.tolist() == ['F ']  # as published
    assert pd.read_csv(space / 'radiological_gradings.csv').Patient.unique().tolist() == [5]
    assert pd.read_csv(tse / 'radiological_gradings.csv').Patient.unique().tolist() == [7, 9]
    c = read_cohort(space, 'sample')
    assert (c.problems, c.patients, len(c.grades)) == ([], ['5'], 4)
    c = read_cohort(tse, 'spider2d')
    assert (c.problems, c.patients, len(c.grades)) == ([], ['7', '9'], 8)
    assert f"spider_t2space: 1 patient, 1 image, 4 graded discs ({space})" in stdout
    assert f"spider_t2tse: 2 patients, 2 images, 8 graded discs ({tse})" in stdout
    assert "spider_t2tse: skipped 1 t2 series outside SPIDER's training subset" in stdout and 'left out' not in stdout
    first = tree_digest(out)
    rc2, _, _ = prepare('spider', src, tmp_path / 'again')
    assert rc2 == 0 and tree_digest(tmp_path / 'again') == first  # the same bytes, every file
    (tse / 'images' / '99_t2.mha').write_bytes((tse / 'images' / '9_t2.mha').read_bytes())  # left by an earlier run
    rc3, stdout3, _ = prepare('spider', src, out)
    assert rc3 == 0 and tree_digest(out) == first and 'removed 1 file(s)' in stdout3
    rc4, stdout4, _ = prepare('spider', src, tmp_path / 'all', '--subset', 'all')
    assert rc4 == 0 and 'spider_t2tse: 3 patients' in stdout4


def test_prepare_spider_bad_input(tmp_path):
    src = tmp_path / 'SPIDER'
    spider_download(src)
    (src / 'images' / '13_t2.mha').write_bytes(b'ObjectType = Image\nNDims = 3\n garbage')  # unreadable
    (src / 'masks' / '13_t2.mha').write_bytes((src / 'masks' / '9_t2.mha').read_bytes())
    (src / 'images' / '14_t2.mha').write_bytes((src / 'images' / '9_t2.mha').read_bytes())  # no mask
    over = pd.read_csv(src / 'overview.csv', dtype=str, keep_default_na=False)
    extra = pd.DataFrame(dict(new_file_name=['13_t2', '14_t2'], subset='training'))
    pd.concat([over, extra]).to_csv(src / 'overview.csv', index=False)
    rc, stdout, stderr = prepare('spider', src, tmp_path / 'out')
    assert rc == 1, stdout + stderr
    assert f"13_t2: {src / 'images' / '13_t2.mha'}: cannot be read as an image" in stdout
    assert f"14_t2: {src / 'images' / '14_t2.mha'}: no mask: masks/14_t2.mha is missing" in stdout
    assert 'left out (2):' in stdout and 'Traceback' not in stdout + stderr
    assert read_cohort(tmp_path / 'out' / 'spider_t2tse', 'spider2d').patients == ['7', '9']  # the others still written

    (src / 'masks' / '9_t2.mha').rename(tmp_path / 'kept.mha')
    for broken, expect in (
        (src / 'masks', f"{src / 'masks'}: folder not found"),
        (src / 'radiological_gradings.csv', f"{src / 'radiological_gradings.csv'}: SPIDER's grade"),
    ):
        moved = broken.rename(tmp_path / 'moved')
        rc, stdout, stderr = prepare('spider', src, tmp_path / 'out')
        moved.rename(broken)
        assert rc == 2 and stdout == '' and stderr.count('\n') == 1, stderr
        assert stderr.startswith(f"ldd-study: {expect}"), stderr
    over.drop(columns=['new_file_name']).to_csv(src / 'overview.csv', index=False)
    rc, stdout, stderr = prepare('spider', src, tmp_path / 'out')
    assert rc == 2, stderr
    assert stderr.startswith(f"ldd-study: {src / 'overview.csv'}: missing column(s) new_file_name; found "), stderr


# --- an LSMA-PQR download (Mendeley p3r4xd2488): images_png/, masks_indexed/, PfirrmannGrade.csv, IVDHeights.csv ---


def lsma_mask():
    "LSMA-PQR's sagittal classes, 384 x 384: sacrum 3 at the bottom, five 60 x 12 px discs 2 between bodies 1, canal 4"
    m = np.zeros((384, 384), np.uint8)
    m[330:370, 150:210] = 3
    top = 330
    for _ in range(5):
        m[top - 12 : top, 150:210] = 2
        m[top - 52 : top - 12, 150:210] = 1
        top -= 52
    m[60:370, 215:231] = 4
    return m


def lsma_download(root):
    """Patient 1 in both spellings (sag_T2_0001_S8.png and T2_0001_S8.png), patient 2 as T2_0002_S7.png with an indexed
    mask numbered with the axial classes (4-7), patient 3 without mask, patient 4 graded without slice; axial, T1."""
    (root / 'images_png').mkdir(parents=True)
    (root / 'masks_indexed').mkdir()
    m = lsma_mask()
    grey = np.where(m == 2, 200, 0) + np.where(m == 4, 250, 0) + np.where(m % 2 == 1, 90, 0) + 10
    img = Image.fromarray(grey.astype(np.uint8))
    for name in (
        'sag_T2_0001_S8.png',
        'T2_0001_S8.png',
        'T2_0002_S7.png',
        'sag_T2_0003_S8.png',
        'axial_T2_0001_D4.png',
        'sag_T1_0001_S8.png',
    ):
        img.save(root / 'images_png' / name)
    Image.fromarray(m).save(root / 'masks_indexed' / 'sag_T2_0001_S8.png')
    p = Image.frombytes('P', (384, 384), np.where(m > 0, m + 3, 0).astype(np.uint8).tobytes())
    p.putpalette([0, 0, 0] * 4 + [255, 255, 0, 255, 0, 255, 0, 255, 255, 128, 128, 128] + [0, 0, 0] * 248)
    p.save(root / 'masks_indexed' / 'T2_0002_S7.png')
    (root / 'PfirrmannGrade.csv').write_text("PatientID,D3,D4,D5\n1,2,3,4\n2,2,2,3\n3,1,2,2\n4,3,3,3\n")
    (root / 'IVDHeights.csv').write_text(
        'PatientID,D3_Ht,D4_Ht,D5_Ht,D3_Coord,D4_Coord,D5_Coord\n'
        '1,8.0,8.25,8.5,"180,214;180,226","180,266;180,278","180,318;180,330"\n'
        '2,9,9,9,,,\n3,9,9,9,,,\n4,9,9,9,,,\n'
    )


def test_prepare_lsma_pqr(tmp_path):
    src, out = tmp_path / 'LSMA-PQR', tmp_path / 'out'
    lsma_download(src)
    rc, stdout, stderr = prepare('lsma-pqr', src, out)
    assert rc == 1, stdout + stderr  # patients 3 and 4 left out
    root = out / 'lsma_t2'
    assert sorted(p.name for p in (root / 'images').iterdir()) == ['0001_0000_t2.png', '0002_0001_t2.png']
    assert sorted(p.name for p in (root / 'masks').iterdir()) == ['0001_0000_t2.png', '0002_0001_t2.png']
    for name in ('0001_0000_t2.png', '0002_0001_t2.png'):
        a = sitk.GetArrayFromImage(sitk.ReadImage(str(root / 'images' / name)))
        m = sitk.GetArrayFromImage(sitk.ReadImage(str(root / 'masks' / name)))
        assert (a.dtype, a.shape) == (np.uint8, (384, 384))
        assert np.array_equal(a, np.array(Image.open(src / 'images_png' / 'T2_0002_S7.png')))
        assert np.array_equal(m, np.choose(lsma_mask(), [0, 1, 2, 1, 3]))  # sacrum with the vertebrae
    assert pd.read_csv(root / 'images.csv').values.tolist() == [
        ['0001_0000_t2.png', 1, 'sag_T2_0001_S8', 8],
        ['0002_0001_t2.png', 2, 'T2_0002_S7', 7],
    ]
    g = pd.read_csv(root / 'gradings.csv')
    assert g.columns.tolist() == ['patient', 'IVD label', 'level', 'Pfirrmann grade']
    assert g.values.tolist() == [
        [1, 1, 'L5-S1', 4],
        [1, 2, 'L4-L5', 3],
        [1, 3, 'L3-L4', 2],
        [2, 1, 'L5-S1', 3],
        [2, 2, 'L4-L5', 2],
        [2, 3, 'L3-L4', 2],
    ]
    b = pd.read_csv(root / 'boxes.csv')
    assert b.columns.tolist() == ['image', 'patient', 'cls', 'label', 'cx', 'cy', 'w', 'h', 'x0', 'y0', 'x1', 'y1']
    assert set(b.label) <= set(DISC_BOX_LABELS) and b.groupby('image').size().tolist() == [5, 5]
    assert b.iloc[0][['x0', 'y0', 'x1', 'y1']].tolist() == [150.0, 318.0, 210.0, 330.0]
    h = pd.read_csv(root / 'ivd_heights.csv')
    assert h.columns.tolist() == [
        'patient',
        'IVD label',
        'level',
        'height_mm',
        'x_superior',
        'y_superior',
        'x_inferior',
        'y_inferior',
    ]
    assert h[h.patient == 1][['level', 'height_mm', 'y_superior', 'y_inferior']].values.tolist() == [
        ['L5-S1', 8.5, 318.0, 330.0],
        ['L4-L5', 8.25, 266.0, 278.0],
        ['L3-L4', 8.0, 214.0, 226.0],
    ]
    c = read_lsma_cohort(root)
    assert (c.problems, c.patients, len(c.grades), len(c.table)) == ([], ['1', '2'], 6, 2)
    assert f"lsma_t2: 2 patients, 2 images, 6 graded discs ({root})" in stdout
    assert "6 discs, median |mask − published| 0.50 mm" in stdout  # 8.25 mm discs in masks
    assert "T2_0001_S8.png is the same slice as sag_T2_0001_S8.png: written once" in stdout
    no_mask = 'no mask: masks_indexed/sag_T2_0003_S8.png is missing'
    assert f"sag_T2_0003_S8: {src / 'images_png' / 'sag_T2_0003_S8.png'}: {no_mask}" in stdout
    assert f"patient 4: {src / 'PfirrmannGrade.csv'}: patient 4 is graded but has no sagittal T2 slice" in stdout
    rc2, _, _ = prepare('lsma-pqr', src, tmp_path / 'again')
    assert rc2 == 1 and tree_digest(tmp_path / 'again') == tree_digest(out)


def test_prepare_lsma_pqr_bad_input(tmp_path):
    src = tmp_path / 'LSMA-PQR'
    lsma_download(src)
    grades = src / 'PfirrmannGrade.csv'
    grades.write_text("PatientID,D3,D5\n1,2,4\n")
    rc, stdout, stderr = prepare('lsma-pqr', src, tmp_path / 'out')
    assert rc == 2 and stderr.strip() == f"ldd-study: {grades}: missing column(s) D4; found PatientID, D3, D5"
    (src / 'PfirrmannGrade.csv').write_text("PatientID,D3,D4,D5\n1,2,3,x\n")
    rc, stdout, stderr = prepare('lsma-pqr', src, tmp_path / 'out')
    assert rc == 2 and stderr.strip() == f"ldd-study: {grades}: row 2: D5 = 'x' is not a Pfirrmann grade 1–5"
    (src / 'PfirrmannGrade.csv').unlink()
    rc, stdout, stderr = prepare('lsma-pqr', src, tmp_path / 'out')
    assert rc == 2 and stderr.strip() == f"ldd-study: {grades}: LSMA-PQR's grade table not found"
    (src / 'masks_indexed').rename(tmp_path / 'masks')
    rc, stdout, stderr = prepare('lsma-pqr', src, tmp_path / 'out')
    assert rc == 2 and stderr.count('\n') == 1
    assert stderr.startswith(f"ldd-study: {src / 'masks_indexed'}: folder not found")
