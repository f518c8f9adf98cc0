"""A CPU emulation of the CUDA kernels in ``skw2v/_cuda/sgns.cu``.

The real ``sgns.cu`` is compiled as C++ with a small shim that runs each warp
as 32 coroutines in lock step: shuffles, ballots and ``__match_any_sync``
exchange through a barrier, and a lane that skips one (while others wait at
it) is reported as divergence. Warps run one after another, so atomics are
plain read-modify-writes. ``EmulatedBackend`` gives the host driver
(``skw2v._cuda._train.GpuTrainer``) the backend interface on NumPy arrays, so
the driver runs unchanged against the emulated kernels: the tests check the
kernels' index arithmetic, windows, subsampling, learning rate and updates
against the CPU kernel and a float64 reference without a GPU, and
``tools/gpu_acceptance.sh`` dry-runs against it (``SKW2V_GPU_EMULATE=1``).

Used by tests/test_gpu.py, tools/gpu_sweep.py and benchmarks/bench_gpu.py;
needs g++ (``have_compiler()``).
"""

import ctypes
import hashlib
import shutil
import subprocess
from pathlib import Path

import numpy as np

from skw2v import _cuda
from skw2v._cuda import _train as gt

CUDA_DIR = Path(_cuda.__file__).resolve().parent

_SHIM = r"""
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <ucontext.h>
#include <functional>
#include <vector>

#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __launch_bounds__(...)

struct skw2v_emu_dim3 { unsigned x = 0, y = 1, z = 1; };
static skw2v_emu_dim3 threadIdx, blockIdx, blockDim, gridDim;
struct alignas(16) float4 { float x, y, z, w; };

// The 32 lanes of a warp are coroutines on one thread: each runs until its
// next warp-wide operation (or its end), then the next lane runs; the
// operation completes when every lane has reached it. Lanes that finish while
// others wait are reported as divergence.
enum { EMU_READY = 0, EMU_AT_SHUFFLE = 1, EMU_DONE = 2 };
static ucontext_t emu_main, emu_lane[32];
static int emu_state[32];
static int emu_current;
static int emu_trapped;
static const std::function<void()>* emu_body;
static uint64_t emu_slots[32];

static void emu_arrive() {
    emu_state[emu_current] = EMU_AT_SHUFFLE;
    swapcontext(&emu_lane[emu_current], &emu_main);
}

static void emu_lane_entry() {
    (*emu_body)();
    emu_state[emu_current] = EMU_DONE;  // returns to emu_main through uc_link
}

// Every lane publishes v; returns all 32 values (after everyone has read).
template <class T> static void emu_gather(T v, T* all) {
    const int lane = (int)(threadIdx.x & 31);
    uint64_t bits = 0;
    memcpy(&bits, &v, sizeof(T));
    emu_slots[lane] = bits;
    emu_arrive();
    for (int l = 0; l < 32; ++l) memcpy(&all[l], &emu_slots[l], sizeof(T));
    emu_arrive();  // nobody overwrites a slot before everyone has read
}
template <class T> static T emu_exchange(T v, int src) {
    T all[32];
    emu_gather(v, all);
    return all[src & 31];
}
template <class T> static T __shfl_xor_sync(unsigned, T v, int m) {
    return emu_exchange(v, (int)(threadIdx.x & 31) ^ m);
}
template <class T> static T __shfl_sync(unsigned, T v, int src) { return emu_exchange(v, src); }
static unsigned __ballot_sync(unsigned, int pred) {
    int all[32];
    emu_gather(pred ? 1 : 0, all);
    unsigned m = 0;
    for (int l = 0; l < 32; ++l) m |= (all[l] ? 1u : 0u) << l;
    return m;
}
template <class T> static unsigned __match_any_sync(unsigned, T v) {
    T all[32];
    emu_gather(v, all);
    unsigned m = 0;
    for (int l = 0; l < 32; ++l) m |= (all[l] == v ? 1u : 0u) << l;
    return m;
}
static int __ffs(int x) { return __builtin_ffs(x); }
static int __popc(unsigned x) { return __builtin_popcount(x); }
// Warps run one at a time: a read-modify-write is atomic. Float atomics are
// counted (memory traffic of the row updates, see emu_float_atomics).
static unsigned long long emu_n_atomics[2];  // scalar, float4
extern "C" unsigned long long emu_float_atomics(int vector) { return emu_n_atomics[vector]; }
static float atomicAdd(float* p, float v) {
    ++emu_n_atomics[0];
    const float old = *p; *p = old + v; return old;
}
static unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) {
    const unsigned long long old = *p; *p = old + v; return old;
}
static float4 atomicAdd(float4* p, float4 v) {
    ++emu_n_atomics[1];
    const float4 old = *p;
    p->x += v.x; p->y += v.y; p->z += v.z; p->w += v.w;
    return old;
}
static void __trap() {
    emu_trapped = 1;
    emu_state[emu_current] = EMU_DONE;
    swapcontext(&emu_lane[emu_current], &emu_main);  // never resumed
}

static int emu_launch(unsigned grid, unsigned block, const std::function<void()>& body) {
    const size_t stack_size = 1 << 18;
    std::vector<std::vector<char>> stacks(32, std::vector<char>(stack_size));
    gridDim.x = grid;
    blockDim.x = block;
    emu_body = &body;
    emu_trapped = 0;
    for (unsigned b = 0; b < grid; ++b) {
        for (unsigned wi = 0; wi < block / 32; ++wi) {
            for (int l = 0; l < 32; ++l) {
                getcontext(&emu_lane[l]);
                emu_lane[l].uc_stack.ss_sp = stacks[l].data();
                emu_lane[l].uc_stack.ss_size = stack_size;
                emu_lane[l].uc_link = &emu_main;
                makecontext(&emu_lane[l], emu_lane_entry, 0);
                emu_state[l] = EMU_READY;
            }
            for (;;) {
                for (int l = 0; l < 32; ++l) {
                    if (emu_state[l] == EMU_DONE) continue;
                    emu_state[l] = EMU_READY;
                    emu_current = l;
                    blockIdx.x = b;
                    threadIdx.x = wi * 32 + l;
                    swapcontext(&emu_main, &emu_lane[l]);
                    if (emu_trapped) return 2;
                }
                int waiting = 0, done = 0;
                for (int l = 0; l < 32; ++l) {
                    waiting += emu_state[l] == EMU_AT_SHUFFLE;
                    done += emu_state[l] == EMU_DONE;
                }
                if (done == 32) break;
                if (waiting != 32) return 1;
            }
        }
    }
    return 0;
}

#include "sgns.cu"
"""

_CTYPES = {"int": ctypes.c_int32, "float": ctypes.c_float, "double": ctypes.c_double,
           "unsigned char": ctypes.c_uint8, "skw2v_i64": ctypes.c_int64,
           "skw2v_u64": ctypes.c_uint64, "skw2v_u32": ctypes.c_uint32}
KERNELS = ("skw2v_train", "skw2v_keep_flags")


def have_compiler():
    return shutil.which("g++") is not None


def _wrappers(source):
    out = []
    for name in KERNELS:
        sig = gt.kernel_signature(source, name)
        decl = ", ".join(f"{'const ' if p.const else ''}{p.ctype}{'*' if p.pointer else ''} "
                         f"{p.name}" for p in sig)
        call = ", ".join(p.name for p in sig)
        out.append(f'extern "C" int emu_{name}(unsigned grid, unsigned block, {decl}) '
                   f"{{ return emu_launch(grid, block, [&] {{ {name}({call}); }}); }}")
    return "\n".join(out)


def build_emulator(build_dir, options, extra_defines=()):
    """Compile sgns.cu with the driver's -D options (plus extra_defines) into a
    shared library in build_dir (cached by content); returns the ctypes handle."""
    defines = [o for o in options if o.startswith("-D")] + list(extra_defines)
    code = _SHIM + _wrappers(gt.kernel_source())
    digest = hashlib.sha1((code + repr(defines)).encode()).hexdigest()[:16]
    lib_path = Path(build_dir) / f"emu_{digest}.so"
    if not lib_path.exists():
        cpp = Path(build_dir) / f"emu_{digest}.cpp"
        cpp.write_text(code)
        tmp = lib_path.with_suffix(".tmp.so")
        cmd = ["g++", "-std=c++17", "-O1", "-fPIC", "-shared", "-fno-strict-aliasing",
               *defines, f"-I{CUDA_DIR}", str(cpp), "-o", str(tmp)]
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            raise RuntimeError(f"emulator build failed:\n{proc.stderr}")
        tmp.replace(lib_path)  # atomic: a concurrent build never sees half a file
    return ctypes.CDLL(str(lib_path))


class EmulatedBackend:
    """The driver's backend interface on NumPy arrays and the emulated kernels.

    ``multiprocessors`` and ``blocks_per_sm`` stand in for the device's, so
    the driver sizes its grid as on a GPU (max_blocks = their product);
    ``extra_defines`` go to the emulator's compiler (e.g.
    ``-DSKW2V_VECTOR_ATOMICS=1`` runs the sm_90 float4-atomic code).
    """

    xp = np

    def __init__(self, build_dir, max_blocks=2, *, blocks_per_sm=1, extra_defines=()):
        self.build_dir = Path(build_dir)
        self.multiprocessors = max_blocks
        self.max_blocks = max_blocks
        self._blocks_per_sm = blocks_per_sm
        self.extra_defines = tuple(extra_defines)
        self._libs = {}
        self.launches = []  # (kernel, grid, block) of every launch
        self.released = 0   # calls of release()

    def is_device_array(self, a):
        return False

    def to_device(self, a, dtype):
        return np.array(a, dtype=dtype, order="C", copy=True)

    def to_host(self, a):
        return np.array(a, copy=True)

    def pointer(self, a):
        return a.ctypes.data

    def free_bytes(self):
        return None

    def synchronize(self):
        pass

    def release(self):
        self.released += 1

    def float_atomics(self):
        """(scalar, float4) atomic adds on floats so far, over this backend's
        modules (a module's counters are per process: compare differences)."""
        counts = [0, 0]
        for lib in self._libs.values():
            fn = lib.emu_float_atomics
            fn.restype = ctypes.c_ulonglong
            fn.argtypes = [ctypes.c_int]
            counts[0] += fn(0)
            counts[1] += fn(1)
        return tuple(counts)

    def blocks_per_sm(self, options, name, threads_per_block):
        return self._blocks_per_sm

    def _library(self, options):
        key = tuple(options)
        if key not in self._libs:
            self._libs[key] = build_emulator(self.build_dir, options, self.extra_defines)
        return self._libs[key]

    def function(self, options, name):
        lib = self._library(options)
        sig = gt.kernel_signature(gt.kernel_source(), name)
        fn = getattr(lib, f"emu_{name}")
        fn.restype = ctypes.c_int
        fn.argtypes = [ctypes.c_uint, ctypes.c_uint] + [
            ctypes.c_void_p if p.pointer else _CTYPES[p.ctype] for p in sig]
        threads = int(next(o for o in options if o.startswith("-DSKW2V_THREADS="))
                      .split("=")[1])
        vec4 = "-DSKW2V_VEC=4" in options

        def launch(grid, block, args):
            assert block == threads and block % 32 == 0
            values = []
            for p, a in zip(sig, args, strict=True):
                if p.pointer:
                    assert isinstance(a, np.ndarray) and a.dtype == p.dtype
                    if a.dtype == np.float32 and vec4:
                        assert a.ctypes.data % 16 == 0  # float4 loads
                    values.append(a.ctypes.data)
                else:
                    assert type(a) is p.dtype.type, (p.name, type(a))
                    values.append(a.item())
            self.launches.append((name, grid, block))
            rc = fn(grid, block, *values)
            if rc == 1:
                raise AssertionError(f"{name}: lanes of a warp diverged around a shuffle")
            if rc == 2:
                raise RuntimeError(f"{name}: the kernel trapped (module/argument mismatch)")

        return launch
