"""benchmarks/: every table of RESULTS.md with stored JSON is redrawn from it, and every
script is listed in benchmarks/README.md."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"


def test_plot_results_redraws_every_results_table():
    proc = subprocess.run([sys.executable, str(BENCH / "plot_results.py"), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert proc.stdout.count("\n## ") >= 10


def test_every_benchmark_script_is_listed_in_the_readme():
    readme = (BENCH / "README.md").read_text(encoding="utf-8")
    for script in sorted(BENCH.glob("*.py")):
        assert f"`{script.name}`" in readme, script.name


def test_results_are_stored_by_benchmark_and_commit():
    for path in (BENCH / "results").rglob("*.json"):
        rel = path.relative_to(BENCH / "results")
        assert len(rel.parts) == 2 and (BENCH / f"{rel.parts[0]}.py").is_file(), rel
        commit = rel.stem.split("-")[0]
        assert len(commit) == 7 and all(c in "0123456789abcdef" for c in commit), rel
