import os
import sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope='session')
def sample():
    "The real SPIDER T2 sample: $LDD_SAMPLE_ROOT or ../shared/data/spider_t2space beside the project."
    p = Path(os.environ.get('LDD_SAMPLE_ROOT', ROOT.parent / 'shared' / 'data' / 'spider_t2space'))
    assert (p / 'radiological_gradings.csv').exists(), f"the SPIDER sample is needed for this test: not found at {p}"
    return p


def cli(*args, cwd=ROOT):
    "Run the installed `ldd-study` command; return (exit code, stdout, stderr)."
    import subprocess

    exe = Path(sys.executable).parent / 'ldd-study'
    r = subprocess.run([str(exe), *map(str, args)], cwd=cwd, capture_output=True, text=True, encoding='utf-8')
    return r.returncode, r.stdout, r.stderr


def pytest_configure(config):
    config.addinivalue_line('markers', 'gpu: needs a CUDA GPU (skipped without one)')
