"""Saving and serving: pickle, joblib, skops and ONNX (issue 11)."""

import copy
import pickle

import joblib
import numpy as np
import pytest
import torch
from sklearn.base import clone

from skaae import AAEClassifier, AAEClusterer, AAETransformer

FAST = dict(max_iter=2, hidden_layer_sizes=(32,), random_state=0)
ESTIMATORS = [
    AAETransformer(**FAST),
    AAETransformer(n_clusters=4, **FAST),
    AAEClassifier(**FAST),
    AAEClusterer(n_clusters=4, n_init=1, **FAST),
]
IDS = ["transformer", "transformer-heads", "classifier", "clusterer"]


@pytest.fixture(scope="module", params=range(len(ESTIMATORS)), ids=IDS)
def fitted(request, digits):
    X, y = digits[0][:200], digits[1][:200]
    return clone(ESTIMATORS[request.param]).fit(X, y), X


def _outputs(est, X) -> dict:
    out = {"transform": est.transform(X)}
    if hasattr(est, "predict_proba"):
        out["predict_proba"] = est.predict_proba(X)
    if hasattr(est, "inverse_transform"):
        out["inverse_transform"] = est.inverse_transform(out["transform"])
    return out


def _assert_same(a, b, X):
    expected, got = _outputs(a, X), _outputs(b, X)
    for name in expected:
        if a.device_ == b.device_:
            np.testing.assert_array_equal(got[name], expected[name], err_msg=name)
        else:
            # float64 products on a GPU and a CPU round differently.
            np.testing.assert_allclose(
                got[name], expected[name], rtol=1e-9, atol=1e-12, err_msg=name
            )


def _holds_torch(obj, seen=None) -> bool:
    """Whether any object reachable from ``obj``'s state is a torch type."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return False
    seen.add(id(obj))
    if type(obj).__module__.split(".")[0] == "torch":
        return True
    if isinstance(obj, dict):
        return any(
            _holds_torch(k, seen) or _holds_torch(v, seen) for k, v in obj.items()
        )
    if isinstance(obj, list | tuple | set):
        return any(_holds_torch(v, seen) for v in obj)
    if hasattr(obj, "__getstate__") and not isinstance(obj, type | np.ndarray):
        state = obj.__getstate__()
        if isinstance(state, dict):
            return _holds_torch(state, seen)
    return False


def test_pickled_state_holds_no_torch_objects(fitted):
    est, _ = fitted
    assert not _holds_torch(est.__getstate__())


@pytest.mark.parametrize("how", ["pickle", "joblib", "deepcopy"])
def test_round_trips_give_identical_outputs(fitted, how, tmp_path):
    est, X = fitted
    if how == "pickle":
        loaded = pickle.loads(pickle.dumps(est))
    elif how == "joblib":
        joblib.dump(est, tmp_path / "model.joblib")
        loaded = joblib.load(tmp_path / "model.joblib")
    else:
        loaded = copy.deepcopy(est)
    _assert_same(est, loaded, X)
    assert loaded.device_ == est.device_
    # clone still gives an unfitted copy with the same parameters.
    assert clone(loaded).get_params() == est.get_params()


def test_pickle_holds_about_four_bytes_a_weight(fitted):
    est, _ = fitted
    n_weights = sum(p.numel() for p in est.module_.parameters())
    # float32 weights and no optimiser moments: about 4 bytes a weight.
    assert len(pickle.dumps(est)) < 5 * n_weights + 100_000


def test_gpu_fitted_state_loads_on_cpu(fitted, monkeypatch):
    est, X = fitted
    state = est.__getstate__()
    state["device_"] = "cuda:1"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    loaded = type(est).__new__(type(est))
    loaded.__setstate__(state)
    assert loaded.device_ == torch.device("cpu")
    _assert_same(est, loaded, X)


def test_skops_round_trip_trusts_only_skaae_types(fitted, tmp_path):
    sio = pytest.importorskip("skops.io")
    est, X = fitted
    path = tmp_path / "model.skops"
    sio.dump(est, path)
    untrusted = sio.get_untrusted_types(file=path)
    assert untrusted and all(name.startswith("skaae.") for name in untrusted)
    loaded = sio.load(path, trusted=untrusted)
    _assert_same(est, loaded, X)


@pytest.mark.parametrize("batch", [1, 7])
def test_onnx_encoder_matches_the_estimator(fitted, batch, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    est, X = fitted
    path = tmp_path / "encoder.onnx"
    assert est.export_onnx(path) in ("dynamo", "torchscript")
    session = ort.InferenceSession(str(path))
    outputs = session.run(None, {"X": X[:batch].astype(np.float32)})
    np.testing.assert_allclose(outputs[0], est.transform(X[:batch]), atol=1e-5)
    if hasattr(est, "predict_proba"):
        np.testing.assert_allclose(outputs[1], est.predict_proba(X[:batch]), atol=1e-5)


@pytest.mark.parametrize("batch", [1, 7])
def test_onnx_decoder_matches_the_estimator(fitted, batch, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    est, X = fitted
    path = tmp_path / "decoder.onnx"
    est.export_onnx(path, part="decoder")
    session = ort.InferenceSession(str(path))
    Z = est.transform(X[:batch])
    if isinstance(est, AAEClusterer):
        # The decoder reads a head unit (sub-cluster); a cluster decodes
        # with its principal one.
        labels = np.arange(batch) % est.n_clusters
        units = est.principal_subcluster_[labels]
        rep = np.hstack([np.eye(est.n_subclusters_)[units], Z])
        expected = est.decode(Z, labels)
    elif isinstance(est, AAEClassifier):
        labels = np.arange(batch) % est.module_.n_categories
        rep = np.hstack([np.eye(est.module_.n_categories)[labels], Z])
        expected = est.decode(Z, est.classes_[labels])
    else:
        rep, expected = Z, est.inverse_transform(Z)
    (decoded,) = session.run(None, {"decoder_input": rep.astype(np.float32)})
    np.testing.assert_allclose(decoded, expected, atol=1e-5)


def test_onnx_export_checks_its_arguments(fitted, tmp_path):
    est, _ = fitted
    with pytest.raises(ValueError, match="part must be one of"):
        est.export_onnx(tmp_path / "x.onnx", part="critic")


def test_pickling_between_partial_fit_calls_does_not_change_training(digits):
    # A stream moved between processes (Dask pickles the model whenever it
    # moves it) must train as one that stays: the optimisers' state travels.
    X = digits[0][:600]
    params = dict(n_components=2, hidden_layer_sizes=(32,), batch_size=50)
    staying = AAETransformer(random_state=0, **params)
    moving = AAETransformer(random_state=0, **params)
    for start in range(0, len(X), 150):
        staying.partial_fit(X[start : start + 150])
        moving = pickle.loads(pickle.dumps(moving))
        moving.partial_fit(X[start : start + 150])
    np.testing.assert_array_equal(moving.transform(X), staying.transform(X))
