"""The disc measures against the Pfirrmann grade on the SPIDER sample's mid slices, with its manual disc masks.

Prints each measure's Spearman correlation with the grade over the lumbar discs and its median per grade, and draws
them per grade (box plots) to a PNG. The masks are the radiologists' own, so this shows what the measures carry, apart
from how well the U-Net finds the discs. `--cv` adds a measures-only grader: a logistic regression on the measures and
the level (scikit-learn), in patient-grouped 5-fold cross-validation, its 3-group accuracy and 5-grade QWK with
patient-bootstrap 95 % intervals (params.yaml's stats section).

Usage: .venv/bin/python tools/measures_by_grade.py [--root ../shared/data/spider_t2space]
       [--png docs/images/measures_by_grade.png] [--cv]
"""

import argparse
import warnings
from pathlib import Path
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from scipy.stats import spearmanr
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import cohen_kappa_score
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from tqdm.auto import tqdm
from ldd_study.core import LUMBAR_LABELS, ROMAN, load_params, pfirrmann_group
from ldd_study.stats import cluster_bootstrap
from ldd_study.discs import discs_on_slice, mid_slice
from ldd_study.params import parse_params, parsed_section
from ldd_study.io import load_case, read_cohort
from ldd_study.measures import MEASURE_COLUMNS, MEASURES, disc_measures

ROOT = Path(__file__).resolve().parents[1]
SHOWN = ["nucleus_annulus", "nucleus_csf", "height_middle_mm", "height_index"]  # the ones drawn


def sample_measures(root: Path) -> pd.DataFrame:
    "The measures of every graded lumbar disc on each series' mid slice, manual masks, with its grade."
    params = load_params(ROOT / "params.yaml")
    cohort = read_cohort(root, "sample")
    rows = []
    for _, row in tqdm(list(cohort.table.iterrows()), desc="series", leave=False):
        case = load_case(row)
        k = mid_slice(case, parsed_section(params, 'preprocess'))
        levels = None if case.levels is None else case.levels[k]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            labels, _ = discs_on_slice(case.mask[k], case.spacing, parsed_section(params, 'preprocess'), levels)
        rows.append(disc_measures(case.image[k], labels, case.spacing[:2]).assign(patient=case.patient))
    measured = pd.concat(rows, ignore_index=True)
    grades = cohort.grades.assign(patient=cohort.grades.patient.astype(str))
    joined = measured.merge(grades[["patient", "ivd_label", "pfirrmann"]], on=["patient", "ivd_label"])
    return joined[joined.ivd_label.isin(LUMBAR_LABELS)]


def draw(measured: pd.DataFrame, path: Path):
    "Box plots of the `SHOWN` measures per Pfirrmann grade."
    fig, axes = plt.subplots(1, len(SHOWN), figsize=(3.2 * len(SHOWN), 3.2), dpi=150)
    grades = sorted(measured.pfirrmann.unique())
    for ax, column in zip(axes, SHOWN):
        data = [measured.loc[measured.pfirrmann == g, column].dropna() for g in grades]
        ax.boxplot(data, tick_labels=[ROMAN[g - 1] for g in grades], widths=0.6, showfliers=False)
        rho = spearmanr(measured.pfirrmann, measured[column], nan_policy="omit").statistic
        ax.set_title(f"{column}\nSpearman ρ {rho:.2f}", fontsize=9)
        ax.set_xlabel("Pfirrmann grade", fontsize=8)
        ax.tick_params(labelsize=8)
    fig.suptitle(f"Disc measures by grade: SPIDER sample, {len(measured)} lumbar discs, manual masks", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


FEATURES = MEASURE_COLUMNS[:7]  # the numeric measures; the level is added one-hot


def measures_only_cv(measured: pd.DataFrame, folds: int = 5) -> pd.DataFrame:
    "Out-of-fold 5-grade predictions of a logistic regression on the measures and the level, folds grouped by patient."
    data = measured.dropna(subset=FEATURES).reset_index(drop=True)
    x = pd.concat([data[FEATURES], pd.get_dummies(data.ivd_label, prefix="level", dtype=float)], axis=1).to_numpy()
    predicted = pd.Series(0, index=data.index)
    for train, test in GroupKFold(n_splits=folds).split(x, data.pfirrmann, data.patient):
        model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
        model.fit(x[train], data.pfirrmann[train])
        predicted[test] = model.predict(x[test])
    return data.assign(predicted=predicted)


def cv_scores(frame: pd.DataFrame) -> dict:
    "3-group accuracy (groups of the predicted grade) and 5-grade quadratic-weighted kappa of one set of discs."
    groups = frame.pfirrmann.map(pfirrmann_group), frame.predicted.map(pfirrmann_group)
    qwk = cohen_kappa_score(frame.pfirrmann, frame.predicted, weights="quadratic", labels=[1, 2, 3, 4, 5])
    return {"3-group accuracy": float((groups[0] == groups[1]).mean()), "5-grade QWK": float(qwk)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT.parent / "shared" / "data" / "spider_t2space")
    parser.add_argument("--png", type=Path, default=ROOT / "docs" / "images" / "measures_by_grade.png")
    parser.add_argument("--cv", action="store_true", help="also a measures-only grader in patient-grouped 5-fold CV")
    args = parser.parse_args()
    measured = sample_measures(args.root)
    print(
        f"{len(measured)} lumbar discs, {measured.patient.nunique()} patients; csf_source "
        f"{measured.csf_source.value_counts().to_dict()}, CSF clipped {measured.csf_clipped.mean():.0%}"
    )
    print("Spearman rho with the Pfirrmann grade:")
    for column in MEASURE_COLUMNS[:7]:
        rho = spearmanr(measured.pfirrmann, measured[column], nan_policy="omit").statistic
        print(f"  {column:22s} {rho:+.2f}   {MEASURES[column]}")
    print("medians per grade:")
    print(measured.groupby("pfirrmann")[MEASURE_COLUMNS[:7]].median().round(2).to_string())
    draw(measured, args.png)
    print(f"wrote {args.png}")
    if args.cv:
        predicted = measures_only_cv(measured)
        table = cluster_bootstrap(predicted, cv_scores, stats=parse_params(load_params(ROOT / "params.yaml")).stats)
        print(f"measures-only grader (logistic regression, patient-grouped 5-fold CV, {len(predicted)} discs):")
        print(table.round(3).to_string())


if __name__ == "__main__":
    main()
