"""Word2VecNS on a Dask cluster: distributed training from a dask.bag or text files.

``fit(estimator, documents, client)`` trains an ordinary ``Word2VecNS`` on a
``dask.distributed`` cluster (``pip install "skw2v[dask]"``):

1. Each partition is tokenized and encoded once, on the worker it is assigned
   to, and kept there (local ids + per-partition counts).
2. The vocabulary is counted map-reduce style: per-partition counts and
   document frequencies are merged in a tree of tasks on the workers; the
   driver prunes and orders them with the estimator's own rules
   (``_vocab.select_vocabulary``).
3. Every partition is re-encoded with the global vocabulary ids and kept on
   its worker.
4. Each epoch the driver broadcasts the model (input and output vectors)
   once; every worker trains its partitions with the compiled kernel,
   starting from that model, at the learning rate a single machine would use
   at those corpus positions, and returns only the rows it changed (deltas)
   with their touch weights. The driver merges. The default,
   ``merge="scaled"``, trains each of the W workers at W times the learning
   rate and averages: a row that moves in proportion to its updates moves by
   the sum of the workers' unscaled moves, as on one machine, and a word
   seen on one worker only keeps that worker's whole update instead of
   being divided by W (plain averaging, the bug fixed in Spark's word2vec by
   SPARK-24666); ``merge="weighted"`` is the touch-weighted mean (Spark's
   fix), which still halves shared rows' progress with 2 workers.

Hyper-parameter search needs no code here: ``GridSearchCV`` under
``joblib.parallel_backend("dask")`` runs each fit on a worker (README, "Dask").
"""

import math
import os
import time
from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state

try:
    import dask
    import dask.bag as db
    from distributed import as_completed, get_client
    from distributed.comm import get_address_host
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError(
        "skw2v.dask needs dask and distributed; install them with "
        "pip install 'skw2v[dask]' (or pip install 'dask[bag]' distributed)"
    ) from exc

from . import _core
from ._corpus import EncodedCorpus, encode_new, make_analyzer, remap
from ._documents import checked_tokenizer, iter_documents
from ._file_passes import file_partitions, read_partition
from ._estimator import Word2VecNS
from ._fitted import publish, unfitted_on_failure, weights_attributes
from ._params import check_fit_params
from ._plan import EpochResult, plan_for
from ._progress import progress_bar
from ._training import (Schedule, all_finite, callbacks_at_epoch_end, check_not_diverged,
                        run_epoch)
from ._vocab import (build_vocabulary, check_corpus_size, document_frequency,
                     vocabulary_attributes)
from ._weights import epoch_seeds, initial_weights

__all__ = ["MERGES", "fit"]

MERGES = ("scaled", "weighted", "mean", "sum")
_SPLIT_EVERY = 8  # fan-in of the vocabulary-count reduction tree
_MAX_BLOCK = 64 * 2**20  # bytes per partition when text files are split


def fit(estimator, documents, client=None, *, merge="scaled", syncs_per_epoch=1,
        return_stats=False):
    """Fit ``estimator`` (a ``Word2VecNS``) on a Dask cluster and return it fitted.

    Parameters
    ----------
    estimator : Word2VecNS
        Fitted in place, as by ``estimator.fit``; its parameters are used
        as they are (``device`` must be ``"cpu"`` or ``"auto"``: training
        runs on the workers' CPUs).
    documents : dask.bag.Bag, or list of paths
        A bag of documents (strings, tokenized with the estimator's
        ``tokenizer``/``token_pattern``/``lowercase``, or token lists used as
        given), or text files (a path or a list of paths, ``.gz`` allowed,
        local or any fsspec URL the workers can open) read by the workers:
        one document per line, split on whitespace, as ``fit(Path(...))``
        reads a file. Large uncompressed files are split into blocks.
    client : distributed.Client or None
        The cluster; None uses the current default client.
    merge : {"scaled", "weighted", "mean", "sum"}, default="scaled"
        How the workers' updates of one epoch are combined, per row:
        ``"weighted"`` moves each row by the mean of the workers' deltas
        weighted by how often each worker touched it (expected kept
        occurrences for input rows; expected positive plus negative draws for
        output rows); ``"mean"`` divides the sum of the deltas by the number
        of workers (plain model averaging); ``"sum"`` adds them;
        ``"scaled"`` trains every worker at W times the learning rate (W
        workers) and takes the plain mean: where a row moves in proportion to
        its updates, the mean of W scaled deltas is their sum (what one
        machine would do, also for a row only one worker saw); where a row
        settles within a round, it is the mean of W estimates of where it
        settles. With 2 workers on PTB + Brown, "scaled" matches the
        single-machine fit at equal epochs where the other three lose
        (benchmarks/RESULTS.md, "Dask"); with 4 workers it starts to behave
        like one machine at 4x the rate (SimLex and analogies about 0.015
        lower), still far above "weighted". The scaled rate grows with W: with
        many workers, if a fit diverges (a ValueError says so), lower
        ``learning_rate`` or use "weighted".
    syncs_per_epoch : int, default=1
        Merges per epoch: each worker trains 1/syncs_per_epoch of its
        partitions between two merges (communication grows in proportion).
    return_stats : bool, default=False
        Also return a dict of timings and communication volumes per epoch.

    Returns
    -------
    estimator : Word2VecNS
        The same object, fitted: every fitted attribute, ``transform``,
        ``most_similar``, ``score``, ``partial_fit`` and pickling work as after
        ``estimator.fit``. ``train_seconds_`` is the wall time of the epochs
        (communication included); ``n_threads_`` the OpenMP threads of the
        largest worker task.
    stats : dict
        Only with ``return_stats=True``.

    Notes
    -----
    Each worker runs one training task per epoch with as many OpenMP threads
    as ``n_jobs`` says: a positive ``n_jobs`` is used as given; ``None`` gives
    each worker its share of its machine's cores (usable cores x the
    worker's threads / all worker threads on that machine), and a negative
    ``n_jobs`` counts down from that share. (Dask sets ``OMP_NUM_THREADS=1``
    in its workers, so the estimator's usual rule would give 1.)

    The result depends on how partitions are assigned to workers and on the
    order updates arrive in (float sums), so it is not bitwise reproducible;
    ``random_state`` still fixes the initial vectors and every random draw.
    """
    if not isinstance(estimator, Word2VecNS):
        raise TypeError(
            f"estimator must be a skw2v.Word2VecNS, got {type(estimator).__name__}"
        )
    if merge not in MERGES:
        raise ValueError(f"merge must be one of {MERGES}, got {merge!r}")
    if (not isinstance(syncs_per_epoch, Integral) or isinstance(syncs_per_epoch, bool)
            or syncs_per_epoch < 1):
        raise ValueError(f"syncs_per_epoch must be a positive integer, got {syncs_per_epoch!r}")
    if not isinstance(return_stats, bool):
        raise TypeError(f"return_stats must be a bool, got {return_stats!r}")
    client = _get_client(client)
    stats = unfitted_on_failure(_fit)(estimator, documents, client, merge, int(syncs_per_epoch))
    return (estimator, stats) if return_stats else estimator


# ------------------------------------------------------------------ driver
def _get_client(client):
    if client is None:
        try:
            return get_client()
        except ValueError:
            raise ValueError(
                "no dask.distributed Client: pass client=, or create one first "
                "(distributed.Client(...) becomes the default)"
            ) from None
    if not hasattr(client, "submit") or not hasattr(client, "scatter"):
        raise TypeError(f"client must be a distributed.Client or None, got "
                        f"{type(client).__name__}")
    return client


def _fit(estimator, documents, client, merge, syncs_per_epoch):
    estimator._validate_params()  # scikit-learn's check of _parameter_constraints
    if estimator.device == "cuda":
        raise ValueError("skw2v.dask.fit trains on the workers' CPUs; device='cuda' is not "
                         "supported here: use device='cpu' (or 'auto')")
    # Validated as the workers will train it: on their CPUs, whatever "auto"
    # would pick on this driver.
    params = estimator.get_params(deep=False)
    check_fit_params({**params, "device": "cpu"})
    if params["freeze_init_vectors"] or params["epochs"] == 0:
        raise ValueError("skw2v.dask.fit supports neither freeze_init_vectors=True nor "
                         "epochs=0; use Word2VecNS.fit for these")
    if params["max_n"]:
        raise ValueError(f"skw2v.dask.fit does not train subwords (max_n={params['max_n']!r}) "
                         "yet; use Word2VecNS.fit or max_n=0")
    stats = {"merge": merge, "syncs_per_epoch": syncs_per_epoch}
    start = time.perf_counter()
    workers = _worker_threads(client, estimator.n_jobs)
    addresses = sorted(workers)
    files = _local_files(documents)

    # 1. Encode each partition once, on the worker it is assigned to; local files
    #    are read there by fit's compiled reader, in byte ranges at line starts.
    raw = []
    if files is not None:
        for i, spec in enumerate(file_partitions(files, 4 * len(addresses))):
            raw.append(client.submit(_read_partition, spec, pure=False,
                                     workers=[addresses[i % len(addresses)]],
                                     allow_other_workers=True))
    else:
        bag = _as_bag(documents, len(addresses))
        analyzer_args = (estimator.lowercase, estimator.token_pattern, estimator.tokenizer)
        for i, part in enumerate(bag.to_delayed()):
            where = [addresses[i % len(addresses)]]
            task = dask.delayed(_encode_partition, pure=False)(part, i, *analyzer_args)
            raw.append(client.compute(task, workers=where, allow_other_workers=True))

    # 2. Vocabulary: counts and document frequencies merged in a tree on the workers.
    counted = client.map(_partition_counts, raw, pure=False)
    while len(counted) > 1:
        counted = [client.submit(_merge_counts, *counted[i:i + _SPLIT_EVERY], pure=False)
                   for i in range(0, len(counted), _SPLIT_EVERY)]
    types, counts, df, n_documents, n_raw_tokens = counted[0].result()
    del counted
    check_corpus_size(n_documents, n_raw_tokens, name="documents")
    kept, index_to_token, token_counts = build_vocabulary(
        types, counts, estimator.min_count, estimator.max_vocab_size, name="documents")
    token_df = df[kept]
    del types, counts, df
    stats["vocabulary_seconds"] = time.perf_counter() - start

    # 3. Global ids; each shard stays on the worker that balances the tokens best
    #    (a raw partition moves at most once, here), the raw partitions are dropped.
    raw_sizes = client.gather(client.map(_shard_size, raw, pure=False))
    assigned = _balance(raw_sizes, addresses)
    [vocab] = client.scatter([{t: r for r, t in enumerate(index_to_token.tolist())}],
                             broadcast=True, hash=False)
    shards = [client.submit(_remap_partition, part, vocab, pure=False,
                            workers=[assigned[i]], allow_other_workers=True)
              for i, part in enumerate(raw)]
    sizes = np.asarray(client.gather(client.map(_shard_size, shards, pure=False)),
                       dtype=np.int64)
    del raw, vocab
    n_tokens = int(sizes.sum())
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    holders = client.who_has(shards)
    groups = {}
    for i, shard in enumerate(shards):
        if sizes[i] > 0:
            held = list(holders.get(shard.key, ()))
            addr = assigned[i] if assigned[i] in held or not held else held[0]
            groups.setdefault(addr, []).append(i)
    stats["setup_seconds"] = time.perf_counter() - start

    # 4. Model, seeds and kernel tables exactly as Word2VecNS.fit draws them.
    rs = check_random_state(estimator.random_state)
    w_in, w_out, bias = initial_weights(
        index_to_token, token_counts, rs, vector_size=estimator.vector_size,
        loss=estimator.loss, subsample=estimator.subsample,
        init_vectors=estimator.init_vectors)
    seeds = epoch_seeds(rs, estimator.epochs)
    template = plan_for(EncodedCorpus(np.zeros(0, np.int32), np.zeros(1, np.int64), None),
                        token_counts, params)
    [template_future] = client.scatter([template], broadcast=True, hash=False)
    n_threads = max(workers.get(a, 1) for a in groups)
    state = {**vocabulary_attributes(index_to_token, token_counts, token_df, n_documents),
             "n_threads_": n_threads, "device_": "cpu"}
    stats.update(n_workers=len(addresses), n_partitions=len(shards), n_tokens=n_tokens,
                 n_raw_tokens=int(n_raw_tokens), n_vocab=len(index_to_token),
                 tokens_per_worker={a: int(sizes[g].sum()) for a, g in groups.items()},
                 threads_per_worker={a: workers.get(a, 1) for a in groups}, epochs=[])
    history, seconds = _train(estimator, client, w_in, w_out, bias, template_future, shards,
                              groups, starts, seeds, workers, merge, syncs_per_epoch, state,
                              stats)
    publish(estimator, {**state, **weights_attributes((w_in, w_out, bias), history, seconds)})
    stats["total_seconds"] = time.perf_counter() - start
    return stats


def _train(estimator, client, w_in, w_out, bias, template, shards, groups, starts, seeds,
           workers, merge, syncs, state, stats):
    epochs = estimator.epochs
    n_tokens = stats["n_tokens"]
    total = epochs * n_tokens
    # NCE's output bias travels and merges as one more column of the output rows.
    weights = [w_in, w_out] + ([bias[:, None]] if estimator.loss == "nce" else [])
    model_bytes = sum(w.nbytes for w in weights)
    lr_scale = len(groups) if merge == "scaled" else 1
    history, seconds = [], 0.0
    schedule = Schedule(estimator.learning_rate, estimator.min_learning_rate)
    on_epoch_end = callbacks_at_epoch_end(estimator, estimator.callbacks, state,
                                          (w_in, w_out, bias), epochs, schedule)
    pending = []
    with progress_bar(estimator.verbose, total) as bar:
        try:
            for epoch in range(epochs):
                t0 = time.perf_counter()
                loss = positives = words = 0.0
                epoch_stats = {"scatter_seconds": 0.0, "merge_seconds": 0.0,
                               "kernel_seconds": 0.0, "worker_compute_seconds": [],
                               "scatter_bytes": 0, "gather_bytes": 0}
                for sync in range(syncs):
                    t1 = time.perf_counter()
                    [model] = client.scatter([tuple(weights)], broadcast=True, hash=False)
                    epoch_stats["scatter_seconds"] += time.perf_counter() - t1
                    # broadcast: every worker receives the whole model once per round
                    epoch_stats["scatter_bytes"] += model_bytes * len(workers)
                    pending = [
                        client.submit(
                            _train_shards, model, template, schedule.start * lr_scale,
                            schedule.end * lr_scale, epoch * n_tokens, max(total, 1),
                            [(int(starts[i]),
                              _shard_seed(seeds[epoch], i + len(shards) * sync))
                             for i in group],
                            (sync, syncs), workers.get(addr, 1), *[shards[i] for i in group],
                            workers=[addr], allow_other_workers=True, pure=False,
                        )
                        for addr, group in groups.items()
                    ]
                    merger = _Merger([w.shape for w in weights],
                                     "mean" if merge == "scaled" else merge, len(pending))
                    compute = []
                    for _, update in as_completed(pending, with_results=True):
                        t1 = time.perf_counter()
                        merger.add(update)
                        epoch_stats["merge_seconds"] += time.perf_counter() - t1
                        epoch_stats["gather_bytes"] += update.nbytes
                        compute.append(update.seconds)
                        loss += update.loss
                        positives += update.positives
                        words += update.words
                        if bar is not None:
                            bar.update_with_loss(update.n_tokens,
                                                 update.loss / max(update.positives, 1.0))
                    pending = []
                    del model
                    t1 = time.perf_counter()
                    merger.apply(weights)
                    epoch_stats["merge_seconds"] += time.perf_counter() - t1
                    epoch_stats["worker_compute_seconds"].append(sorted(compute))
                    epoch_stats["kernel_seconds"] += max(compute, default=0.0)
                wall = time.perf_counter() - t0
                seconds += wall
                check_not_diverged(epoch, loss, all_finite(weights), schedule.start)
                result = EpochResult(loss, positives, words, wall)
                history.append(result.mean_loss)
                epoch_stats["wall_seconds"] = wall
                stats["epochs"].append(epoch_stats)
                if on_epoch_end is not None:
                    on_epoch_end(epoch, result, history, seconds)
        finally:
            if pending:
                client.cancel(pending)
    return history, seconds


class _Merger:
    """Accumulates the workers' row deltas of one epoch and applies them."""

    def __init__(self, shapes, merge, n_updates):
        self.merge = merge
        self.n_updates = n_updates
        self.num = [np.zeros(shape, dtype=np.float32) for shape in shapes]
        self.den = [np.zeros(shape[0], dtype=np.float64) for shape in shapes]

    def add(self, update):
        for k, (rows, delta, weight) in enumerate(update.parts):
            if self.merge == "weighted":
                # rows are distinct within one update: fancy-index += is exact
                self.num[k][rows] += weight[:, None].astype(np.float32) * delta
                self.den[k][rows] += weight
            else:
                self.num[k][rows] += delta

    def apply(self, weights):
        """Move every array of ``weights`` (w_in, w_out[, bias column]) in place."""
        for k, w in enumerate(weights):
            if self.merge == "weighted":
                rows = np.flatnonzero(self.den[k] > 0)
                w[rows] += self.num[k][rows] / self.den[k][rows, None].astype(np.float32)
            elif self.merge == "mean":
                w += self.num[k] / np.float32(self.n_updates)
            else:
                w += self.num[k]


def _balance(sizes, addresses):
    """Partition -> worker: largest partition first to the least loaded worker."""
    load = {a: 0 for a in addresses}
    assigned = [None] * len(sizes)
    for i in sorted(range(len(sizes)), key=lambda i: (-sizes[i], i)):
        addr = min(addresses, key=lambda a: (load[a], a))
        assigned[i] = addr
        load[addr] += sizes[i]
    return assigned


def _worker_threads(client, n_jobs):
    """OpenMP threads of each worker's training task (see ``fit``'s Notes)."""
    # client.nthreads() asks the scheduler each time; scheduler_info() can hand
    # back the client's periodic cache, which carries no per-worker entries.
    nthreads = client.nthreads()
    if not nthreads:
        raise ValueError("the dask cluster has no workers; start some (or wait for them) "
                         "before calling skw2v.dask.fit")
    if isinstance(n_jobs, Integral) and n_jobs > 0:
        return {addr: int(n_jobs) for addr in nthreads}
    cpus = client.run(_usable_cpus, workers=list(nthreads))
    host = {addr: get_address_host(addr) for addr in nthreads}
    slots = {}
    for addr, n in nthreads.items():
        slots[host[addr]] = slots.get(host[addr], 0) + n
    threads = {}
    for addr, n in nthreads.items():
        share = max(1, cpus.get(addr, 1) * n // max(slots[host[addr]], 1))
        threads[addr] = share if n_jobs is None else max(1, share + 1 + int(n_jobs))
    return threads


def _as_bag(documents, n_workers):
    """A dask.bag of documents with at least ``n_workers`` partitions."""
    if isinstance(documents, db.Bag):
        bag = documents
    else:
        bag = _read_text(_check_paths(documents), n_workers)
    if bag.npartitions < n_workers:
        bag = bag.repartition(npartitions=n_workers)
    return bag


def _local_files(documents):
    """The paths of ``documents`` when they are all local files, else None."""
    if isinstance(documents, db.Bag):
        return None
    paths = _check_paths(documents)
    return paths if all("://" not in p for p in paths) else None


def _check_paths(documents):
    hint = ("documents must be a dask.bag.Bag of documents or a list of text file paths; "
            "for documents in memory use dask.bag.from_sequence(docs, npartitions=...)")
    if isinstance(documents, (str, os.PathLike)):
        documents = [documents]
    if not isinstance(documents, (list, tuple)):
        raise TypeError(f"{hint}; got {type(documents).__name__}")
    if len(documents) == 0:
        raise ValueError(f"{hint}; got an empty {type(documents).__name__}")
    paths = []
    for p in documents:
        if not isinstance(p, (str, os.PathLike)):
            raise TypeError(f"{hint}; got an element of type {type(p).__name__}: {p!r}")
        p = os.fspath(p)
        # fsspec URLs (s3://...) are opened by the workers; local files are checked here.
        if "://" not in p and not os.path.isfile(p):
            raise ValueError(f"documents: file {p!r} does not exist or is not a file ({hint})")
        paths.append(p)
    return paths


def _read_text(paths, n_workers):
    local = all("://" not in p and not p.endswith((".gz", ".bz2", ".xz")) for p in paths)
    blocksize = None
    if local:
        # about four blocks per worker (at most 64 MiB each): the blocks are then
        # spread over the workers with little imbalance
        total = sum(os.path.getsize(p) for p in paths)
        target = max(4 * n_workers, len(paths))
        blocksize = min(_MAX_BLOCK, max(1, math.ceil(total / target)))
    return db.read_text(paths, blocksize=blocksize, encoding="utf-8").map(str.split)


# ------------------------------------------------------------------ workers
def _usable_cpus():
    from ._threads import _cpu_count

    return _cpu_count()


def _encode_partition(docs, index, lowercase, token_pattern, tokenizer):
    analyze = make_analyzer(lowercase, token_pattern, checked_tokenizer(tokenizer))
    return encode_new(iter_documents(docs, name=f"documents (partition {index})"),
                      analyze)


def _read_partition(spec):
    tokens, offsets, types = read_partition(spec)
    return EncodedCorpus(tokens, offsets, types)


def _partition_counts(part):
    n_types = len(part.types)
    counts = np.bincount(part.tokens, minlength=n_types).astype(np.int64)
    df = document_frequency(part.tokens, part.offsets, n_types)
    return part.types, counts, df, part.n_documents, len(part.tokens)


def _merge_counts(*items):
    index, counts, dfs = {}, [], []
    n_documents = n_tokens = 0
    for types, c, d, n_docs, n_tok in items:
        n_documents += n_docs
        n_tokens += n_tok
        for t, ci, di in zip(types, c.tolist(), d.tolist()):
            row = index.get(t)
            if row is None:
                index[t] = len(counts)
                counts.append(ci)
                dfs.append(di)
            else:
                counts[row] += ci
                dfs[row] += di
    return (list(index), np.asarray(counts, dtype=np.int64), np.asarray(dfs, dtype=np.int64),
            n_documents, n_tokens)


def _remap_partition(part, vocabulary):
    lookup = np.fromiter((vocabulary.get(t, -1) for t in part.types), dtype=np.int32,
                         count=len(part.types))
    # A copy: remap compacts in place, and the raw partition may be reused on a retry.
    return remap(EncodedCorpus(part.tokens.copy(), part.offsets, part.types), lookup)


def _shard_size(shard):
    return len(shard.tokens)


class _Update:
    """What one worker sends back: changed rows, their deltas and touch weights."""

    def __init__(self, parts, loss, positives, words, seconds, n_tokens):
        self.parts = parts  # [(rows, delta, weight)] for w_in, w_out[, NCE bias column]
        self.loss = loss
        self.positives = positives
        self.words = words
        self.seconds = seconds
        self.n_tokens = n_tokens

    @property
    def nbytes(self):
        return sum(a.nbytes for part in self.parts for a in part)


def _shard_seed(epoch_seed, shard):
    """Kernel seed of one partition in one epoch (shard 0 gets the epoch's seed)."""
    return (int(epoch_seed) ^ (shard * 0x9E3779B97F4A7C15)) & 0xFFFFFFFFFFFFFFFF


def _slice(shard, r, n):
    """Slice r of n of a shard, cut at the sentence boundary nearest r/n of its tokens;
    returns it and the position of its first token in the shard."""
    if n == 1:
        return shard, 0
    offsets = shard.offsets
    cuts = np.searchsorted(offsets, [len(shard.tokens) * k // n for k in (r, r + 1)])
    a, b = (int(min(c, len(offsets) - 1)) for c in cuts)
    first, last = int(offsets[a]), int(offsets[b])
    return EncodedCorpus(shard.tokens[first:last], offsets[a:b + 1] - first, None), first


def _train_shards(model, template, lr_start, lr_end, epoch_offset, progress_total,
                  shard_specs, sync, n_threads, *shards):
    """One round of an epoch over this worker's shards, from the broadcast model.

    ``sync = (r, R)``: round r of R trains the r-th of R slices (cut at
    sentence boundaries) of every shard.
    """
    w0 = model  # (w_in, w_out[, NCE bias as a (V, 1) column]), shared by tasks
    w = [a.copy() for a in w0]
    w_in, w_out = w[0], w[1]
    bias = w[2][:, 0] if len(w) == 3 else None  # a view: the kernel updates w[2]
    loss = positives = words = seconds = 0.0
    counts = np.zeros(len(w_in), dtype=np.int64)
    n_tokens = 0
    for (start, seed), shard in zip(shard_specs, shards):
        part, first = _slice(shard, *sync)
        if len(part.tokens) == 0:
            continue
        # the learning rate a single machine would use at these corpus positions
        result = run_epoch(template.with_corpus(part), w_in, w_out, output_bias=bias,
                           lr_start=lr_start,
                           lr_end=lr_end, progress_offset=epoch_offset + start + first,
                           progress_total=progress_total, seed=seed, n_threads=n_threads)
        loss += result.loss
        positives += result.positives
        words += result.words
        seconds += result.seconds
        counts += np.bincount(part.tokens, minlength=len(w_in))
        n_tokens += len(part.tokens)
    weight_in, weight_out = _touch_weights(template, counts)
    parts = []
    for k, (new, old) in enumerate(zip(w, w0)):
        rows = np.flatnonzero((new != old).any(axis=1)).astype(np.int32)
        weight = weight_in if k == 0 else weight_out
        parts.append((rows, new[rows] - old[rows], weight[rows]))
    return _Update(parts, loss, positives, words, seconds, n_tokens)


def _touch_weights(plan, counts):
    """Expected updates of each row on this worker (constant factors dropped).

    Input rows: kept occurrences (each is a context word about the same number
    of times). Output rows: positives (the centre word) plus negatives drawn
    from q, ``k q(w)`` per positive example (per centre word with CBOW or
    shared negatives).
    """
    kept = counts * plan.keep_prob.astype(np.float64)
    with np.errstate(under="ignore"):
        kq = np.exp(plan.noise_log_kq.astype(np.float64))  # sample_size * q
    mean_contexts = (plan.window + 1) if plan.shrink_windows else 2 * plan.window
    if plan.architecture == _core.ARCHITECTURES["skipgram"]:
        positives = mean_contexts
        negatives = 1.0 if plan.shared_negatives or plan.batch_window else mean_contexts
    else:
        positives, negatives = 1.0, 1.0
    return kept, positives * kept + negatives * kq * kept.sum()
