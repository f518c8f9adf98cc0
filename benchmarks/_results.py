"""Where benchmark results go: ``benchmarks/results/<benchmark>/<short commit>[-<label>].json``.

Every script that stores results takes ``--out PATH``; without it the JSON
goes to the default path above, named after the script and the commit of the
code measured (``git rev-parse --short HEAD``, ``-dirty`` appended when
tracked files differ from it), so a result is found by benchmark and commit.
"""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def short_commit():
    """The checkout's short commit, ``-dirty`` when tracked files are modified."""
    def git(*args):
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True,
                              text=True, check=False)

    head = git("rev-parse", "--short", "HEAD").stdout.strip() or "unknown"
    dirty = git("status", "--porcelain", "--untracked-files=no").stdout.strip()
    return head + ("-dirty" if dirty else "")


def result_path(out=None, label=None, benchmark=None):
    """``out`` if given, else ``results/<benchmark>/<short commit>[-<label>].json``;
    ``benchmark`` defaults to the running script's name."""
    if out:
        return Path(out)
    benchmark = benchmark or Path(sys.argv[0]).stem
    return RESULTS / benchmark / f"{short_commit()}{'-' + label if label else ''}.json"


def add_out_argument(parser):
    """The ``--out`` option every result-writing script shares."""
    parser.add_argument(
        "--out", type=Path, default=None, metavar="PATH",
        help="JSON results file (default: benchmarks/results/<script>/<short commit>.json)")


def write_json(obj, out=None, label=None):
    """Write ``obj`` as JSON to ``result_path(out, label)``; return the path."""
    path = result_path(out, label)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, default=float)
    print(f"wrote {path}")
    return path
