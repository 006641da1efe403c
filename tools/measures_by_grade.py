"""The disc measures against the Pfirrmann grade on the SPIDER sample's mid slices, with its manual disc masks.

Prints each measure's Spearman correlation with the grade over the lumbar discs and its median per grade, and draws
them per grade (box plots) to a PNG. The masks are the radiologists' own, so this shows what the measures carry, apart
from how well the U-Net finds the discs.

Usage: .venv/bin/python tools/measures_by_grade.py [--root ../shared/data/spider_t2space] [--png docs/images/measures_by_grade.png]
"""
import argparse, warnings
from pathlib import Path
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from scipy.stats import spearmanr
from tqdm.auto import tqdm
from ldd_study.core import LUMBAR_LABELS, load_params
from ldd_study.metrics import ROMAN
from ldd_study.discs import discs_on_slice, mid_slice
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
        k = mid_slice(case, params)
        levels = None if case.levels is None else case.levels[k]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            labels, _ = discs_on_slice(case.mask[k], case.spacing, params, levels)
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT.parent / "shared" / "data" / "spider_t2space")
    parser.add_argument("--png", type=Path, default=ROOT / "docs" / "images" / "measures_by_grade.png")
    args = parser.parse_args()
    measured = sample_measures(args.root)
    print(f"{len(measured)} lumbar discs, {measured.patient.nunique()} patients; csf_source "
          f"{measured.csf_source.value_counts().to_dict()}, CSF clipped {measured.csf_clipped.mean():.0%}")
    print("Spearman rho with the Pfirrmann grade:")
    for column in MEASURE_COLUMNS[:7]:
        rho = spearmanr(measured.pfirrmann, measured[column], nan_policy="omit").statistic
        print(f"  {column:22s} {rho:+.2f}   {MEASURES[column]}")
    print("medians per grade:")
    print(measured.groupby("pfirrmann")[MEASURE_COLUMNS[:7]].median().round(2).to_string())
    draw(measured, args.png)
    print(f"wrote {args.png}")


if __name__ == "__main__":
    main()
