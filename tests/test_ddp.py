"""DistributedDataParallel training (`train.devices` > 1): 2 CPU processes (gloo) give the weights of 1 process at the
same global batch, and a killed DDP run resumes to the weights of an uninterrupted one.
The CUDA path is tagged `gpu`."""

import csv
import subprocess
import sys
from pathlib import Path
import pytest
import torch

HERE = Path(__file__).resolve().parent


def torchrun(n: int, out: Path, *args) -> subprocess.CompletedProcess:
    "Run tests/ddp_worker.py in `n` processes under torchrun (gloo on CPU)."
    cmd = [
        sys.executable,
        '-m',
        'torch.distributed.run',
        '--standalone',
        f'--nproc_per_node={n}',
        str(HERE / 'ddp_worker.py'),
        str(out),
        *map(str, args),
    ]
    return subprocess.run(
        cmd,
        capture_output=True,
        text=True,
        env={**__import__('os').environ, 'OMP_NUM_THREADS': '1', 'CUDA_VISIBLE_DEVICES': ''},
    )


def weights(out: Path) -> dict:
    return torch.load(out / 'final.pt', weights_only=True)


@pytest.fixture(scope='module')
def runs(tmp_path_factory):
    d = tmp_path_factory.mktemp('ddp')
    for n in (1, 2):
        r = torchrun(n, d / f'w{n}')
        assert r.returncode == 0, r.stderr[-3000:]
    return d


def test_two_processes_equal_one(runs):
    """Global batch 4 as 2 ranks x 2 equals 1 rank x 4 within float tolerance (the sum over the batch is taken in
    another order)."""
    w1, w2 = weights(runs / 'w1'), weights(runs / 'w2')
    diff = max(float((w1[k] - w2[k]).abs().max()) for k in w1)
    scale = max(float(v.abs().max()) for v in w1.values())
    print(f"max |w(2 processes) - w(1 process)| = {diff:.3g} (largest weight {scale:.3g})")
    assert diff < 1e-5, diff
    h1, h2 = (list(csv.DictReader(open(runs / f'w{n}' / 'history.csv'))) for n in (1, 2))
    assert [r['world_size'] for r in h2] == ['2'] * 3 and [r['world_size'] for r in h1] == ['1'] * 3
    for a, b in zip(h1, h2):
        assert (
            abs(float(a['train_loss']) - float(b['train_loss'])) < 1e-5 and a['tune_metric'][:6] == b['tune_metric'][:6]
        )


def test_killed_ddp_run_resumes(runs, tmp_path):
    """Rank 0 dies during epoch 2 (before its checkpoint); torchrun stops the other; the rerun resumes from epoch 1's
    checkpoint."""
    r = torchrun(2, tmp_path / 'k', '--kill-at', 2)
    assert r.returncode != 0 and 'killed at epoch 2' in r.stderr
    assert torch.load(tmp_path / 'k' / 'checkpoint.pt', weights_only=True)['epoch'] == 1
    r = torchrun(2, tmp_path / 'k')
    assert r.returncode == 0, r.stderr[-3000:]
    w, ref = weights(tmp_path / 'k'), weights(runs / 'w2')
    assert all(torch.equal(w[k], ref[k]) for k in ref)  # exactly the uninterrupted run's
    assert (tmp_path / 'k' / 'history.csv').read_text() == (runs / 'w2' / 'history.csv').read_text()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')
def test_cuda_fit_amp_channels_last(tmp_path):
    """On CUDA `fit` trains with AMP and channels-last (the path the paper profile takes); a smoke U-Net trains and
    resumes."""
    from ldd_study.train import Augment, fit, seg_task
    from ldd_study.unet import UNet2D

    sys.path.insert(0, str(HERE))
    from ddp_worker import toy_seg

    torch.manual_seed(0)
    net = UNet2D(1, 2, features=(4, 8, 8, 8, 16))
    cfg = dict(epochs=2, batch=4, lr=0.05, seed=3, progress=False, device='cuda', amp=True, channels_last=True)
    h = fit(net, toy_seg(16, 0, 32), toy_seg(8, 1, 32), seg_task(augment=Augment()), cfg, tmp_path)
    assert len(h) == 2 and next(net.parameters()).is_cuda
    assert all(torch.isfinite(torch.tensor(r['train_loss'])) for r in h)
