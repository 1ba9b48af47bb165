"""The shared backend with a categorical head (the semi-supervised model).

The estimators on top of it come in their own issues; these tests pin down
what the training loop does for them.
"""

import numpy as np
import pytest
import torch
from conftest import ten_percent_labels
from sklearn.linear_model import LogisticRegression

from skaae._model import AdversarialAutoencoder
from skaae._training import (
    CATEGORY_HISTORY_KEYS,
    CLASSIFICATION_KEY,
    HISTORY_KEYS,
    TrainingConfig,
    train,
)
from skaae.priors import GaussianPrior


def fit_semi_supervised(X, labels, *, max_iter, seed=0, **config_params):
    torch.manual_seed(seed)
    model = AdversarialAutoencoder(
        X.shape[1], 2, (256, 256), (256, 256), n_categories=10
    )
    config = TrainingConfig(
        max_iter=max_iter,
        batch_size=100,
        learning_rate=1e-3,
        **{"regularization_learning_rate": 2e-4, **config_params},
    )
    history = train(
        model,
        torch.tensor(X, dtype=torch.float32),
        prior=GaussianPrior(2),
        prior_labels=None,
        conditions=None,
        config=config,
        rng=np.random.RandomState(seed),
        labels=torch.tensor(labels),
    )
    return model, history


def test_semi_supervised_head_beats_logistic_regression(digits):
    X, y = digits
    labelled = ten_percent_labels(y, seed=0)
    # A classification step faster than the reconstruction one keeps the head
    # anchored to the labels: with 1e-3, seed 0 of six collapsed to 0.66.
    model, history = fit_semi_supervised(
        X, np.where(labelled, y, -1), max_iter=100, classification_learning_rate=3e-3
    )

    expected = set(HISTORY_KEYS) | set(CATEGORY_HISTORY_KEYS) | {CLASSIFICATION_KEY}
    assert set(history) == expected
    proba = model.predict_proba(torch.tensor(X, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)

    accuracy = np.mean(proba.argmax(axis=1)[~labelled] == y[~labelled])
    baseline = (
        LogisticRegression(max_iter=2000)
        .fit(X[labelled], y[labelled])
        .score(X[~labelled], y[~labelled])
    )
    # Measured over seeds 0-5: 0.919-0.972, logistic regression 0.90-0.93.
    assert accuracy > baseline
    # The categorical head is pushed towards one-hot vectors by its critic.
    assert np.median(proba.max(axis=1)) > 0.9


def test_decoder_reads_known_labels(digits):
    X, y = digits
    model, _ = fit_semi_supervised(
        X[:300], y[:300], max_iter=3, decode_known_labels=True
    )
    z = torch.zeros(1, 2)
    decoded = [
        model.decode(model.decoder_input(z, torch.eye(10)[[k]])) for k in range(10)
    ]
    # One style, ten labels: the decoder output depends on the label.
    assert all(not torch.allclose(decoded[0], d) for d in decoded[1:])


@pytest.mark.parametrize("encoder", ["deterministic", "gaussian", "universal"])
def test_every_encoder_has_a_categorical_head(encoder):
    model = AdversarialAutoencoder(5, 3, (8,), (8,), encoder=encoder, n_categories=4)
    z, logits = model.encoder(torch.rand(6, 5))
    assert z.shape == (6, 3) and logits.shape == (6, 4)
    assert model.predict_proba(torch.rand(6, 5)).shape == (6, 4)


@pytest.mark.parametrize("p", [0.1, 0.2, 0.5])
def test_dropout_drops_its_share_and_keeps_the_mean(p):
    from skaae._networks import Dropout

    layer = Dropout(p)
    x = torch.ones(500, 400, requires_grad=True)
    out = layer(x)
    dropped = (out == 0).double().mean().item()
    # 200,000 draws: the share's standard deviation is below 0.0012.
    assert dropped == pytest.approx(p, abs=0.005)
    assert out.mean().item() == pytest.approx(1.0, abs=0.01)
    kept = out != 0
    assert torch.allclose(out[kept], torch.tensor(1 / (1 - p)), rtol=1e-4)
    out.sum().backward()
    assert torch.equal(x.grad, out.detach())  # the gradient sees the same mask
    # Rows and columns are masked independently: no lane pattern.
    assert (out == 0).double().mean(0).std().item() < 0.1
    torch.manual_seed(3)
    first = layer(torch.ones(7, 5))
    torch.manual_seed(3)
    assert torch.equal(first, layer(torch.ones(7, 5)))
    layer.eval()
    assert torch.equal(layer(x), x)
