"The pipeline's wiring: dvc.yaml parses, its stages exist, and every param it declares lives in params.yaml."
import subprocess, sys
from pathlib import Path
import yaml
from ldd_study.stages import STAGES

ROOT = Path(__file__).resolve().parents[1]


def test_dvc_yaml_stages_and_params():
    dvc = yaml.safe_load((ROOT/'dvc.yaml').read_text())
    params = yaml.safe_load((ROOT/'params.yaml').read_text())
    for name, st in dvc['stages'].items():
        assert st['cmd'] == f'ldd-study stage {name}' and name in STAGES, name
        for p in st.get('params', []):
            node = params
            for part in p.split('.'):
                assert part in node, f"stage {name}: param {p} is not in params.yaml"
                node = node[part]


def test_dvc_dag_parses():
    dvc = Path(sys.executable).parent/'dvc'
    r = subprocess.run([str(dvc), 'dag', '--md'], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert 'train_seg' in r.stdout and 'report' in r.stdout
