"""Will the model fit in memory? Checked before fit allocates the weights."""

import os


def available_memory():
    """Bytes that can still be allocated, or None if unknown.

    MemAvailable plus free swap (Linux), capped by a cgroup v2/v1 limit
    (containers); elsewhere the physical memory.
    """
    try:
        with open("/proc/meminfo") as f:
            info = dict(line.split(":", 1) for line in f)
        avail = (int(info["MemAvailable"].split()[0]) + int(info["SwapFree"].split()[0])) * 1024
    except (OSError, KeyError, ValueError):
        try:
            return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):  # pragma: no cover
            return None
    cgroup_files = (("memory.max", "memory.current"),
                    ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes"))
    for limit_file, usage_file in cgroup_files:
        try:
            with open(f"/sys/fs/cgroup/{limit_file}") as f:
                limit = f.read().strip()
            with open(f"/sys/fs/cgroup/{usage_file}") as f:
                usage = int(f.read())
        except (OSError, ValueError):
            continue
        if limit.isdigit():
            avail = min(avail, max(int(limit) - usage, 0))
        break
    return avail


def check_model_fits(n_vocab, dim, n_ngram_rows=0):
    """ValueError when the two (V, d) float32 weight arrays of a fit (and the
    (bucket, d) n-gram rows of subwords) cannot be allocated."""
    need = (2 * n_vocab + n_ngram_rows) * dim * 4
    avail = available_memory()
    if avail is not None and need > avail and n_ngram_rows:
        raise ValueError(
            f"the model needs {need:,} bytes ((2 x {n_vocab:,} words + {n_ngram_rows:,} "
            f"n-gram buckets) x {dim} dims x 4 bytes) but only {avail:,} bytes of memory are "
            "available; lower bucket or vector_size, or raise min_count"
        )
    if avail is not None and need > avail:
        raise ValueError(
            f"the model needs {need:,} bytes (2 x {n_vocab:,} words x {dim} dims x 4 bytes) "
            f"but only {avail:,} bytes of memory are available; lower vector_size, "
            "raise min_count or set max_vocab_size"
        )
