"""skw2v: fast word2vec with negative sampling as a scikit-learn transformer."""

from ._config import show_config
from ._corpus import LineCorpus
from ._estimator import Word2VecNS
from ._persist import ModelFileError, load
from ._version import __version__
from .phrases import Phrases

__all__ = ["LineCorpus", "ModelFileError", "Phrases", "Word2VecNS", "__version__", "load", "show_config"]
