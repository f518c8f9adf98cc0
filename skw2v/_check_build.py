"""Say in one sentence what to do when skw2v is imported from an unbuilt source tree
(as scikit-learn's ``__check_build`` and NumPy do), instead of a traceback ending in
``ModuleNotFoundError: No module named 'skw2v._core'``."""

import os

_EXTENSIONS = ("_core", "_losses", "_openmp_helpers", "_topk")


def check_build():
    """Import the compiled extensions; ImportError with the fix if they are not built."""
    import importlib

    for name in _EXTENSIONS:
        try:
            importlib.import_module(f"skw2v.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"skw2v.{name}":
                raise  # something the extension needs is missing: its own message says what
            package = os.path.dirname(os.path.abspath(__file__))
            raise ImportError(
                f"skw2v's compiled extensions are not built: there is no skw2v.{name} in "
                f"{package}; if this is the skw2v source tree, build them with "
                f"`pip install -e .` or `python setup.py build_ext --inplace` in "
                f"{os.path.dirname(package)}, or start Python outside it to use an "
                "installed skw2v"
            ) from None
