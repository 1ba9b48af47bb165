"""AAETransformer: the scikit-learn API, inputs, errors and persistence."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsClassifier
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.validation import check_is_fitted

from skaae import AAEClassifier, AAETransformer
from skaae._training import HISTORY_KEYS, NEIGHBOR_KEY, TrainingDivergedError
from skaae.priors import GaussianMixturePrior

FAST = dict(max_iter=3, hidden_layer_sizes=(16,), random_state=0)


# max_iter=100: "auto" gives the checks' small data sets 300 epochs (one
# mini-batch each), which nearly tripled the checks' time (220 s to 590 s on
# one thread); "auto" itself is tested below (test_auto_max_iter*).
@parametrize_with_checks([AAETransformer(max_iter=100)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_fitted_attributes(small_data):
    aae = AAETransformer(**FAST).fit(small_data)
    assert aae.n_features_in_ == 5
    assert aae.n_iter_ == 3
    # The default map term records its loss under "neighbor".
    assert set(aae.history_) == {*HISTORY_KEYS, NEIGHBOR_KEY}
    for values in aae.history_.values():
        assert values.shape == (3,)
        assert np.all(np.isfinite(values))
    assert aae.prior_.n_components == 2
    assert aae.classes_ is None
    assert aae.device_ == torch.device("cpu")
    assert aae.prior_distance_ >= 0 and aae.prior_distance_reference_ >= 0
    # Parameters are stored untouched.
    assert aae.hidden_layer_sizes == (16,) and aae.prior == "gaussian"


def test_auto_hidden_layer_sizes(small_data):
    def hidden_widths(aae):
        linears = [
            m for m in aae.module_.encoder.modules() if isinstance(m, torch.nn.Linear)
        ]
        return [m.out_features for m in linears[:-1]]

    # Four layers with the map term (on by default with cluster heads too),
    # two without it.
    for params, widths in [
        ({}, [256] * 4),
        ({"neighbor_weight": 0.0}, [256] * 2),
        ({"prior": "uniform"}, [256] * 2),
        ({"n_clusters": 2}, [256] * 4),
        ({"n_clusters": 2, "neighbor_weight": 0.0}, [256] * 2),
        ({"n_clusters": 2, "neighbor_weight": 1.0}, [256] * 4),
    ]:
        aae = AAETransformer(max_iter=1, random_state=0, **params).fit(small_data)
        assert aae.hidden_layer_sizes == "auto"
        assert hidden_widths(aae) == widths, params


def test_shapes_of_every_method(small_data):
    aae = AAETransformer(n_components=3, **FAST).fit(small_data)
    Z = aae.transform(small_data)
    assert Z.shape == (60, 3) and Z.dtype == np.float64
    assert aae.transform(small_data.astype(np.float32)).dtype == np.float32
    assert aae.inverse_transform(Z).shape == (60, 5)
    assert aae.sample(7, random_state=0).shape == (7, 5)
    assert np.array_equal(aae.sample(4, random_state=1), aae.sample(4, random_state=1))
    assert isinstance(aae.score(small_data), float)
    names = aae.get_feature_names_out()
    assert list(names) == ["aaetransformer0", "aaetransformer1", "aaetransformer2"]


def test_same_seed_same_codes(small_data):
    for encoder in ("deterministic", "gaussian", "universal"):
        a = AAETransformer(encoder=encoder, **FAST).fit(small_data)
        b = AAETransformer(encoder=encoder, **FAST).fit(small_data)
        assert np.array_equal(a.transform(small_data), b.transform(small_data))
    c = AAETransformer(**{**FAST, "random_state": 1}).fit(small_data)
    assert not np.array_equal(a.transform(small_data), c.transform(small_data))


@pytest.mark.parametrize("encoder", ["gaussian", "universal"])
def test_stochastic_encoders_transform_deterministically(small_data, encoder):
    aae = AAETransformer(encoder=encoder, **FAST).fit(small_data)
    Z = aae.transform(small_data)
    assert np.array_equal(Z, aae.transform(small_data))
    # A sample's code does not depend on the rest of the batch.
    np.testing.assert_allclose(aae.transform(small_data[:7]), Z[:7], rtol=1e-5)


def test_a_row_predicts_the_same_in_any_batch(digits):
    # Predictions run in float32 on fixed-size blocks: a row's output is the
    # same bit for bit whichever rows it comes with, alone, in a short block
    # or in a long run over several blocks.
    X, y = digits
    aae = AAETransformer(max_iter=2, random_state=0).fit(X)
    clf = AAEClassifier(max_iter=2, random_state=0).fit(X, y)
    Z = aae.transform(X)
    proba = clf.predict_proba(X)
    recon = aae.inverse_transform(Z)
    assert Z.dtype == proba.dtype == recon.dtype == np.float64
    for rows in (slice(0, 1), slice(5, 12), slice(250, 780), slice(1000, None)):
        np.testing.assert_array_equal(aae.transform(X[rows]), Z[rows])
        np.testing.assert_array_equal(clf.predict_proba(X[rows]), proba[rows])
        np.testing.assert_array_equal(aae.inverse_transform(Z[rows]), recon[rows])
    # float32 input gives float32 codes, the same values rounded.
    Z32 = aae.transform(X.astype(np.float32))
    assert Z32.dtype == np.float32
    np.testing.assert_array_equal(Z32, Z.astype(np.float32))


def test_torch_global_rng_untouched(small_data):
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    AAETransformer(**FAST).fit(small_data)
    assert torch.equal(torch.rand(3), expected)


def test_pandas_input_and_output(small_data):
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(small_data, columns=[f"f{i}" for i in range(5)])
    aae = AAETransformer(**FAST).set_output(transform="pandas").fit(df)
    assert list(aae.feature_names_in_) == list(df.columns)
    out = aae.transform(df)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["aaetransformer0", "aaetransformer1"]


def test_grid_search_scores_without_scoring(digits):
    # score() is minus the reconstruction loss: 8-D codes reconstruct better.
    X, _ = digits
    search = GridSearchCV(
        AAETransformer(
            max_iter=15, batch_size=25, hidden_layer_sizes=(64,), random_state=0
        ),
        {"n_components": [1, 8]},
        cv=2,
    ).fit(X[:600])
    assert search.best_params_ == {"n_components": 8}
    assert np.all(search.cv_results_["mean_test_score"] < 0)


def test_verbose_progress_bar(small_data, capsys):
    AAETransformer(**{**FAST, "verbose": 1}).fit(small_data)
    err = capsys.readouterr().err
    assert "3/3" in err and "rec=" in err and "disc=" in err


def test_pickle_roundtrip(small_data):
    aae = AAETransformer(**FAST).fit(small_data)
    loaded = pickle.loads(pickle.dumps(aae))
    np.testing.assert_array_equal(
        loaded.transform(small_data), aae.transform(small_data)
    )


def test_gpu_fitted_model_loads_without_gpu(small_data, monkeypatch):
    aae = AAETransformer(**FAST).fit(small_data)
    state = aae.__getstate__()
    # Pretend the model was fitted on a GPU and is loaded on a CPU-only host.
    state["device_"] = torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    loaded = AAETransformer.__new__(AAETransformer)
    loaded.__setstate__(state)
    assert loaded.device_ == torch.device("cpu")
    np.testing.assert_array_equal(
        loaded.transform(small_data), aae.transform(small_data)
    )


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_fit_and_cpu_pickle(small_data):
    aae = AAETransformer(device="cuda", **FAST).fit(small_data)
    assert aae.device_.type == "cuda"
    assert next(aae.module_.parameters()).is_cuda
    loaded = pickle.loads(pickle.dumps(aae))
    np.testing.assert_allclose(
        loaded.transform(small_data), aae.transform(small_data), rtol=1e-5
    )


def test_device_auto_and_missing_cuda(small_data, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert AAETransformer(**FAST).fit(small_data).device_ == torch.device("cpu")
    with pytest.raises(ValueError, match="CUDA is not available"):
        AAETransformer(device="cuda", **FAST).fit(small_data)
    with pytest.raises(ValueError, match="not a valid torch device"):
        AAETransformer(device="gpu0", **FAST).fit(small_data)


def test_callable_prior(small_data):
    def ring(n_samples, random_state):
        angle = random_state.uniform(0, 2 * np.pi, n_samples)
        return np.c_[np.cos(angle), np.sin(angle)]

    aae = AAETransformer(prior=ring, **FAST).fit(small_data)
    assert aae.prior_.sample(5, random_state=0).shape == (5, 2)


# -- errors: raised before any training, and no half-fitted estimator -------


@pytest.mark.parametrize(
    "X, message",
    [
        (np.array([[0.0, np.nan], [1.0, 2.0]]), "NaN"),
        (np.array([[0.0, np.inf], [1.0, 2.0]]), "infinity"),
        (np.arange(5.0), "Expected 2D array"),
        (np.empty((0, 3)), "0 sample"),
        (np.array([["a", "b"], ["c", "d"]], dtype=object), "could not convert"),
        (np.full((3, 2), 1e39), "float32"),
    ],
)
def test_bad_X(no_training, X, message):
    with pytest.raises(ValueError, match=message):
        AAETransformer(**FAST).fit(X)


@pytest.mark.parametrize(
    "params, error, message",
    [
        ({"prior": "cauchy"}, ValueError, "prior must be one of"),
        ({"prior": 3}, TypeError, "prior must be"),
        ({"encoder": "variational"}, ValueError, "encoder must be one of"),
        ({"n_components": 0}, ValueError, "n_components must be >= 1"),
        ({"max_iter": 2.5}, TypeError, "max_iter must be an int"),
        ({"max_iter": "long"}, ValueError, 'max_iter must be an int >= 1 or "auto"'),
        ({"learning_rate_init": -1.0}, ValueError, "learning_rate_init"),
        ({"regularization_learning_rate": "fast"}, TypeError, "must be a float"),
        ({"loss": "l1"}, ValueError, "loss must be one of"),
        ({"hidden_layer_sizes": (8, 0)}, ValueError, "hidden_layer_sizes"),
        ({"hidden_layer_sizes": "deep"}, ValueError, "must be 'auto', an int"),
        ({"discriminator_hidden_layer_sizes": "wide"}, ValueError, "sequence of"),
        ({"discriminator_noise": -0.5}, ValueError, "discriminator_noise"),
        ({"discriminator_noise": "loud"}, TypeError, "discriminator_noise"),
        ({"input_noise": -0.1}, ValueError, "input_noise"),
        ({"input_noise": "some"}, TypeError, "input_noise"),
        ({"prior": "swiss_roll", "n_components": 3}, ValueError, "swiss roll"),
        ({"prior": GaussianMixturePrior(3)}, ValueError, "n_components=3"),
        ({"prior": lambda n, rs: np.zeros((n, 3))}, ValueError, "shape"),
    ],
)
def test_bad_params(no_training, small_data, params, error, message):
    with pytest.raises(error, match=message):
        AAETransformer(**{**FAST, **params}).fit(small_data)


def test_bce_needs_unit_interval(no_training):
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        AAETransformer(loss="bce", **FAST).fit(np.array([[0.0, 2.0], [1.0, 0.5]]))


def test_labels_all_unlabeled_with_mixture_prior(no_training, small_data):
    with pytest.raises(ValueError, match="no labelled samples"):
        AAETransformer(prior="gaussian_mixture", **FAST).fit(
            small_data, np.full(60, -1)
        )


def test_continuous_y_with_mixture_prior(no_training, small_data):
    with pytest.raises(ValueError, match="class labels"):
        AAETransformer(prior="gaussian_mixture", **FAST).fit(
            small_data, np.linspace(0, 1, 60)
        )


def test_more_classes_than_modes(no_training, small_data):
    with pytest.raises(ValueError, match="n_modes=2"):
        AAETransformer(prior=GaussianMixturePrior(n_modes=2), **FAST).fit(
            small_data, np.arange(60) % 3
        )


def test_wrong_n_features_at_transform(small_data):
    aae = AAETransformer(**FAST).fit(small_data)
    with pytest.raises(ValueError, match="X has 4 features, but AAETransformer"):
        aae.transform(small_data[:, :4])
    with pytest.raises(ValueError, match="n_components=2"):
        aae.inverse_transform(np.zeros((3, 5)))


def test_unfitted_raises(small_data):
    aae = AAETransformer()
    for method in (aae.transform, aae.inverse_transform, aae.score):
        with pytest.raises(NotFittedError):
            method(small_data)
    with pytest.raises(NotFittedError):
        aae.sample(3)


def test_sample_with_labels_needs_label_fit(small_data):
    aae = AAETransformer(**FAST).fit(small_data)
    with pytest.raises(ValueError, match="fitted with labels"):
        aae.sample(2, y=[0, 1])


def test_failed_refit_leaves_estimator_unfitted(small_data):
    aae = AAETransformer(**FAST).fit(small_data)
    bad = small_data.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError):
        aae.fit(bad)
    with pytest.raises(NotFittedError):
        check_is_fitted(aae)
    assert not hasattr(aae, "n_features_in_")


def test_divergence_fails_loudly(small_data):
    aae = AAETransformer(
        learning_rate_init=1e12, regularization_learning_rate=1e12, solver="sgd", **FAST
    )
    with pytest.raises(TrainingDivergedError, match="diverged at epoch"):
        aae.fit(small_data * 1e6)
    with pytest.raises(NotFittedError):
        check_is_fitted(aae)


def test_prior_mismatch_warns(small_data):
    def far_prior(n_samples, random_state):
        return random_state.normal(50.0, 1.0, size=(n_samples, 2))

    aae = AAETransformer(prior=far_prior, regularization_learning_rate=1e-9, **FAST)
    with pytest.warns(ConvergenceWarning, match="do not match the prior"):
        aae.fit(small_data)
    # The model is still usable, and its diagnostics say why it warned.
    assert aae.prior_distance_ > 25 * aae.prior_distance_reference_
    assert aae.transform(small_data).shape == (60, 2)


def test_clone_keeps_prior_object():
    prior = GaussianMixturePrior(n_modes=4)
    cloned = clone(AAETransformer(prior=prior))
    assert cloned.prior is not None and cloned.prior.n_modes == 4


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_discriminator_noise_reaches_the_critic(digits):
    # A fast critic tells early codes from prior draws well away from chance;
    # under noise ten times the prior's spread it can hardly tell them apart.
    # (The short fits warn that the codes are off the prior.)
    X = digits[0][:400]
    params = dict(
        max_iter=5,
        hidden_layer_sizes=(32,),
        neighbor_weight=0.0,
        regularization_learning_rate=1e-2,
        random_state=0,
    )
    clear = AAETransformer(discriminator_noise=0.0, **params).fit(X)
    blurred = AAETransformer(discriminator_noise=10.0, **params).fit(X)
    # How far from chance the critic's accuracy is, on average over epochs
    # (without noise the game swings either way).
    clear_gap = np.abs(clear.history_["discriminator_accuracy"] - 0.5).mean()
    blurred_gap = np.abs(blurred.history_["discriminator_accuracy"] - 0.5).mean()
    assert clear_gap > 0.08
    assert blurred_gap < 0.03


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_fit_shares_float32_input_without_changing_it(digits):
    # A writable float32 X is trained on in place (no copy); a read-only one
    # (a memmap, say) is copied. Both must leave X as it was and train alike.
    X = np.ascontiguousarray(digits[0][:400], dtype=np.float32)
    before = X.copy()
    shared = AAETransformer(max_iter=3, random_state=0).fit(X)
    np.testing.assert_array_equal(X, before)
    read_only = X.copy()
    read_only.setflags(write=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        copied = AAETransformer(max_iter=3, random_state=0).fit(read_only)
    assert not [w for w in caught if "not writable" in str(w.message)]
    np.testing.assert_array_equal(shared.transform(X), copied.transform(read_only))


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_input_noise_reaches_the_encoder_not_the_target(digits):
    X, y = digits[0][:400], digits[1][:400]
    # 16-D codes, no map term: a clean fit reconstructs well, and noise on
    # the encoder's inputs (with clean targets) costs reconstruction.
    params = dict(
        n_components=16,
        max_iter=10,
        hidden_layer_sizes=(64,),
        neighbor_weight=0.0,
        random_state=0,
    )
    losses = [
        AAETransformer(input_noise=noise, **params).fit(X).history_["reconstruction"]
        for noise in (0.0, 0.5, 2.0)
    ]
    assert losses[0][-1] < losses[1][-1] < losses[2][-1], [r[-1] for r in losses]
    # The 2-D map: at the default's half of the data's spread the codes of
    # clean rows keep the digits' classes; at twice the spread they lose
    # most of them, so the noise reaches the map's encoder too.
    scores = []
    for noise in (0.5, 2.0):
        model = AAETransformer(
            input_noise=noise, max_iter=10, hidden_layer_sizes=(64,), random_state=0
        ).fit(X)
        codes = model.transform(X)
        knn = KNeighborsClassifier(5).fit(codes[:300], y[:300])
        scores.append(knn.score(codes[300:], y[300:]))
    assert scores[0] > 0.5 > scores[1], scores


@pytest.mark.parametrize(
    "params, shape, expected",
    [
        ({}, (60, 5), 0.5),  # the map term, 12 rows per feature
        ({}, (1000, 2), 0.0),  # 500 rows per feature: dropout, no noise
        ({"neighbor_weight": 0.0}, (60, 5), 0.0),  # the paper's model
        ({"n_clusters": 3}, (60, 5), 0.0),
        ({"input_noise": 0.2}, (1300, 2), 0.2),
    ],
)
def test_auto_input_noise(params, shape, expected):
    """'auto': noise of half the data's spread where rows are sparse."""
    X = np.random.RandomState(0).uniform(size=shape) * 3.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = AAETransformer(max_iter=1, random_state=0, **params).fit(X)
    # The loop's setting is in the data's units: a multiple of X's spread.
    np.testing.assert_allclose(
        model._session.config.input_noise, expected * X.std(), rtol=1e-5
    )


def test_auto_input_noise_kept_by_partial_fit():
    """A stream keeps the noise its first chunk chose, whatever later sizes."""
    rng = np.random.RandomState(0)
    model = AAETransformer(max_iter=1, random_state=0)
    first = rng.uniform(size=(60, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.partial_fit(first)
        model.partial_fit(rng.uniform(size=(4000, 5)) * 10.0)
    np.testing.assert_allclose(
        model._session.config.input_noise, 0.5 * first.std(), rtol=1e-5
    )


def _hidden_widths(net) -> list[int]:
    linear = [m for m in net.modules() if isinstance(m, torch.nn.Linear)]
    return [m.out_features for m in linear[:-1]]


@pytest.mark.parametrize(
    "params, expected",
    [
        ({}, [256, 256]),
        ({"neighbor_weight": 0.0}, [256, 256]),
        ({"hidden_layer_sizes": (32, 16, 8)}, [32, 16]),
        ({"n_clusters": 3}, [256, 256, 256, 256]),
        ({"discriminator_hidden_layer_sizes": None}, [256, 256, 256, 256]),
        ({"discriminator_hidden_layer_sizes": 12}, [12]),
    ],
)
def test_auto_discriminator_layers(small_data, params, expected):
    """'auto': the encoder's first two layers under the map term (no heads)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = AAETransformer(max_iter=1, random_state=0, **params).fit(small_data)
    assert _hidden_widths(model.module_.discriminator) == expected


def _dropout_rates(net) -> list[float]:
    return [m.p for m in net.modules() if isinstance(m, torch.nn.Dropout)]


@pytest.mark.parametrize(
    "params, shape, expected",
    [
        ({}, (60, 5), 0.1),  # the map term, 12 rows per feature
        ({}, (1300, 2), 0.0),  # 650 rows per feature: dense enough
        ({"neighbor_weight": 0.0}, (60, 5), 0.0),  # the paper's model
        ({"n_clusters": 3}, (60, 5), 0.0),
        ({"dropout": 0.3}, (1000, 2), 0.3),
    ],
)
def test_auto_dropout(params, shape, expected):
    """'auto': dropout 0.1 under the map term where rows are sparse."""
    X = np.random.RandomState(0).uniform(size=shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = AAETransformer(max_iter=1, random_state=0, **params).fit(X)
    rates = _dropout_rates(model.module_.encoder)
    assert rates == ([expected] * len(rates) if expected else [])
    if expected:
        assert rates and _dropout_rates(model.module_.decoder)


def test_auto_dropout_kept_by_partial_fit():
    """A stream keeps the rate its first chunk chose, whatever later sizes."""
    rng = np.random.RandomState(0)
    model = AAETransformer(random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.partial_fit(rng.uniform(size=(60, 2)))
        model.partial_fit(rng.uniform(size=(1200, 2)))
    assert set(_dropout_rates(model.module_.encoder)) == {0.1}


def test_auto_dropout_only_on_the_transformer(small_data):
    with pytest.raises(TypeError, match="dropout"):
        AAEClassifier(dropout="auto", max_iter=1).fit(small_data, [0, 1] * 30)


@pytest.mark.parametrize(
    "params, n_rows, expected",
    [
        ({}, 60, 300),  # one mini-batch an epoch: capped at 300 epochs
        ({}, 1257, 300),  # digits' training rows: 13 batches, 308 wanted
        ({}, 2000, 200),  # 20 batches: 4,000 steps
        ({}, 14_000, 100),  # UCI letter: 140 batches, the usual 100
        ({"batch_size": 50}, 2000, 100),  # 40 batches
        ({"neighbor_weight": 0.0}, 1257, 100),  # the paper's model
        ({"n_clusters": 3}, 1257, 100),
        ({"prior": "uniform"}, 1257, 100),  # "auto" leaves the map off
        ({"max_iter": 7}, 1257, 7),
    ],
)
def test_auto_max_iter(params, n_rows, expected):
    """'auto': at least 4,000 steps for the plain map, 100 to 300 epochs."""
    assert AAETransformer(**params)._max_iter(n_rows) == expected


def test_auto_max_iter_runs_its_epochs(small_data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = AAETransformer(hidden_layer_sizes=(8,), random_state=0)
        model.fit(small_data)
    assert model.n_iter_ == 300 and model.max_iter == "auto"
    assert len(model.history_["reconstruction"]) == 300


def test_auto_max_iter_only_on_the_transformer(small_data):
    with pytest.raises(TypeError, match="max_iter"):
        AAEClassifier(max_iter="auto").fit(small_data, [0, 1] * 30)


def test_reparametrize_codes_is_exact():
    """An affine change of code space leaves every network's output unchanged."""
    from skaae._model import AdversarialAutoencoder

    torch.manual_seed(0)
    model = AdversarialAutoencoder(6, 3, [16, 16], [8]).double().eval()
    x = torch.randn(20, 6, dtype=torch.float64)
    codes = model.encode(x)
    before = (model.reconstruct(x), model.discriminator(codes), model.decode(codes))
    matrix = torch.randn(3, 3, dtype=torch.float64) + 3 * torch.eye(3)
    offset = torch.randn(3, dtype=torch.float64)
    model.reparametrize_codes(matrix, offset)
    new_codes = model.encode(x)
    torch.testing.assert_close(new_codes, codes @ matrix.T + offset)
    after = (
        model.reconstruct(x),
        model.discriminator(new_codes),
        model.decode(new_codes),
    )
    for old, new in zip(before, after, strict=True):
        torch.testing.assert_close(new, old)


def test_no_discriminator_matches_the_prior_moments(small_data):
    """regularization_learning_rate=0: no critic, codes of mean 0 and cov I."""
    model = AAETransformer(
        regularization_learning_rate=0, neighbor_weight=0, max_iter=3, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(small_data)
    codes = model.transform(small_data)
    np.testing.assert_allclose(codes.mean(0), 0, atol=1e-6)
    np.testing.assert_allclose(np.cov(codes.T, bias=True), np.eye(2), atol=1e-6)
    assert set(model.history_) == {"reconstruction"}


def test_no_discriminator_needs_an_unconditioned_prior(small_data):
    y = np.arange(len(small_data)) % 2
    model = AAETransformer(
        prior="gaussian_mixture", regularization_learning_rate=0, max_iter=1
    )
    with pytest.raises(ValueError, match="regularization_learning_rate=0"):
        model.fit(small_data, y)
    with pytest.raises(ValueError, match="regularization_learning_rate=0"):
        AAETransformer(n_clusters=2, regularization_learning_rate=0).fit(small_data)
    with pytest.raises(ValueError, match="regularization_learning_rate must be > 0"):
        AAEClassifier(regularization_learning_rate=0).fit(small_data, y)
