"The pipeline's wiring: dvc.yaml parses, its stages exist, and every param it declares lives in params.yaml."

import subprocess
import sys
from pathlib import Path
import yaml
from ldd_study.stages import STAGES

ROOT = Path(__file__).resolve().parents[1]


def test_dvc_yaml_stages_and_params():
    dvc = yaml.safe_load((ROOT / 'dvc.yaml').read_text())
    params = yaml.safe_load((ROOT / 'params.yaml').read_text())
    for name, st in dvc['stages'].items():
        assert st['cmd'] == f'ldd-study stage {name}' and name in STAGES, name
        for p in st.get('params', []):
            node = params
            for part in p.split('.'):
                assert part in node, f"stage {name}: param {p} is not in params.yaml"
                node = node[part]


def test_dvc_dag_parses():
    dvc = Path(sys.executable).parent / 'dvc'
    r = subprocess.run([str(dvc), 'dag', '--md'], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert 'train_seg' in r.stdout and 'report' in r.stdout


def package_imports(module: str) -> set[str]:
    "The ldd_study modules `module` imports anywhere in its text (module level or inside a function), by name."
    import ast

    tree, out = ast.parse((ROOT / 'ldd_study' / f'{module}.py').read_text(encoding='utf-8')), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            out |= {node.module.split('.')[0]} if node.module else {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith('ldd_study.'):
            out.add(node.module.split('.')[1])
    return {m for m in out if (ROOT / 'ldd_study' / f'{m}.py').exists()}


def stage_code() -> set[str]:
    """The package files a stage runs: `ldd-study stage NAME` is cli.py calling stages.py, and all that stages.py
    imports, transitively."""
    seen, todo = set(), ['stages']
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo += sorted(package_imports(m))
    return {f'ldd_study/{m}.py' for m in seen | {'cli'}}


def test_every_stage_depends_on_the_code_it_runs():
    "An edit to any module a stage runs makes dvc rerun that stage: dvc.yaml lists each of them in every stage's deps."
    dvc = yaml.safe_load((ROOT / 'dvc.yaml').read_text())
    code = stage_code()
    assert {'ldd_study/stages.py', 'ldd_study/preprocess.py', 'ldd_study/train.py', 'ldd_study/cli.py'} <= code
    for name, st in dvc['stages'].items():
        missing = sorted(code - set(st['deps']))
        assert not missing, f"stage {name} runs {missing} but does not depend on them in dvc.yaml"


def test_a_missing_code_dependency_is_caught(tmp_path):
    "The check above on a dvc.yaml with one module taken out of one stage's deps: it names that stage and module."
    dvc = yaml.safe_load((ROOT / 'dvc.yaml').read_text())
    dvc['stages']['eval_seg']['deps'].remove('ldd_study/preprocess.py')
    missing = {n: sorted(stage_code() - set(st['deps'])) for n, st in dvc['stages'].items()}
    assert {n: m for n, m in missing.items() if m} == {'eval_seg': ['ldd_study/preprocess.py']}
