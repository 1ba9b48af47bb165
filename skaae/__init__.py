"""skaae: Adversarial Autoencoders for scikit-learn."""

from . import metrics, priors
from ._transformer import AAETransformer

__version__ = "0.1.0"

__all__ = ["AAETransformer", "metrics", "priors", "__version__"]
