"""Write a deterministic synthetic corpus: Zipfian word frequencies plus local structure.

About 70k word types with Zipf-Mandelbrot frequencies (exponent 1), in
sentences of ~20 tokens. Each sentence has a topic: a token comes from the
global distribution (55%), from the sentence topic's own Zipfian vocabulary
(35%) or is the fixed successor of the previous token (10%), so that
co-occurrence has structure to learn, as in text, rather than pure noise.
The same arguments always give the same file (NumPy's PCG64 with a fixed seed).

    python benchmarks/make_zipf_corpus.py                  # 20M tokens
    python benchmarks/make_zipf_corpus.py --tokens 5000000  # 5M tokens
"""

import argparse
import time
from pathlib import Path

import numpy as np

DEFAULT_DIR = Path(__file__).resolve().parent / "_data"
N_TOPICS = 500
TOPIC_WORDS = 2000
P_GLOBAL, P_TOPIC = 0.55, 0.35  # the rest: successor of the previous token
MEAN_LENGTH = 20
BLOCK_SENTENCES = 20_000


def word_strings(n_types):
    """Distinct pronounceable pseudo-words, shorter for frequent ranks."""
    consonants, vowels = "bdfgklmnprstvz", "aeiou"
    syllables = [c + v for c in consonants for v in vowels]  # 70
    out = []
    for rank in range(n_types):
        parts, r = [], rank
        while True:
            parts.append(syllables[r % len(syllables)])
            r //= len(syllables)
            if r == 0:
                break
        out.append("".join(parts))
    return np.array(out, dtype=object)


def zipf_cdf(n, exponent=1.0, shift=2.7):
    w = 1.0 / (np.arange(n) + shift) ** exponent
    c = np.cumsum(w)
    return c / c[-1]


def generate(n_tokens, n_types, seed, path):
    rng = np.random.default_rng(seed)
    words = word_strings(n_types)
    global_cdf = zipf_cdf(n_types)
    # Topic vocabularies avoid the 100 most frequent words (those are everywhere anyway).
    topic_words = rng.integers(100, n_types, size=(N_TOPICS, TOPIC_WORDS))
    topic_cdf = zipf_cdf(TOPIC_WORDS, exponent=0.9)
    successor = rng.integers(0, n_types, size=n_types)

    written = 0
    with open(path, "w", encoding="utf8") as f:
        while written < n_tokens:
            lengths = 1 + rng.poisson(MEAN_LENGTH - 1, size=BLOCK_SENTENCES)
            total = int(lengths.sum())
            sentence = np.repeat(np.arange(BLOCK_SENTENCES), lengths)
            topic = rng.integers(0, N_TOPICS, size=BLOCK_SENTENCES)[sentence]
            kind = rng.random(total)
            u = rng.random(total)
            ids = np.searchsorted(global_cdf, u)
            is_topic = (kind >= P_GLOBAL) & (kind < P_GLOBAL + P_TOPIC)
            ids[is_topic] = topic_words[topic[is_topic],
                                        np.searchsorted(topic_cdf, u[is_topic])]
            starts = np.zeros(total, dtype=bool)
            starts[np.cumsum(lengths)[:-1]] = True
            starts[0] = True
            follow = (kind >= P_GLOBAL + P_TOPIC) & ~starts
            # Chains of successors resolve left to right, one link per pass.
            pending = np.flatnonzero(follow)
            while len(pending):
                ready = pending[~follow[pending - 1]]
                ids[ready] = successor[ids[ready - 1]]
                follow[ready] = False
                pending = pending[follow[pending]]
            ids = np.minimum(ids, n_types - 1)
            ends = np.cumsum(lengths)
            tokens = words[ids]
            lines = []
            begin = 0
            for end in ends:
                if written >= n_tokens:
                    break
                take = min(end - begin, n_tokens - written)
                lines.append(" ".join(tokens[begin:begin + take]))
                written += take
                begin = end
            f.write("\n".join(lines))
            f.write("\n")
    return written


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--tokens", type=int, default=20_000_000)
    p.add_argument("--types", type=int, default=70_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", type=Path, default=None,
                   help="output file (default benchmarks/_data/zipf_<tokens>.txt)")
    args = p.parse_args(argv)
    if args.tokens < 1 or args.types < 100:
        p.error(f"--tokens must be >= 1 and --types >= 100, got {args.tokens}, {args.types}")
    size = (f"{args.tokens // 1_000_000}M" if args.tokens % 1_000_000 == 0
            else str(args.tokens))
    out = args.out or DEFAULT_DIR / f"zipf_{size}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    written = generate(args.tokens, args.types, args.seed, out)
    print(f"wrote {out}: {written:,} tokens in {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
