"""Measure one change to the cpu profile against the cross-validation folds of a finished `make study` run.

    python tools/experiment.py seg NAME [--set KEY=VALUE ...] [--folds main 0 2]
    python tools/experiment.py cls NAME [--set KEY=VALUE ...] [--folds 0 1 2 3 4] [--tta]

Run it in the folder of a `make study` run (its params.yaml names the data; its cache/ holds the split and, for `cls`,
each fold's predicted disc masks in cache/cv/fold<k>/). `--set` overrides params.yaml (dotted keys, YAML values), e.g.
`--set profiles.cpu.seg.image_size=320 --set classifier.loss=ce`.

- `seg`: builds the U-Net's cohort cache under the changed params, then per fold (`main` = the study's own split, k = CV
  fold k) trains and evaluates the U-Net; prints each fold's and the pooled held-out median per-disc Dice and
  discs found.
- `cls`: per CV fold, re-crops the discs from that fold's predicted masks (the U-Net of the study run), trains and
  evaluates the grader; prints the pooled 3-group exact accuracy (a disc not found counts as wrong; all graded discs
  and the lumbar ones), and the 5-grade exact accuracy and QWK on found discs (QWK also on the found lumbar discs).
  `--tta` also scores the average of each crop and its anterior-posterior mirror image. `--fold-ensemble` also trains,
  per fold, one grader without each of the other folds and scores the mean of their probabilities: the CV's measure
  of what averaging the k fold models would do for a new scan (k - 1 more trainings per fold).

Everything goes under experiments/NAME/ (git-ignored). Single-threaded by default (THREADS=1), so two can run side by
side on two cores; every random choice is seeded from params.yaml as in the pipeline.
"""

import argparse
import os
import sys
import time
from pathlib import Path
import numpy as np
import pandas as pd
import yaml


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('part', choices=['seg', 'cls'])
    ap.add_argument('name')
    ap.add_argument(
        '--set', action='append', default=[], metavar='KEY=VALUE', help='override a params.yaml value (dotted key)'
    )
    ap.add_argument(
        '--folds',
        nargs='+',
        default=None,
        help="seg: main and/or fold numbers (default: main 0 1 2 3 4); cls: fold numbers",
    )
    ap.add_argument('--tta', action='store_true', help='cls: also score flip test-time augmentation')
    ap.add_argument(
        '--fold-ensemble',
        action='store_true',
        help="cls: also score, per fold, the mean of graders each trained without one of the other folds (nested: the "
        "held-out fold is never seen)",
    )
    return ap.parse_args(argv)


def with_overrides(params: dict, sets: list) -> dict:
    "params with each KEY=VALUE of `sets` applied (dotted keys; YAML values)."
    for s in sets:
        if '=' not in s:
            sys.exit(f"--set {s!r}: expected KEY=VALUE")
        k, v = s.split('=', 1)
        d = params
        ks = k.split('.')
        for a in ks[:-1]:
            if a not in d:
                sys.exit(f"--set {k}: params.yaml has no section {a!r}")
            d = d[a]
        d[ks[-1]] = yaml.safe_load(v)
    return params


def run_seg(params, out: Path, folds):
    from ldd_study.stages import FOLD_INPUTS, STAGES, run_fold
    from ldd_study.splits import fold_split, test_rows

    coh = out / 'cohort'
    (coh / 'cache').mkdir(parents=True, exist_ok=True)
    STAGES['cohort'](params, coh)
    split = pd.read_csv('cache/split.csv', dtype={'patient': str})
    k = int(split.fold.max()) + 1
    segs = []
    for f in folds:
        t0 = time.time()
        fold_split_of = split if f == 'main' else fold_split(split, int(f), k)
        w = run_fold(params, coh / 'cache', out / f, fold_split_of, ('train_seg', 'eval_seg'), FOLD_INPUTS)
        s = test_rows(w, 'seg_discs.csv').assign(fold=f)
        segs.append(s)
        print(
            f"fold {f}: median Dice {s.dice.median():.3f}, found {int((s.auto_label > 0).sum())}/{len(s)}, "
            f"{(time.time() - t0) / 60:.1f} min",
            flush=True,
        )
    s = pd.concat(segs)
    s.to_csv(out / 'seg_discs.csv', index=False)
    print(
        f"pooled ({' '.join(folds)}): median per-disc Dice {s.dice.median():.3f} (Q1 {s.dice.quantile(0.25):.3f}, "
        f"Q3 {s.dice.quantile(0.75):.3f}), found {int((s.auto_label > 0).sum())}/{len(s)}"
    )


def fold_members(params, w: Path) -> pd.DataFrame:
    "Test predictions of fold folder `w` from the mean of graders each trained without one of its training folds."
    from ldd_study.core import GROUPS
    from ldd_study.stages import CROP_INPUTS, run_fold
    from ldd_study.splits import test_rows
    from ldd_study.stats import PROBA_COLUMNS

    split = pd.read_csv(w / 'cache' / 'split.csv', dtype={'patient': str})
    ps = []
    for g in sorted(split[split.set != 'test'].fold.unique()):
        member_split = split.assign(set=np.where((split.fold == g) & (split.set != 'test'), 'left_out', split.set))
        m = run_fold(params, w / 'cache', w / f'member{g}', member_split, ('train_cls', 'eval_cls'), CROP_INPUTS)
        ps.append(test_rows(m, 'predictions.csv').reset_index(drop=True))
    e = ps[0].copy()
    cols = list(PROBA_COLUMNS)
    e[cols] = np.mean([p[cols].values for p in ps], 0)
    e['group_ens'] = [None if np.isnan(r).any() else GROUPS[int(np.argmax(r))] for r in e[cols].values]
    return e[['patient', 'ivd_label', 'crop', 'group_ens']]


def run_cls(params, out: Path, folds, tta: bool, ensemble: bool = False):
    from sklearn.metrics import cohen_kappa_score
    from ldd_study.core import GROUPS, LUMBAR_LABELS
    from ldd_study.stages import run_fold
    from ldd_study.splits import test_rows
    from ldd_study.study_data import labelled_crops
    from ldd_study.models import load_model
    from ldd_study.train import predict_cls

    preds = []
    for f in folds:
        src = Path('cache') / 'cv' / f'fold{f}' / 'cache'
        if not (src / 'auto_discs.npz').exists():
            sys.exit(f"{src}: no predicted disc masks; run `make study` (cv.run true) here first")
        t0 = time.time()
        split = pd.read_csv(src / 'split.csv', dtype={'patient': str})
        inputs = ('cases.csv', 'discs.csv', 'manual_discs.npz', 'auto_discs.npz')
        w = run_fold(params, src, out / f, split, ('crops', 'train_cls', 'eval_cls'), inputs)
        p = test_rows(w, 'predictions.csv').assign(fold=f)
        if tta:  # average of the crop and its anterior-posterior mirror
            X = np.load(w / 'cache' / 'crops.npz')['crops']
            t = labelled_crops(w)
            t = t[(t.set == 'test') & (t.offset == 0)]
            m, _ = load_model(w / 'models' / 'grader.pt')
            pg = (
                predict_cls(m, X[t['index'].values])[0] + predict_cls(m, X[t['index'].values][..., ::-1].copy())[0]
            ) / 2
            tt = t[['patient', 'ivd_label', 'crop']].assign(group_tta=[GROUPS[i] for i in pg.argmax(1)])
            p = p.merge(
                tt, on=['patient', 'ivd_label', 'crop'], how='left'
            )  # predictions.csv: one row per patient, disc, crop
        if ensemble:
            p = p.merge(fold_members(params, w), on=['patient', 'ivd_label', 'crop'], how='left')
        preds.append(p)
        a = p[p.crop == 'auto']
        print(
            f"fold {f}: 3-group exact accuracy {np.mean(a.group_true == a.group_pred):.3f} ({len(a)} discs), "
            f"{(time.time() - t0) / 60:.1f} min",
            flush=True,
        )
    p = pd.concat(preds)
    p.to_csv(out / 'cv_predictions.csv', index=False)
    for crop in ('auto', 'manual'):
        g = p[p.crop == crop]
        lum = g.ivd_label.isin(LUMBAR_LABELS)
        ok = g.found.astype(bool)
        gp = g.grade_pred.fillna(0).astype(int)

        def qwk(m):
            return cohen_kappa_score(g.grade_true[m], gp[m], weights='quadratic')

        line = (
            f"{crop:6s} crops: 3-group exact accuracy {np.mean(g.group_true == g.group_pred):.3f} (all {len(g)}), "
            f"{np.mean(g[lum].group_true == g[lum].group_pred):.3f} (lumbar {int(lum.sum())}); 5 grades on "
            f"found discs: "
            f"exact {np.mean(g.grade_true[ok] == gp[ok]):.3f}, QWK {qwk(ok):.3f} (all), {qwk(ok & lum):.3f} (lumbar)"
        )
        if ensemble:
            line += (
                f"; fold ensemble: 3-group {np.mean(g.group_true == g.group_ens):.3f} (all), "
                f"{np.mean(g[lum].group_true == g[lum].group_ens):.3f} (lumbar)"
            )
        if tta:
            line += (
                f"; with flip TTA: 3-group {np.mean(g.group_true == g.group_tta):.3f} (all), "
                f"{np.mean(g[lum].group_true == g[lum].group_tta):.3f} (lumbar)"
            )
        print(line)
        for co, c in g.groupby('cohort') if 'cohort' in g and g.cohort.nunique() > 1 else []:  # two cohorts: each apart
            lumbar, found = c.ivd_label.isin(LUMBAR_LABELS), c.found.astype(bool)
            kappa = cohen_kappa_score(
                c.grade_true[found & lumbar], c.grade_pred.fillna(0).astype(int)[found & lumbar], weights='quadratic'
            )
            print(
                f"         {co}: 3-group exact accuracy {np.mean(c[lumbar].group_true == c[lumbar].group_pred):.3f} "
                f"(lumbar {int(lumbar.sum())}); 5-grade QWK {kappa:.3f} (found lumbar)"
            )


def main(argv=None):
    a = parse_args(argv)
    import torch

    torch.set_num_threads(int(os.environ.get('THREADS', '1')))
    from ldd_study.core import load_params

    if not Path('params.yaml').exists() or not Path('cache/split.csv').exists():
        sys.exit("run this in the folder of a finished `make study` run (params.yaml and cache/split.csv)")
    params = with_overrides(load_params('params.yaml'), a.set)
    params['train']['progress'] = False
    out = Path('experiments') / a.name
    out.mkdir(parents=True, exist_ok=True)
    (out / 'params.yaml').write_text(yaml.safe_dump(params, sort_keys=False))
    print(f"{a.part} experiment {a.name}: {' '.join(a.set) or 'params.yaml as it is'}", flush=True)
    if a.part == 'seg':
        run_seg(params, out, a.folds or ['main', '0', '1', '2', '3', '4'])
    else:
        run_cls(params, out, a.folds or ['0', '1', '2', '3', '4'], a.tta, a.fold_ensemble)


if __name__ == '__main__':
    main()
