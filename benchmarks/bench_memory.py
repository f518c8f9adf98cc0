"""Peak memory of fit from a file: is it bounded by the model plus 4 bytes a token?

Each corpus file is fitted in a fresh subprocess (CBOW, 1 epoch, n_jobs=2,
the file given as a pathlib.Path, so it is streamed). Reports the RSS after
importing skw2v, the peak RSS, their difference (what fit itself used), and
the bound of the performance issue: 2 x (model arrays + 4 bytes per token) + 100 MB.

    python benchmarks/make_zipf_corpus.py --tokens 5000000 ...   # corpora first
    python benchmarks/bench_memory.py benchmarks/_data/zipf_5M.txt benchmarks/_data/zipf_20M.txt
"""

import argparse
import json
import os
import subprocess
import sys

from _results import add_out_argument, write_json

CHILD = r"""
import json, pathlib, resource, sys, time
sys.path.insert(0, sys.argv[2])
import skw2v
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
t = time.perf_counter()
m = skw2v.Word2VecNS(architecture="cbow", epochs=1, n_jobs=2, random_state=0).fit(
    pathlib.Path(sys.argv[1]))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
n = int(m.token_counts_.sum())
model = (m.vectors_.nbytes + m.output_vectors_.nbytes) / 2**20
print(json.dumps({"file": sys.argv[1], "tokens": n, "vocab": len(m.vocabulary_),
                  "rss_after_import_mb": base, "peak_rss_mb": peak, "fit_mb": peak - base,
                  "model_mb": model, "bound_mb": 2 * (model + 4 * n / 2**20) + 100,
                  "fit_seconds": time.perf_counter() - t}))
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+")
    add_out_argument(ap)
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    rows = []
    for f in args.files:
        out = subprocess.run([sys.executable, "-c", CHILD, f, root], capture_output=True,
                             text=True, check=True).stdout
        rows.append(json.loads(out.strip().splitlines()[-1]))
    print("| corpus | tokens | vocab | RSS after import | peak RSS | used by fit | model arrays "
          "| bound 2(model+4N)+100 | fit within bound | peak within bound |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for r in rows:
        print(f"| {os.path.basename(r['file'])} | {r['tokens']:,} | {r['vocab']:,} "
              f"| {r['rss_after_import_mb']:.0f} MB | {r['peak_rss_mb']:.0f} MB "
              f"| {r['fit_mb']:.0f} MB | {r['model_mb']:.0f} MB | {r['bound_mb']:.0f} MB "
              f"| {'yes' if r['fit_mb'] <= r['bound_mb'] else 'no'} "
              f"| {'yes' if r['peak_rss_mb'] <= r['bound_mb'] else 'no'} |")
    write_json(rows, args.out)


if __name__ == "__main__":
    main()
