"""Every fenced Python block of README.md and docs/*.md runs as written.

Each block runs as its own script (``python block.py``, so the Dask examples'
``if __name__ == "__main__"`` guards work) in an empty folder, with this
checkout's skw2v first on the path. A block whose first line is
``# continues the example above`` runs after the block before it, in the same
script. A block is skipped only when its first line says so, visibly:
``# not run by the tests: <reason>``.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
CONTINUES = "# continues the example above"
SKIP = "# not run by the tests:"
FENCE = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def python_blocks(page):
    """[(line number of the fence, code)] for each ```python block of ``page``."""
    text = page.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 1, m.group(1)) for m in FENCE.finditer(text)]


def scripts():
    """pytest params: one script per block, with the blocks it continues."""
    params = []
    for page in PAGES:
        chain = []
        for line, code in python_blocks(page):
            first = code.lstrip().splitlines()[0] if code.strip() else ""
            chain = [*chain, code] if first.startswith(CONTINUES) else [code]
            marks = ()
            if first.startswith(SKIP):
                marks = pytest.mark.skip(reason=first[len(SKIP):].strip() or "no reason")
            needs = [name for name in ("dask", "distributed", "pandas", "matplotlib")
                     if re.search(rf"^\s*(import|from) {name}\b", "\n".join(chain), re.M)]
            params.append(pytest.param("\n".join(chain), needs, id=f"{page.name}:{line}",
                                       marks=marks))
    return params


def test_the_pages_have_examples():
    counts = {page.name: len(python_blocks(page)) for page in PAGES}
    assert counts["README.md"] >= 4 and counts["building_blocks.md"] >= 3, counts


def test_blocks_are_found_with_their_lines(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("text\n```python\nx = 1\n```\n\n```bash\nls\n```\n```python\ny = 2\n```\n")
    assert python_blocks(page) == [(2, "x = 1\n"), (9, "y = 2\n")]


@pytest.mark.parametrize("code, needs", scripts())
def test_example_runs_as_written(code, needs, tmp_path):
    for module in needs:
        pytest.importorskip(module)
    script = tmp_path / "example.py"
    script.write_text(code, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]), "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, f"stdout:\n{proc.stdout[-3000:]}\nstderr:\n{proc.stderr[-3000:]}"
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]


def test_ci_runs_exactly_the_readme_test_command():
    """CI runs the README's second command, so that command alone must install what the
    tests need (from a clean clone) and the README cannot drift from CI."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.search(r"^```bash\n(.*?)^```$", readme, re.MULTILINE | re.DOTALL).group(1)
    first, second = [line.split("#")[0].strip() for line in commands.splitlines()[:2]]
    assert first.startswith('python -m pip install -e ".[plot]"')
    assert second == 'python -m pip install -e ".[test]" && python -m pytest -q'
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert second in ci
