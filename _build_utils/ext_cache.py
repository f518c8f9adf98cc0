"""A ``build_ext`` that compiles each extension once per checkout.

``pip install -e .`` builds in a fresh temporary folder every time, so
installing a second set of extras (``pip install -e ".[test]"`` after
``pip install -e ".[plot]"``) would compile the three extensions again
(minutes). This command keeps every built extension in
``build/ext-cache/`` under a key made of everything that decides the
binary: the Cython sources, every header and ``.pxd`` beside them, the
Cython version, the build scripts, the compiler command, the compile and link flags (so the
OpenMP probe's outcome), the macros, the Python and NumPy versions and the
compiler environment variables. A later build with the same key copies the
cached file instead of compiling; any difference compiles afresh.
``SKW2V_NO_BUILD_CACHE=1`` turns the cache off.
"""

import hashlib
import json
import os
import shutil
import sys
import sysconfig

from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE_DIR = os.path.join(ROOT, "build", "ext-cache")
ENV_VARS = ("CC", "CXX", "CFLAGS", "CPPFLAGS", "LDFLAGS", "LDSHARED", "ARCHFLAGS",
            "SKW2V_NO_OPENMP", "SKW2V_USE_BLAS", "SKW2V_DEBUG_CYTHON", "SKW2V_SANITIZE",
            "SKW2V_SIMD")


def _digest(paths):
    h = hashlib.sha256()
    for path in sorted(paths):
        h.update(os.path.relpath(path, ROOT).encode())
        with open(path, "rb") as f:
            h.update(hashlib.sha256(f.read()).digest())
    return h.hexdigest()


def _files_beside(sources):
    """The sources, the headers and .pxd files in their folders, and the build scripts.

    A C file generated from a ``.pyx`` counts through the ``.pyx`` and the
    Cython version: Cython writes the path of each cimported ``.pxd`` into
    the C file, and pip's build environment lives in a new temporary folder
    every time.
    """
    found = {os.path.splitext(s)[0] + ".pyx"
             if os.path.isfile(os.path.splitext(s)[0] + ".pyx") else s for s in sources}
    for folder in {os.path.dirname(os.path.abspath(s)) for s in sources}:
        found.update(os.path.join(folder, n) for n in os.listdir(folder)
                     if n.endswith((".h", ".pxd", ".pyx")))
    here = os.path.dirname(os.path.abspath(__file__))
    found.update(os.path.join(here, n) for n in os.listdir(here) if n.endswith(".py"))
    found.add(os.path.join(ROOT, "setup.py"))
    return [p for p in found if os.path.isfile(p)]


class CachedBuildExt(build_ext):
    def _cache_key(self, ext):
        import numpy

        try:
            from Cython import __version__ as cython_version
        except ImportError:  # building from C files alone
            cython_version = None

        compiler = self.compiler
        description = {
            "name": ext.name,
            "files": _digest(_files_beside(ext.sources + list(ext.depends))),
            "compiler": [getattr(compiler, attr, None)
                         for attr in ("compiler_so", "linker_so", "compiler_type")],
            "compile_args": ext.extra_compile_args,
            "link_args": ext.extra_link_args,
            "macros": ext.define_macros,
            "undef": ext.undef_macros,
            "libraries": ext.libraries,
            "debug": self.debug,
            "python": sys.version,
            "ext_suffix": sysconfig.get_config_var("EXT_SUFFIX"),
            "numpy": numpy.__version__,
            "cython": cython_version,
            "env": {k: os.environ.get(k) for k in ENV_VARS},
        }
        text = json.dumps(description, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    def build_extension(self, ext):
        if os.environ.get("SKW2V_NO_BUILD_CACHE", "0") not in ("", "0") or self.force:
            return super().build_extension(ext)
        target = self.get_ext_fullpath(ext.name)
        cached = os.path.join(CACHE_DIR, f"{ext.name}.{self._cache_key(ext)}"
                              f"{os.path.splitext(target)[1]}")
        if os.path.isfile(cached):
            os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
            shutil.copy2(cached, target)
            print(f"skw2v build: {ext.name} unchanged, reused "
                  f"{os.path.relpath(cached, ROOT)} (SKW2V_NO_BUILD_CACHE=1 rebuilds)",
                  file=sys.stderr, flush=True)
            return None
        before = os.stat(target).st_mtime_ns if os.path.exists(target) else None
        super().build_extension(ext)
        if before is not None and os.stat(target).st_mtime_ns == before:
            return None  # distutils found it up to date and did not compile: flags unknown
        try:  # the cache is an optimisation: a read-only checkout still builds
            os.makedirs(CACHE_DIR, exist_ok=True)
            for old in os.listdir(CACHE_DIR):  # one entry per extension: bounded size
                if old.startswith(ext.name + "."):
                    os.remove(os.path.join(CACHE_DIR, old))
            tmp = f"{cached}.tmp{os.getpid()}"
            shutil.copy2(target, tmp)
            os.replace(tmp, cached)
        except OSError:
            pass
        return None
