"""The package's structure: no import cycle, dask on the public stages, plans from make_plan."""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "tools" / "import_graph.py"


def run_graph(*args):
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=60)


def test_skw2v_import_graph_has_no_cycle():
    proc = run_graph()
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.rstrip().endswith("no cycle")
    lines = proc.stdout.splitlines()
    # every module is listed after (in a higher layer than) the modules it imports
    layer = {line.split()[1]: int(line[1:line.index("]")]) for line in lines[:-1]}
    for line in lines[:-1]:
        name, _, deps = line.split("] ", 1)[1].partition(" -> ")
        for dep in filter(None, deps.split(", ")):
            assert layer[dep.removesuffix(" (lazy)")] < layer[name], line
    assert layer["_estimator"] > layer["_training"] > layer["_plan"] > layer["_vocab"]
    assert layer["_persist"] < layer["_estimator"] and layer["_warm_start"] < layer["_estimator"]


def test_import_graph_reports_a_cycle(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .b import f\n")
    (pkg / "b.py").write_text("def f():\n    from .sub import c\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "c.py").write_text("from .. import a\n")
    proc = run_graph("--package", str(pkg))
    assert proc.returncode == 1
    assert "import cycle: pkg.a -> pkg.b -> pkg.sub.c -> pkg.a" in proc.stdout


def test_dask_imports_no_private_name_of_the_estimator():
    tree = ast.parse((ROOT / "skw2v" / "dask.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "_estimator":
            assert all(not a.name.startswith("_") for a in node.names), ast.dump(node)


def test_no_test_or_benchmark_builds_a_training_plan_by_hand():
    by_hand = "TrainingPlan" + "("  # split, so that this file does not match itself
    for folder in ("tests", "benchmarks", "tools"):
        for path in (ROOT / folder).rglob("*.py"):
            assert by_hand not in path.read_text(encoding="utf-8"), path


def test_unbuilt_source_tree_says_in_one_sentence_what_to_do(tmp_path):
    # A copy of the package without its compiled extensions, imported with -S: no
    # site-packages, so no installed (or editable) skw2v can supply the extensions.
    shutil.copytree(ROOT / "skw2v", tmp_path / "skw2v",
                    ignore=shutil.ignore_patterns("*.so", "*.pyd", "*.c", "__pycache__"))
    proc = subprocess.run([sys.executable, "-S", "-c", "import skw2v"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: skw2v's compiled extensions are not built"), last
    assert "`pip install -e .`" in last and "`python setup.py build_ext --inplace`" in last
    assert str(tmp_path) in last
    assert "ModuleNotFoundError" not in proc.stderr
    assert "During handling of the above exception" not in proc.stderr
