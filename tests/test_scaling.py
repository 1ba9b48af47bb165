"""Scaling out: searches on Dask and Ray, out-of-core fits, torch.distributed.

The engines are real and local: a ``dask.distributed.LocalCluster`` of two
single-thread worker processes, ``ray.init(num_cpus=2)`` and ``torchrun``
with two gloo ranks. About 3 minutes on 2 cores; the four tests marked slow
take 20-70 s each (the torchrun quality tests most). The engines come from
the ``dask`` and ``ray`` extras, which the ``test`` extra includes.
"""

import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from conftest import ten_percent_labels
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neighbors import KNeighborsClassifier

from skaae import AAEClassifier, AAEClusterer, AAETransformer

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Small, fast fits: the point is where they run, not how good they are.
SMALL = dict(hidden_layer_sizes=(32,), max_iter=4, batch_size=50, random_state=0)


def _searches(digits):
    X, y = digits
    X, y = X[:300], y[:300]
    y_semi = np.where(ten_percent_labels(y, 0), y, -1)
    return [
        (AAETransformer(n_components=2, **SMALL), {"n_components": [2, 6]}, X, None),
        (AAEClassifier(**SMALL), {"learning_rate_init": [1e-4, 1e-3]}, X, y_semi),
        (
            AAEClusterer(n_clusters=5, n_init=1, **SMALL),
            {"n_clusters": [3, 5]},
            X,
            None,
        ),
    ]


def _run_searches(digits, backend=None):
    """cv scores and best parameters of a small search of each estimator."""
    import joblib

    results = []
    for estimator, grid, X, y in _searches(digits):
        search = GridSearchCV(estimator, grid, cv=2, n_jobs=2 if backend else None)
        if backend:
            with joblib.parallel_backend(backend):
                search.fit(X, y)
        else:
            search.fit(X, y)
        results.append(
            (search.best_params_, search.cv_results_["mean_test_score"].copy())
        )
    return results


@pytest.fixture(scope="module")
def default_backend_searches(digits):
    # The engines' workers run torch on one thread (they set
    # OMP_NUM_THREADS=1); the reference runs likewise, since float sums, and
    # so the fitted models, depend on the thread count.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _run_searches(digits)
    finally:
        torch.set_num_threads(threads)


def _assert_same_searches(results, reference):
    for (params, scores), (ref_params, ref_scores) in zip(
        results, reference, strict=True
    ):
        assert params == ref_params
        np.testing.assert_allclose(scores, ref_scores, rtol=1e-6)


@pytest.mark.slow
def test_grid_search_on_dask_matches_default_backend(digits, default_backend_searches):
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        # What keeps the workers from oversubscribing the cores.
        assert set(client.run(torch.get_num_threads).values()) == {1}
        results = _run_searches(digits, backend="dask")
    _assert_same_searches(results, default_backend_searches)


@pytest.mark.slow
def test_grid_search_on_ray_matches_default_backend(digits, default_backend_searches):
    ray = pytest.importorskip("ray")
    from ray.util.joblib import register_ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        register_ray()

        def torch_threads():  # defined here: Ray ships it by value
            import torch

            return torch.get_num_threads()

        threads = ray.get(ray.remote(torch_threads).remote())
        assert threads == 1
        results = _run_searches(digits, backend="ray")
    finally:
        ray.shutdown()
    _assert_same_searches(results, default_backend_searches)


def test_estimators_pickle_small_and_without_cuda(tmp_path):
    # Workers receive unfitted estimators: a few hundred bytes each, and
    # nothing in skaae touches CUDA outside fit (so forked workers work).
    # The check runs in a fresh interpreter whose CUDA entry points raise.
    script = textwrap.dedent(
        """
        import pickle, sys
        import numpy as np
        import torch

        def forbid(name):
            # One function per name: torch's compiler indexes them.
            def forbidden(*args, **kwargs):
                raise AssertionError(f"torch.cuda.{name} called outside fit")

            return forbidden

        for name in ("is_available", "device_count", "init", "_lazy_init",
                     "is_bf16_supported", "current_device", "set_device"):
            setattr(torch.cuda, name, forbid(name))

        from sklearn.base import clone
        import skaae

        X = np.random.RandomState(0).uniform(size=(40, 4))
        for cls in (skaae.AAETransformer, skaae.AAEClassifier, skaae.AAEClusterer):
            est = clone(cls(device="cpu", max_iter=1, hidden_layer_sizes=(8,)))
            blob = pickle.dumps(est)
            assert len(blob) < 2000, (cls.__name__, len(blob))
            est = pickle.loads(blob)
            y = np.arange(40) % 2 if cls is skaae.AAEClassifier else None
            est.fit(X, y)
            est = pickle.loads(pickle.dumps(est))
            est.transform(X)
        print("ok")
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().endswith("ok")


def test_dask_ml_incremental_streams_chunks_like_partial_fit(digits):
    da = pytest.importorskip("dask.array")
    wrappers = pytest.importorskip("dask_ml.wrappers")
    X = digits[0][:600]
    chunk = 150
    params = dict(n_components=2, **SMALL)

    by_hand = AAETransformer(**params)
    for start in range(0, len(X), chunk):
        by_hand.partial_fit(X[start : start + chunk])

    X_dask = da.from_array(X, chunks=(chunk, X.shape[1]))
    incremental = wrappers.Incremental(AAETransformer(**params), shuffle_blocks=False)
    incremental.fit(X_dask)
    model = incremental.estimator_
    assert model.n_iter_ == len(X) // chunk
    np.testing.assert_array_equal(model.transform(X), by_hand.transform(X))
    # transform block-wise (ParallelPostFit) gives the estimator's codes.
    codes = incremental.transform(X_dask)
    assert isinstance(codes, da.Array)
    np.testing.assert_allclose(codes.compute(), by_hand.transform(X))


def test_partial_fit_from_a_memmap_matches_in_memory_chunks(digits, tmp_path):
    X = np.ascontiguousarray(digits[0][:600], dtype=np.float32)
    path = tmp_path / "X.dat"
    on_disk = np.memmap(path, dtype=np.float32, mode="w+", shape=X.shape)
    on_disk[:] = X
    on_disk.flush()
    on_disk = np.memmap(path, dtype=np.float32, mode="r", shape=X.shape)
    models = [AAETransformer(n_components=2, **SMALL) for _ in range(2)]
    for start in range(0, len(X), 200):
        models[0].partial_fit(on_disk[start : start + 200])
        models[1].partial_fit(X[start : start + 200])
    np.testing.assert_array_equal(models[0].transform(X), models[1].transform(X))


WORKER = textwrap.dedent(
    """
    import sys
    import numpy as np
    import torch
    import torch.distributed as dist
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.neighbors import KNeighborsClassifier
    from skaae import AAEClassifier, AAETransformer
    from skaae.distributed import fit, shard

    torch.set_num_threads(1)
    out, kind = sys.argv[1], sys.argv[2]
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X / 16.0, y, test_size=0.3, random_state=0, stratify=y
    )
    weights = {}
    if kind == "transformer":
        scores = []
        for seed in (0, 1):
            aae = AAETransformer(n_components=2, max_iter=100, random_state=seed)
            model = fit(aae, shard(X_train))
            knn = KNeighborsClassifier(5).fit(model.transform(X_train), y_train)
            scores.append(knn.score(model.transform(X_test), y_test))
            for k, v in model.module_.state_dict().items():
                weights[f"seed{seed}.{k}"] = v.cpu().numpy()
        result = np.mean(scores)
    else:
        y_semi = np.load(sys.argv[3])
        model = fit(AAEClassifier(random_state=0), shard(X_train), shard(y_semi))
        result = model.score(X_test, y_test)
        weights = {k: v.cpu().numpy() for k, v in model.module_.state_dict().items()}
    np.savez(f"{out}/rank{dist.get_rank()}.npz", result=result, n_iter=model.n_iter_,
             **weights)
    """
)


def _torchrun(tmp_path, *args):
    script = tmp_path / "worker.py"
    script.write_text(WORKER)
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=REPO)
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",  # a local rendezvous on a free port
        "--nproc_per_node=2",
        str(script),
        str(tmp_path),
        *args,
    ]
    # In its own session, so that a hang kills the ranks too.
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        _, stderr = process.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        raise
    assert process.returncode == 0, stderr[-4000:]
    ranks = [dict(np.load(tmp_path / f"rank{r}.npz")) for r in range(2)]
    for name in ranks[0]:
        np.testing.assert_array_equal(ranks[0][name], ranks[1][name], err_msg=name)
    return ranks[0]


def _digits_split(digits):
    X, y = digits
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


@pytest.fixture
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.slow
def test_torchrun_classifier_same_weights_on_both_ranks_and_quality(
    digits, tmp_path, one_thread
):
    X_train, X_test, y_train, y_test = _digits_split(digits)
    y_semi = np.where(ten_percent_labels(y_train, 0), y_train, -1)
    np.save(tmp_path / "y.npy", y_semi)
    rank0 = _torchrun(tmp_path, "classifier", str(tmp_path / "y.npy"))
    single = AAEClassifier(random_state=0).fit(X_train, y_semi)
    assert rank0["n_iter"] == single.n_iter_
    two_ranks = float(rank0["result"])
    one_process = single.score(X_test, y_test)
    assert two_ranks > 0.85
    assert two_ranks > one_process - 0.03, (two_ranks, one_process)


@pytest.mark.slow
def test_torchrun_transformer_same_weights_on_both_ranks_and_quality(
    digits, tmp_path, one_thread
):
    X_train, X_test, y_train, y_test = _digits_split(digits)
    rank0 = _torchrun(tmp_path, "transformer")
    # 100 epochs on both sides (not "auto"'s 300 for 1,257 rows): the test
    # compares two ranks with one process, not the epoch budget. Means over
    # two seeds: one seed's gap ranges from -0.006 to +0.033 (seeds 0-3), so
    # a single seed tests the draw rather than the sharding.
    scores = []
    for seed in (0, 1):
        single = AAETransformer(n_components=2, max_iter=100, random_state=seed)
        single.fit(X_train)
        knn = KNeighborsClassifier(5).fit(single.transform(X_train), y_train)
        scores.append(knn.score(single.transform(X_test), y_test))
    one_process = np.mean(scores)
    two_ranks = float(rank0["result"])
    assert min(scores) > 0.85
    # The map term's neighbour graph is built on each rank's shard alone.
    assert two_ranks > one_process - 0.03, (two_ranks, one_process)


def test_command_line_fits_and_rank_zero_saves(digits, tmp_path):
    import joblib

    X = digits[0][:400]
    np.save(tmp_path / "X.npy", X)
    output = tmp_path / "model.joblib"
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "torch.distributed.run",
            "--standalone",
            "--nproc_per_node=2",
            "-m",
            "skaae.distributed",
            "--estimator",
            "AAEClusterer",
            "--params",
            '{"n_clusters": 4, "max_iter": 2, "hidden_layer_sizes": [32]}',
            "--data",
            str(tmp_path / "X.npy"),
            "--output",
            str(output),
        ],
        capture_output=True,
        text=True,
        env=dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=REPO),
        timeout=300,
    )
    assert process.returncode == 0, process.stderr[-4000:]
    assert "fitted on 2 ranks (400 rows in all)" in process.stdout
    model = joblib.load(output)
    assert isinstance(model, AAEClusterer)
    assert model.n_iter_ == 2
    assert model.predict(X).shape == (400,)
    # labels_ holds rank 0's rows: every other row from the first.
    np.testing.assert_array_equal(model.labels_, model.predict(X[::2]))


def test_data_parallel_fit_needs_a_process_group(digits, monkeypatch):
    from skaae.distributed import fit

    monkeypatch.delenv("RANK", raising=False)
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    with pytest.raises(RuntimeError, match="torchrun"):
        fit(AAETransformer(**SMALL), digits[0][:100])
