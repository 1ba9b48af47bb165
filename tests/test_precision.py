"""The ``precision`` parameter: bfloat16 mixed precision of the training step."""

import numpy as np
import pytest
import torch
from conftest import ten_percent_labels
from sklearn.neighbors import KNeighborsClassifier

from skaae import AAEClassifier, AAEClusterer, AAETransformer

SMALL = dict(hidden_layer_sizes=(64,), random_state=0)


def _knn_accuracy(model, X, y):
    Z = model.transform(X)
    half = len(X) // 2
    knn = KNeighborsClassifier(5).fit(Z[:half], y[:half])
    return knn.score(Z[half:], y[half:])


@pytest.mark.parametrize("Estimator", [AAETransformer, AAEClassifier, AAEClusterer])
@pytest.mark.parametrize("precision", ["float16", "bf16", None, 32])
def test_invalid_precision(Estimator, precision, small_data, no_training):
    y = np.arange(len(small_data)) % 2
    with pytest.raises(ValueError, match="precision must be one of"):
        Estimator(precision=precision).fit(small_data, y)


def test_default_is_float32(small_data):
    aae = AAETransformer(max_iter=1, **SMALL).fit(small_data)
    assert aae.precision == "float32" and aae.precision_ == "float32"


def test_bfloat16_trains_as_well_and_repeats(digits):
    X, y = digits
    fits = {
        precision: AAETransformer(
            max_iter=15, device="cpu", precision=precision, **SMALL
        ).fit(X)
        for precision in ("float32", "bfloat16")
    }
    mixed = fits["bfloat16"]
    assert mixed.precision_ == "bfloat16"
    # The autocast step computes differently...
    assert not np.allclose(mixed.transform(X[:20]), fits["float32"].transform(X[:20]))
    # ...but as well (5-NN accuracy of 2-D codes, second half from the first:
    # float32 0.91, bfloat16 0.92 here).
    assert _knn_accuracy(mixed, X, y) > _knn_accuracy(fits["float32"], X, y) - 0.05
    # Master weights and optimiser moments stay float32.
    for opt in mixed._session._optimizers.values():
        for state in opt.state.values():
            assert state["exp_avg"].dtype == torch.float32
    # Same random_state, device and precision: identical results.
    again = AAETransformer(max_iter=15, device="cpu", precision="bfloat16", **SMALL)
    np.testing.assert_array_equal(again.fit(X).transform(X), mixed.transform(X))
    # Predictions run in float32 either way, returned in X's dtype.
    assert {p.dtype for p in mixed.module_.parameters()} == {torch.float32}
    assert mixed.transform(X[:3]).dtype == np.float64


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_bfloat16_classifier_and_clusterer(digits):
    X, y = digits
    y_partial = np.where(ten_percent_labels(y, 0), y, -1)
    clf = AAEClassifier(max_iter=5, precision="bfloat16", **SMALL).fit(X, y_partial)
    assert clf.precision_ == "bfloat16"
    assert clf.score(X, y) > 0.7
    proba = clf.predict_proba(X[:10])
    np.testing.assert_allclose(proba.sum(1), 1.0)
    clu = AAEClusterer(
        n_clusters=10, max_iter=3, n_init=1, precision="bfloat16", **SMALL
    )
    labels = clu.fit_predict(X)
    assert clu.precision_ == "bfloat16"
    assert len(np.unique(labels)) > 1


def test_warm_start_may_change_precision(small_data):
    aae = AAETransformer(max_iter=2, warm_start=True, precision="float32", **SMALL)
    aae.fit(small_data)
    aae.set_params(precision="bfloat16").fit(small_data)
    assert aae.precision_ == "bfloat16" and aae.n_iter_ == 4


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_bfloat16(digits):
    X, y = digits
    if not torch.cuda.is_bf16_supported():
        with pytest.raises(ValueError, match="does not support bfloat16"):
            AAETransformer(device="cuda", precision="bfloat16").fit(X)
        return
    fits = {
        precision: AAETransformer(
            max_iter=15, device="cuda", precision=precision, **SMALL
        ).fit(X)
        for precision in ("float32", "bfloat16")
    }
    assert fits["bfloat16"].precision_ == "bfloat16"
    accuracy = {name: _knn_accuracy(model, X, y) for name, model in fits.items()}
    assert accuracy["bfloat16"] > accuracy["float32"] - 0.05
