"""Test-time checks on the cross-validation models of a finished `make study` run: nothing is trained.

    python tools/posthoc.py seg                  # U-Net: flip and neighbouring-slice averaging, thresholds;
                                                 #   resolution ceiling
    python tools/posthoc.py cls                  # grader: averaging over neighbouring slices and the mirror image
    python tools/posthoc.py ensemble A.csv B.csv # the mean of several CV runs' probabilities
                                                 #   (results/cv_predictions.csv, experiments/NAME/cv_predictions.csv)

Run it in the folder of the `make study` run (cv.run true: each fold's models in cache/cv/fold<k>/). Every figure is
pooled over the held-out lumbar discs of the 5 folds; a disc not found scores 0 Dice and counts as wrong.
"""

import argparse
import os
import shutil
import sys
from pathlib import Path
import numpy as np
import pandas as pd


def folds() -> list[Path]:
    "The fold folders of the study run here."
    fs = sorted(Path('cache/cv').glob('fold*'))
    if not fs:
        sys.exit("no cache/cv/fold*: run this in the folder of a finished `make study` run (cv.run true)")
    return fs


def seg_variants(model, z, i, predict_seg_proba) -> dict:
    """Disc probability of case `i` (S, S): as trained, averaged with its mirror image, over its neighbouring slices,
    both."""
    x = z['images'][i][None]
    p = predict_seg_proba(model, x)[0][1]
    pf = predict_seg_proba(model, x[..., ::-1].copy())[0][1][:, ::-1]
    nb = z['train_images'][z['train_case'] == i]  # the mid slice and its cached neighbours
    pn = predict_seg_proba(model, nb)[:, 1]
    return {
        'as trained': p,
        'mirror': (p + pf) / 2,
        'neighbours': pn.mean(0),
        'mirror + neighbours': (pn.sum(0) + pf) / (len(pn) + 1),
    }


def cmd_seg(params):
    """Median per-disc Dice of each test-time variant and threshold, and of the manual masks taken to the U-Net's grid
    and back."""
    from ldd_study.core import LUMBAR_LABELS
    from ldd_study.study_data import segmentation_sets
    from ldd_study.models import load_model
    from ldd_study.discs import predicted_discs
    from ldd_study.params import parsed_section
    from ldd_study.metrics import per_disc_dice
    from ldd_study.preprocess import resize_transform, resize_pad
    from ldd_study.train import predict_seg_proba

    rows, ceiling = [], []
    for w in folds():
        model, _ = load_model(w / 'models' / 'unet.pt')
        z = np.load(w / 'cache' / 'cohort.npz')
        man = np.load(w / 'cache' / 'manual_discs.npz')
        S = z['images'].shape[-1]
        cases = pd.read_csv(w / 'cache' / 'cases.csv', dtype={'patient': str})
        sets = segmentation_sets(w)
        for i, c in cases.iterrows():
            if sets.get(c.series) != 'test':
                continue
            tf = resize_transform((c.rows, c.cols), S)
            m = man[c.series]
            labs = [label for label in np.unique(m) if label in LUMBAR_LABELS]
            for name, prob in seg_variants(model, z, i, predict_seg_proba).items():
                for th in (0.4, 0.5, 0.6):  # the pipeline's own path from probabilities to discs
                    lab, _ = predicted_discs(
                        model,
                        None,
                        tf,
                        (c.spacing_row, c.spacing_col),
                        parsed_section(params, 'preprocess'),
                        proba=np.stack([1 - prob, prob]),
                        threshold=th,
                    )
                    rows.append(per_disc_dice(m, lab, labs).assign(variant=name, threshold=th))
            for label in labs:  # the grid's own limit: manual mask down and up again
                small, _ = resize_pad((m == label).astype(np.float32), S, order=1)
                a, b = tf.inverse(small, order=1) >= 0.5, m == label
                ceiling.append(2 * (a & b).sum() / (a.sum() + b.sum()))
        print(f"{w.name} done", file=sys.stderr, flush=True)
    r = pd.concat(rows)
    t = r.groupby(['variant', 'threshold'], sort=False).agg(
        median_dice=('dice', 'median'),
        q1=('dice', lambda s: s.quantile(0.25)),
        found=('auto_label', lambda s: int((s > 0).sum())),
        discs=('dice', 'size'),
    )
    print(t.round(3).to_string())
    print(
        f"manual masks resized to the U-Net's {S} px grid and back (bilinear, 0.5): median Dice "
        f"{np.median(ceiling):.3f} "
        f"(Q1 {np.quantile(ceiling, 0.25):.3f})"
    )


def cmd_cls(params):
    """3-group exact accuracy when each fold's grader averages its discs over 0-2 neighbouring slices, with and without
    the mirror image."""
    from ldd_study.core import GROUPS, LUMBAR_LABELS
    from ldd_study.stages import STAGES
    from ldd_study.study_data import labelled_crops, discs_with_sets
    from ldd_study.evaluation import disc_means
    from ldd_study.models import load_model
    from ldd_study.train import predict_cls

    params = {
        **params,
        'classifier': {**params['classifier'], 'test_slices': 2},
        'train': {**params['train'], 'progress': False},
    }
    out, truth = [], []
    for w in folds():
        t_ = Path('experiments') / 'posthoc_cls' / w.name
        (t_ / 'cache').mkdir(parents=True, exist_ok=True)
        for n in ('cases.csv', 'discs.csv', 'split.csv', 'manual_discs.npz', 'auto_discs.npz'):
            shutil.copyfile(w / 'cache' / n, t_ / 'cache' / n)
        STAGES['crops'](params, t_)  # crops on the graded slice and 2 either side
        model, _ = load_model(w / 'models' / 'grader.pt')
        X = np.load(t_ / 'cache' / 'crops.npz')['crops']
        t = labelled_crops(t_)
        t = t[(t.set == 'test') & (t.crop == 'auto')]
        pg = predict_cls(model, X[t['index'].values])[0]
        pf = predict_cls(model, X[t['index'].values][..., ::-1].copy())[0]
        for n in (0, 1, 2):
            for mirror in (False, True):
                s = (t.offset.abs() <= n).values
                r, p = disc_means(t[s], (pg[s] + pf[s]) / 2 if mirror else pg[s])
                out.append(
                    r[['series', 'ivd_label']].assign(pred=[GROUPS[i] for i in p.argmax(1)], slices=n, mirror=mirror)
                )
        truth.append(discs_with_sets(t_).query("set == 'test'"))
    d = pd.concat(truth)
    d = d[d.ivd_label.isin(LUMBAR_LABELS)]
    for (n, mirror), g in pd.concat(out).groupby(['slices', 'mirror']):
        m = d.merge(g, on=['series', 'ivd_label'], how='left')
        print(
            f"grades averaged over ±{n} slices{' and the mirror image' if mirror else '':22s}: 3-group exact accuracy "
            f"{np.mean(m.group == m.pred):.3f} ({len(m)} lumbar discs, {int(m.pred.isna().sum())} not found)"
        )


def cmd_ensemble(files):
    "3-group exact accuracy of each CV prediction table and of the mean of their probabilities."
    from ldd_study.core import GROUPS, LUMBAR_LABELS
    from ldd_study.stats import PROBA_COLUMNS

    cols = list(PROBA_COLUMNS)
    ps = [
        pd.read_csv(f, dtype={'patient': str})
        .query("crop == 'auto'")
        .sort_values(['patient', 'ivd_label'])
        .reset_index(drop=True)
        for f in files
    ]
    if any(
        len(p) != len(ps[0]) or (p[['patient', 'ivd_label']].values != ps[0][['patient', 'ivd_label']].values).any()
        for p in ps
    ):
        sys.exit("the tables do not hold the same discs: use CV runs of one study")
    lum = ps[0].ivd_label.isin(LUMBAR_LABELS).values
    truth = ps[0].group_true.values
    for f, p in zip(files, ps):
        ok = (p.group_pred == p.group_true).values
        print(f"{f}: 3-group exact accuracy {ok[lum].mean():.3f} (lumbar {lum.sum()}), {ok.mean():.3f} (all {len(ok)})")
    P = np.mean([p[cols].values for p in ps], 0)  # a disc not found: NaN, stays wrong
    ok = np.where(np.isnan(P).any(1), False, np.array(GROUPS)[np.nan_to_num(P).argmax(1)] == truth)
    print(
        f"mean of the {len(files)}: 3-group exact accuracy {ok[lum].mean():.3f} (lumbar {lum.sum()}), "
        f"{ok.mean():.3f} (all {len(ok)})"
    )


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('what', choices=['seg', 'cls', 'ensemble'])
    ap.add_argument('files', nargs='*')
    a = ap.parse_args(argv)
    import torch

    torch.set_num_threads(int(os.environ.get('THREADS', '1')))
    if a.what == 'ensemble':
        if len(a.files) < 2:
            sys.exit("ensemble: give two or more cv_predictions.csv files")
        return cmd_ensemble(a.files)
    from ldd_study.core import load_params

    if not Path('params.yaml').exists():
        sys.exit("run this in the folder of a finished `make study` run")
    (cmd_seg if a.what == 'seg' else cmd_cls)(load_params('params.yaml'))


if __name__ == '__main__':
    main()
