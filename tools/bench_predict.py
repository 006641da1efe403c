"""Time of `ldd-study predict` per case once the models are loaded, on this machine's CPU (synthetic models;
never a result).

The U-Net and the grader of a profile (default: cpu) are built untrained (`seg_setup`, `cls_setup`), saved and loaded
as the command does (`models.save_model`, `predict.load_predictor`), and `predict.predict_paths` grades each case in
turn into a temporary folder. Cases: phantom volumes at the phantom's size from params.yaml (7 slices of 256 x 224),
the same with 15 slices (what `auto` segments at most), and the SPIDER T2 sample's volumes (9 slices of 640 x 512)
where `sample_root()` finds them.

An untrained U-Net finds no disc, and the command would stop early, so the U-Net is wrapped: it runs in full on every
slice it is given (that is the cost timed), then answers with the case's own disc mask, so that finding the instances,
cropping, grading, the overlay and the writing run as they would with a trained model.

Prints, per case, the wall time and the CPU time / threads (the fairer figure on a machine shared
with other jobs), with report.json's split into read, segment (choosing the slice included), grade and write.

With `--throughput`, it instead grades all the sample's volumes (or `--cases` of them) in one `predict_paths` call
per `--workers` count (models loaded once, outside the time), prints cases/s for each, and checks that every count
wrote the same files (report.json's timings aside).

Usage: python tools/bench_predict.py [--profile cpu] [--threads 2] [--cases 3] [--slice auto|image|N]
                                    [--image-size 256] [--features 16 32 64 128 256]   (override the profile's U-Net)
       python tools/bench_predict.py --throughput [--workers 1 2] [--cases 30] [--slice image] [--threads 2]
"""

import argparse
import copy
import hashlib
import json
import os
import tempfile
import time
from pathlib import Path
import numpy as np
import torch
from ldd_study.core import load_params, sample_root
from ldd_study.io import load_image
from ldd_study.phantom import write_phantom_cohort
from ldd_study.preprocess import resize_pad
from ldd_study.models import save_model
from ldd_study.discs import seg_input, windowed
from ldd_study.params import parse_params, parsed_section
from ldd_study.train import cls_setup, seg_setup
from ldd_study.predict import Predictor, load_predictor, predict_params, predict_paths


class MaskAnswer(torch.nn.Module):
    "Runs the real U-Net on its input (the cost timed), then answers with the known disc mask of that input slice."

    def __init__(self, net, answers: dict):
        super().__init__()
        self.net, self.answers = net, answers

    def forward(self, x):  # (B, 1, S, S) -> (B, 2, S, S)
        out = self.net(x)
        y = torch.stack([self.answers[_key(xi)] for xi in x.cpu().numpy()]).to(out.dtype)
        return torch.stack([1 - y, y], 1) * 10  # background where the mask is 0


def _key(x: np.ndarray) -> str:
    return hashlib.sha1(np.ascontiguousarray(x, np.float32).tobytes()).hexdigest()


def answers_for(cases, params: dict, size: int) -> dict:
    "U-Net input of every slice of every (image, mask) case -> its disc mask on the U-Net's grid."
    out = {}
    for img, msk in cases:
        vol, _, _ = load_image(img)
        m, _, _ = load_image(msk)
        win = windowed(vol, parsed_section(params, 'preprocess'))
        for k in range(len(vol)):
            out[_key(seg_input(win, k, size)[0])] = torch.from_numpy(
                resize_pad((m[k] == 2).astype(np.uint8), size, order=0)[0]
            ).float()
    return out


def same_outputs(a: Path, b: Path) -> bool:
    "Whether the case folders under `a` and `b` hold the same files with the same bytes (report.json: timings aside)."
    ca, cb = sorted(p.name for p in a.iterdir()), sorted(p.name for p in b.iterdir())
    if ca != cb:
        return False
    for c in ca:
        for f in sorted(p.name for p in (a / c).iterdir()):
            x, y = (a / c / f).read_bytes(), (b / c / f).read_bytes()
            if f == 'report.json':
                x, y = ({k: v for k, v in json.loads(z).items() if k != 'timings_s'} for z in (x, y))
            if x != y:
                return False
    return True


def throughput(profile='cpu', threads=2, n_cases=30, slice_='image', workers=(1, 2), repeats=1):
    "Cases/s of `predict_paths` over the sample's volumes for each workers count, models loaded once."
    torch.set_num_threads(threads)
    prm = copy.deepcopy(load_params())
    prm['profile'] = profile
    sr = sample_root()
    if sr is None:
        raise SystemExit("the SPIDER sample is needed for --throughput (../shared/data/spider_t2space)")
    tmp = Path(tempfile.mkdtemp(prefix='bench_predict.'))
    save_model(tmp / 'models' / 'unet.pt', seg_setup(parse_params(prm))[0], prm, 'unet')
    save_model(tmp / 'models' / 'grader.pt', cls_setup(parse_params(prm))[0], prm, 'grader')
    pr = load_predictor(tmp / 'models')
    imgs = sorted((sr / 'images').glob('*.mha'))[:n_cases]
    answers = answers_for([(p, sr / 'masks' / p.name) for p in imgs], pr.seg_params, pr.image_size)
    bench = Predictor(MaskAnswer(pr.unet, answers).eval(), pr.grader, pr.seg_params, pr.cls_params, pr.info)
    print(
        f"torch {torch.__version__}, {threads} threads, profile {profile}, --slice {slice_}, {len(imgs)} "
        f"sample volumes, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    predict_paths(imgs[:1], tmp / 'warmup', bench, slice_, predict_params(prm), progress=False, echo=False)
    first = None
    for w in workers:
        for r in range(repeats):
            out = tmp / f'out_w{w}_{r}'
            w0, c0 = time.perf_counter(), time.process_time()
            written, problems = predict_paths(
                imgs, out, bench, slice_, predict_params(prm), progress=False, echo=False, workers=w
            )
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            same = (
                ''
                if first is None
                else f", files {'the same as' if same_outputs(first, out) else 'DIFFERENT from'} --workers {workers[0]}"
            )
            first = first or out
            print(
                f"--workers {w}: {len(written)} cases in {wall:.2f} s = {len(written) / wall:.2f} cases/s "
                f"(CPU {cpu:.1f} s, {len(problems)} refused){same}, load average {os.getloadavg()[0]:.1f}"
            )


def main(profile='cpu', threads=2, n_cases=3, slice_='auto', image_size=None, features=None):
    torch.set_num_threads(threads)
    prm = copy.deepcopy(load_params())
    prm['profile'] = profile
    if image_size:
        prm['profiles'][profile]['seg']['image_size'] = int(image_size)
    if features:
        prm['profiles'][profile]['seg']['features'] = [int(f) for f in features]
    tmp = Path(tempfile.mkdtemp(prefix='bench_predict.'))
    t0 = time.perf_counter()
    save_model(tmp / 'models' / 'unet.pt', seg_setup(parse_params(prm))[0], prm, 'unet')
    save_model(tmp / 'models' / 'grader.pt', cls_setup(parse_params(prm))[0], prm, 'grader')
    pr = load_predictor(tmp / 'models')
    t_load = time.perf_counter() - t0
    groups = {}
    for n_sl in (int(prm['phantom']['slices']), 15):
        root = write_phantom_cohort(tmp / f'phantom{n_sl}', {**prm['phantom'], 'slices': n_sl}, n_patients=n_cases)
        groups[f'phantom, {n_sl} slices'] = [
            (root / 'images' / f'{p}_t2_phantom.mha', root / 'masks' / f'{p}_t2_phantom.mha')
            for p in range(1, n_cases + 1)
        ]
    sr = sample_root()
    if sr is not None:
        imgs = sorted((sr / 'images').glob('*.mha'))[:n_cases]
        groups['SPIDER sample'] = [(p, sr / 'masks' / p.name) for p in imgs]
    all_cases = [c for g in groups.values() for c in g]
    answers = answers_for(all_cases, pr.seg_params, pr.image_size)
    bench = Predictor(MaskAnswer(pr.unet, answers).eval(), pr.grader, pr.seg_params, pr.cls_params, pr.info)
    print(
        f"torch {torch.__version__}, {threads} threads, profile {profile} (U-Net input {pr.image_size}, widths "
        f"{prm['profiles'][profile]['seg']['features']}; crops {pr.crop_size}), --slice {slice_}, load average "
        f"{os.getloadavg()[0]:.1f}; models saved and loaded in {t_load:.2f} s"
    )
    predict_paths(
        [all_cases[0][0]], tmp / 'warmup', bench, slice_, predict_params(prm), progress=False, echo=False
    )  # warm-up
    print(f"{'case':<28}{'slices':>7}{'wall s':>8}{'cpu/thr s':>10}{'read':>7}{'segment':>9}{'grade':>7}{'write':>7}")
    for name, cases in groups.items():
        walls, cpus = [], []
        for img, _ in cases:
            w0, c0 = time.perf_counter(), time.process_time()
            written, problems = predict_paths(
                [img], tmp / 'out', bench, slice_, predict_params(prm), progress=False, echo=False
            )
            walls.append(time.perf_counter() - w0)
            cpus.append((time.process_time() - c0) / threads)
            if problems:
                print(f"  {img.name}: {problems[0]}")
                continue
            rep = json.loads((written[0] / 'report.json').read_text())
            t = rep['timings_s']
            print(
                f"{rep['case']:<28}{rep['slices']:>7}{walls[-1]:>8.3f}{cpus[-1]:>10.3f}{t['read_s']:>7.3f}"
                f"{t['segment_s']:>9.3f}{t['grade_s']:>7.3f}{t['write_s']:>7.3f}"
            )
        print(f"  mean of {name}: {np.mean(walls):.3f} s wall, {np.mean(cpus):.3f} s CPU / {threads} threads per case")


if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--profile', default='cpu')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--cases', type=int, default=3, help='cases of each kind')
    ap.add_argument('--slice', default='auto', help='auto, image or a slice index')
    ap.add_argument('--image-size', type=int, default=None, help="U-Net input size (default: the profile's)")
    ap.add_argument('--features', type=int, nargs=5, default=None, help="U-Net widths (default: the profile's)")
    ap.add_argument('--throughput', action='store_true', help="cases/s over the sample's volumes for each --workers")
    ap.add_argument('--workers', type=int, nargs='+', default=[1, 2], help='--throughput: worker counts to time')
    ap.add_argument('--repeats', type=int, default=1, help='--throughput: runs of each worker count')
    a = ap.parse_args()
    if a.throughput:
        raise SystemExit(
            throughput(
                a.profile,
                a.threads,
                a.cases if a.cases != 3 else 30,
                int(a.slice) if a.slice.isdigit() else (a.slice if a.slice != 'auto' else 'image'),
                tuple(a.workers),
                a.repeats,
            )
        )
    main(a.profile, a.threads, a.cases, int(a.slice) if a.slice.isdigit() else a.slice, a.image_size, a.features)
