"""Host driver of the GPU kernels in ``sgns.cu``: upload once, train epochs, download.

``GpuTrainer(plan, w_in, w_out, output_bias=)`` has the contract of the CPU
epoch loop in ``skw2v._training``: ``run_epoch(lr_start=, lr_end=,
progress_offset=, progress_total=, seed=) -> EpochResult``, then
``download()`` gives the trained vectors (and the NCE output bias) back as
NumPy float32 arrays. The corpus ids, sentence
offsets, subsampling and alias tables are uploaded once per fit.

One epoch on the device:

1. ``skw2v_keep_flags`` flags the positions kept by subsampling, with the CPU
   kernel's hash, so the GPU keeps exactly the tokens the CPU would for the
   same epoch seed (skipped when nothing can be dropped);
2. ``flatnonzero`` / ``searchsorted`` give the kept positions and the
   sentence offsets in kept coordinates (a window is counted in kept tokens
   of one sentence, as on the CPU);
3. ``skw2v_train`` runs over batches of corpus positions, one launch each;
   the host synchronises after every batch, for progress and so that Ctrl-C
   stops between batches with the weights in a consistent state.

The grid holds as many blocks as fit on the device at once (the occupancy
of the compiled kernel, read from the driver), and its warps take work
items from an atomic counter (one per launch) until the batch is done, so
no warp idles behind a fixed share of the work. Each module is compiled for
one training path (skip-gram per pair, skip-gram window-batched, CBOW) and
one number of target slots (1 + sample_size), which keeps every path's
register count down.

Everything array-shaped goes through a small backend object (CuPy here; the
tests plug in a CPU emulation of the kernels), and the kernel arguments are
packed against the parameter list parsed from ``sgns.cu``, so a driver/kernel
mismatch fails loudly on the host instead of corrupting memory.
"""

import re
import time
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import ClassVar

import numpy as np

from .. import _core
from .._plan import EpochResult

SOURCE_NAME = "sgns.cu"
THREADS_PER_BLOCK = 256   # 8 warps; the kernel's __launch_bounds__ follows it
BLOCKS_PER_SM = 2         # fallback grid cap per multiprocessor when occupancy is unknown
PIECES_PER_WARP = 16      # work items per warp and launch: small items balance the load
MAX_PIECE = 64            # centre words per work item
MAX_SAMPLE_SIZE = 63      # target slots live in registers: 1 + sample_size of them
# __launch_bounds__(256, 2): at most 128 registers. ptxas then keeps every path
# at d <= 128 (R = 1) and 5 negatives free of spills (left alone, it spills CBOW
# at 80). Wider rows need more (d = 300: 160-244) and get no bound.
MIN_BLOCKS_PER_SM = 2


def default_min_blocks(variant):
    """The __launch_bounds__ blocks-per-SM hint for a (VEC, R) variant."""
    return MIN_BLOCKS_PER_SM if variant[1] == 1 else 0
BATCH_TOKENS = 1 << 21    # corpus positions per launch (~10-50 ms of GPU work)
WARP = 32
MAX_VOCAB = 2**31 - 1     # token ids are int32

# Keys of the two per-epoch random streams. SUBSAMPLE_KEY is the CPU kernel's
# (skw2v/_core.pyx), so both devices subsample identically for one seed.
SUBSAMPLE_KEY = 0x5851F42D4C957F2D
CENTRE_KEY = 0xD1B54A32D192ED03
_MASK64 = (1 << 64) - 1

# Kernel codes (sgns.cu: architecture 0 skip-gram / 1 CBOW; use_nce 0 / 1)
# from the CPU plan's codes, so a renumbering in _core cannot slip through.
_KERNEL_ARCHITECTURE = {_core.ARCHITECTURES["skipgram"]: 0, _core.ARCHITECTURES["cbow"]: 1}
_KERNEL_NCE = {_core.LOSSES["negative_sampling"]: 0, _core.LOSSES["nce"]: 1}
# SKW2V_PATH of sgns.cu: (architecture code, batch_window) -> path
PATH_SKIPGRAM, PATH_BATCHED, PATH_CBOW = 0, 1, 2


# ----------------------------------------------------------------- random --
def _mix64(z):
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK64
    return z ^ (z >> 31)


def hash64(key):
    """The kernels' counter-based hash (SplitMix64 finaliser), on Python ints."""
    return _mix64((int(key) * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & _MASK64)


def epoch_keys(seed):
    """(subsample_key, centre_key) of an epoch seed, as the kernels use them."""
    seed = int(seed) & _MASK64
    return hash64(seed ^ SUBSAMPLE_KEY), hash64(seed ^ CENTRE_KEY)


# ------------------------------------------------------- kernel interface --
@cache
def kernel_source():
    """Text of sgns.cu, read from the installed package."""
    return resources.files(__package__).joinpath(SOURCE_NAME).read_text(encoding="utf-8")


# C parameter types of the kernels -> NumPy dtypes.
_C_TYPES = {
    "int": np.int32,
    "float": np.float32,
    "double": np.float64,
    "unsigned char": np.uint8,
    "skw2v_i64": np.int64,
    "skw2v_u64": np.uint64,
    "skw2v_u32": np.uint32,
}


@dataclass(frozen=True)
class KernelParam:
    name: str
    dtype: np.dtype
    pointer: bool
    const: bool
    ctype: str  # base C type as written


def kernel_signature(source, name):
    """Parameters of ``extern "C" __global__ void name(...)`` in CUDA source."""
    code = re.sub(r"/\*.*?\*/", " ", source, flags=re.DOTALL)
    code = re.sub(r"//[^\n]*", " ", code)
    m = re.search(
        r'extern\s+"C"\s+__global__\s+void\s+(?:__launch_bounds__\s*\([^)]*\)\s*|SKW2V_\w+\s+)?'
        + re.escape(name) + r"\s*\(([^)]*)\)",
        code,
    )
    if m is None:
        raise ValueError(f"kernel {name!r} not found in the CUDA source")
    params = []
    for raw in m.group(1).split(","):
        words = raw.replace("*", " * ").split()
        if not words:
            raise ValueError(f"empty parameter in kernel {name!r}")
        pname = words[-1]
        rest = [w for w in words[:-1] if w not in ("__restrict__",)]
        const = "const" in rest
        pointer = "*" in rest
        base = " ".join(w for w in rest if w not in ("const", "*"))
        if base not in _C_TYPES or rest.count("*") > 1:
            raise ValueError(f"kernel {name!r}: unsupported parameter type in {raw.strip()!r}")
        params.append(KernelParam(pname, np.dtype(_C_TYPES[base]), pointer, const, base))
    return tuple(params)


def pack_args(kernel, signature, values):
    """Kernel arguments in signature order, each checked against its C type.

    Arrays must have the parameter's dtype and be C-contiguous; scalars are
    range-checked and converted to the exact NumPy scalar type, since a
    Python int passed where the kernel expects a 32-bit int would be read
    wrongly.
    """
    names = [p.name for p in signature]
    missing = [n for n in names if n not in values]
    extra = [n for n in values if n not in names]
    if missing or extra:
        raise TypeError(f"{kernel}: missing arguments {missing}, unexpected arguments {extra}")
    out = []
    for p in signature:
        v = values[p.name]
        if p.pointer:
            if not (hasattr(v, "dtype") and hasattr(v, "flags") and getattr(v, "ndim", 0) >= 1):
                raise TypeError(f"{kernel}: argument {p.name} must be an array, got {type(v)}")
            if v.dtype != p.dtype or not v.flags.c_contiguous:
                raise TypeError(
                    f"{kernel}: argument {p.name} must be a C-contiguous {p.dtype} array "
                    f"({p.ctype}*), got {v.dtype} (c_contiguous={v.flags.c_contiguous})"
                )
            out.append(v)
        elif p.dtype.kind in "iu":
            if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
                raise TypeError(f"{kernel}: argument {p.name} must be an integer, got {v!r}")
            info = np.iinfo(p.dtype)
            if not info.min <= int(v) <= info.max:
                raise ValueError(f"{kernel}: argument {p.name}={v} does not fit {p.ctype}")
            out.append(p.dtype.type(int(v)))
        else:
            if not isinstance(v, (int, float, np.integer, np.floating)):
                raise TypeError(f"{kernel}: argument {p.name} must be a number, got {v!r}")
            out.append(p.dtype.type(v))
    return tuple(out)


# ------------------------------------------------------- launch arithmetic --
def kernel_variant(dim):
    """(VEC, R): floats per load and loads per lane for vectors of size dim.

    float4 loads need dim % 4 == 0 (rows then start 16-byte aligned); a lane
    holds R loads, so the warp covers 32 * VEC * R >= dim elements.
    """
    if isinstance(dim, (bool, np.bool_)) or not isinstance(dim, (int, np.integer)) or dim < 1:
        raise ValueError(f"dim must be a positive integer, got {dim!r}")
    vec = 4 if dim % 4 == 0 else 1
    return vec, -(-int(dim) // (WARP * vec))


def compile_options(variant, threads_per_block=THREADS_PER_BLOCK, *, path=PATH_SKIPGRAM,
                    targets=6, min_blocks=0, atomic=True):
    """NVRTC options of one kernel module: the (VEC, R) variant, the training
    path (PATH_*), the target slots (>= 1 + sample_size), the block size and
    the register-allocation hint of ``__launch_bounds__`` (min_blocks per
    multiprocessor, 0 for none), and whether rows change by atomic adds."""
    vec, r = variant
    if path not in (PATH_SKIPGRAM, PATH_BATCHED, PATH_CBOW):
        raise ValueError(f"path must be 0, 1 or 2, got {path!r}")
    if not 1 <= targets <= MAX_SAMPLE_SIZE + 1:
        raise ValueError(f"targets must lie in [1, {MAX_SAMPLE_SIZE + 1}], got {targets!r}")
    return (
        "-std=c++17",
        f"-DSKW2V_VEC={vec}",
        f"-DSKW2V_R={r}",
        f"-DSKW2V_PATH={int(path)}",
        f"-DSKW2V_T={int(targets)}",
        f"-DSKW2V_THREADS={threads_per_block}",
        f"-DSKW2V_MIN_BLOCKS={int(min_blocks)}",
        f"-DSKW2V_ATOMIC={int(bool(atomic))}",
    )


def pack_alias_table(threshold, alias):
    """One uint64 per column: the acceptance threshold in the low 32 bits and
    the alias word in the high 32 (one load per draw on the device)."""
    threshold = np.asarray(threshold, dtype=np.uint32).astype(np.uint64)
    alias = np.asarray(alias, dtype=np.int64)
    if alias.shape != threshold.shape or (alias.size and alias.min() < 0):
        raise ValueError("alias table: need non-negative alias words, one per threshold")
    return threshold | (alias.astype(np.uint64) << np.uint64(32))


def occupancy_blocks(num_regs, threads_per_block, *, local_bytes=0, regs_per_sm=65536,
                     max_threads_per_sm=2048, max_blocks_per_sm=32, reg_unit=256):
    """Blocks of one kernel resident per multiprocessor, from its register
    count (the driver's figure is preferred; this is the fallback, and what
    the tests check the launch arithmetic against). Registers are allocated
    per warp in units of reg_unit."""
    if num_regs < 1 or threads_per_block < WARP:
        raise ValueError(f"need num_regs >= 1 and threads_per_block >= {WARP}")
    warps = -(-threads_per_block // WARP)
    per_warp = -(-num_regs * WARP // reg_unit) * reg_unit
    by_regs = regs_per_sm // (per_warp * warps)
    by_threads = max_threads_per_sm // (warps * WARP)
    return max(0, min(by_regs, by_threads, max_blocks_per_sm))


def batch_bounds(start, end, batch_tokens):
    """Corpus positions [start, end) cut into launches of batch_tokens positions."""
    if batch_tokens < 1:
        raise ValueError(f"batch_tokens must be >= 1, got {batch_tokens!r}")
    if not 0 <= start <= end:
        raise ValueError(f"need 0 <= start <= end, got start={start}, end={end}")
    bounds = np.arange(start, end, batch_tokens, dtype=np.int64)
    return np.append(bounds, np.int64(end)) if end > start else np.array([start], np.int64)


def launch_geometry(n_centres, max_blocks, threads_per_block=THREADS_PER_BLOCK,
                    pieces_per_warp=PIECES_PER_WARP, max_piece=MAX_PIECE):
    """(blocks, piece) for one launch over n_centres centre words.

    Work items of ``piece`` consecutive centres, about ``pieces_per_warp``
    per warp of the largest grid, taken from the launch's atomic counter;
    the grid shrinks for small launches.
    """
    if threads_per_block < WARP or threads_per_block % WARP:
        raise ValueError(f"threads_per_block must be a multiple of {WARP}, got {threads_per_block}")
    if max_blocks < 1 or n_centres < 1:
        raise ValueError(f"need max_blocks >= 1 and n_centres >= 1, got {max_blocks}, {n_centres}")
    warps_per_block = threads_per_block // WARP
    max_warps = max_blocks * warps_per_block
    piece = max(1, min(max_piece, -(-n_centres // (max_warps * pieces_per_warp))))
    n_pieces = -(-n_centres // piece)
    blocks = max(1, min(max_blocks, -(-n_pieces // warps_per_block)))
    return blocks, piece


def device_bytes(n_vocab, dim, n_tokens, n_sentences, subsampling):
    """Device memory one fit needs: weights, tables, corpus and epoch scratch."""
    # per word: keep_prob, alias threshold and index, log(k q), NCE bias
    need = 2 * n_vocab * dim * 4 + n_vocab * 20 + n_tokens * 4 + (n_sentences + 1) * 16
    if subsampling:  # flags, kept positions, the scan inside flatnonzero
        need += n_tokens * (1 + 8 + 8) + (n_sentences + 1) * 8
    return need


# ----------------------------------------------------------------- backend --
class CupyBackend:
    """CuPy arrays and NVRTC-compiled kernels on the current device."""

    _modules: ClassVar[dict] = {}  # (device id, options) -> RawModule, shared by every fit

    def __init__(self):
        import cupy

        self.xp = cupy
        self._cupy = cupy
        dev = cupy.cuda.Device()
        self.device_id = dev.id
        props = cupy.cuda.runtime.getDeviceProperties(dev.id)
        self.multiprocessors = int(props["multiProcessorCount"])
        self.max_blocks = self.multiprocessors * BLOCKS_PER_SM

    def is_device_array(self, a):
        return isinstance(a, self._cupy.ndarray)

    def to_device(self, a, dtype):
        return self._cupy.array(a, dtype=dtype, order="C", copy=True)

    def to_host(self, a):
        return self._cupy.asnumpy(a)

    def pointer(self, a):
        return int(a.data.ptr)

    def free_bytes(self):
        # Free on the device plus what CuPy's pool holds for reuse.
        free, _total = self._cupy.cuda.Device(self.device_id).mem_info
        return int(free) + int(self._cupy.get_default_memory_pool().free_bytes())

    def synchronize(self):
        self._cupy.cuda.get_current_stream().synchronize()

    def release(self):
        """Return the pool's unused blocks to the device (after the arrays are dropped)."""
        self.synchronize()
        self._cupy.get_default_memory_pool().free_all_blocks()

    def _kernel(self, options, name):
        key = (self.device_id, tuple(options))
        module = self._modules.get(key)
        if module is None:
            module = self._cupy.RawModule(code=kernel_source(), options=tuple(options))
            self._modules[key] = module
        return module.get_function(name)

    def function(self, options, name):
        kernel = self._kernel(options, name)

        def launch(grid, block, args):
            kernel((int(grid),), (int(block),), args)

        return launch

    def kernel_attributes(self, options, name):
        """Registers and local memory per thread of a compiled kernel."""
        a = self._kernel(options, name).attributes
        return {"num_regs": int(a["num_regs"]), "local_bytes": int(a["local_size_bytes"])}

    def blocks_per_sm(self, options, name, threads_per_block):
        """Resident blocks per multiprocessor, as the CUDA driver computes it."""
        kernel = self._kernel(options, name)
        ptr = getattr(getattr(kernel, "kernel", kernel), "ptr", None)
        try:
            return int(self._cupy.cuda.driver.occupancyMaxActiveBlocksPerMultiprocessor(
                ptr, int(threads_per_block), 0))
        except Exception:  # an older CuPy: estimate from the register count
            return occupancy_blocks(self.kernel_attributes(options, name)["num_regs"],
                                    threads_per_block)


# ----------------------------------------------------------------- trainer --
class GpuTrainer:
    """Train one model on the GPU, epoch by epoch, with the CPU loop's contract.

    Parameters
    ----------
    plan : skw2v._training.TrainingPlan
        Corpus, tables and hyper-parameters (the CPU chunk layout is unused).
    w_in, w_out : ndarray of float32, shape (V, dim)
        Initial vectors, uploaded once. Device (CuPy) arrays that are already
        float32 and C-contiguous are trained in place.
    output_bias : ndarray of float32, shape (V,), optional
        NCE only: the learned output bias added to each output word's logit,
        uploaded once and trained with the vectors (as the CPU kernel's
        ``output_bias``); None trains NCE without a bias.
    batch_window : bool, default=False
        Skip-gram only: the window-batched update (one set of negatives per
        centre word, every score from the output rows at the start of the
        centre's step, each input step also seeing the earlier contexts'
        output steps), the semantics of the CPU kernel's ``batch_window``.
        Ignored for CBOW.
    frozen_rows : ndarray of uint8, shape (V,), optional
        Non-zero: that input row is never written (``freeze_init_vectors``),
        as the CPU kernel's ``frozen_rows``; None locks nothing.
    batch_tokens : int
        Corpus positions per kernel launch.
    backend : object, optional
        Array/kernel backend; CuPy on the current device by default.
    max_blocks : int, optional
        Grid size cap; by default as many blocks as are resident at once
        (the kernel's occupancy times the multiprocessors).
    threads_per_block : int
        Block size (a multiple of 32, at most 1024).
    min_blocks_per_sm : int, optional
        ``__launch_bounds__`` hint: the register allocator keeps this many
        blocks resident per multiprocessor (0: no hint). Default: 2 for
        d <= 128 (at most 128 registers, no spills), else none.
    atomic : bool, default=True
        Rows change by atomic adds (False: plain read-add-write, hogwild;
        kept for measuring what the atomics cost).
    """

    def __init__(self, plan, w_in, w_out, *, output_bias=None, batch_window=False,
                 batch_tokens=BATCH_TOKENS, backend=None, max_blocks=None,
                 threads_per_block=THREADS_PER_BLOCK, min_blocks_per_sm=None, atomic=True,
                 frozen_rows=None):
        if not isinstance(batch_tokens, (int, np.integer)) or batch_tokens < 1:
            raise ValueError(f"batch_tokens must be a positive integer, got {batch_tokens!r}")
        if (not isinstance(threads_per_block, (int, np.integer)) or threads_per_block < WARP
                or threads_per_block % WARP or threads_per_block > 1024):
            raise ValueError(
                f"threads_per_block must be a multiple of {WARP} in [32, 1024], "
                f"got {threads_per_block!r}"
            )
        if not isinstance(batch_window, (bool, np.bool_)):
            raise TypeError(f"batch_window must be a bool, got {batch_window!r}")
        if min_blocks_per_sm is not None and (
                not isinstance(min_blocks_per_sm, (int, np.integer))
                or isinstance(min_blocks_per_sm, bool) or not 0 <= min_blocks_per_sm <= 32):
            raise ValueError(
                f"min_blocks_per_sm must be an integer in [0, 32], got {min_blocks_per_sm!r}")
        if max_blocks is not None and (not isinstance(max_blocks, (int, np.integer))
                                       or max_blocks < 1):
            raise ValueError(f"max_blocks must be >= 1, got {max_blocks!r}")
        b = CupyBackend() if backend is None else backend
        self._b = b
        xp = b.xp
        self.batch_tokens = int(batch_tokens)
        self.threads_per_block = int(threads_per_block)

        sub_indptr = getattr(plan, "subword_indptr", None)
        shape = _check_weights(w_in, w_out, subwords=sub_indptr is not None)
        n_vocab, dim = shape
        self.n_vocab, self.dim = n_vocab, dim
        if n_vocab > MAX_VOCAB:
            raise ValueError(f"at most {MAX_VOCAB} words are supported, got {n_vocab}")
        tokens = np.asarray(plan.tokens)
        offsets = np.asarray(plan.offsets)
        self.n_tokens = len(tokens)
        self.n_sentences = len(offsets) - 1
        _check_plan(plan, tokens, offsets, n_vocab)
        self.architecture = _KERNEL_ARCHITECTURE[plan.architecture]
        self.batch_window = int(bool(batch_window) and self.architecture == 0)
        self.path = (PATH_CBOW if self.architecture == 1
                     else PATH_BATCHED if self.batch_window else PATH_SKIPGRAM)
        self.use_nce = _KERNEL_NCE[plan.loss]
        self.use_bias = int(output_bias is not None)
        if self.use_bias:
            _check_bias(output_bias, n_vocab, self.use_nce)
        self.window = int(plan.window)
        self.shrink = int(bool(plan.shrink_windows))
        self.sample_size = int(plan.sample_size)
        keep_prob = np.asarray(plan.keep_prob, dtype=np.float32)
        self.subsampling = bool(np.any(keep_prob < 1.0))

        free = getattr(b, "free_bytes", lambda: None)()
        need = device_bytes(n_vocab, dim, self.n_tokens, self.n_sentences, self.subsampling)
        if sub_indptr is not None:  # the n-gram rows and the subword table
            need += (w_in.shape[0] - n_vocab) * dim * 4 + len(sub_indptr) * 8 + len(
                plan.subword_ids) * 4
        if free is not None and need > free:
            raise ValueError(
                f"training on the GPU needs about {need:,} bytes of device memory "
                f"({n_vocab:,} words x {dim} dims x 2 matrices, {self.n_tokens:,} tokens) "
                f"but {free:,} are free; lower vector_size, raise min_count, set "
                "max_vocab_size or use device='cpu'"
            )

        self.use_frozen = int(frozen_rows is not None)
        if self.use_frozen and np.shape(frozen_rows) != (n_vocab,):
            raise ValueError(f"frozen_rows must have one entry per row of w_in ({n_vocab}), "
                             f"got shape {np.shape(frozen_rows)}")
        # A one-byte placeholder keeps the kernel's argument a valid array.
        self.frozen = b.to_device(frozen_rows if self.use_frozen else np.zeros(1), np.uint8)
        self.use_subwords = int(sub_indptr is not None)
        if self.use_subwords and self.path == PATH_BATCHED:
            raise ValueError("subwords are not implemented by the window-batched GPU update; "
                             "use batch_window=False")
        # subwords: the CSR table of w_in's rows (one-element placeholders when off)
        self.sub_indptr = b.to_device(sub_indptr if self.use_subwords else np.zeros(1),
                                      np.int64)
        self.sub_ids = b.to_device(plan.subword_ids if self.use_subwords else np.zeros(1),
                                   np.int32)
        if self.use_frozen and self.use_subwords:
            raise ValueError("frozen rows with subwords are implemented by the CPU kernel only; "
                             "use device='cpu' or freeze_init_vectors=False")
        self.w_in = _device_weights(b, w_in)
        self.w_out = _device_weights(b, w_out)
        # A one-float placeholder keeps the kernel's argument a valid array.
        self.output_bias = (_device_weights(b, output_bias) if self.use_bias
                            else xp.zeros(1, dtype=np.float32))
        self.tokens = b.to_device(tokens, np.int32)
        self.offsets = b.to_device(offsets, np.int64)
        self.keep_prob = b.to_device(keep_prob, np.float32)
        self.alias_table = b.to_device(pack_alias_table(plan.alias_threshold, plan.alias_index),
                                       np.uint64)
        self.noise_log_kq = b.to_device(plan.noise_log_kq, np.float32)
        self._no_kept_pos = xp.zeros(1, dtype=np.int64)  # placeholder when nothing is dropped

        vec, r = kernel_variant(dim)
        if vec == 4 and (b.pointer(self.w_in) % 16 or b.pointer(self.w_out) % 16):
            vec, r = 1, -(-dim // WARP)  # float4 loads need 16-byte aligned rows
        self.variant = (vec, r)
        if min_blocks_per_sm is None:
            min_blocks_per_sm = default_min_blocks(self.variant)
        self.options = compile_options(self.variant, self.threads_per_block, path=self.path,
                                       targets=self.sample_size + 1,
                                       min_blocks=int(min_blocks_per_sm), atomic=atomic)
        self._train = b.function(self.options, "skw2v_train")
        self._flags_fn = b.function(self.options, "skw2v_keep_flags")
        source = kernel_source()
        self._train_sig = kernel_signature(source, "skw2v_train")
        self._flags_sig = kernel_signature(source, "skw2v_keep_flags")
        self.blocks_per_sm = None  # resident blocks per SM, when the grid is sized by them
        if max_blocks is None:
            self.blocks_per_sm = _resident_blocks(b, self.options, self.threads_per_block)
            max_blocks = (self.blocks_per_sm * b.multiprocessors if self.blocks_per_sm
                          else b.max_blocks)
        self.max_blocks = int(max_blocks)
        warps = self.max_blocks * (self.threads_per_block // WARP)
        self._stats = xp.zeros((warps, 3), dtype=np.float64)
        self._flags = xp.zeros(self.n_tokens, dtype=np.uint8) if self.subsampling else None
        self._counters = None

    # ----------------------------------------------------------------- epoch
    def run_epoch(self, *, lr_start, lr_end, progress_offset, progress_total, seed,
                  n_threads=None, progress=None, span=None):
        """Train one epoch in place on the device; returns an EpochResult.

        Same arguments as ``skw2v._training.run_epoch`` (``n_threads`` is
        ignored). ``progress(n_positions, mean_loss)`` is called after every
        launch. ``span=(start, end)`` trains only the centre words at corpus
        positions [start, end) (windows still reach into the whole sentence),
        like the CPU kernel's chunk bounds.
        """
        t0 = time.perf_counter()
        b, xp = self._b, self._b.xp
        start, end = (0, self.n_tokens) if span is None else (int(span[0]), int(span[1]))
        if not 0 <= start <= end <= self.n_tokens:
            raise ValueError(f"span must satisfy 0 <= start <= end <= {self.n_tokens}, got {span!r}")
        if progress_total < 1:
            raise ValueError(f"progress_total must be >= 1, got {progress_total!r}")
        if end == start:
            return EpochResult(0.0, 0.0, 0.0, time.perf_counter() - t0)
        subsample_key, centre_key = epoch_keys(seed)

        positions = batch_bounds(start, end, self.batch_tokens)
        if self.subsampling:
            self._launch_flags(subsample_key)
            kept_pos = xp.flatnonzero(self._flags).astype(np.int64, copy=False)
            sent_off = xp.searchsorted(kept_pos, self.offsets).astype(np.int64, copy=False)
            kept_bounds = b.to_host(xp.searchsorted(kept_pos, b.to_device(positions, np.int64)))
            kept_bounds = np.asarray(kept_bounds, dtype=np.int64)
            identity = 0
            if kept_pos.size == 0:
                kept_pos = self._no_kept_pos
        else:
            kept_pos, sent_off, kept_bounds, identity = self._no_kept_pos, self.offsets, positions, 1

        self._stats.fill(0)
        # One work counter per launch, zeroed once per epoch.
        n_launches = len(positions) - 1
        if self._counters is None or len(self._counters) < n_launches:
            self._counters = xp.zeros(n_launches, dtype=np.uint64)
        else:
            self._counters.fill(0)
        common = dict(
            tokens=self.tokens, kept_pos=kept_pos, identity=identity, sent_off=sent_off,
            n_sentences=self.n_sentences, alias_table=self.alias_table,
            n_vocab=self.n_vocab, log_kq=self.noise_log_kq,
            use_nce=self.use_nce, bias=self.output_bias, use_bias=self.use_bias,
            w_in=self.w_in, w_out=self.w_out, frozen=self.frozen, use_frozen=self.use_frozen,
            dim=self.dim, architecture=self.architecture,
            batch_window=self.batch_window, window=self.window, shrink=self.shrink,
            sample_size=self.sample_size, lr_start=float(lr_start), lr_end=float(lr_end),
            progress_offset=int(progress_offset), progress_total=int(progress_total),
            rng_key=centre_key, stats=self._stats, sub_indptr=self.sub_indptr,
            sub_ids=self.sub_ids, use_subwords=self.use_subwords,
        )
        try:
            for i in range(len(positions) - 1):
                k_begin, k_end = int(kept_bounds[i]), int(kept_bounds[i + 1])
                if k_end > k_begin:
                    blocks, piece = launch_geometry(k_end - k_begin, self.max_blocks,
                                                    self.threads_per_block)
                    args = pack_args("skw2v_train", self._train_sig,
                                     dict(common, k_begin=k_begin, k_end=k_end, piece=piece,
                                          work_counter=self._counters[i:i + 1]))
                    self._train(blocks, self.threads_per_block, args)
                b.synchronize()
                if progress is not None:
                    loss, positives, _ = self._totals()
                    progress(int(positions[i + 1] - positions[i]),
                             loss / positives if positives else float("nan"))
        except KeyboardInterrupt:
            b.synchronize()  # the launch in flight finishes; the weights stay consistent
            raise
        loss, positives, words = self._totals()
        return EpochResult(loss, positives, words, time.perf_counter() - t0)

    def _launch_flags(self, subsample_key):
        n = self.n_tokens
        blocks = max(1, min(-(-n // self.threads_per_block), 64 * self.max_blocks))
        args = pack_args("skw2v_keep_flags", self._flags_sig, dict(
            tokens=self.tokens, keep_prob=self.keep_prob, n_tokens=n,
            subsample_key=subsample_key, flags=self._flags,
        ))
        self._flags_fn(blocks, self.threads_per_block, args)

    def _totals(self):
        total = np.asarray(self._b.to_host(self._stats.sum(axis=0)), dtype=np.float64)
        return float(total[0]), float(total[1]), float(total[2])

    # --------------------------------------------------------------- results
    def all_finite(self):
        """True when no vector holds a NaN or an infinity (checked on the device)."""
        xp = self._b.xp
        return all(bool(xp.isfinite(a).all().item())
                   for a in (self.w_in, self.w_out, self.output_bias))

    def download(self, w_in=None, w_out=None, output_bias=None):
        """The trained (w_in, w_out) as NumPy float32 arrays.

        Given arrays of the right shape are filled in place and returned;
        otherwise new arrays are returned. ``output_bias``, a NumPy array of
        shape (V,), is filled in place with the trained NCE bias (only when
        the trainer was given one).
        """
        if output_bias is not None:
            if not self.use_bias:
                raise ValueError("output_bias: this trainer trains no output bias")
            bias = np.asarray(self._b.to_host(self.output_bias), dtype=np.float32)
            if not isinstance(output_bias, np.ndarray) or output_bias.shape != bias.shape:
                raise ValueError(f"output_bias must be a NumPy array of shape {bias.shape}")
            np.copyto(output_bias, bias)
        result = []
        for dev, host, name in ((self.w_in, w_in, "w_in"), (self.w_out, w_out, "w_out")):
            arr = np.ascontiguousarray(self._b.to_host(dev), dtype=np.float32)
            if host is None:
                result.append(arr)
                continue
            if not isinstance(host, np.ndarray) or host.shape != arr.shape:
                raise ValueError(f"{name} must be a NumPy array of shape {arr.shape}")
            np.copyto(host, arr)
            result.append(host)
        return tuple(result)

    DEVICE_ARRAYS = ("w_in", "w_out", "output_bias", "tokens", "offsets", "keep_prob",
                     "alias_table", "noise_log_kq", "_no_kept_pos", "_stats", "_flags",
                     "_counters", "frozen", "sub_indptr", "sub_ids")

    def close(self):
        """Drop the device arrays and hand the pool's free blocks back to the
        device (else CuPy keeps them, several GB after a large fit)."""
        if getattr(self, "_closed", False):
            return
        for name in self.DEVICE_ARRAYS:
            setattr(self, name, None)
        self._closed = True
        release = getattr(self._b, "release", None)
        if release is not None:
            release()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _check_weights(w_in, w_out, subwords=False):
    for name, w in (("w_in", w_in), ("w_out", w_out)):
        if getattr(w, "ndim", None) != 2:
            raise ValueError(f"{name} must be a 2-D array (V, dim), got {type(w).__name__} "
                             f"with shape {getattr(w, 'shape', None)}")
        if w.dtype != np.float32:
            raise TypeError(f"{name} must be float32, got {w.dtype}")
    if subwords:  # w_in: V word rows, then the n-gram rows
        if w_in.shape[1] != w_out.shape[1] or w_in.shape[0] < w_out.shape[0]:
            raise ValueError(f"with subwords w_in must have shape (V + bucket, dim) for w_out "
                             f"of shape (V, dim), got {w_in.shape} and {w_out.shape}")
        n_vocab, dim = (int(s) for s in w_out.shape)
        if n_vocab < 1 or dim < 1:
            raise ValueError(f"the weight matrices are empty: shape {w_out.shape}")
        return n_vocab, dim
    if tuple(w_in.shape) != tuple(w_out.shape):
        raise ValueError(f"w_in and w_out must have the same shape, got {w_in.shape} and {w_out.shape}")
    n_vocab, dim = (int(s) for s in w_in.shape)
    if n_vocab < 1 or dim < 1:
        raise ValueError(f"the weight matrices are empty: shape {w_in.shape}")
    return n_vocab, dim


def _check_bias(output_bias, n_vocab, use_nce):
    if not use_nce:
        raise ValueError("output_bias is only trained with the NCE loss")
    if getattr(output_bias, "shape", None) != (n_vocab,):
        raise ValueError(f"output_bias must have shape ({n_vocab},), got "
                         f"{getattr(output_bias, 'shape', None)}")
    if output_bias.dtype != np.float32:
        raise TypeError(f"output_bias must be float32, got {output_bias.dtype}")


def _check_plan(plan, tokens, offsets, n_vocab):
    if tokens.ndim != 1 or offsets.ndim != 1 or len(offsets) < 1:
        raise ValueError("plan.tokens and plan.offsets must be 1-D, offsets non-empty")
    if offsets[0] != 0 or offsets[-1] != len(tokens) or np.any(np.diff(offsets) < 0):
        raise ValueError("plan.offsets must rise from 0 to the number of tokens")
    if len(tokens) and (tokens.min() < 0 or tokens.max() >= n_vocab):
        raise ValueError(f"token ids must lie in [0, {n_vocab})")
    for name in ("keep_prob", "alias_threshold", "alias_index", "noise_log_kq"):
        if len(getattr(plan, name)) != n_vocab:
            raise ValueError(f"plan.{name} must have one entry per word ({n_vocab})")
    alias = np.asarray(plan.alias_index)
    if alias.min() < 0 or alias.max() >= n_vocab:
        raise ValueError(f"plan.alias_index entries must lie in [0, {n_vocab})")
    if plan.architecture not in _KERNEL_ARCHITECTURE or plan.loss not in _KERNEL_NCE:
        raise ValueError(f"unknown architecture {plan.architecture!r} or loss {plan.loss!r}")
    if plan.window < 1 or plan.sample_size < 0:
        raise ValueError(f"need window >= 1 and sample_size >= 0, got {plan.window}, "
                         f"{plan.sample_size}")
    if plan.window > 2**31 - 1:
        raise ValueError(f"window must be at most {2**31 - 1} on the GPU, got {plan.window}")
    if plan.sample_size > MAX_SAMPLE_SIZE:
        raise ValueError(f"sample_size must be at most {MAX_SAMPLE_SIZE} on the GPU (its "
                         f"targets are kept in registers), got {plan.sample_size}")


def _resident_blocks(backend, options, threads_per_block):
    """Blocks per multiprocessor the train kernel can keep resident, or 0 when
    the backend cannot tell (then its max_blocks is the grid cap)."""
    query = getattr(backend, "blocks_per_sm", None)
    if query is None or getattr(backend, "multiprocessors", None) is None:
        return 0
    return max(1, int(query(options, "skw2v_train", threads_per_block)))


def _device_weights(backend, w):
    # Device arrays that need no conversion are trained in place.
    if backend.is_device_array(w) and w.flags.c_contiguous:
        return w
    return backend.to_device(w, np.float32)
