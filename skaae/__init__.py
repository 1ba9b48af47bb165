"""skaae: Adversarial Autoencoders for scikit-learn."""

from . import metrics, priors
from ._classifier import AAEClassifier
from ._clusterer import AAEClusterer
from ._transformer import AAETransformer

__version__ = "0.1.0"

__all__ = [
    "AAEClassifier",
    "AAEClusterer",
    "AAETransformer",
    "metrics",
    "priors",
    "__version__",
]
