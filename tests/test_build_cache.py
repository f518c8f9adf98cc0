"""The build cache of _build_utils/ext_cache.py: what its key depends on."""

import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytest.importorskip("setuptools")  # absent from Python 3.12+ virtual environments
sys.path.insert(0, str(ROOT))
ext_cache = pytest.importorskip("_build_utils.ext_cache")
from setuptools import Distribution, Extension  # noqa: E402


def key(monkeypatch, **changes):
    cmd = ext_cache.CachedBuildExt(Distribution())
    cmd.compiler = SimpleNamespace(compiler_so=["gcc", "-O2"], linker_so=["gcc", "-shared"],
                                   compiler_type="unix")
    cmd.debug = 0
    spec = {"sources": [str(ROOT / "skw2v" / "_core.c")], "extra_compile_args": ["-O3"],
            "define_macros": [("A", "1")]}
    spec.update(changes.pop("ext", {}))
    for name, value in changes.items():
        monkeypatch.setenv(name, value)
    return cmd._cache_key(Extension("skw2v._core", **spec))


def test_the_generated_c_counts_through_its_pyx():
    files = ext_cache._files_beside([str(ROOT / "skw2v" / "_core.c")])
    names = {Path(f).name for f in files}
    assert {"_core.pyx", "_sgns.h", "setup.py", "ext_cache.py", "openmp.py"} <= names
    assert "_core.c" not in names  # Cython writes pip's temporary paths into it


def test_the_key_follows_flags_macros_and_environment(monkeypatch):
    base = key(monkeypatch)
    assert key(monkeypatch) == base
    assert key(monkeypatch, ext={"extra_compile_args": ["-O3", "-fopenmp"]}) != base
    assert key(monkeypatch, ext={"define_macros": [("SKW2V_USE_BLAS", "1")]}) != base
    assert key(monkeypatch, CFLAGS="-march=native") != base
