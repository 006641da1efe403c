"""One rank of the DDP tests in tests/test_ddp.py, run by `torch.distributed.run` (torchrun): `fit` on a tiny problem.

Usage: python -m torch.distributed.run --standalone --nproc_per_node N tests/ddp_worker.py OUT
       [--epochs E] [--kill-at K]

The model has no batch norm and the loss is a plain mean over pixels, so that a global batch split over ranks gives the
gradient of the whole batch (DDP averages the ranks' gradients); augmentation is on (drawn per sample, rank-free).
"""

import argparse
import numpy as np
import torch
from torch import nn
import torch.distributed as dist
from ldd_study.train import Augment, Task, dice_per_image, fit, is_main


def toy_seg(n: int, seed: int, size: int = 16):
    "Noisy images with a bright ellipse (label 1)."
    r = np.random.RandomState(seed)
    yy, xx = np.mgrid[:size, :size]
    y = np.zeros((n, size, size), np.int64)
    for i in range(n):
        cy, cx = r.randint(5, size - 5, 2)
        y[i][((yy - cy) / 3) ** 2 + ((xx - cx) / 4) ** 2 < 1] = 1
    return (y[:, None] + r.normal(0, 0.3, (n, 1, size, size))).astype(np.float32), y


def task(kill_at: int | None = None) -> Task:
    """Pixel cross-entropy (a mean over equally many pixels per sample), Dice as the tuning metric; raises at epoch
    `kill_at`."""
    seen = []

    def metric(pred, y):
        seen.append(1)
        if kill_at is not None and len(seen) == kill_at:
            raise RuntimeError(f"killed at epoch {kill_at}")
        return float(dice_per_image(pred, y).mean())

    return Task(
        loss=lambda out, y: nn.functional.cross_entropy(out.float(), y),
        predict=lambda out: out.argmax(1),
        metric=metric,
        augment=Augment(),
        mask='target',
        name='toy',
    )


def main(out: str, epochs: int, kill_at: int | None):
    dist.init_process_group('gloo')
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 2, 3, padding=1))
    cfg = dict(epochs=epochs, batch=4, lr=0.05, seed=3, progress=False, device='cpu')
    try:
        fit(model, toy_seg(16, 0), toy_seg(8, 1), task(kill_at), cfg, out)
        if is_main():
            torch.save(model.state_dict(), f"{out}/final.pt")
    finally:
        dist.destroy_process_group()


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('out')
    ap.add_argument('--epochs', type=int, default=3)
    ap.add_argument('--kill-at', type=int, default=None)
    a = ap.parse_args()
    main(a.out, a.epochs, a.kill_at)
