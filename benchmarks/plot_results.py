"""Redraw every figure of RESULTS.md from the JSON stored under benchmarks/results/.

    python benchmarks/plot_results.py                 # print each table of RESULTS.md
    python benchmarks/plot_results.py --check         # ... fail unless RESULTS.md has it verbatim
    python benchmarks/plot_results.py --png DIR       # also draw the speed and quality charts

Each figure names the JSON files it is drawn from (``FIGURES`` below); a new
run of a benchmark writes ``benchmarks/results/<script>/<commit>.json``, and
pointing the figure at it redraws the table for RESULTS.md. Needs no
skw2v build and no data: only the stored JSON (and matplotlib for --png).
"""

import argparse
import json
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def load(name):
    with open(RESULTS / name) as f:
        return json.load(f)


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


# ------------------------------------------------------------------ renderers
def stored(name, key):
    """A table the benchmark script printed and stored as it is."""
    return lambda: load(name)[key].strip()


def memory_table(name):
    def draw():
        rows = load(name)
        head = ("| corpus | tokens | vocab | RSS after import | peak RSS | used by fit | model "
                "arrays | bound 2(model+4N)+100 | fit within bound | peak within bound |\n"
                "|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
        return "\n".join([head] + [
            f"| {Path(r['file']).name} | {r['tokens']:,} | {r['vocab']:,} "
            f"| {r['rss_after_import_mb']:.0f} MB | {r['peak_rss_mb']:.0f} MB "
            f"| {r['fit_mb']:.0f} MB | {r['model_mb']:.0f} MB | {r['bound_mb']:.0f} MB "
            f"| {'yes' if r['fit_mb'] <= r['bound_mb'] else 'no'} "
            f"| {'yes' if r['peak_rss_mb'] <= r['bound_mb'] else 'no'} |" for r in rows])
    return draw


def _quality(rows):
    return [[r["run"], f"{r['ws353']:.3f}", f"{r['simlex']:.3f}", f"{r['analogy']:.3f}"]
            for r in rows]


def dask_quality(*names):
    """Quality rows of bench_dask runs (as its first table prints them, without timings)."""
    def draw():
        rows = [r for name in names for r in load(name)["rows"]]
        return markdown_table(["run", "WS353", "SimLex", "analogy"], _quality(rows))
    return draw


def dask_runs(name):
    """bench_dask's first table: quality and throughput of each run."""
    def draw():
        rows = load(name)["rows"]
        return markdown_table(
            ["run", "WS353", "SimLex", "analogy", "words/s", "train s"],
            [q + [f"{r['words_per_second']:,.0f}", f"{r['train_seconds']:.1f}"]
             for q, r in zip(_quality(rows), rows)])
    return draw


def dask_communication(name):
    """bench_dask's second table: traffic and time per epoch of the distributed runs."""
    def draw():
        rows = [r for r in load(name)["rows"] if "comm_ratio" in r]
        return markdown_table(
            ["run", "partitions", "MB out / epoch", "MB back / epoch", "kernel s / epoch",
             "other s / epoch", "merge s / epoch", "other / kernel"],
            [[r["run"], r["n_partitions"], f"{r['scatter_mb']:.1f}", f"{r['gather_mb']:.1f}",
              f"{r['compute_s']:.2f}", f"{r['other_s']:.2f}", f"{r['merge_s']:.3f}",
              f"{r['comm_ratio']:.3f}"] for r in rows])
    return draw


def dask_seeds(by_seed, runs_shown):
    """Per-seed quality of the runs ``runs_shown`` in ``by_seed`` ({seed: [files]}), and
    their means over the seeds."""
    def draw():
        table, runs = [], {}
        for seed, names in by_seed.items():
            for r in (r for name in names for r in load(name)["rows"]):
                if r["run"] not in runs_shown:
                    continue
                table.append([seed] + _quality([r])[0])
                runs.setdefault(r["run"], []).append(r)
        for run, rows in runs.items():
            table.append(["mean", run] + [f"{statistics.fmean(r[m] for r in rows):.3f}"
                                          for m in ("ws353", "simlex", "analogy")])
        return markdown_table(["seed", "run", "WS353", "SimLex", "analogy"], table)
    return draw


def classification_table(*names):
    """bench_text_classification's rows (one or more runs, in order): CV accuracy."""
    def draw():
        rows = [r for name in names for r in load(name)["rows"]]
        return markdown_table(
            ("row", "pipeline", "accuracy, mean ± sd over the folds", "seconds (all folds)"),
            [[r["name"], r["description"], f"{r['mean']:.4f} ± {r['std']:.4f}",
              f"{r['seconds']:.0f}"] for r in rows])
    return draw


# Every figure of RESULTS.md: (section, what, renderer). Tables without stored
# JSON (the ablation, the NCE table of section 6) are not listed: RESULTS.md
# says where they come from.
G = "bench_vs_gensim/"
D = "bench_dask/"
FIGURES = [
    ("1", "quality, all seeds pooled", stored(G + "132ce4b-quality-pooled.json", "quality_table")),
    ("1", "3-seed criterion pass rates",
     stored(G + "132ce4b-quality-pooled.json", "criterion_pass_rates")),
    ("2", "speed vs gensim, PTB + Brown", stored(G + "e72bac5-speed.json", "speed_table")),
    ("2", "speed vs gensim, re-run", stored(G + "132ce4b-speed.json", "speed_table")),
    ("3", "speed vs peers, Zipf 5M", stored("bench_vs_peers/7e3f1ab-zipf_5M.json",
                                            "speed_table")),
    ("4", "memory", memory_table("bench_memory/7e3f1ab.json")),
    ("7a'", "dask, merge=scaled, 3 seeds",
     dask_seeds({0: [D + "c0bc6b9.json", D + "e3dd3b4-scaled-s0.json"],
                 1: [D + "e3dd3b4-scaled-s1.json"], 2: [D + "95464a8-scaled-s2.json"]},
                {"single machine (2 threads)", "dask 2 workers, merge=scaled",
                 "dask 2 workers, merge=weighted"})),
    ("7a'", "dask re-run, 1 and 2 workers", dask_runs(D + "aeb5526.json")),
    ("7a'", "dask re-run, communication", dask_communication(D + "aeb5526.json")),
    ("7a'", "dask, 4 workers", dask_quality(D + "6c57acb-4workers-s0.json",
                                            D + "6c57acb-4workers-syncs2-s0.json")),
    ("7a", "dask, the other merges", dask_runs(D + "c0bc6b9.json")),
    ("7a", "dask, 10 epochs", dask_runs(D + "5cf603c-10ep.json")),
    ("7b", "dask, communication", dask_communication(D + "c0bc6b9.json")),
    ("7c", "dask, one file per worker", dask_quality(D + "5cf603c-wholefiles.json")),
    ("9", "AG News text classification, first round",
     classification_table("bench_text_classification/2d43739-round1.json")),
    ("9", "AG News, second round",
     classification_table("bench_text_classification/95b6290-round2.json")),
    ("9", "AG News, nested FeatureUnion",
     classification_table("bench_text_classification/9c343cf-union.json")),
]


# --------------------------------------------------------------------- charts
def draw_charts(folder):
    """Bar charts of the speed ratios (section 2) and the pooled quality (section 1)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    speed = load(G + "e72bac5-speed.json")["speed_records"]
    fig, ax = plt.subplots(figsize=(7, 3.5))
    groups = sorted({(r["arch"], r["threads"]) for r in speed})
    impls = sorted({r["impl"] for r in speed})
    for k, impl in enumerate(impls):
        values = [statistics.median(r["words_per_sec"] for r in speed
                                    if (r["arch"], r["threads"], r["impl"]) == (*g, impl))
                  for g in groups]
        ax.bar([i + k / (len(impls) + 1) for i in range(len(groups))], values,
               width=1 / (len(impls) + 1), label=impl)
    ax.set_xticks([i + 0.33 for i in range(len(groups))])
    ax.set_xticklabels([f"{a}, {t} thread{'s' * (t > 1)}" for a, t in groups])
    ax.set_ylabel("training words/s")
    ax.legend(frameon=False)
    fig.tight_layout()
    fig.savefig(folder / "speed_ptb_brown.png", dpi=110)
    plt.close(fig)
    print(f"wrote {folder / 'speed_ptb_brown.png'}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="fail unless every redrawn table appears verbatim in RESULTS.md")
    ap.add_argument("--png", type=Path, default=None, metavar="DIR",
                    help="also draw the charts into DIR (needs matplotlib)")
    args = ap.parse_args(argv)
    text = (HERE / "RESULTS.md").read_text(encoding="utf-8")
    missing = []
    for section, what, draw in FIGURES:
        table = draw()
        print(f"## {section}: {what}\n\n{table}\n")
        if table not in text:
            missing.append(f"{section}: {what}")
    if args.png:
        draw_charts(args.png)
    if args.check and missing:
        print("not in RESULTS.md as redrawn: " + "; ".join(missing))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
