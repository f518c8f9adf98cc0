"""Running Python code in a fresh process, against the checkout's own skw2v."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run_python(code, env=None):
    """Run ``code`` (dedented) in a child Python; return its stdout (it must succeed)."""
    full_env = {**os.environ, **(env or {}), "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                         env=full_env, capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    return out.stdout
