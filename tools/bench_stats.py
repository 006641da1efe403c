"""Benchmark of ldd_study.stats on synthetic data (seeded; never a result).

Prints (1) the time of 2,000 patient-clustered bootstrap resamples of all grading metrics (3 one-vs-one AUCs, ECE and
Brier included) on 500 discs / 100 patients, BCa (with its 100-patient jackknife) and percentile, next to the generic
slow path; (2) how DeLong's SE agrees with the bootstrap SE of the same AUC.

Usage: python tools/bench_stats.py [--resamples 2000] [--patients 100]
"""

import argparse
import time
from dataclasses import replace
import numpy as np
from ldd_study.core import GROUPS
from ldd_study.metrics import grading_metrics, weighted_auc, ovo_scores
from ldd_study.params import StatsParams
from ldd_study.stats import (
    synthetic_predictions,
    grading_bootstrap,
    cluster_bootstrap,
    weighted_bootstrap,
    delong_ci,
    PROBA_COLUMNS,
)


def timed(f):
    t0 = time.perf_counter()
    out = f()
    return out, time.perf_counter() - t0


def main(resamples: int = 2000, patients: int = 100, seed: int = 0):
    df = synthetic_predictions(patients, seed=seed)
    yt, yp = df.group_true.map(GROUPS.index).values, df.group_pred.map(GROUPS.index).values
    pr = df[list(PROBA_COLUMNS)].values
    print(f"synthetic cohort: {len(df)} discs, {patients} patients (seed {seed})")
    percentile = StatsParams(resamples=resamples, seed=1, method='percentile')
    for method in ('bca', 'percentile'):
        same = replace(percentile, method=method)
        res, secs = timed(lambda: grading_bootstrap(yt, yp, df.patient, pr, stats=same))
        print(f"fast path, {method:10s}: {resamples} resamples x {len(res)} metrics in {secs:.2f} s")
    slow_n = 100

    def metric(d):
        return grading_metrics(
            d.group_true.map(GROUPS.index).values, d.group_pred.map(GROUPS.index).values, d[list(PROBA_COLUMNS)].values
        )

    _, secs = timed(lambda: cluster_bootstrap(df, metric, stats=replace(percentile, resamples=slow_n)))
    print(f"generic slow path: {slow_n} resamples in {secs:.2f} s (~{secs * resamples / slow_n:.0f} s for {resamples})")

    print("\nDeLong SE vs bootstrap SE")
    rng = np.random.default_rng(seed)
    y = np.r_[np.ones(150, bool), np.zeros(150, bool)]
    s = rng.normal(0, 1, 300) + 0.9 * y
    b = weighted_bootstrap(lambda W: {'auc': weighted_auc(y, s, W)}, np.arange(300), percentile).loc['auc']
    d = delong_ci(y, s)
    print(
        f"independent discs (150 + 150): AUC {d['auc']:.3f}, DeLong SE {d['se']:.4f}, disc bootstrap SE {b.se:.4f}, "
        f"ratio {d['se'] / b.se:.3f} (tolerance 0.85-1.15)"
    )
    for a, c in ((0, 1), (0, 2), (1, 2)):
        idx, pos, sc = ovo_scores(yt, pr, a, c)
        pat = df.patient.values[idx]
        bp = weighted_bootstrap(lambda W: {'auc': weighted_auc(pos, sc, W)}, pat, percentile).loc['auc']
        bd = weighted_bootstrap(
            lambda W: {'auc': weighted_auc(pos, sc, W)},
            np.arange(len(idx)),
            percentile,
        ).loc['auc']
        d = delong_ci(pos, sc)
        print(
            f"synthetic cohort, {GROUPS[a]}/{GROUPS[c]}: DeLong SE {d['se']:.4f}, disc bootstrap SE {bd.se:.4f} "
            f"(ratio {d['se'] / bd.se:.3f}), patient bootstrap SE {bp.se:.4f} (ratio {d['se'] / bp.se:.3f})"
        )


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--resamples', type=int, default=2000)
    ap.add_argument('--patients', type=int, default=100)
    ap.add_argument('--seed', type=int, default=0)
    a = ap.parse_args()
    main(a.resamples, a.patients, a.seed)
