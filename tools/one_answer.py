"""One answer per disc: how often the grader's two heads disagree, and which group reads better.

The grader has a 3-group head (mild / moderate / serious) and a 5-grade head (Pfirrmann I-V). Where they disagree a
user sees `moderate, IV`. This reads a predictions table of the pipeline (`results/cv_predictions.csv` after
`make study`, or `results/predictions.csv`) and prints, per cohort and pooled, over the found lumbar discs of the
automatic crops: how often the group of the predicted grade differs from the predicted group, and the 3-group accuracy
of each answer (the group head's, and the group of the grade head's answer) with patient-bootstrap 95 % intervals
(params.yaml's stats section).

Usage: .venv/bin/python tools/one_answer.py [results/cv_predictions.csv]
"""

import argparse
from pathlib import Path
import pandas as pd
from ldd_study.core import GROUPS, LUMBAR_LABELS, load_params, pfirrmann_group
from ldd_study.params import parse_params
from ldd_study.stats import cluster_bootstrap

ROOT = Path(__file__).resolve().parents[1]


def answers(frame: pd.DataFrame) -> dict:
    "Disagreement of the two heads and the 3-group accuracy of each answer, over the discs of `frame`."
    from_grade = frame.grade_pred.astype(int).map(lambda g: GROUPS[pfirrmann_group(g)])
    return {
        "heads disagree": float((from_grade != frame.group_pred).mean()),
        "accuracy, group head": float((frame.group_pred == frame.group_true).mean()),
        "accuracy, group of the grade head": float((from_grade == frame.group_true).mean()),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("predictions", nargs="?", type=Path, default=ROOT / "results" / "cv_predictions.csv")
    args = parser.parse_args()
    table = pd.read_csv(args.predictions, dtype={"patient": str})
    discs = table[(table.crop == "auto") & table.found & table.ivd_label.isin(LUMBAR_LABELS) & table.grade_pred.notna()]
    stats = parse_params(load_params(ROOT / "params.yaml")).stats
    cohorts = sorted(discs.cohort.dropna().unique()) if "cohort" in discs else []
    for name, part in [*((c, discs[discs.cohort == c]) for c in cohorts), ("pooled", discs)]:
        summary = cluster_bootstrap(part, answers, stats=stats)
        print(f"{name}: {len(part)} found lumbar discs, {part.patient.nunique()} patients")
        for metric, row in summary.iterrows():
            print(f"  {metric:36s} {row.estimate:.3f} ({row.lo:.3f}-{row.hi:.3f})")


if __name__ == "__main__":
    main()
