"""Steering a fit: warm_start, partial_fit, early stopping, interruption,
sparse input (issue 10)."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.compose import make_column_transformer
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder
from sklearn.utils.validation import check_is_fitted

from skaae import AAEClassifier, AAEClusterer, AAETransformer
from skaae._model import AdversarialAutoencoder
from skaae._training import (
    VALIDATION_NEIGHBOR_RECALL_KEY,
    VALIDATION_RECONSTRUCTION_KEY,
    TrainingConfig,
    TrainingSession,
)
from skaae.priors import GaussianPrior

FAST = dict(max_iter=3, hidden_layer_sizes=(16,), random_state=0)


# -- warm_start ---------------------------------------------------------------
def test_warm_start_continues_training(digits):
    X = digits[0][:300]
    cold = AAETransformer(**FAST).fit(X)
    warm = AAETransformer(**FAST, warm_start=True).fit(X)
    first_history = warm.history_["reconstruction"].copy()
    warm.fit(X)
    assert warm.n_iter_ == 6
    assert warm.history_["reconstruction"].shape == (6,)
    np.testing.assert_array_equal(warm.history_["reconstruction"][:3], first_history)
    # It went on from the fitted networks: its fourth epoch is no worse than
    # the third, where a fresh start begins far above both.
    assert warm.history_["reconstruction"][3] < cold.history_["reconstruction"][0]
    assert warm.history_["reconstruction"][3] <= first_history[-1] * 1.1
    # Without warm_start, fit starts over.
    cold.fit(X)
    assert cold.n_iter_ == 3


def test_warm_start_keeps_optimizer_state(digits):
    X = digits[0][:200]
    aae = AAETransformer(**FAST, warm_start=True).fit(X)
    states = aae._session._optimizers["autoencoder"].state
    steps_before = {id(p): float(s["step"]) for p, s in states.items()}
    aae.fit(X)
    steps_after = {id(p): float(s["step"]) for p, s in states.items()}
    # Adam's step counts go on (2 batches of 100 per epoch, 3 more epochs).
    assert all(steps_after[k] == steps_before[k] + 6 for k in steps_before)


def test_warm_start_rejects_a_changed_architecture(digits):
    X = digits[0][:200]
    aae = AAETransformer(**FAST, warm_start=True).fit(X)
    codes = aae.transform(X)
    aae.set_params(hidden_layer_sizes=(8,))
    with pytest.raises(ValueError, match="hidden_layer_sizes is now"):
        aae.fit(X)
    # A call that fails its checks leaves the fitted model as it was.
    np.testing.assert_array_equal(aae.transform(X), codes)
    aae.set_params(hidden_layer_sizes=(16,))
    with pytest.raises(ValueError, match="features"):
        aae.fit(X[:, :10])
    np.testing.assert_array_equal(aae.transform(X), codes)


def test_warm_start_survives_pickling(digits):
    X = digits[0][:300]
    a = AAETransformer(**FAST, warm_start=True).fit(X)
    b = pickle.loads(pickle.dumps(a))
    np.testing.assert_array_equal(b.transform(X), a.transform(X))
    a.fit(X)
    b.fit(X)
    # The loaded model continues its epochs and history; only the optimisers'
    # moment estimates start afresh (they are not stored).
    assert b.n_iter_ == 6
    np.testing.assert_array_equal(
        b.history_["reconstruction"][:3], a.history_["reconstruction"][:3]
    )
    assert b.score(X) > 1.1 * a.score(X)  # minus losses: within 10 %


def test_warm_start_clusterer_trains_one_model(digits):
    X = digits[0][:300]
    clu = AAEClusterer(n_clusters=5, **FAST, warm_start=True).fit(X)
    clu.fit(X)
    assert clu.n_iter_ == 6 and clu.labels_.shape == (300,)


# -- partial_fit ----------------------------------------------------------------
def _knn_accuracy(aae, X_train, y_train, X_test, y_test) -> float:
    knn = KNeighborsClassifier(5).fit(aae.transform(X_train), y_train)
    return knn.score(aae.transform(X_test), y_test)


def test_partial_fit_stream_reaches_fit_quality(digits):
    X, y = digits
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0
    )
    params = dict(n_components=2, max_iter=70, random_state=0)
    full = AAETransformer(**params).fit(X_train)
    stream = AAETransformer(**params)
    chunks = np.array_split(np.random.RandomState(0).permutation(len(X_train)), 3)
    for _ in range(70):
        for chunk in chunks:
            stream.partial_fit(X_train[chunk])
    assert stream.n_iter_ == 210
    full_acc = _knn_accuracy(full, X_train, y_train, X_test, y_test)
    stream_acc = _knn_accuracy(stream, X_train, y_train, X_test, y_test)
    # A stream converges more slowly than fit (2 threads, Xeon: 0.828 against
    # 0.872 after 30 passes, 0.859 against 0.902 after 50, 0.894 after 70,
    # 0.898 after 100), hence 70 passes. Each chunk's rows find their
    # neighbours among a kept sample of the earlier chunks too; with the
    # chunks' own graphs alone the stream fell further behind (1 thread, 30
    # passes: 0.822 / 0.830 against 0.839 / 0.867, seeds 0 and 1).
    assert stream_acc >= full_acc - 0.05, (stream_acc, full_acc)
    assert stream.score(X_test) >= 1.2 * full.score(X_test)  # minus losses


def _session(seed):
    model = AdversarialAutoencoder(2, 2, (4,), (4,))
    config = TrainingConfig(
        max_iter=1, batch_size=10, learning_rate=1e-3, regularization_learning_rate=1e-3
    )
    return TrainingSession(
        model, config, prior=GaussianPrior(2), rng=np.random.RandomState(seed)
    )


def test_stream_sample_is_uniform_and_distinct():
    # Reservoir sampling of the rows streamed: every distinct row about
    # equally likely to be kept (the last chunks slightly more), and a row
    # that comes again is not kept twice.
    X = np.arange(400, dtype=float).reshape(200, 2)
    counts = np.zeros(200)
    for seed in range(200):
        session = _session(seed)
        for _ in range(3):  # three passes over four chunks
            for chunk in np.array_split(X, 4):
                session.remember_rows(chunk, capacity=50)
        sample = session.stream_sample
        assert sample.shape == (50, 2) and sample.dtype == np.float32
        assert len(np.unique(sample[:, 0])) == 50
        assert session.rows_streamed >= 200
        counts[(sample[:, 0] / 2).astype(int)] += 1
    # Each row kept in 50 of 200 draws (a quarter): 200 seeds give 50 +- 6.
    assert 20 < counts.min() and counts.max() < 80
    assert abs(counts[:100].mean() - counts[100:].mean()) < 5  # early = late


def test_stream_sample_sparse():
    session = _session(0)
    rng = np.random.RandomState(0)
    dense = rng.uniform(size=(30, 8)) * (rng.uniform(size=(30, 8)) < 0.3)
    dense[:, 0] = np.arange(1, 31)  # distinct rows
    X = sp.csr_matrix(dense)
    session.remember_rows(X[:20], capacity=25)
    session.remember_rows(sp.coo_matrix(X[10:]), capacity=25)
    sample = session.stream_sample
    assert sp.issparse(sample) and sample.shape == (25, 8)
    assert session.rows_streamed == 30  # rows 10-19 came twice
    kept = {row.tobytes() for row in sample.toarray()}
    assert len(kept) == 25 and kept <= {
        row.tobytes() for row in X.toarray().astype(np.float32)
    }


def test_partial_fit_keeps_a_sample_of_earlier_chunks(digits):
    X = digits[0][:600]
    aae = AAETransformer(**FAST)
    for chunk in np.array_split(X, 3):
        aae.partial_fit(chunk)
    # Every distinct row so far (fewer than 5,000): the next chunk finds
    # its neighbours among all of them, as fit does.
    sample = aae._session.stream_sample
    assert sample.shape == (len(np.unique(X, axis=0)), X.shape[1])
    aae.partial_fit(X[:200])  # a second pass adds nothing
    assert aae._session.stream_sample.shape == sample.shape
    # Without a neighbour graph there is nothing to keep.
    plain = AAETransformer(**FAST, neighbor_weight=0).partial_fit(X)
    assert plain._session.stream_sample is None


def test_partial_fit_classifier_stream(digits):
    X, y = digits
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=0
    )
    y_partial = np.where(np.arange(len(y_train)) % 5 == 0, y_train, -1)
    clf = AAEClassifier(random_state=0)
    chunks = np.array_split(np.arange(len(X_train)), 3)
    for _ in range(10):
        for chunk in chunks:
            clf.partial_fit(X_train[chunk], y_partial[chunk], classes=np.arange(10))
    np.testing.assert_array_equal(clf.classes_, np.arange(10))
    # Measured: 0.95 after 10 passes (fit with max_iter=10: 0.95).
    assert clf.score(X_test, y_test) > 0.9


def test_partial_fit_classifier_needs_classes(digits):
    X, y = digits
    clf = AAEClassifier(**FAST)
    with pytest.raises(ValueError, match="classes must be passed"):
        clf.partial_fit(X[:50], y[:50])
    with pytest.raises(NotFittedError):
        check_is_fitted(clf)
    clf.partial_fit(X[:50], y[:50], classes=[-1, *range(10)])
    np.testing.assert_array_equal(clf.classes_, np.arange(10))
    with pytest.raises(ValueError, match="not in classes"):
        clf.partial_fit(X[:5], np.array([0, 1, 2, 3, 11]))


def test_partial_fit_chunk_without_labels(digits):
    X, y = digits
    clf = AAEClassifier(**FAST).partial_fit(X[:100], y[:100], classes=range(10))
    clf.partial_fit(X[100:200], np.full(100, -1))
    assert clf.n_iter_ == 2
    # The classification phase did not run on the unlabelled chunk.
    assert np.isnan(clf.history_["classification"][1])


def test_partial_fit_resumes_after_pickling(digits):
    X = digits[0][:300]
    a = AAETransformer(hidden_layer_sizes=(16,), random_state=0)
    a.partial_fit(X[:150]).partial_fit(X[150:])
    b = pickle.loads(pickle.dumps(a))
    a.partial_fit(X[:150])
    b.partial_fit(X[:150])
    assert b.n_iter_ == a.n_iter_ == 3
    assert b.score(X) > 1.1 * a.score(X)


# -- early stopping ----------------------------------------------------------
def test_early_stopping_restores_the_best_epoch(digits):
    # The paper's model (no map term): the score is minus the held-out
    # reconstruction loss.
    X = digits[0]
    aae = AAETransformer(
        neighbor_weight=0,
        max_iter=60,
        early_stopping=True,
        n_iter_no_change=2,
        random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        aae.fit(X)
    assert aae.n_iter_ < 60
    assert aae.validation_scores_.shape == (aae.n_iter_,)
    assert aae.best_validation_score_ == aae.validation_scores_.max()
    np.testing.assert_allclose(
        -aae.history_[VALIDATION_RECONSTRUCTION_KEY], aae.validation_scores_
    )
    # The model is the best epoch's: score() on the held-out rows (the same
    # split, drawn first from random_state) gives the best score back.
    _, val = train_test_split(
        np.arange(len(X)), test_size=0.1, random_state=np.random.RandomState(0)
    )
    np.testing.assert_allclose(aae.score(X[val]), aae.best_validation_score_, rtol=1e-4)


def test_early_stopping_map_scores_held_out_neighbourhoods(digits):
    # With the map term (the default) the score is the share of each held-out
    # row's 10 nearest training rows that its code keeps among its 10 nearest
    # training codes.
    X = digits[0]
    aae = AAETransformer(
        max_iter=20, early_stopping=True, n_iter_no_change=5, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        aae.fit(X)
    scores = aae.validation_scores_
    np.testing.assert_allclose(scores, aae.history_[VALIDATION_NEIGHBOR_RECALL_KEY])
    assert np.all(np.isfinite(aae.history_[VALIDATION_RECONSTRUCTION_KEY]))
    # Recomputed from the fitted model (the best epoch's) on the same split:
    # every held-out and training row is used on digits.
    train, val = train_test_split(
        np.arange(len(X)), test_size=0.1, random_state=np.random.RandomState(0)
    )
    train, val = np.sort(train), np.sort(val)
    search = NearestNeighbors(n_neighbors=10)
    by_input = search.fit(X[train]).kneighbors(X[val], return_distance=False)
    codes = aae.transform(X)
    by_code = search.fit(codes[train]).kneighbors(codes[val], return_distance=False)
    kept = [len(set(a) & set(b)) for a, b in zip(by_input, by_code, strict=True)]
    recall = np.mean(kept) / 10
    assert recall == pytest.approx(aae.best_validation_score_, abs=0.01)
    # Far more than chance (10 of 1617 rows); 0.15 after 8 epochs.
    assert aae.best_validation_score_ > 0.1


def test_early_stopping_classifier_scores_held_out_labels(digits):
    X, y = digits
    y_partial = np.where(np.arange(len(y)) % 4 == 0, y, -1)
    clf = AAEClassifier(
        max_iter=40, early_stopping=True, n_iter_no_change=3, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y_partial)
    # The score is minus the log-loss of the held-out labelled rows; their
    # accuracy is recorded beside it.
    scores = clf.validation_scores_
    np.testing.assert_allclose(scores, -clf.history_["validation_log_loss"])
    accuracy = clf.history_["validation_accuracy"]
    assert np.all((accuracy >= 0) & (accuracy <= 1))
    assert clf.best_validation_score_ == scores.max()
    assert accuracy[np.argmax(scores)] > 0.85


def test_early_stopping_needs_enough_labels(digits):
    X, y = digits
    y_partial = np.full(len(y), -1)
    y_partial[:20] = y[:20]  # about 2 labels per class
    clf = AAEClassifier(**FAST, early_stopping=True, validation_fraction=0.1)
    with pytest.raises(ValueError, match="labelled samples, stratified"):
        clf.fit(X, y_partial)


def test_without_early_stopping_no_validation(small_data):
    aae = AAETransformer(**FAST).fit(small_data)
    assert aae.validation_scores_ is None and aae.best_validation_score_ is None
    assert VALIDATION_RECONSTRUCTION_KEY not in aae.history_


@pytest.mark.parametrize(
    "params, error",
    [
        ({"early_stopping": 1}, TypeError),
        ({"warm_start": "yes"}, TypeError),
        ({"validation_fraction": 1.0}, ValueError),
        ({"validation_fraction": 0.0}, ValueError),
        ({"n_iter_no_change": 0}, ValueError),
        ({"tol": -1.0}, ValueError),
    ],
)
def test_bad_steering_params(small_data, params, error, no_training):
    with pytest.raises(error):
        AAETransformer(**FAST, **params).fit(small_data)


# -- interruption ---------------------------------------------------------------
def _interrupt_after(monkeypatch, n_epochs: int) -> None:
    """Ctrl-C during epoch ``n_epochs + 1``, after it changed the weights."""
    real_epoch = TrainingSession._epoch
    calls = []

    def epoch(self, data):
        result = real_epoch(self, data)
        calls.append(1)
        if len(calls) > n_epochs:
            raise KeyboardInterrupt
        return result

    monkeypatch.setattr(TrainingSession, "_epoch", epoch)


def test_interrupted_fit_keeps_last_finished_epoch(digits, monkeypatch):
    X = digits[0][:300]
    # Constant rates: under a decay the first two epochs of a 10-epoch fit
    # run at other rates than a 2-epoch fit's.
    params = {**FAST, "learning_rate_schedule": "constant"}
    reference = AAETransformer(**{**params, "max_iter": 2}).fit(X)
    _interrupt_after(monkeypatch, 2)
    aae = AAETransformer(**{**params, "max_iter": 10})
    with pytest.warns(UserWarning, match="interrupted"):
        aae.fit(X)
    assert aae.n_iter_ == 2
    assert all(v.shape == (2,) for v in aae.history_.values())
    # Rolled back to the end of epoch 2: the model of a 2-epoch fit.
    np.testing.assert_allclose(aae.transform(X), reference.transform(X), rtol=1e-6)


def test_interrupt_in_first_epoch_leaves_nothing(digits, monkeypatch):
    _interrupt_after(monkeypatch, 0)
    aae = AAETransformer(**FAST)
    with pytest.raises(KeyboardInterrupt):
        aae.fit(digits[0][:100])
    with pytest.raises(NotFittedError):
        check_is_fitted(aae)


def test_interrupted_partial_fit_keeps_earlier_calls(digits, monkeypatch):
    X = digits[0][:200]
    aae = AAETransformer(**FAST).partial_fit(X)
    codes = aae.transform(X)
    _interrupt_after(monkeypatch, 0)
    with pytest.warns(UserWarning, match="interrupted"):
        aae.partial_fit(X)
    assert aae.n_iter_ == 1
    np.testing.assert_array_equal(aae.transform(X), codes)


def test_interrupted_restarts_keep_the_best_so_far(digits, monkeypatch):
    X = digits[0][:300]
    # Restart 1 runs its 2 epochs; restart 2 is interrupted in its second.
    _interrupt_after(monkeypatch, 3)
    clu = AAEClusterer(n_clusters=5, n_init=3, **{**FAST, "max_iter": 2})
    with pytest.warns(UserWarning, match="interrupted"):
        clu.fit(X)
    assert clu.n_iter_ in (1, 2)
    assert all(v.shape == (clu.n_iter_,) for v in clu.history_.values())
    np.testing.assert_array_equal(clu.labels_, clu.predict(X))


def test_partial_fit_clusterer(digits):
    X = digits[0][:400]
    clu = AAEClusterer(n_clusters=5, **FAST)
    clu.partial_fit(X[:200]).partial_fit(X[200:])
    assert clu.n_iter_ == 2
    # labels_ are those of the last chunk.
    np.testing.assert_array_equal(clu.labels_, clu.predict(X[200:]))


# -- sparse input -------------------------------------------------------------------
def test_sparse_input_matches_dense(digits):
    X = digits[0][:300]
    # Without dropout (the map's default turns it on for 300 rows): the
    # sparse and dense first-layer products round differently, and with
    # dropout the codes of the two fits drift further apart (measured: 7e-4
    # at most, against 6e-5 without), past the tolerance that shows both
    # paths train the same model. Each path alone is deterministic. The map
    # term is off here: since it is scale-free (2026-12-02) its gradient
    # grows as the small codes of the first steps shrink, and it amplifies
    # the rounding to 2-5 % of a code in three epochs; the sparse rows still
    # go through its graph gather below.
    params = {**FAST, "dropout": 0.0, "neighbor_weight": 0.0}
    dense = AAETransformer(**params).fit(X)
    sparse = AAETransformer(**params).fit(sp.csr_matrix(X))
    np.testing.assert_allclose(
        sparse.transform(sp.csr_matrix(X)), dense.transform(X), rtol=1e-3, atol=1e-4
    )
    np.testing.assert_allclose(
        sparse.score(sp.csc_matrix(X)), dense.score(X), rtol=1e-4
    )
    # With the map term (neighbours gathered from the sparse rows) the sparse
    # path trains a map: the term ran every epoch and the codes are finite.
    mapped = AAETransformer(**FAST).fit(sp.csr_matrix(X))
    codes = mapped.transform(sp.csr_matrix(X))
    assert mapped.history_["neighbor"].shape == (FAST["max_iter"],)
    assert np.all(np.isfinite(codes))


def test_one_hot_encoder_pipeline():
    rng = np.random.RandomState(0)
    categories = rng.randint(0, 6, size=(200, 3))
    pipe = make_pipeline(OneHotEncoder(), AAETransformer(**FAST))
    codes = pipe.fit_transform(categories)
    assert codes.shape == (200, 2) and np.all(np.isfinite(codes))


def test_sparse_classifier(digits):
    X, y = digits[0][:200], digits[1][:200]
    Xs = sp.csr_matrix(X)
    clf = AAEClassifier(**FAST).fit(Xs, y)
    np.testing.assert_array_equal(clf.predict(Xs), clf.predict(X))


@pytest.mark.filterwarnings("ignore:.*got no training sample")
def test_sparse_clusterer_matches_dense(digits):
    # The default head over-clusters, so this also runs the merge on the
    # neighbour graph of sparse rows.
    X = digits[0][:300]
    dense = AAEClusterer(n_clusters=5, **FAST).fit(X)
    sparse = AAEClusterer(n_clusters=5, **FAST).fit(sp.csr_matrix(X))
    np.testing.assert_array_equal(
        sparse.cluster_of_subcluster_, dense.cluster_of_subcluster_
    )
    np.testing.assert_array_equal(sparse.labels_, dense.labels_)
    np.testing.assert_array_equal(sparse.predict(sp.csc_matrix(X)), dense.labels_)
    np.testing.assert_allclose(
        sparse.predict_proba(sp.csr_matrix(X)),
        dense.predict_proba(X),
        rtol=1e-3,
        atol=1e-4,
    )
    # Float32 rounding differs between gathered sparse rows and dense rows and
    # grows over the epochs: the style codes agree to about 1e-3.
    np.testing.assert_allclose(
        sparse.transform(sp.coo_matrix(X)), dense.transform(X), atol=5e-3
    )
    sparse.partial_fit(sp.csr_matrix(X[:100]))
    assert sparse.n_iter_ == FAST["max_iter"] + 1


def test_column_transformer_one_hot_pipeline():
    rng = np.random.RandomState(0)
    frame = {
        "colour": rng.choice(["red", "green", "blue", "grey"], 300),
        "size": rng.choice(list("SMLX"), 300),
        "city": rng.choice([f"c{i}" for i in range(40)], 300),
        "price": rng.normal(size=300),
    }
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame(frame)
    encode = make_column_transformer(
        (OneHotEncoder(), ["colour", "size", "city"]), remainder="passthrough"
    )
    assert sp.issparse(encode.fit_transform(frame))  # what the AAE receives
    pipe = make_pipeline(encode, AAETransformer(**FAST))
    codes = pipe.fit(frame).transform(frame.iloc[:7])
    assert codes.shape == (7, 2) and np.all(np.isfinite(codes))


# -- watching a fit -----------------------------------------------------------------
def test_on_epoch_end_sees_history_and_can_stop(small_data):
    seen = []

    def watch(info):
        seen.append((info["epoch"], len(info["history"]["reconstruction"])))
        assert info["validation_score"] is None
        return info["epoch"] == 2  # stop after the second epoch

    aae = AAETransformer(**{**FAST, "max_iter": 10}, on_epoch_end=watch)
    aae.fit(small_data)
    assert seen == [(1, 1), (2, 2)]
    assert aae.n_iter_ == 2
    # A module-level function keeps the estimator cloneable and picklable.
    aae = AAETransformer(**FAST, on_epoch_end=_stop_at_second_epoch).fit(small_data)
    assert aae.n_iter_ == 2
    loaded = pickle.loads(pickle.dumps(clone(aae)))
    assert loaded.on_epoch_end is _stop_at_second_epoch


def _stop_at_second_epoch(info):
    return info["epoch"] >= 2


def test_on_epoch_end_gets_validation_scores(digits):
    scores = []
    AAETransformer(
        **FAST,
        early_stopping=True,
        on_epoch_end=lambda info: scores.append(info["validation_score"]),
    ).fit(digits[0][:300])
    assert len(scores) == 3 and all(0 <= s <= 1 for s in scores)


def test_on_epoch_end_must_be_callable(small_data, no_training):
    with pytest.raises(TypeError, match="on_epoch_end must be a callable"):
        AAETransformer(**FAST, on_epoch_end="print").fit(small_data)


def test_failing_callback_leaves_nothing_fitted(small_data):
    def broken(info):
        raise RuntimeError("callback failed")

    aae = AAETransformer(**FAST, on_epoch_end=broken)
    with pytest.raises(RuntimeError, match="callback failed"):
        aae.fit(small_data)
    with pytest.raises(NotFittedError):
        check_is_fitted(aae)


# -- priors that ignore random_state -------------------------------------------
def test_prior_ignoring_random_state_fails_before_training(small_data, no_training):
    def fixed_prior(n, random_state):
        return np.random.default_rng(0).standard_normal((n, 2))

    with pytest.raises(ValueError, match="must draw from the random_state"):
        AAETransformer(**FAST, prior=fixed_prior).fit(small_data)
