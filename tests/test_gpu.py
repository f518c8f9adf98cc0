"""GPU training path: kernel sources, device probe, host driver, kernels vs the CPU.

Three layers, so that most of it runs on a machine without a GPU:

* everywhere: every ``.cu`` file compiles with ``nvcc --ptx`` (when nvcc is on
  PATH) and with NVRTC itself, as CuPy compiles it (when libnvrtc is found,
  e.g. from the nvidia-cuda-nvrtc wheel), the probe explains why the GPU is
  off, the host driver's pure functions (launch geometry, batching, argument
  packing, hashing);
* everywhere with a C++ compiler: the real ``sgns.cu`` compiled as C++ with a
  small shim that runs each warp as 32 threads in lock step (shuffles
  exchange through a barrier, a lane that skips a shuffle is reported as
  divergence). The host driver runs unchanged on NumPy arrays against it, so
  the kernels' index arithmetic, windows, subsampling, learning rate and
  updates are checked against the CPU kernel here;
* ``@pytest.mark.gpu`` (skipped without CuPy and a device): the same checks
  on the GPU, plus sizes over several grids, rows beyond 2**31 elements,
  quality parity with the CPU and the estimator's NumPy attributes.
"""

import ctypes
import ctypes.util
import logging
import os
import pickle
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from skw2v import _core, _cuda
from skw2v._corpus import EncodedCorpus
from skw2v._cuda import _train as gt
from skw2v._plan import make_plan
from skw2v._training import run_epoch

from _cuda_emulator import EmulatedBackend, have_compiler

ROOT = Path(__file__).resolve().parents[1]
# SKW2V_DATA_DIR: where the GPU machine's copy travels (tools/gpu_acceptance.sh)
DATA = Path(os.environ.get("SKW2V_DATA_DIR", ROOT / ".." / "shared" / "data"))
CUDA_DIR = Path(_cuda.__file__).resolve().parent
CU_FILES = sorted(CUDA_DIR.glob("*.cu"))


def _gpu_ok():
    return _cuda.gpu_available()


requires_gpu = [
    pytest.mark.gpu,
    pytest.mark.skipif("not _gpu_ok()", reason="needs CuPy and a CUDA device"),
]


@pytest.fixture
def fresh_probe(monkeypatch):
    """Re-run the device probe under this test's environment, and after it."""
    _cuda._reset_probe()
    yield monkeypatch
    monkeypatch.undo()
    _cuda._reset_probe()


# =====================================================================
# Kernel sources
# =====================================================================
def test_there_are_cuda_sources():
    assert [p.name for p in CU_FILES] == ["sgns.cu"]


@pytest.mark.parametrize("path", CU_FILES, ids=lambda p: p.name)
def test_cuda_source_includes_no_header(path):
    # NVRTC compiles on the user's machine without the host C/C++ headers.
    lines = [ln.strip() for ln in path.read_text().splitlines()]
    assert not [ln for ln in lines if ln.startswith("#include")]


@pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc not on PATH")
@pytest.mark.parametrize("path", CU_FILES, ids=lambda p: p.name)
@pytest.mark.parametrize(
    "arch, variant",
    [
        (None, (4, 1)),       # nvcc's default target
        ("sm_90", (4, 1)),    # H100, d = 100
        ("sm_90", (1, 3)),    # scalar loads, 3 per lane (d = 65..96, odd)
        ("sm_75", (4, 8)),    # oldest target of CUDA 13, d = 1024
    ],
    ids=["default", "sm_90", "sm_90-vec1-r3", "sm_75-vec4-r8"],
)
def test_cuda_source_compiles_with_nvcc(path, arch, variant, tmp_path):
    # The same source NVRTC gets, with the options the driver passes.
    cmd = ["nvcc", "--ptx", "-Werror", "all-warnings", *gt.compile_options(variant),
           *([f"-arch={arch}"] if arch else []), "-o", str(tmp_path / "out.ptx"), str(path)]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    ptx = (tmp_path / "out.ptx").read_text()
    for kernel in ("skw2v_train", "skw2v_keep_flags"):
        assert f".entry {kernel}(" in ptx


def _nvrtc_candidates():
    """libnvrtc from the system and from the nvidia-cuda-nvrtc wheel."""
    candidates = []
    found = ctypes.util.find_library("nvrtc")
    if found:
        candidates.append(found)
    try:
        import nvidia

        for base in nvidia.__path__:
            candidates += sorted(str(p) for p in Path(base).glob("**/libnvrtc.so*"))
    except ImportError:
        pass
    return [c for c in candidates if "builtins" not in Path(c).name]


def _load_nvrtc(candidates=None):
    """(libnvrtc, None) when it can compile, else (None, why).

    libnvrtc loads libnvrtc-builtins at its first compile, by name: the
    wheel's copy sits beside it but off the loader's path, so it is loaded
    first from there (RTLD_GLOBAL); without it NVRTC fails every compile, a
    broken installation rather than a broken kernel, and the test skips.
    """
    candidates = _nvrtc_candidates() if candidates is None else candidates
    reason = "libnvrtc not found (pip install nvidia-cuda-nvrtc)"
    for path in candidates:
        folder = Path(path).parent
        if folder != Path("."):  # a path (the wheel's), not a bare soname
            builtins = sorted(folder.glob("libnvrtc-builtins.so*"))
            if not builtins:
                reason = f"libnvrtc-builtins not found beside {path}"
                continue
            try:
                ctypes.CDLL(str(builtins[0]), mode=ctypes.RTLD_GLOBAL)
            except OSError as exc:
                reason = f"cannot load {builtins[0]}: {exc}"
                continue
        try:
            lib = ctypes.CDLL(path)
        except OSError as exc:
            reason = f"cannot load {path}: {exc}"
            continue
        ok, log, _ = _nvrtc_compile(lib, 'extern "C" __global__ void k() {}', [])
        if not ok:
            reason = f"NVRTC at {path} cannot compile an empty kernel: {log.strip()!r}"
            continue
        return lib, None
    return None, reason


def _nvrtc_compile(lib, source, options):
    """Compile as cupy.RawModule does (NVRTC, no headers); return (ok, log, ptx)."""
    prog = ctypes.c_void_p()
    assert lib.nvrtcCreateProgram(ctypes.byref(prog), source.encode(), b"sgns.cu", 0,
                                  None, None) == 0
    try:
        opts = (ctypes.c_char_p * len(options))(*[o.encode() for o in options])
        status = lib.nvrtcCompileProgram(prog, len(options), opts)
        size = ctypes.c_size_t()
        lib.nvrtcGetProgramLogSize(prog, ctypes.byref(size))
        log = ctypes.create_string_buffer(size.value)
        lib.nvrtcGetProgramLog(prog, log)
        ptx = b""
        if status == 0:
            lib.nvrtcGetPTXSize(prog, ctypes.byref(size))
            buf = ctypes.create_string_buffer(size.value)
            lib.nvrtcGetPTX(prog, buf)
            ptx = buf.value
        return status == 0, log.value.decode(errors="replace"), ptx.decode(errors="replace")
    finally:
        lib.nvrtcDestroyProgram(ctypes.byref(prog))


_NVRTC, _NO_NVRTC = _load_nvrtc()


def test_nvrtc_loader_skips_without_builtins(tmp_path):
    # The wheel's layout with libnvrtc-builtins missing: a reason, not a failure.
    lib = tmp_path / "libnvrtc.so.13"
    lib.write_bytes(b"not a library")
    assert _load_nvrtc([str(lib)]) == (None, f"libnvrtc-builtins not found beside {lib}")
    (tmp_path / "libnvrtc-builtins.so.13.0").write_bytes(b"not a library either")
    lib_, reason = _load_nvrtc([str(lib)])
    assert lib_ is None and reason.startswith("cannot load")
    assert _load_nvrtc([])[1].startswith("libnvrtc not found")


@pytest.mark.skipif(_NVRTC is None, reason=f"{_NO_NVRTC}")
@pytest.mark.parametrize("arch, variant, path", [
    ("compute_90", (4, 1), gt.PATH_SKIPGRAM), ("compute_90", (4, 1), gt.PATH_BATCHED),
    ("compute_80", (4, 1), gt.PATH_CBOW), ("compute_75", (1, 2), gt.PATH_BATCHED),
])
def test_cuda_source_compiles_with_nvrtc(arch, variant, path):
    # Exactly what the driver hands cupy.RawModule (which adds the -arch).
    options = [*gt.compile_options(variant, path=path), f"-arch={arch}"]
    ok, log, ptx = _nvrtc_compile(_NVRTC, gt.kernel_source(), options)
    assert ok, log
    for kernel in ("skw2v_train", "skw2v_keep_flags"):
        assert f".entry {kernel}(" in ptx
    # float4 atomics (of float4 rows) exactly where the device has them
    vector = re.search(r"(red|atom)\.global[.\w]*\.v4\.f32", ptx) is not None
    assert vector == (arch == "compute_90" and variant[0] == 4)


def test_kernel_source_is_package_data():
    assert gt.kernel_source() == (CUDA_DIR / "sgns.cu").read_text(encoding="utf-8")
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    tool = config["tool"]["setuptools"]
    assert "skw2v._cuda" in tool["packages"]
    assert "_cuda/*.cu" in tool["package-data"]["skw2v"]


def test_kernel_signatures_parse():
    src = gt.kernel_source()
    flags = gt.kernel_signature(src, "skw2v_keep_flags")
    assert [(p.name, p.dtype, p.pointer) for p in flags] == [
        ("tokens", np.dtype(np.int32), True),
        ("keep_prob", np.dtype(np.float32), True),
        ("n_tokens", np.dtype(np.int64), False),
        ("subsample_key", np.dtype(np.uint64), False),
        ("flags", np.dtype(np.uint8), True),
    ]
    train = {p.name: p for p in gt.kernel_signature(src, "skw2v_train")}
    assert train["w_in"].dtype == np.float32 and train["w_in"].pointer and not train["w_in"].const
    assert train["kept_pos"].dtype == np.int64 and train["kept_pos"].const
    # threshold and alias word packed in one 8-byte entry (one load per draw)
    assert train["alias_table"].dtype == np.uint64 and train["alias_table"].const
    assert train["work_counter"].dtype == np.uint64 and not train["work_counter"].const
    assert train["rng_key"].dtype == np.uint64 and not train["rng_key"].pointer
    assert train["lr_start"].dtype == np.float64
    with pytest.raises(ValueError, match="not found"):
        gt.kernel_signature(src, "no_such_kernel")


# =====================================================================
# Probe and device resolution
# =====================================================================
def test_probe_disabled_by_environment(fresh_probe, caplog):
    fresh_probe.setenv("SKW2V_DISABLE_GPU", "1")
    assert _cuda.HAS_CUPY is False and _cuda.HAS_CUDA_DEVICE is False
    reason = _cuda.gpu_unavailable_reason()
    assert "SKW2V_DISABLE_GPU" in reason
    assert _cuda.gpu_info()["reason"] == reason
    with caplog.at_level(logging.WARNING, logger="skw2v"):
        assert _cuda.resolve_device("auto") == ("cpu", reason)
        assert _cuda.resolve_device("auto") == ("cpu", reason)
    logged = [r for r in caplog.records if r.name == "skw2v"]
    assert len(logged) == 1 and reason in logged[0].getMessage()  # once per process
    with pytest.raises(ValueError, match="device='cuda'.*SKW2V_DISABLE_GPU.*device='cpu'"):
        _cuda.resolve_device("cuda")
    assert _cuda.resolve_device("cpu") == ("cpu", None)


def test_probe_without_cupy(fresh_probe):
    fresh_probe.delenv("SKW2V_DISABLE_GPU", raising=False)
    fresh_probe.setitem(sys.modules, "cupy", None)  # import cupy -> ImportError
    assert _cuda.gpu_available() is False
    assert _cuda.HAS_CUPY is False
    assert "CuPy is not importable" in _cuda.gpu_unavailable_reason()
    device, reason = _cuda.resolve_device("auto")
    assert device == "cpu" and "CuPy" in reason
    with pytest.raises(ValueError, match="CuPy is not importable"):
        _cuda.resolve_device("cuda")


@pytest.mark.gpu
@pytest.mark.skipif("not _gpu_ok()", reason="needs CuPy and a CUDA device")
def test_probe_sees_the_gpu(fresh_probe):
    fresh_probe.delenv("SKW2V_DISABLE_GPU", raising=False)
    assert _cuda.HAS_CUPY and _cuda.HAS_CUDA_DEVICE
    assert _cuda.gpu_unavailable_reason() is None
    info = _cuda.gpu_info()
    assert info["multiprocessors"] > 0 and info["cupy_version"]
    assert _cuda.resolve_device("cuda") == ("cuda", None)
    assert _cuda.resolve_device("auto") == ("cuda", None)


@pytest.mark.parametrize("bad", ["gpu", "CUDA", None, 0, ("cuda",)])
def test_resolve_device_rejects_unknown(bad):
    with pytest.raises(ValueError, match=r"device must be one of .* got"):
        _cuda.resolve_device(bad)


def test_unknown_module_attribute():
    with pytest.raises(AttributeError):
        _cuda.NO_SUCH_THING  # noqa: B018


def test_importing_the_gpu_driver_does_not_import_cupy():
    code = ("import sys, skw2v, skw2v._cuda, skw2v._cuda._train; "
            "assert 'cupy' not in sys.modules, 'cupy imported eagerly'")
    proc = subprocess.run([sys.executable, "-c", code], check=False, cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


# =====================================================================
# Host driver: pure functions
# =====================================================================
@pytest.mark.parametrize(
    "dim, expected",
    [(1, (1, 1)), (4, (4, 1)), (100, (4, 1)), (128, (4, 1)), (132, (4, 2)), (300, (4, 3)),
     (33, (1, 2)), (50, (1, 2)), (1024, (4, 8)), (1025, (1, 33))],
)
def test_kernel_variant(dim, expected):
    vec, r = gt.kernel_variant(dim)
    assert (vec, r) == expected
    assert dim % vec == 0 and 32 * vec * r >= dim > 32 * vec * (r - 1)


@pytest.mark.parametrize("bad", [0, -3, 2.0, True, None])
def test_kernel_variant_rejects(bad):
    with pytest.raises(ValueError, match="dim"):
        gt.kernel_variant(bad)


def test_batch_bounds():
    np.testing.assert_array_equal(gt.batch_bounds(0, 10, 4), [0, 4, 8, 10])
    np.testing.assert_array_equal(gt.batch_bounds(3, 11, 4), [3, 7, 11])
    np.testing.assert_array_equal(gt.batch_bounds(5, 5, 4), [5])
    assert gt.batch_bounds(0, 10, 4).dtype == np.int64
    with pytest.raises(ValueError, match="batch_tokens"):
        gt.batch_bounds(0, 10, 0)
    with pytest.raises(ValueError, match="start"):
        gt.batch_bounds(5, 4, 2)


@pytest.mark.parametrize("n_centres", [1, 7, 255, 256, 10_000, 1_234_567, 50_000_000])
@pytest.mark.parametrize("max_blocks", [1, 3, 1056])
def test_launch_geometry_covers_the_work(n_centres, max_blocks):
    threads = 256
    blocks, piece = gt.launch_geometry(n_centres, max_blocks, threads)
    warps = blocks * threads // 32
    assert 1 <= blocks <= max_blocks and 1 <= piece <= gt.MAX_PIECE
    n_pieces = -(-n_centres // piece)
    # No idle grid beyond the work, and the grid-stride loop reaches every piece.
    assert (blocks - 1) * (threads // 32) < n_pieces or blocks == 1
    rounds = -(-n_pieces // warps)
    assert rounds * warps * piece >= n_centres
    if piece < gt.MAX_PIECE and blocks == max_blocks:
        assert rounds <= gt.PIECES_PER_WARP  # load balance: a few pieces per warp


def test_launch_geometry_rejects():
    with pytest.raises(ValueError, match="multiple of 32"):
        gt.launch_geometry(10, 4, 48)
    with pytest.raises(ValueError, match="n_centres"):
        gt.launch_geometry(0, 4, 64)


def test_pack_args_checks_types():
    sig = gt.kernel_signature(gt.kernel_source(), "skw2v_keep_flags")
    good = dict(tokens=np.zeros(3, np.int32), keep_prob=np.ones(2, np.float32), n_tokens=3,
                subsample_key=2**64 - 1, flags=np.zeros(3, np.uint8))
    args = gt.pack_args("k", sig, good)
    assert [type(a) for a in args] == [np.ndarray, np.ndarray, np.int64, np.uint64, np.ndarray]
    assert args[3] == np.uint64(2**64 - 1)
    with pytest.raises(TypeError, match="tokens must be a C-contiguous int32"):
        gt.pack_args("k", sig, dict(good, tokens=np.zeros(3, np.int64)))
    with pytest.raises(TypeError, match="C-contiguous"):
        gt.pack_args("k", sig, dict(good, flags=np.zeros(6, np.uint8)[::2]))
    with pytest.raises(ValueError, match="does not fit"):
        gt.pack_args("k", sig, dict(good, subsample_key=-1))
    with pytest.raises(TypeError, match="must be an integer"):
        gt.pack_args("k", sig, dict(good, n_tokens=3.0))
    with pytest.raises(TypeError, match="missing arguments \\['flags'\\]"):
        gt.pack_args("k", sig, {k: v for k, v in good.items() if k != "flags"})
    with pytest.raises(TypeError, match="unexpected arguments \\['extra'\\]"):
        gt.pack_args("k", sig, dict(good, extra=1))


def _keep_mask(tokens, keep_prob, seed):
    """NumPy mirror of the kernels' subsampling decision (uint64 arithmetic wraps)."""
    key, _ = gt.epoch_keys(seed)
    z = (np.uint64(key) + np.arange(len(tokens), dtype=np.uint64)) * np.uint64(0x9E3779B97F4A7C15)
    z = z + np.uint64(0x632BE59BD9B4E019)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    u = (z >> np.uint64(40)).astype(np.float32) * np.float32(1.0 / 16777216.0)
    p = keep_prob[tokens]
    return (p >= 1.0) | (u < p)


def _zipf_corpus(n_tokens, n_vocab, rng, max_len=30):
    p = 1.0 / np.arange(1, n_vocab + 1)
    tokens = rng.choice(n_vocab, size=n_tokens, p=p / p.sum()).astype(np.int32)
    cuts = np.sort(rng.choice(np.arange(1, n_tokens), size=n_tokens // (max_len // 2),
                              replace=False))
    offsets = np.concatenate([[0], cuts, [n_tokens]]).astype(np.int64)
    return tokens, offsets


def test_host_hash_mirrors_the_cpu_subsampling():
    # The GPU keeps exactly the positions the CPU keeps for one epoch seed:
    # the CPU's count of kept centre words equals the mirror's.
    rng = np.random.default_rng(0)
    tokens, offsets = _zipf_corpus(20_000, 300, rng)
    keep = rng.uniform(0.05, 1.0, 300).astype(np.float32)
    keep[:20] = 1.0
    plan = _plan(tokens, offsets, 300, keep_prob=keep, sample_size=1, window=1)
    for seed in (0, 12345, 2**62 + 7):
        w_in = np.zeros((300, 4), np.float32)
        res = run_epoch(plan, w_in, w_in.copy(), lr_start=0.0, lr_end=0.0, progress_offset=0,
                        progress_total=1, seed=seed, n_threads=1)
        mask = _keep_mask(tokens, keep, seed)
        assert res.words == mask.sum()
        assert 0.2 * len(tokens) < mask.sum() < 0.95 * len(tokens)


# =====================================================================
# Plans and the CPU reference
# =====================================================================
def _plan(tokens, offsets, n_vocab, *, keep_prob=None, noise=None, log_kq=None,
          architecture="skipgram", loss="negative_sampling", window=2, shrink=False,
          sample_size=3, chunk_tokens=10_000):
    tokens = np.asarray(tokens, dtype=np.int32)
    offsets = np.asarray(offsets, dtype=np.int64)
    q = np.full(n_vocab, 1.0 / n_vocab) if noise is None else np.asarray(noise, np.float64)
    if log_kq is None:
        with np.errstate(divide="ignore"):
            log_kq = np.log(max(sample_size, 1) * q)
    keep = np.ones(n_vocab, np.float32) if keep_prob is None else keep_prob
    return make_plan(
        EncodedCorpus(tokens, offsets, None), keep, q, noise_log_kq=log_kq,
        architecture=architecture, loss=loss, window=window, shrink_windows=shrink,
        sample_size=sample_size, chunk_tokens=chunk_tokens,
    )


def _sentences_plan(sentences, n_vocab, **kw):
    lengths = [len(s) for s in sentences]
    tokens = np.concatenate([np.asarray(s, np.int32) for s in sentences] + [np.zeros(0, np.int32)])
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    return _plan(tokens, offsets, n_vocab, **kw)


def _one_hot(n_vocab, word):
    q = np.zeros(n_vocab)
    q[word] = 1.0
    return q


def _cpu_span(plan, w_in, w_out, start, end, *, seed, lr_start, lr_end, progress_offset,
              progress_total, output_bias=None):
    """The CPU kernel on centre positions [start, end) only (one chunk, one thread)."""
    s = int(np.searchsorted(plan.offsets, start, side="right") - 1)
    stats = np.zeros((1, _core.N_STATS))
    _core.train_epoch(
        plan.tokens, plan.offsets, np.array([start, end], np.int64), np.array([s], np.int64),
        plan.keep_prob, plan.alias_threshold, plan.alias_index, plan.noise_log_kq, w_in, w_out,
        plan.architecture, plan.loss, plan.window, plan.shrink_windows, plan.sample_size,
        lr_start, lr_end, progress_offset, progress_total, seed, 1, stats,
        np.zeros(1, np.uint8), np.zeros(1, np.int32), False, output_bias,
    )
    return stats[0]


def _init(n_vocab, dim, rng):
    w_in = ((rng.random((n_vocab, dim), dtype=np.float32) - 0.5) / dim).astype(np.float32)
    w_out = ((rng.random((n_vocab, dim), dtype=np.float32) - 0.5) / dim).astype(np.float32)
    return w_in, w_out


# =====================================================================
# A CPU emulation of the CUDA kernels
# =====================================================================
# The emulator itself lives in tests/_cuda_emulator.py (the acceptance
# script's dry run uses it too).


@pytest.fixture(scope="session")
def emulator_dir(tmp_path_factory):
    if not have_compiler():
        pytest.skip("g++ not on PATH (needed to emulate the CUDA kernels on the CPU)")
    return tmp_path_factory.mktemp("cuda_emulator")


@pytest.fixture(params=["emulated", pytest.param("cuda", marks=requires_gpu)])
def backend_kind(request):
    return request.param


@pytest.fixture
def make_backend(backend_kind, request):
    """backend(max_blocks) -> backend object; the CUDA one is CuPy's (None = default)."""
    if backend_kind == "emulated":
        build = request.getfixturevalue("emulator_dir")
        return lambda max_blocks=2: EmulatedBackend(build, max_blocks)
    return lambda max_blocks=None: None


def _trainer(plan, w_in, w_out, backend, output_bias=None, **kw):
    if output_bias is not None:
        output_bias = output_bias.copy()
    return gt.GpuTrainer(plan, w_in.copy(), w_out.copy(), backend=backend,
                         output_bias=output_bias, **kw)


SINGLE_WARP = dict(max_blocks=1, threads_per_block=32)


# =====================================================================
# Kernels vs the CPU kernel
# =====================================================================
def test_keep_flags_kernel_matches_the_mirror(make_backend):
    rng = np.random.default_rng(3)
    tokens, offsets = _zipf_corpus(3000, 50, rng)
    keep = rng.uniform(0.1, 1.0, 50).astype(np.float32)
    keep[:5] = 1.0
    plan = _plan(tokens, offsets, 50, keep_prob=keep)
    w = np.zeros((50, 4), np.float32)
    trainer = _trainer(plan, w, w, make_backend(), max_blocks=2, threads_per_block=64)
    for seed in (1, 99):
        trainer._launch_flags(gt.epoch_keys(seed)[0])
        got = trainer._b.to_host(trainer._flags).astype(bool)
        np.testing.assert_array_equal(got, _keep_mask(tokens, keep, seed))


STEP_CASES = {
    # id: (architecture, loss, dim, window, noise word, centre position)
    "sg-ns-vec4": ("skipgram", "negative_sampling", 12, 2, 6, 3),
    "sg-nce-vec1-r2": ("skipgram", "nce", 35, 3, 2, 4),
    "cbow-ns-vec4-r2": ("cbow", "negative_sampling", 136, 2, 6, 3),
    "cbow-nce-vec4": ("cbow", "nce", 12, 3, 1, 2),
    "sg-wide-window": ("skipgram", "negative_sampling", 12, 20, 6, 3),   # window > 15
    "cbow-wide-window": ("cbow", "negative_sampling", 35, 17, 6, 5),
    "sg-noise-is-centre": ("skipgram", "negative_sampling", 12, 2, 4, 3),  # negatives skipped
    "cbow-first-word": ("cbow", "negative_sampling", 12, 2, 6, 0),
}


@pytest.mark.parametrize("case", list(STEP_CASES), ids=list(STEP_CASES))
def test_one_step_matches_cpu(case, make_backend):
    """One centre word with forced draws (keep_prob=1, fixed radius, one-hot
    noise): the GPU update equals the CPU kernel's."""
    arch, loss, dim, window, noise_word, centre = STEP_CASES[case]
    n_vocab = 9
    sentences = [[0, 1], [3, 5, 7, 4, 2, 6, 8, 1], [2, 2]]
    rng = np.random.default_rng(11)
    plan = _sentences_plan(sentences, n_vocab, noise=_one_hot(n_vocab, noise_word),
                           log_kq=rng.normal(0.0, 1.0, n_vocab), architecture=arch, loss=loss,
                           window=window, shrink=False, sample_size=3)
    w_in, w_out = _init(n_vocab, dim, rng)
    # NCE trains a learned output bias alongside the rows.
    bias = rng.normal(0.0, 1.0, n_vocab).astype(np.float32) if loss == "nce" else None
    start = 2 + centre  # inside the second sentence
    kw = dict(seed=5, lr_start=0.5, lr_end=0.01, progress_offset=7, progress_total=40)
    cpu_in, cpu_out = w_in.copy(), w_out.copy()
    cpu_bias = None if bias is None else bias.copy()
    cpu_stats = _cpu_span(plan, cpu_in, cpu_out, start, start + 1, output_bias=cpu_bias, **kw)

    trainer = _trainer(plan, w_in, w_out, make_backend(1), output_bias=bias, **SINGLE_WARP)
    res = trainer.run_epoch(span=(start, start + 1), **kw)
    gpu_bias = None if bias is None else np.empty_like(bias)
    gpu_in, gpu_out = trainer.download(output_bias=gpu_bias)
    if bias is not None:
        assert not np.allclose(cpu_bias, bias)  # the bias moved too
        np.testing.assert_allclose(gpu_bias, cpu_bias, rtol=1e-5, atol=1e-7)

    assert isinstance(gpu_in, np.ndarray) and gpu_in.dtype == np.float32
    assert not np.allclose(cpu_in, w_in) and not np.allclose(cpu_out, w_out)  # it did move
    np.testing.assert_allclose(gpu_in, cpu_in, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(gpu_out, cpu_out, rtol=1e-5, atol=1e-7)
    assert res.words == cpu_stats[2] == 1
    assert res.positives == cpu_stats[1]
    np.testing.assert_allclose(res.loss, cpu_stats[0], rtol=1e-5)


@pytest.mark.parametrize("arch", ["skipgram", "cbow"])
def test_epoch_on_one_warp_matches_cpu(arch, make_backend):
    """A whole epoch on a single warp runs the centres in the CPU's order:
    with subsampling on (same hash, so the same kept tokens), a fixed radius
    and one-hot noise, every update matches the CPU kernel's, across launch
    boundaries, empty and one-word sentences."""
    rng = np.random.default_rng(21)
    n_vocab = 16
    lengths = [5, 0, 1, 9, 3, 0, 12, 2, 7, 1, 6]
    sentences = [rng.integers(0, n_vocab, n).tolist() for n in lengths]
    keep = rng.uniform(0.3, 1.0, n_vocab).astype(np.float32)
    keep[::3] = 1.0
    plan = _sentences_plan(sentences, n_vocab, keep_prob=keep, noise=_one_hot(n_vocab, 3),
                           architecture=arch, window=2, shrink=False, sample_size=2,
                           chunk_tokens=4)
    w_in, w_out = _init(n_vocab, 8, rng)
    kw = dict(lr_start=0.3, lr_end=0.001, progress_offset=0, progress_total=2 * plan.n_tokens)
    cpu_in, cpu_out = w_in.copy(), w_out.copy()
    trainer = _trainer(plan, w_in, w_out, make_backend(1), batch_tokens=7, **SINGLE_WARP)
    for epoch, seed in enumerate((8, 9)):
        kw["progress_offset"] = epoch * plan.n_tokens
        cpu = run_epoch(plan, cpu_in, cpu_out, seed=seed, n_threads=1, **kw)
        gpu = trainer.run_epoch(seed=seed, **kw)
        assert gpu.words == cpu.words < plan.n_tokens  # subsampling dropped some
        assert gpu.positives == cpu.positives
        np.testing.assert_allclose(gpu.loss, cpu.loss, rtol=1e-5)
    gpu_in, gpu_out = trainer.download()
    np.testing.assert_allclose(gpu_in, cpu_in, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(gpu_out, cpu_out, rtol=1e-4, atol=1e-6)


def _pairs_plan(n_pairs, arch, rng):
    """Two-word sentences with words of their own: centres never share a row,
    so any parallel order gives the sequential result exactly."""
    n_vocab = 2 * n_pairs
    sentences = rng.permutation(n_vocab).reshape(n_pairs, 2).tolist()
    keep = rng.uniform(0.5, 1.0, n_vocab).astype(np.float32)
    return _sentences_plan(sentences, n_vocab, keep_prob=keep, architecture=arch, window=3,
                           shrink=True, sample_size=0)


@pytest.mark.parametrize("arch", ["skipgram", "cbow"])
def test_many_warps_and_launches_match_cpu(arch, make_backend, backend_kind):
    """Independent updates over many warps, grid-stride rounds and launches,
    with subsampling and random radii: equal to the CPU result. On a GPU the
    sizes span several full grids."""
    rng = np.random.default_rng(5)
    if backend_kind == "emulated":
        n_pairs, dim, batch, geometry = 40, 12, 24, dict(max_blocks=2, threads_per_block=64)
    else:
        n_pairs, dim, batch, geometry = 400_000, 100, 1 << 17, {}
    plan = _pairs_plan(n_pairs, arch, rng)
    w_in, w_out = _init(plan.keep_prob.shape[0], dim, rng)
    kw = dict(lr_start=0.5, lr_end=0.05, progress_offset=0, progress_total=plan.n_tokens)
    cpu_in, cpu_out = w_in.copy(), w_out.copy()
    cpu = run_epoch(plan, cpu_in, cpu_out, seed=17, n_threads=1, **kw)
    trainer = _trainer(plan, w_in, w_out, make_backend(), batch_tokens=batch, **geometry)
    reports = []
    gpu = trainer.run_epoch(seed=17, progress=lambda n, loss: reports.append((n, loss)), **kw)
    gpu_in, gpu_out = trainer.download()

    assert sum(n for n, _ in reports) == plan.n_tokens and len(reports) > 2
    assert gpu.words == cpu.words and gpu.positives == cpu.positives
    np.testing.assert_allclose(gpu.loss, cpu.loss, rtol=1e-6)
    np.testing.assert_allclose(gpu_in, cpu_in, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(gpu_out, cpu_out, rtol=1e-5, atol=1e-7)
    if backend_kind == "emulated":
        launches = [x for x in trainer._b.launches if x[0] == "skw2v_train"]
        assert len(launches) >= 3 and max(g for _, g, _ in launches) == 2
        # More pieces than warps in a launch: the grid-stride loop ran.
        blocks, piece = gt.launch_geometry(int(cpu.words) // len(launches), 2, 64)
        assert -(-(int(cpu.words) // len(launches)) // piece) > blocks * 2


@pytest.mark.parametrize("arch", ["skipgram", "cbow"])
def test_random_draws_statistics_match_cpu(arch, make_backend):
    """Random radii and negatives (different streams from the CPU's): the
    counts and the mean loss agree with the CPU's in distribution."""
    rng = np.random.default_rng(9)
    tokens, offsets = _zipf_corpus(600, 40, rng, max_len=20)
    counts = np.bincount(tokens, minlength=40) + 1
    q = counts**0.75 / (counts**0.75).sum()
    plan = _plan(tokens, offsets, 40, noise=q, architecture=arch, window=4, shrink=True,
                 sample_size=4)
    w_in, w_out = _init(40, 8, rng)
    kw = dict(lr_start=0.05, lr_end=0.05, progress_offset=0, progress_total=plan.n_tokens)
    cpu = run_epoch(plan, w_in.copy(), w_out.copy(), seed=3, n_threads=1, **kw)
    trainer = _trainer(plan, w_in, w_out, make_backend(2), threads_per_block=64)
    gpu = trainer.run_epoch(seed=3, **kw)
    assert gpu.words == cpu.words == plan.n_tokens
    # positives ~ sum over centres of 2 * E[radius] (sentence edges aside): the
    # ratio of two such sums has sd ~ 2.5% here, so 10% is four sd.
    assert abs(gpu.positives / cpu.positives - 1) < 0.10
    assert abs(gpu.mean_loss / cpu.mean_loss - 1) < 0.10
    assert trainer.all_finite()


# =====================================================================
# Driver behaviour (emulated, and on the GPU)
# =====================================================================
def test_driver_contract(make_backend):
    rng = np.random.default_rng(2)
    plan = _sentences_plan([[0, 1, 2, 3], [4, 5]], 6, window=1)
    w_in, w_out = _init(6, 8, rng)
    trainer = gt.GpuTrainer(plan, w_in, w_out, backend=make_backend(1), **SINGLE_WARP)
    kw = dict(lr_start=0.1, lr_end=0.01, progress_offset=0, progress_total=6, seed=1)
    empty = trainer.run_epoch(span=(2, 2), **kw)
    assert (empty.loss, empty.positives, empty.words) == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="span"):
        trainer.run_epoch(span=(3, 9), **kw)
    with pytest.raises(ValueError, match="progress_total"):
        trainer.run_epoch(**dict(kw, progress_total=0))
    res = trainer.run_epoch(n_threads=4, **kw)  # n_threads is accepted and ignored
    assert res.words == 6 and res.seconds >= 0 and res.mean_loss > 0
    out_in, out_out = np.empty_like(w_in), np.empty_like(w_out)
    got = trainer.download(out_in, out_out)
    assert got[0] is out_in and got[1] is out_out
    assert not np.array_equal(out_in, w_in)  # trained, and the inputs were copied
    with pytest.raises(ValueError, match="w_in must be a NumPy array of shape"):
        trainer.download(np.empty((2, 2), np.float32))
    assert trainer.all_finite()


def test_driver_reports_non_finite_vectors(emulator_dir):
    plan = _sentences_plan([[0, 1, 2]], 3, window=1)
    w_in, w_out = _init(3, 4, np.random.default_rng(0))
    trainer = gt.GpuTrainer(plan, w_in, w_out, backend=EmulatedBackend(emulator_dir, 1),
                            **SINGLE_WARP)
    assert trainer.all_finite()
    trainer.w_out[1, 2] = np.nan
    assert not trainer.all_finite()


def test_driver_rejects_bad_input(emulator_dir):
    be = EmulatedBackend(emulator_dir, 1)
    plan = _sentences_plan([[0, 1, 2]], 3)
    w = np.zeros((3, 4), np.float32)
    with pytest.raises(TypeError, match="w_in must be float32"):
        gt.GpuTrainer(plan, w.astype(np.float64), w, backend=be)
    with pytest.raises(ValueError, match="same shape"):
        gt.GpuTrainer(plan, w, np.zeros((3, 5), np.float32), backend=be)
    with pytest.raises(ValueError, match="2-D"):
        gt.GpuTrainer(plan, w.ravel(), w, backend=be)
    with pytest.raises(ValueError, match="one entry per word"):
        gt.GpuTrainer(plan, np.zeros((4, 4), np.float32), np.zeros((4, 4), np.float32), backend=be)
    bad = _sentences_plan([[0, 1, 5]], 6)
    with pytest.raises(ValueError, match="token ids"):
        gt.GpuTrainer(bad, w, w, backend=be)
    with pytest.raises(ValueError, match="batch_tokens"):
        gt.GpuTrainer(plan, w, w, backend=be, batch_tokens=0)
    with pytest.raises(ValueError, match="threads_per_block"):
        gt.GpuTrainer(plan, w, w, backend=be, threads_per_block=48)

    class Small(EmulatedBackend):
        def free_bytes(self):
            return 100

    with pytest.raises(ValueError, match="device memory.*device='cpu'"):
        gt.GpuTrainer(plan, w, w, backend=Small(emulator_dir, 1))


# =====================================================================
# A float64 reference of the GPU kernels' semantics, random streams included
# =====================================================================
_GAMMA = 0x9E3779B97F4A7C15
_M64 = (1 << 64) - 1


def _alias_draw(r, plan):
    n = len(plan.alias_index)
    i = ((r & 0xFFFFFFFF) * n) >> 32
    return i if (r >> 32) < int(plan.alias_threshold[i]) else int(plan.alias_index[i])


def _softplus(z):
    return max(z, 0.0) + np.log1p(np.exp(-abs(z)))


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def gpu_reference(plan, w_in, w_out, bias=None, *, seed, lr_start, lr_end, progress_offset,
                  progress_total, batch_window=False, span=None):
    """The GPU kernels' update, one centre after another, in float64, with the
    GPU's random streams (one SplitMix64 stream per centre position; draw n of
    it is mix64(hash + n * gamma)). Updates w_in, w_out, bias (float64 copies
    of the caller's) in place; returns (loss, positives, words)."""
    tokens, offsets = np.asarray(plan.tokens), np.asarray(plan.offsets)
    mask = _keep_mask(tokens, np.asarray(plan.keep_prob), seed)
    _, centre_key = gt.epoch_keys(seed)
    start, end = (0, len(tokens)) if span is None else span
    arch = "cbow" if plan.architecture == _core.ARCHITECTURES["cbow"] else "skipgram"
    nce = plan.loss == _core.LOSSES["nce"]
    log_kq = np.asarray(plan.noise_log_kq, np.float64)
    loss = positives = words = 0.0

    def offset(t):
        return (-log_kq[t] if nce else 0.0) + (bias[t] if bias is not None else 0.0)

    def draws(rng, w):
        got = [_alias_draw(gt._mix64((rng + (n + 1) * _GAMMA) & _M64), plan)
               for n in range(plan.sample_size)]
        return (rng + plan.sample_size * _GAMMA) & _M64, [w] + [d for d in got if d != w]

    def sequential(l1, targets, alpha):
        nonlocal loss
        work = np.zeros_like(l1)
        for j, t in enumerate(targets):
            f = l1 @ w_out[t] + offset(t)
            loss += _softplus(-f) if j == 0 else _softplus(f)
            g = alpha * ((1.0 if j == 0 else 0.0) - _sigmoid(f))
            work += g * w_out[t]
            w_out[t] += g * l1
            if bias is not None:
                bias[t] += g
        return work

    for s in range(len(offsets) - 1):
        pos = np.flatnonzero(mask[offsets[s]:offsets[s + 1]]) + offsets[s]
        buf = tokens[pos]
        for i, p in enumerate(pos):
            if not start <= p < end:
                continue
            w = int(buf[i])
            rng = gt.hash64((centre_key + int(p)) & _M64)
            alpha = np.float32(lr_start - (lr_start - lr_end) * (progress_offset + p)
                               / progress_total)
            alpha = float(max(alpha, np.float32(lr_end)))
            b = plan.window
            if plan.shrink_windows:
                rng = (rng + _GAMMA) & _M64
                b = 1 + (((gt._mix64(rng) >> 32) * plan.window) >> 32)
            lo, hi = max(i - b, 0), min(i + b + 1, len(buf))
            words += 1
            ctx = [int(buf[k]) for k in range(lo, hi) if k != i]
            if not ctx:
                continue
            if arch == "cbow":
                rng, targets = draws(rng, w)
                l1 = np.mean([w_in[c] for c in ctx], axis=0)
                work = sequential(l1, targets, alpha)
                for c in ctx:
                    w_in[c] += work
                positives += 1
            elif not batch_window:
                for c in ctx:
                    rng, targets = draws(rng, w)
                    w_in[c] += sequential(w_in[c].copy(), targets, alpha)
                    positives += 1
            else:  # the window-batched semantics (helper brief), context after context
                rng, targets = draws(rng, w)
                y = np.array([w_out[t] for t in targets])       # (n_t, d) start of step
                off = np.array([offset(t) for t in targets])
                label = np.zeros(len(targets))
                label[0] = 1.0
                d_out = np.zeros_like(y)
                d_bias = np.zeros(len(targets))
                for c in ctx:
                    x = w_in[c].copy()                          # at its turn
                    s_ = y @ x + off
                    loss += _softplus(-s_[0]) + sum(_softplus(v) for v in s_[1:])
                    g = alpha * (label - _sigmoid(s_))
                    w_in[c] += g @ (y + d_out)
                    d_out += np.outer(g, x)
                    d_bias += g
                for j, t in enumerate(targets):
                    w_out[t] += d_out[j]
                    if bias is not None:
                        bias[t] += d_bias[j]
                positives += len(ctx)
    return loss, positives, words


def _run_both(plan, w_in, w_out, backend, *, bias=None, batch_window, kw, span=None, **geometry):
    ref_in, ref_out = w_in.astype(np.float64), w_out.astype(np.float64)
    ref_bias = None if bias is None else bias.astype(np.float64)
    ref = gpu_reference(plan, ref_in, ref_out, ref_bias, batch_window=batch_window, span=span,
                        **kw)
    trainer = _trainer(plan, w_in, w_out, backend, output_bias=bias, batch_window=batch_window,
                       **geometry)
    res = trainer.run_epoch(span=span, **kw)
    got_bias = None if bias is None else np.empty_like(bias)
    got_in, got_out = trainer.download(output_bias=got_bias)
    return (ref, ref_in, ref_out, ref_bias), (res, got_in, got_out, got_bias), trainer


def _assert_matches(ref, got, w_in, w_out, rtol=2e-4, atol=2e-6):
    (loss, positives, words), ref_in, ref_out, ref_bias = ref
    res, got_in, got_out, got_bias = got
    assert not np.allclose(ref_in, w_in) and not np.allclose(ref_out, w_out)  # it moved
    assert res.words == words and res.positives == positives
    np.testing.assert_allclose(res.loss, loss, rtol=rtol)
    np.testing.assert_allclose(got_in, ref_in, rtol=rtol, atol=atol)
    np.testing.assert_allclose(got_out, ref_out, rtol=rtol, atol=atol)
    if ref_bias is not None:
        np.testing.assert_allclose(got_bias, ref_bias, rtol=rtol, atol=atol)


BATCH_CASES = {
    # id: (loss, dim, window, sample_size, one-hot noise word or None, shrink)
    "ns-vec4": ("negative_sampling", 12, 3, 5, None, False),
    "ns-vec1-r2": ("negative_sampling", 35, 2, 4, None, True),
    "nce-bias": ("nce", 16, 3, 3, None, False),
    "forced-repeated-negatives": ("negative_sampling", 12, 2, 3, 6, False),
    "negatives-hit-centre": ("negative_sampling", 8, 2, 4, 4, False),
    "window-wider-than-a-warp": ("negative_sampling", 8, 20, 3, None, False),
    "many-negatives-two-draw-rounds": ("negative_sampling", 8, 2, 40, None, False),
}


@pytest.mark.parametrize("case", list(BATCH_CASES), ids=list(BATCH_CASES))
def test_batched_window_matches_float64_reference(case, make_backend):
    """batch_window=True: one warp per centre word, negatives shared by the
    window, every score from the output rows at the start of the centre's
    step, each input step against them plus the earlier contexts' output
    steps. A
    sentence with repeated words puts repeated ids among the contexts (and,
    with one-hot noise, among the targets); the float64 reference follows the
    brief's semantics step by step with the GPU's random streams."""
    loss, dim, window, sample_size, noise_word, shrink = BATCH_CASES[case]
    n_vocab = 12
    rng = np.random.default_rng(31)
    base = [3, 5, 3, 7, 4, 2, 3, 6, 8, 1, 5, 9, 10, 11, 3, 0]
    sentences = [[0, 1], base * 3 if window > 15 else base, [2], [4, 4, 4]]
    noise = None if noise_word is None else _one_hot(n_vocab, noise_word)
    if noise is None:
        noise = rng.uniform(0.2, 1.0, n_vocab)
        noise /= noise.sum()
    plan = _sentences_plan(sentences, n_vocab, noise=noise,
                           log_kq=rng.normal(0.0, 1.0, n_vocab), architecture="skipgram",
                           loss=loss, window=window, shrink=shrink, sample_size=sample_size)
    w_in, w_out = _init(n_vocab, dim, rng)
    w_in *= 10  # larger rows: a wrong (stale or double) read shows
    w_out *= 10
    bias = rng.normal(0.0, 1.0, n_vocab).astype(np.float32) if loss == "nce" else None
    kw = dict(seed=5, lr_start=0.1, lr_end=0.01, progress_offset=3, progress_total=60)
    ref, got, _ = _run_both(plan, w_in, w_out, make_backend(1), bias=bias, batch_window=True,
                            kw=kw, **SINGLE_WARP)
    _assert_matches(ref, got, w_in, w_out)


@pytest.mark.parametrize("arch", ["skipgram", "cbow"])
@pytest.mark.parametrize("batch_window", [False, True])
def test_epoch_with_random_draws_matches_float64_reference(arch, batch_window, make_backend):
    """Random radii, subsampling and alias draws: the GPU's lane-parallel
    draws give exactly the stream a draw-by-draw loop gives (the reference
    draws one by one), with the packed alias table; CBOW ignores
    batch_window."""
    rng = np.random.default_rng(8)
    n_vocab = 30
    tokens, offsets = _zipf_corpus(400, n_vocab, rng, max_len=16)
    counts = np.bincount(tokens, minlength=n_vocab) + 1
    keep = np.minimum(1.0, 40.0 / counts).astype(np.float32)
    q = counts**0.75 / (counts**0.75).sum()
    plan = _plan(tokens, offsets, n_vocab, keep_prob=keep, noise=q, architecture=arch,
                 window=3, shrink=True, sample_size=5)
    w_in, w_out = _init(n_vocab, 8, rng)
    kw = dict(seed=12, lr_start=0.05, lr_end=0.001, progress_offset=0,
              progress_total=plan.n_tokens)
    ref, got, _ = _run_both(plan, w_in, w_out, make_backend(1), batch_window=batch_window,
                            kw=kw, **SINGLE_WARP, batch_tokens=97)
    assert got[0].words < plan.n_tokens  # subsampling dropped some
    _assert_matches(ref, got, w_in, w_out, rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("loss", ["negative_sampling", "nce"])
def test_batched_window_matches_the_cpu_kernel(loss, make_backend):
    """The CPU kernel's batch_window (where this build has it) and the GPU's
    batched path train the same model: with forced draws (one-hot noise, a
    fixed radius) and the same subsampling hash, every update agrees, across
    repeated context words and two epochs."""
    rng = np.random.default_rng(17)
    n_vocab = 12
    sentences = [[3, 5, 3, 7, 4, 2, 3, 6, 8, 1, 5, 9], [], [4, 4], [10, 11, 10, 2, 0, 1, 6]]
    keep = rng.uniform(0.4, 1.0, n_vocab).astype(np.float32)
    keep[::2] = 1.0
    plan = _sentences_plan(sentences, n_vocab, keep_prob=keep, noise=_one_hot(n_vocab, 3),
                           loss=loss, window=3, shrink=False, sample_size=3, chunk_tokens=5)
    if not hasattr(plan, "batch_window"):
        pytest.skip("this build's CPU kernel has no batch_window")
    plan.batch_window = True
    w_in, w_out = _init(n_vocab, 8, rng)
    bias = rng.normal(0.0, 1.0, n_vocab).astype(np.float32) if loss == "nce" else None
    cpu_in, cpu_out = w_in.copy(), w_out.copy()
    cpu_bias = None if bias is None else bias.copy()
    trainer = _trainer(plan, w_in, w_out, make_backend(1), output_bias=bias, batch_window=True,
                       batch_tokens=9, **SINGLE_WARP)
    kw = dict(lr_start=0.3, lr_end=0.001, progress_total=2 * plan.n_tokens)
    for epoch, seed in enumerate((4, 5)):
        kw["progress_offset"] = epoch * plan.n_tokens
        cpu = run_epoch(plan, cpu_in, cpu_out, seed=seed, n_threads=1, output_bias=cpu_bias, **kw)
        gpu = trainer.run_epoch(seed=seed, **kw)
        assert gpu.words == cpu.words and gpu.positives == cpu.positives
        np.testing.assert_allclose(gpu.loss, cpu.loss, rtol=1e-4)
    got_bias = None if bias is None else np.empty_like(bias)
    gpu_in, gpu_out = trainer.download(output_bias=got_bias)
    np.testing.assert_allclose(gpu_in, cpu_in, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(gpu_out, cpu_out, rtol=1e-4, atol=1e-6)
    if bias is not None:
        np.testing.assert_allclose(got_bias, cpu_bias, rtol=1e-4, atol=1e-6)


def test_batched_window_without_context_changes_nothing(make_backend):
    plan = _sentences_plan([[1], [2], [3, 3]], 4, window=2, sample_size=3)
    w_in, w_out = _init(4, 8, np.random.default_rng(0))
    trainer = _trainer(plan, w_in, w_out, make_backend(1), batch_window=True, **SINGLE_WARP)
    res = trainer.run_epoch(span=(0, 2), seed=1, lr_start=0.5, lr_end=0.5, progress_offset=0,
                            progress_total=4)
    got_in, got_out = trainer.download()
    assert (res.words, res.positives, res.loss) == (2, 0, 0.0)
    np.testing.assert_array_equal(got_in, w_in)
    np.testing.assert_array_equal(got_out, w_out)


def test_batch_window_is_checked(emulator_dir):
    plan = _sentences_plan([[0, 1, 2]], 3)
    w = np.zeros((3, 4), np.float32)
    with pytest.raises(TypeError, match="batch_window must be a bool"):
        gt.GpuTrainer(plan, w, w, backend=EmulatedBackend(emulator_dir, 1), batch_window=1)


def test_kernel_traps_on_a_module_built_for_another_path(emulator_dir):
    # Driver and module disagree (batched module, per-pair arguments): the
    # kernel refuses to run instead of training the wrong thing.
    plan = _sentences_plan([[0, 1, 2, 1]], 3, window=1, sample_size=2)
    w_in, w_out = _init(3, 4, np.random.default_rng(0))
    trainer = gt.GpuTrainer(plan, w_in, w_out, backend=EmulatedBackend(emulator_dir, 1),
                            batch_window=True, **SINGLE_WARP)
    trainer.batch_window = 0
    with pytest.raises(RuntimeError, match="trapped"):
        trainer.run_epoch(seed=1, lr_start=0.1, lr_end=0.1, progress_offset=0, progress_total=4)


# =====================================================================
# Review fixes (issue: GPU ready for a 15-minute window)
# =====================================================================
def test_window_of_int_max_matches_cpu(make_backend):
    """window = 2**31 - 1 (the estimator allows it): 2 * window + 1 would
    overflow int; every context of the sentence is in the window."""
    n_vocab = 9
    sentences = [[3, 5, 7, 4, 2, 6, 8, 1]]
    rng = np.random.default_rng(3)
    plan = _sentences_plan(sentences, n_vocab, noise=_one_hot(n_vocab, 0), window=2**31 - 1,
                           shrink=False, sample_size=2)
    w_in, w_out = _init(n_vocab, 8, rng)
    kw = dict(seed=5, lr_start=0.5, lr_end=0.01, progress_offset=0, progress_total=8)
    cpu_in, cpu_out = w_in.copy(), w_out.copy()
    cpu = _cpu_span(plan, cpu_in, cpu_out, 4, 5, **kw)
    trainer = _trainer(plan, w_in, w_out, make_backend(1), **SINGLE_WARP)
    res = trainer.run_epoch(span=(4, 5), **kw)
    gpu_in, gpu_out = trainer.download()
    assert res.positives == cpu[1] == 7
    np.testing.assert_allclose(gpu_in, cpu_in, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(gpu_out, cpu_out, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("regs, threads, expected", [
    (76, 256, 3),     # the review's figure: 3 blocks of 256 at 76 registers
    (120, 256, 2), (98, 128, 4), (32, 256, 8), (255, 256, 1), (255, 1024, 0), (40, 64, 25),
])
def test_occupancy_blocks(regs, threads, expected):
    assert gt.occupancy_blocks(regs, threads) == expected


def test_grid_is_sized_by_occupancy_and_warps_persist(emulator_dir):
    """max_blocks = resident blocks per SM x SMs; every warp takes work items
    from the launch's counter until none is left (one failed fetch per warp)."""
    rng = np.random.default_rng(4)
    tokens, offsets = _zipf_corpus(3000, 40, rng)
    plan = _plan(tokens, offsets, 40, window=2, sample_size=2)
    w_in, w_out = _init(40, 8, rng)
    be = EmulatedBackend(emulator_dir, 3, blocks_per_sm=2)
    trainer = gt.GpuTrainer(plan, w_in, w_out, backend=be, threads_per_block=64,
                            batch_tokens=1000)
    assert trainer.max_blocks == 6 and trainer._stats.shape == (6 * 2, 3)
    res = trainer.run_epoch(seed=1, lr_start=0.05, lr_end=0.05, progress_offset=0,
                            progress_total=3000)
    assert res.words == 3000
    launches = [g for name, g, _ in be.launches if name == "skw2v_train"]
    assert len(launches) == 3 and max(launches) <= 6
    for counter, grid in zip(trainer._counters, launches, strict=True):
        _, piece = gt.launch_geometry(1000, 6, 64)
        assert int(counter) == -(-1000 // piece) + grid * 2
    # more work items than warps: the persistent loop went round
    assert -(-1000 // piece) > 6 * 2


def test_explicit_max_blocks_overrides_occupancy(emulator_dir):
    plan = _sentences_plan([[0, 1, 2]], 3)
    w = np.zeros((3, 4), np.float32)
    be = EmulatedBackend(emulator_dir, 4, blocks_per_sm=3)
    assert gt.GpuTrainer(plan, w, w, backend=be).max_blocks == 12
    assert gt.GpuTrainer(plan, w, w, backend=be, max_blocks=5).max_blocks == 5
    with pytest.raises(ValueError, match="max_blocks"):
        gt.GpuTrainer(plan, w, w, backend=be, max_blocks=0)
    with pytest.raises(ValueError, match="min_blocks_per_sm"):
        gt.GpuTrainer(plan, w, w, backend=be, min_blocks_per_sm=-1)


def test_pack_alias_table():
    thr = np.array([0, 1, 2**32 - 1, 7], np.uint32)
    alias = np.array([3, 0, 2, 1], np.int32)
    packed = gt.pack_alias_table(thr, alias)
    assert packed.dtype == np.uint64
    np.testing.assert_array_equal(packed & np.uint64(0xFFFFFFFF), thr)
    np.testing.assert_array_equal(packed >> np.uint64(32), alias)
    with pytest.raises(ValueError, match="alias"):
        gt.pack_alias_table(thr, -alias - 1)


@pytest.mark.parametrize("vector_atomics", [False, True], ids=["scalar-atomics", "float4-atomics"])
@pytest.mark.parametrize("atomic", [True, False], ids=["atomic", "plain"])
def test_update_flavours_give_the_same_step(vector_atomics, atomic, emulator_dir):
    """float4 atomics (the sm_90 code, emulated), scalar atomics and plain
    read-add-write all add the same deltas: one step equals the CPU's."""
    arch, loss, dim, window, noise_word, centre = STEP_CASES["sg-ns-vec4"]
    n_vocab = 9
    sentences = [[0, 1], [3, 5, 7, 4, 2, 6, 8, 1], [2, 2]]
    rng = np.random.default_rng(11)
    plan = _sentences_plan(sentences, n_vocab, noise=_one_hot(n_vocab, noise_word),
                           architecture=arch, loss=loss, window=window, sample_size=3)
    w_in, w_out = _init(n_vocab, dim, rng)
    kw = dict(seed=5, lr_start=0.5, lr_end=0.01, progress_offset=7, progress_total=40)
    cpu_in, cpu_out = w_in.copy(), w_out.copy()
    _cpu_span(plan, cpu_in, cpu_out, 5, 6, **kw)
    extra = ("-DSKW2V_VECTOR_ATOMICS=1",) if vector_atomics else ()
    be = EmulatedBackend(emulator_dir, 1, extra_defines=extra)
    trainer = _trainer(plan, w_in, w_out, be, atomic=atomic, **SINGLE_WARP)
    trainer.run_epoch(span=(5, 6), **kw)
    gpu_in, gpu_out = trainer.download()
    np.testing.assert_allclose(gpu_in, cpu_in, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(gpu_out, cpu_out, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("batch_window, sample_size",
                         [(False, 0), (False, 2), (True, 0), (True, 2)])
def test_row_updates_per_centre(batch_window, sample_size, emulator_dir):
    """Each changed row is written once per step: the centre's output row
    stays in registers across the window (it was read and written once per
    context), and the context row gets its delta without a second read."""
    n_vocab, dim = 10, 8  # VEC 4: two lanes hold a row, 8 scalar atomics per row
    plan = _sentences_plan([[1, 2, 3, 4, 5]], n_vocab, noise=np.arange(n_vocab) >= 6,
                           window=2, sample_size=sample_size)
    w_in, w_out = _init(n_vocab, dim, np.random.default_rng(0))
    be = EmulatedBackend(emulator_dir, 1)
    trainer = _trainer(plan, w_in, w_out, be, batch_window=batch_window, **SINGLE_WARP)
    before = np.array(be.float_atomics())  # the library (and its counters) is per process
    trainer.run_epoch(span=(2, 3), seed=3, lr_start=0.1, lr_end=0.1, progress_offset=0,
                      progress_total=5)
    if batch_window:  # 4 context rows, then each target row once
        rows = 4 + len(gpu_reference_targets(plan, seed=3, position=2))
    else:  # 4 context rows, 4 x sample_size negative rows, the centre's row once
        rows = 4 + 4 * sample_size + 1
    assert tuple(np.array(be.float_atomics()) - before) == (rows * dim, 0)


def gpu_reference_targets(plan, *, seed, position):
    """The window-batched targets of the centre at a corpus position (no subsampling, no shrink)."""
    _, centre_key = gt.epoch_keys(seed)
    rng = gt.hash64((centre_key + position) & _M64)
    w = int(plan.tokens[position])
    got = [_alias_draw(gt._mix64((rng + (n + 1) * _GAMMA) & _M64), plan)
           for n in range(plan.sample_size)]
    return [w] + [d for d in got if d != w]


def test_driver_rejects_what_the_kernel_cannot_hold(emulator_dir):
    be = EmulatedBackend(emulator_dir, 1)
    w = np.zeros((3, 4), np.float32)
    plan = _sentences_plan([[0, 1, 2]], 3, sample_size=gt.MAX_SAMPLE_SIZE + 1)
    with pytest.raises(ValueError, match=f"sample_size must be at most {gt.MAX_SAMPLE_SIZE}"):
        gt.GpuTrainer(plan, w, w, backend=be)
    plan = _sentences_plan([[0, 1, 2]], 3, window=2**31)
    with pytest.raises(ValueError, match="window must be at most 2147483647"):
        gt.GpuTrainer(plan, w, w, backend=be)
    plan = _sentences_plan([[0, 1, 2]], 3, sample_size=gt.MAX_SAMPLE_SIZE)
    assert f"-DSKW2V_T={gt.MAX_SAMPLE_SIZE + 1}" in gt.GpuTrainer(plan, w, w, backend=be).options


def test_close_frees_the_pool(emulator_dir):
    plan = _sentences_plan([[0, 1, 2]], 3)
    w = np.zeros((3, 4), np.float32)
    be = EmulatedBackend(emulator_dir, 1)
    with gt.GpuTrainer(plan, w, w, backend=be) as trainer:
        assert trainer.w_in is not None
    assert be.released == 1
    assert all(getattr(trainer, name) is None for name in gt.GpuTrainer.DEVICE_ARRAYS)
    trainer.close()  # idempotent
    assert be.released == 1


def _ptxas(arch, options, tmp_path, extra=()):
    """(registers, spill bytes, ptx text) of skw2v_train, compiled by nvcc as NVRTC would."""
    cubin, ptx = tmp_path / f"{arch}.cubin", tmp_path / f"{arch}.ptx"
    src = str(CUDA_DIR / "sgns.cu")
    base = ["nvcc", "-Werror", "all-warnings", *options, *extra, f"-arch={arch}"]
    proc = subprocess.run([*base, "-cubin", "-Xptxas", "-v", "-o", str(cubin), src],
                          check=False, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr
    subprocess.run([*base, "--ptx", "-o", str(ptx), src], check=True, capture_output=True,
                   timeout=240)
    report = proc.stderr.split("Compiling entry function 'skw2v_train'")[1]
    report = report.split("Compiling entry function")[0]
    regs = int(re.search(r"Used (\d+) registers", report).group(1))
    spills = [int(x) for x in re.findall(r"(\d+) bytes spill (?:stores|loads)", report)]
    return regs, sum(spills), ptx.read_text()


requires_nvcc = pytest.mark.skipif(shutil.which("nvcc") is None, reason="nvcc not on PATH")


@requires_nvcc
@pytest.mark.parametrize("arch", ["sm_75", "sm_80", "sm_90"])
@pytest.mark.parametrize("path", [gt.PATH_SKIPGRAM, gt.PATH_BATCHED, gt.PATH_CBOW],
                         ids=["skipgram", "batched", "cbow"])
def test_compiled_kernel_resources(arch, path, tmp_path):
    """d=100, 5 negatives, the driver's launch bounds (256 threads, 2 blocks
    per SM): at most 128 registers and no spills on any path, vector atomics
    exactly on sm_90, one 8-byte load per alias draw."""
    options = gt.compile_options((4, 1), 256, path=path, targets=6,
                                 min_blocks=gt.default_min_blocks((4, 1)))
    regs, spills, ptx = _ptxas(arch, options, tmp_path)
    assert regs <= 128 and spills == 0, (arch, path, regs, spills)
    # d = 300 (R = 3) gets no bound: more registers, still no spills
    wide = gt.compile_options((4, 3), 256, path=path, targets=6,
                              min_blocks=gt.default_min_blocks((4, 3)))
    (tmp_path / "wide").mkdir()
    regs_wide, spills_wide, _ = _ptxas(arch, wide, tmp_path / "wide")
    assert regs_wide <= 255 and spills_wide == 0, (arch, path, regs_wide, spills_wide)
    v4 = re.search(r"(red|atom)\.global(\.\w+)*\.v4\.f32", ptx) is not None
    assert v4 == (arch == "sm_90")
    assert re.search(r"(red|atom)\.global(\.\w+)*\.f32", ptx)
    assert "ld.global.nc.u64" in ptx or "ld.global.nc.b64" in ptx  # packed alias entry
    # __launch_bounds__(256, 3): the allocator is held to 85 registers
    bounded = gt.compile_options((4, 1), 256, path=path, targets=6, min_blocks=3)
    (tmp_path / "bounded").mkdir()
    regs3, _, _ = _ptxas(arch, bounded, tmp_path / "bounded")
    assert regs3 <= 85


# =====================================================================
# GPU only
# =====================================================================
@pytest.mark.gpu
@pytest.mark.skipif("not _gpu_ok()", reason="needs CuPy and a CUDA device")
def test_rows_beyond_2_31_elements():
    """V * dim > 2**31: updates to the last rows land where the CPU puts them."""
    import cupy

    dim = 64
    n_vocab = 2**31 // dim + 64          # last row starts past element 2**31
    assert (n_vocab - 1) * dim > 2**31
    last = np.arange(n_vocab - 6, n_vocab)  # the rows the corpus touches
    sentences = [[last[5], last[4], last[3], last[2]], [last[1], last[5], last[0]]]
    noise_word = last[0]
    rng = np.random.default_rng(4)
    small_in, small_out = _init(6, dim, rng)

    # GPU: the full-size model on the device, trained in place.
    w_in = cupy.zeros((n_vocab, dim), dtype=cupy.float32)
    w_out = cupy.zeros((n_vocab, dim), dtype=cupy.float32)
    w_in[n_vocab - 6:] = cupy.asarray(small_in)
    w_out[n_vocab - 6:] = cupy.asarray(small_out)
    plan = _sentences_plan(sentences, n_vocab, noise=_one_hot(n_vocab, noise_word), window=2,
                           sample_size=2)
    kw = dict(lr_start=0.2, lr_end=0.01, progress_offset=0, progress_total=7, seed=3)
    trainer = gt.GpuTrainer(plan, w_in, w_out, **SINGLE_WARP)
    assert trainer.w_in is w_in  # in place, no second copy
    trainer.run_epoch(**kw)

    # CPU: the same corpus on the 6 rows, renumbered.
    remap = {int(w): i for i, w in enumerate(last)}
    small = _sentences_plan([[remap[int(w)] for w in s] for s in sentences], 6,
                            noise=_one_hot(6, remap[int(noise_word)]), window=2, sample_size=2)
    run_epoch(small, small_in, small_out, n_threads=1, **kw)

    np.testing.assert_allclose(w_in[n_vocab - 6:].get(), small_in, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(w_out[n_vocab - 6:].get(), small_out, rtol=1e-5, atol=1e-7)
    assert float(cupy.abs(w_in[: n_vocab - 6]).max()) == 0.0  # nothing else written
    assert float(cupy.abs(w_out[: n_vocab - 6]).max()) == 0.0


def _read_pairs(path):
    pairs = []
    for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.replace("\t", " ").split()
        try:
            pairs.append((parts[0].lower(), parts[1].lower(), float(parts[2])))
        except (IndexError, ValueError):
            continue
    return pairs


def _spearman(model, pairs):
    from scipy.stats import spearmanr

    got = [(model.similarity(a, b), s) for a, b, s in pairs
           if a in model.vocabulary_ and b in model.vocabulary_]
    return spearmanr([g for g, _ in got], [s for _, s in got]).correlation


@pytest.mark.gpu
@pytest.mark.slow
@pytest.mark.skipif("not _gpu_ok()", reason="needs CuPy and a CUDA device")
@pytest.mark.parametrize("arch", ["skipgram", "cbow"])
def test_quality_parity_with_cpu_on_ptb_brown(arch):
    from skw2v import Word2VecNS

    files = [DATA / "ptb.train.txt", DATA / "brown.txt", DATA / "wordsim353.tsv"]
    if not all(f.exists() for f in files):
        pytest.skip("PTB / Brown / WordSim-353 not found in ../shared/data")
    docs = [ln.split() for f in files[:2] for ln in f.read_text().splitlines() if ln.strip()]
    pairs = _read_pairs(files[2])
    params = dict(architecture=arch, vector_size=100, window=5, sample_size=5, epochs=5,
                  min_count=5, random_state=0)
    cpu = Word2VecNS(device="cpu", **params).fit(docs)
    gpu = Word2VecNS(device="cuda", **params).fit(docs)
    assert gpu.device_ == "cuda"
    rho_cpu, rho_gpu = _spearman(cpu, pairs), _spearman(gpu, pairs)
    # Run-to-run spread of WS353 Spearman on 1.9M tokens is a few hundredths.
    assert rho_gpu > rho_cpu - 0.06, (rho_gpu, rho_cpu)
    np.testing.assert_allclose(gpu.loss_history_, cpu.loss_history_, rtol=0.05)


@pytest.mark.gpu
@pytest.mark.skipif("not _gpu_ok()", reason="needs CuPy and a CUDA device")
def test_gpu_trained_estimator_holds_numpy_arrays():
    from skw2v import Word2VecNS

    rng = np.random.default_rng(0)
    docs = [[f"w{i}" for i in rng.integers(0, 50, 12)] for _ in range(300)]
    model = Word2VecNS(device="cuda", vector_size=16, min_count=1, epochs=2,
                       random_state=0).fit(docs)
    assert model.device_ == "cuda"
    for name in ("vectors_", "output_vectors_", "loss_history_", "idf_", "token_counts_"):
        assert type(getattr(model, name)) is np.ndarray, name
    assert model.vectors_.dtype == np.float32 and np.isfinite(model.vectors_).all()
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone.transform(docs[:5]), model.transform(docs[:5]))
    # The pickle holds no CuPy object: it loads where CuPy cannot be imported.
    code = ("import pickle, sys; sys.modules['cupy'] = None; "
            "m = pickle.loads(sys.stdin.buffer.read()); print(m.transform([['w1', 'w2']]).shape)")
    proc = subprocess.run([sys.executable, "-c", code], check=False, input=pickle.dumps(model), cwd=ROOT,
                          capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.decode().strip() == "(1, 16)"


@pytest.mark.gpu
@pytest.mark.skipif("not _gpu_ok()", reason="needs CuPy and a CUDA device")
@pytest.mark.parametrize("batch_window", [False, True])
def test_gpu_grid_is_sized_by_occupancy(batch_window):
    """The grid is what the driver says fits at once; the register-count
    estimate (the fallback) agrees with the driver within one block."""
    rng = np.random.default_rng(0)
    tokens, offsets = _zipf_corpus(200_000, 1000, rng)
    plan = _plan(tokens, offsets, 1000, window=5, sample_size=5)
    w_in, w_out = _init(1000, 100, rng)
    with gt.GpuTrainer(plan, w_in, w_out, batch_window=batch_window) as trainer:
        b = trainer._b
        regs = b.kernel_attributes(trainer.options, "skw2v_train")["num_regs"]
        assert trainer.blocks_per_sm >= 1
        assert trainer.max_blocks == trainer.blocks_per_sm * b.multiprocessors
        assert abs(trainer.blocks_per_sm - gt.occupancy_blocks(regs, 256)) <= 1
        res = trainer.run_epoch(seed=1, lr_start=0.025, lr_end=0.025, progress_offset=0,
                                progress_total=len(tokens))
        assert res.words == len(tokens) and trainer.all_finite()


@pytest.mark.gpu
@pytest.mark.skipif("not _gpu_ok()", reason="needs CuPy and a CUDA device")
def test_gpu_close_returns_the_pool_to_the_device():
    import cupy

    pool = cupy.get_default_memory_pool()
    pool.free_all_blocks()
    before = pool.total_bytes()
    rng = np.random.default_rng(0)
    tokens, offsets = _zipf_corpus(100_000, 200_000, rng)
    plan = _plan(tokens, offsets, 200_000, window=2, sample_size=2)
    w = np.zeros((200_000, 100), np.float32)
    trainer = gt.GpuTrainer(plan, w, w)
    assert pool.total_bytes() - before >= 2 * w.nbytes
    trainer.close()
    assert pool.total_bytes() - before < w.nbytes // 10  # handed back, not kept in the pool
