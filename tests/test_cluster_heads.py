"""AAETransformer(n_clusters=k): the cluster-head representation W_C y + z."""

import numpy as np
import pytest
from conftest import ten_percent_labels
from sklearn.decomposition import PCA
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier

from skaae import AAETransformer


def knn_accuracy(Z, y):
    return cross_val_score(KNeighborsClassifier(5), Z, y, cv=5).mean()


def nearest_head(Z, heads):
    return np.argmin(((Z[:, None, :] - heads[None]) ** 2).sum(-1), axis=1)


@pytest.fixture(scope="module")
def unsupervised(digits):
    X, _ = digits
    return AAETransformer(n_clusters=10, random_state=0).fit(X)


@pytest.fixture(scope="module")
def semi_supervised(digits):
    X, y = digits
    labelled = ten_percent_labels(y, seed=0)
    y_partial = np.where(labelled, y, -1)
    model = AAETransformer(n_clusters=10, dropout=0.2, random_state=0)
    return model.fit(X, y_partial), labelled


def test_heads_are_spread_apart(unsupervised):
    heads = unsupervised.cluster_heads_
    assert heads.shape == (10, 2)
    gaps = np.linalg.norm(heads[:, None] - heads[None], axis=-1)[np.triu_indices(10, 1)]
    # The paper's penalty pushes apart every two heads closer than the threshold.
    assert gaps.min() > 0.95 * unsupervised.cluster_head_distance


def test_unsupervised_map_beats_pca(digits, unsupervised):
    X, y = digits
    Z = unsupervised.transform(X)
    assert Z.shape == (len(X), 2)
    aae = knn_accuracy(Z, y)
    pca = knn_accuracy(PCA(2).fit_transform(X), y)
    print(f"5-NN on the 2-D map: cluster heads {aae:.3f}, PCA {pca:.3f}")
    # Measured: 0.870 (seed 0), 0.888 (seed 1); PCA 0.603.
    assert aae > pca + 0.15
    # Codes sit near the heads: most heads gather samples.
    assert len(np.unique(nearest_head(Z, unsupervised.cluster_heads_))) >= 8


def test_semi_supervised_classes_land_on_their_heads(digits, semi_supervised):
    X, y = digits
    model, labelled = semi_supervised
    np.testing.assert_array_equal(model.classes_, np.arange(10))
    Z = model.transform(X)
    head = nearest_head(Z, model.cluster_heads_)
    on_own_head = np.mean(head[~labelled] == y[~labelled])
    aae = knn_accuracy(Z, y)
    pca = knn_accuracy(PCA(2).fit_transform(X), y)
    print(
        f"unlabelled samples on their class's head: {on_own_head:.3f}; 5-NN on "
        f"the map {aae:.3f}, PCA {pca:.3f}"
    )
    # Measured: 0.933-0.960 on the head (two seeds), 5-NN 0.94-0.96.
    assert on_own_head > 0.9
    assert aae > 0.9
    assert "classification" in model.history_


def test_sampling_a_class_draws_from_its_head(semi_supervised):
    model, _ = semi_supervised
    wanted = np.repeat(np.arange(10), 20)
    samples = model.sample(len(wanted), y=wanted, random_state=0)
    head = nearest_head(model.transform(samples), model.cluster_heads_)
    assert np.mean(head == wanted) > 0.8


def test_too_few_clusters_for_the_classes_warns(small_data):
    y = np.arange(len(small_data)) % 3
    model = AAETransformer(n_clusters=2, max_iter=2, hidden_layer_sizes=(8,))
    with pytest.warns(UserWarning, match="y is ignored"):
        model.fit(small_data, y)
    assert model.classes_ is None
    assert model.cluster_heads_.shape == (2, 2)


@pytest.mark.parametrize(
    "params, message",
    [
        (dict(n_clusters=0), "n_clusters"),
        (dict(n_clusters=3, cluster_head_distance=-1.0), "cluster_head_distance"),
        (dict(n_clusters=3, balance_weight=-1.0), "balance_weight"),
    ],
)
def test_bad_parameters(no_training, small_data, params, message):
    with pytest.raises((ValueError, TypeError), match=message):
        AAETransformer(**params).fit(small_data)
