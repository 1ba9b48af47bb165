import numpy as np
import pytest
from sklearn.datasets import load_digits


@pytest.fixture(scope="session")
def digits():
    """Digits scaled to [0, 1], with labels."""
    X, y = load_digits(return_X_y=True)
    return X / 16.0, y


@pytest.fixture(scope="session")
def small_data():
    """A small random data set for fast API tests."""
    rng = np.random.RandomState(0)
    return rng.uniform(size=(60, 5))


def ten_percent_labels(y, seed):
    """Mask keeping a tenth of each class's samples, chosen by ``seed``."""
    rng = np.random.RandomState(seed)
    labelled = np.zeros(len(y), dtype=bool)
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        labelled[rng.choice(members, len(members) // 10, replace=False)] = True
    return labelled


@pytest.fixture
def no_training(monkeypatch):
    """Fail the test if training starts: errors must come before it."""
    import skaae._base

    def fail(*args, **kwargs):
        raise AssertionError("training started despite invalid input")

    monkeypatch.setattr(skaae._base.TrainingSession, "run", fail)
