"""The kernel runs the best SIMD clone the CPU supports, chosen by features.

The expected clone is derived here from the CPU's feature flags as the
operating system reports them (/proc/cpuinfo), independently of the
kernel's own cpuid check, so a dispatch that picks by CPU model (as GCC's
``target_clones("arch=haswell")`` does, which gave AMD processors the
baseline) fails this test.
"""

import os
import platform
import subprocess
import sys

import numpy as np
import pytest

from skw2v import Word2VecNS, _core
from skw2v._config import config

V3 = {"avx2", "fma"}
V4 = V3 | {"avx512f", "avx512vl", "avx512bw", "avx512dq"}


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return None


def expected_clone():
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return "baseline"
    flags = cpu_flags()
    if flags is None:
        pytest.skip("no /proc/cpuinfo to read the CPU's features from")
    if "x86-64-v4" in _core.SIMD_CLONES and V4 <= flags:
        return "x86-64-v4"
    if "x86-64-v3" in _core.SIMD_CLONES and V3 <= flags:
        return "x86-64-v3"
    return "baseline"


@pytest.fixture
def restore_clone():
    before = _core.simd_clone()
    yield
    _core.select_simd(before)


def test_x86_builds_have_every_clone():
    if platform.machine().lower() not in ("x86_64", "amd64") or _core.USES_BLAS:
        pytest.skip("clones are built on x86-64 with the fused kernel")
    if sys.platform == "win32":
        pytest.skip("MSVC builds use the BLAS kernel")
    assert _core.SIMD_CLONES == ("baseline", "x86-64-v3", "x86-64-v4")


def test_the_best_supported_clone_is_chosen():
    # A fresh interpreter, so no other test's select_simd() is in effect.
    env = {k: v for k, v in os.environ.items() if k != "SKW2V_SIMD"}
    out = subprocess.run(
        [sys.executable, "-c", "from skw2v import _core; print(_core.simd_clone())"],
        capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == expected_clone()
    assert expected_clone() in _core.usable_simd_clones()


def test_show_config_names_the_clone(capsys):
    import skw2v
    skw2v.show_config()
    line = [x for x in capsys.readouterr().out.splitlines() if x.startswith("SIMD clone:")]
    assert line and line[0].split()[2] == _core.simd_clone()
    assert config()["simd_clone"] == _core.simd_clone()


def test_environment_variable_forces_a_clone_and_rejects_bad_names():
    code = "from skw2v import _core; print(_core.simd_clone())"
    env = dict(os.environ, SKW2V_SIMD="baseline")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True)
    assert out.stdout.strip() == "baseline"
    env["SKW2V_SIMD"] = "pentium-pro"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True)
    assert out.stdout.strip() == expected_clone()
    assert "unknown clone 'pentium-pro'" in out.stderr


def test_select_simd_validates(restore_clone):
    with pytest.raises(ValueError, match="unknown clone 'avx9000'"):
        _core.select_simd("avx9000")
    unusable = [c for c in _core.SIMD_CLONES if c not in _core.usable_simd_clones()]
    for name in unusable:
        with pytest.raises(ValueError, match="cannot run on this CPU"):
            _core.select_simd(name)
    assert _core.select_simd("best") == expected_clone()


def _train(docs, architecture, loss):
    return Word2VecNS(vector_size=20, architecture=architecture, loss=loss, min_count=1,
                      epochs=2, n_jobs=1, random_state=0).fit(docs).vectors_


@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
@pytest.mark.parametrize("loss", ["negative_sampling", "nce"])
def test_every_usable_clone_trains_the_same_model(restore_clone, architecture, loss):
    # Clones differ only in rounding (FMA, summation order), and each is
    # bitwise reproducible by itself.
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(40)]
    docs = [list(rng.choice(words, size=12)) for _ in range(150)]
    results = {}
    for name in _core.usable_simd_clones():
        _core.select_simd(name)
        results[name] = _train(docs, architecture, loss)
        np.testing.assert_array_equal(_train(docs, architecture, loss), results[name])
    reference = results["baseline"]
    for name, vectors in results.items():
        np.testing.assert_allclose(vectors, reference, rtol=0, atol=2e-5, err_msg=name)


def test_avx512_clone_runs_the_avx2_per_pair_and_cbow_kernels(capsys):
    # A choice made by measurement (_sgns.h; benchmarks/RESULTS.md section 0): the
    # fused per-pair and CBOW kernels of the x86-64-v4 clone are compiled for AVX2,
    # which ran them faster than an AVX-512 build of the same loops on Zen 5; the
    # window-batched micro-kernels stay AVX-512. show_config says so.
    if platform.machine().lower() not in ("x86_64", "amd64") or _core.USES_BLAS:
        pytest.skip("clones are built on x86-64 with the fused kernel")
    if sys.platform == "win32":
        pytest.skip("MSVC builds use the BLAS kernel")
    assert _core.SIMD_FUSED_ISA == ("baseline", "x86-64-v3", "x86-64-v3")
    import skw2v
    skw2v.show_config()
    line = [x for x in capsys.readouterr().out.splitlines() if x.startswith("SIMD clone:")][0]
    assert ("per-pair and CBOW loops: x86-64-v3 code" in line) == (
        _core.simd_clone() == "x86-64-v4")


@pytest.mark.parametrize("architecture", ["skipgram", "cbow"])
@pytest.mark.parametrize("loss", ["negative_sampling", "nce"])
def test_avx512_and_avx2_clones_train_per_pair_and_cbow_alike(restore_clone, architecture,
                                                              loss):
    # Same code for these kernels in both clones (above), so the same bits.
    usable = _core.usable_simd_clones()
    if "x86-64-v4" not in usable:
        pytest.skip("this CPU cannot run the x86-64-v4 clone")
    rng = np.random.default_rng(1)
    words = [f"w{i}" for i in range(60)]
    docs = [list(rng.choice(words, size=int(rng.integers(1, 20)))) for _ in range(200)]
    vectors = {}
    for name in ("x86-64-v3", "x86-64-v4"):
        _core.select_simd(name)
        # per pair: the window-batched skip-gram update is AVX-512 code in the v4 clone
        vectors[name] = Word2VecNS(vector_size=20, architecture=architecture, loss=loss,
                                   batch_window=False, min_count=1, epochs=2, n_jobs=1,
                                   random_state=0).fit(docs).vectors_
    np.testing.assert_array_equal(vectors["x86-64-v4"], vectors["x86-64-v3"])
