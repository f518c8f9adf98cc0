"""skw2v: fast word2vec with negative sampling as a scikit-learn transformer."""

from ._check_build import check_build

check_build()  # an unbuilt source tree: one sentence saying what to do, not a traceback
del check_build

from ._config import show_config
from ._documents import LineCorpus
from ._estimator import Word2VecNS, load
from ._persist import ModelFileError
from ._version import __version__
from .phrases import Phrases

__all__ = ["LineCorpus", "ModelFileError", "Phrases", "Word2VecNS", "__version__", "load", "show_config"]
