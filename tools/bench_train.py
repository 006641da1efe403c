"""Training throughput of the U-Net and the attention VGG on this machine's CPU (synthetic data; never a result).

For each profile named (default: cpu and paper) it times a few SGD steps (forward + backward + step, batch from the
profile unless capped) and a few evaluation batches at the profile's input size and widths, plus the augmentation of
one sample, and prints training images/s. For the cpu profile it also estimates one epoch on the 30-patient SPIDER
sample: 30 patients x 3 slices for segmentation (`make study`: the mid slice and one either side) and ~200 discs for
grading, split 64 % train / 16 % tuning. With a profile's `seg.patch` the U-Net trains on patches of that size and
evaluates whole slices, as in the pipeline.

`--device cuda` runs the same steps on the GPU as `fit` does there (mixed precision with a GradScaler, channels-last
tensors; `--no-amp`, `--no-channels-last` to compare) and waits for the GPU before reading the clock.

Usage: python tools/bench_train.py [--profiles cpu paper] [--iters 3] [--threads 2] [--max-batch 8] [--clock wall|cpu]
                                   [--device cpu|cuda] [--no-amp] [--no-channels-last]
(`--clock cpu` divides the process's CPU time by the threads: on a machine shared with other jobs it estimates the
wall time on dedicated cores better than the wall clock does.)
"""

import argparse
import os
import time
import torch
from ldd_study.core import load_params
from ldd_study.params import parse_params, section
from ldd_study.train import active_profile, seg_setup, cls_setup, make_augment


CLOCK = time.perf_counter  # --clock cpu: process CPU time / threads, a fairer figure on a machine shared with others


DEVICE, AMP, CL = (
    torch.device('cpu'),
    False,
    False,
)  # --device cuda: mixed precision and channels-last as `fit` uses them


def _sync():
    if DEVICE.type == 'cuda':
        torch.cuda.synchronize()


def timed(f, n: int) -> float:
    "Seconds per call of `f`, over `n` calls after one warm-up call (the GPU's work included)."
    f()
    _sync()
    t0 = CLOCK()
    for _ in range(n):
        f()
    _sync()
    return (CLOCK() - t0) / n


def bench_model(model, loss_fn, x, ys, iters: int) -> tuple[float, float]:
    "Training and evaluation images/s of `model` on batch `x`."
    model = model.to(DEVICE, memory_format=torch.channels_last if CL else torch.preserve_format)
    x = x.to(DEVICE, memory_format=torch.channels_last if CL else torch.preserve_format)
    ys = [y.to(DEVICE) for y in ys]
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    scaler = torch.amp.GradScaler(DEVICE.type, enabled=AMP)

    def step():
        model.train()
        opt.zero_grad(set_to_none=True)
        with torch.autocast(DEVICE.type, dtype=torch.float16, enabled=AMP):
            loss = loss_fn(model(x), *ys)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()

    def evaluate():
        model.eval()
        with torch.no_grad(), torch.autocast(DEVICE.type, dtype=torch.float16, enabled=AMP):
            model(x)

    return len(x) / timed(step, iters), len(x) / timed(evaluate, iters)


def main(
    profiles=('cpu', 'paper'),
    iters: int = 3,
    threads: int = 2,
    max_batch: int = 8,
    clock: str = 'wall',
    seg_images: int = 90,
    cls_discs: int = 200,
    train_frac: float = 0.64,
    tune_frac: float = 0.16,
    device: str = 'cpu',
    amp: bool = True,
    channels_last: bool = True,
):
    global CLOCK, DEVICE, AMP, CL
    DEVICE = torch.device(device)
    if DEVICE.type == 'cuda' and not torch.cuda.is_available():
        raise SystemExit("--device cuda: no CUDA GPU here")
    AMP, CL = amp and DEVICE.type == 'cuda', channels_last and DEVICE.type == 'cuda'
    if DEVICE.type == 'cuda':
        torch.backends.cudnn.benchmark = True
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    if clock == 'cpu':

        def CLOCK():
            return time.process_time() / threads

    prm = load_params()
    print(
        f"torch {torch.__version__}, {threads} CPU threads, {iters} timed iterations after 1 warm-up, "
        f"{clock} clock, load average {os.getloadavg()[0]:.1f}, device {DEVICE}"
        + (f" ({torch.cuda.get_device_name(DEVICE)}, AMP {AMP}, channels-last {CL})" if DEVICE.type == 'cuda' else '')
    )
    for name in profiles:
        prof = active_profile(parse_params(prm), name)
        s, c = prof['seg'], prof['cls']
        # segmentation
        model, task, cfg = seg_setup(parse_params(prm), profile=name)
        b = min(cfg['batch'], max_batch)
        size = s['image_size']
        tsize = int(s.get('patch') or size)  # training input: a patch
        x = torch.randn(b, 1, size, size)
        y = torch.zeros(b, size, size, dtype=torch.long)
        y[:, size // 3 : size // 2, size // 4 : size // 2] = 1
        xt, yt = x[..., :tsize, :tsize].contiguous(), y[..., :tsize, :tsize].contiguous()
        seg_tr, seg_ev = bench_model(model, task.loss, xt, (yt,), iters)
        if tsize != size:
            _, seg_ev = bench_model(model, task.loss, x, (y,), iters)  # evaluation sees whole slices
        segaug = make_augment(section(prm, 'train'), 'seg')
        seg_aug = timed(lambda: segaug(x[0], y[0][None]), 10) if segaug else 0.0
        aug = make_augment(section(prm, 'train'))
        # grading
        ch = int(prm['classifier'].get('in_channels', 2))
        h, w = c['crop_size']
        model, task, cfg = cls_setup(parse_params(prm), profile=name)
        b = min(cfg['batch'], max_batch)
        xc = torch.randn(b, ch, h, w)
        g = torch.arange(b) % 3
        k = torch.arange(b) % 5
        cls_tr, cls_ev = bench_model(model, task.loss, xc, (g, k), iters)
        cls_aug = timed(lambda: aug(xc[0, :-1], xc[0, -1:]), 10) if aug else 0.0
        print(f"\nprofile {name}:")
        print(
            f"  U-Net  {size}x{size} (training on {tsize}x{tsize}) features {s['features']} batch {len(x)}: "
            f"train {seg_tr:7.2f} img/s, eval {seg_ev:7.2f} img/s, "
            f"augment {seg_aug * 1e3:.1f} ms/img"
        )
        print(
            f"  VGG    {ch}x{h}x{w} widths {c['widths']} batch {len(xc)}: train {cls_tr:7.2f} img/s, eval "
            f"{cls_ev:7.2f} img/s, "
            f"augment {cls_aug * 1e3:.1f} ms/img"
        )
        n_tr, n_tu = round(seg_images * train_frac), round(seg_images * tune_frac)
        seg_epoch = n_tr * (1 / seg_tr + seg_aug) + n_tu / seg_ev
        m_tr, m_tu = round(cls_discs * train_frac), round(cls_discs * tune_frac)
        cls_epoch = m_tr * (1 / cls_tr + cls_aug) + m_tu / cls_ev
        print(
            f"  epoch estimate: U-Net {n_tr} train + {n_tu} tuning slices {seg_epoch:6.1f} s x {s['epochs']} epochs = "
            f"{seg_epoch * s['epochs'] / 60:.1f} min; VGG {m_tr} + {m_tu} discs {cls_epoch:5.1f} s x "
            f"{c['epochs']} epochs = "
            f"{cls_epoch * c['epochs'] / 60:.1f} min"
        )


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--profiles', nargs='+', default=['cpu', 'paper'])
    p.add_argument('--iters', type=int, default=3)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument(
        '--max-batch', type=int, default=8, help='cap on the batch (paper-size U-Net steps are slow on a CPU)'
    )
    p.add_argument('--clock', choices=['wall', 'cpu'], default='wall')
    p.add_argument('--device', default='cpu', help='cpu or cuda (cuda:N)')
    p.add_argument('--no-amp', action='store_true', help='--device cuda: full float32')
    p.add_argument('--no-channels-last', action='store_true', help='--device cuda: contiguous (NCHW) tensors')
    a = p.parse_args()
    main(
        a.profiles,
        a.iters,
        a.threads,
        a.max_batch,
        a.clock,
        device=a.device,
        amp=not a.no_amp,
        channels_last=not a.no_channels_last,
    )
