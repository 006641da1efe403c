"End to end: `ldd-study inspect` on the real sample and on a cohort with every kind of bad input."

import json
import numpy as np
import SimpleITK as sitk
from conftest import cli


def test_inspect_sample_json(sample):
    rc, out, err = cli('inspect', sample, '--json')
    assert rc == 0, err
    rep = json.loads(out)
    assert rep['patients'] == 30 and rep['graded_discs'] == 226
    assert rep['matched_discs'] >= 200
    assert len(rep['unmatched']) == rep['graded_discs'] - rep['matched_discs']
    assert all({'patient', 'ivd_label', 'reason'} <= set(u) for u in rep['unmatched'])


def test_inspect_sample_text(sample):
    rc, out, _ = cli('inspect', sample)
    assert rc == 0
    assert 'patients 30' in out and 'graded discs 226' in out and '5_t2_SPACE' in out


def _write(p, a):
    p.parent.mkdir(parents=True, exist_ok=True)
    sitk.WriteImage(sitk.GetImageFromArray(a), str(p))


def test_inspect_lists_every_bad_input(tmp_path):
    vol = np.zeros((3, 16, 12), np.uint8)
    _write(tmp_path / 'images/1_t2.mha', vol)
    _write(tmp_path / 'masks/1_t2.mha', vol)
    _write(tmp_path / 'images/2_t2.mha', vol)  # mask missing
    _write(tmp_path / 'images/3_t2.mha', vol)
    _write(tmp_path / 'masks/3_t2.mha', vol[:, :8])  # grid differs
    raw = (tmp_path / 'images/1_t2.mha').read_bytes()
    (tmp_path / 'images/4_t2.mha').write_bytes(raw[:-100])
    _write(tmp_path / 'masks/4_t2.mha', vol)  # truncated
    (tmp_path / 'radiological_gradings.csv').write_text(
        "Patient,IVD label,Pfirrman grade\n1,1,2\n1,1,2\n1,2,6\n1,L9-L10,3\n,3,3\n2,1,4\n3,1,4\n3,2,5\n7,1,2\n"
    )
    rc, out, err = cli('inspect', tmp_path, '--source', 'spider', '--json')
    assert rc == 1
    rep = json.loads(out)
    probs = rep['problems']
    for expected in [
        '2_t2.mha: file not found',
        '3_t2.mha: mask grid',
        '4_t2.mha: truncated',
        'row 3: duplicate of row 2',
        "row 4: Pfirrmann grade '6' is outside 1–5",
        "row 5: unknown disc level 'L9-L10'",
        'row 6: patient is empty',
        'patient 7: 1 graded disc but no image',
    ]:
        assert any(expected in p for p in probs), (expected, probs)
    # every graded disc is matched or left out with its reason (the empty mask of case 1 has no disc)
    assert rep['graded_discs'] == 5 and rep['graded_discs'] == rep['matched_discs'] + len(rep['unmatched'])
    why = {(u['patient'], u['ivd_label']): u['reason'] for u in rep['unmatched']}
    assert why[('1', 1)].startswith('no disc instance L5-S1 on slice')
    assert why[('2', 1)].startswith('case left out: file not found')
    assert why[('3', 1)].startswith('case left out: mask grid') and why[('3', 2)].startswith('case left out: mask grid')
    assert why[('7', 1)] == 'no image for this patient'


def _lsma_root():
    "The real LSMA T2 cohort: $LDD_LSMA_ROOT or ../shared/data/lsma_t2 beside the project."
    import os
    from pathlib import Path

    p = Path(os.environ.get('LDD_LSMA_ROOT', Path(__file__).resolve().parents[2] / 'shared' / 'data' / 'lsma_t2'))
    assert (p / 'boxes.csv').exists(), f"the LSMA cohort is needed for this test: not found at {p}"
    return p


def test_inspect_lsma_json():
    "No --source: a root holding boxes.csv is read as LSMA; every graded disc is matched or listed with its reason."
    import time

    t0 = time.time()
    rc, out, err = cli('inspect', _lsma_root(), '--json')
    secs = time.time() - t0
    assert rc == 0, err
    rep = json.loads(out)
    assert rep['source'] == 'lsma' and rep['patients'] == 400 and rep['series'] == 408
    assert rep['graded_discs'] == 1200 and rep['matched_discs'] >= 1150, rep['matched_discs']
    assert rep['graded_discs'] == rep['matched_discs'] + len(rep['unmatched'])
    assert all({'patient', 'ivd_label', 'reason'} <= set(u) and u['reason'] for u in rep['unmatched'])
    assert rep['problems'] == []
    assert secs < 60, f"inspect took {secs:.0f} s on 408 PNGs"


def test_inspect_lsma_text():
    rc, out, _ = cli('inspect', _lsma_root(), '--source', 'lsma')
    assert rc == 0
    assert '(lsma)' in out and 'graded discs 1200' in out and 'left out (' in out


def test_inspect_spider_t2tse_accounts_for_every_graded_disc():
    """No --source: SPIDER's gradings and no masks/ read as spider2d; with no model every graded disc awaits the U-Net,
    said."""
    import os
    from pathlib import Path

    root = Path(
        os.environ.get('LDD_TSE_ROOT', Path(__file__).resolve().parents[2] / 'shared' / 'data' / 'spider_t2tse')
    )
    assert (root / 'radiological_gradings.csv').exists(), (
        f"the SPIDER T2 TSE cohort is needed for this test: not found at {root}"
    )
    rc, out, err = cli('inspect', root, '--json')
    assert rc == 0, err
    rep = json.loads(out)
    assert (rep['source'], rep['patients'], rep['series'], rep['graded_discs']) == ('spider2d', 144, 144, 977)
    assert rep['unet_discs'] == 977 and rep['matched_discs'] == 0 and rep['problems'] == []
    assert len(rep['unmatched']) == 977 and all(
        u['reason'].startswith('no mask: the U-Net finds') for u in rep['unmatched']
    )
