"""The neighbour graph and the neighbourhood terms of the training loop."""

import numpy as np
import pytest
import torch
from sklearn.neighbors import NearestNeighbors

from skaae import AAETransformer
from skaae._neighbors import _drop_self, _exact_neighbors, nearest_neighbors
from skaae._training import category_agreement_loss, neighbor_map_loss


@pytest.mark.parametrize(
    "search, atol",
    [
        (nearest_neighbors, 1e-9),
        # The block search that runs on a GPU, here on the CPU (float32).
        (lambda X, k: _exact_neighbors(X, k, torch.device("cpu")), 1e-5),
    ],
    ids=["default", "block"],
)
def test_nearest_neighbors_match_brute_force(digits, search, atol):
    X, _ = digits
    graph = search(X, 5)
    assert graph.shape == (len(X), 5) and graph.dtype == np.int64
    assert not np.any(graph == np.arange(len(X))[:, None])
    # The same distances as a brute-force search that includes each row.
    brute = NearestNeighbors(n_neighbors=6, algorithm="brute").fit(X)
    dist, _ = brute.kneighbors(X)
    ours = np.linalg.norm(X[graph] - X[:, None], axis=2)
    np.testing.assert_allclose(np.sort(ours, axis=1), dist[:, 1:], atol=atol)


def test_partitioned_search_finds_nearly_all_exact_neighbours(digits, monkeypatch):
    # The search that wide rows take from thousands of rows (images), tried
    # on digits with the thresholds lowered and 16 principal components, so
    # that candidates are ranked in a projection and re-ranked exactly.
    import skaae._neighbors as neighbors

    monkeypatch.setattr(neighbors, "_PARTITION_MIN_ROWS", 1000)
    monkeypatch.setattr(neighbors, "_PARTITION_MIN_FEATURES", 64)
    monkeypatch.setattr(neighbors, "_PARTITION_COMPONENTS", 16)
    calls = []
    search = neighbors._partitioned_neighbors
    monkeypatch.setattr(
        neighbors,
        "_partitioned_neighbors",
        lambda *args: calls.append(args) or search(*args),
    )
    X, _ = digits
    graph = nearest_neighbors(X, 10)
    assert len(calls) == 1
    assert graph.shape == (len(X), 10) and graph.dtype == np.int64
    assert not np.any(graph == np.arange(len(X))[:, None])
    assert all(len(set(row)) == 10 for row in graph)
    exact = NearestNeighbors(n_neighbors=10).fit(X).kneighbors(return_distance=False)
    recall = np.mean((graph[:, :, None] == exact[:, None, :]).any(-1))
    assert recall > 0.95
    # Nearest first, and a found neighbour is never nearer than the exact
    # one of the same rank.
    found = np.linalg.norm(X[graph] - X[:, None], axis=2)
    best = np.linalg.norm(X[exact] - X[:, None], axis=2)
    assert np.all(np.diff(found, axis=1) >= -1e-6)
    assert np.all(found >= best - 1e-6)
    # Seeded: the same graph again, and the first rows' lists for n_queries.
    np.testing.assert_array_equal(nearest_neighbors(X, 10), graph)
    np.testing.assert_array_equal(nearest_neighbors(X, 10, n_queries=300), graph[:300])
    # Narrow rows keep the exact search.
    monkeypatch.setattr(neighbors, "_PARTITION_MIN_FEATURES", 65)
    nearest_neighbors(X, 10)
    assert len(calls) == 3


def test_nearest_neighbors_clips_k_and_needs_two_rows():
    X = np.arange(8.0).reshape(4, 2)
    assert nearest_neighbors(X, 10).shape == (4, 3)
    with pytest.raises(ValueError, match="at least 2 samples"):
        nearest_neighbors(X[:1], 3)


def test_drop_self_keeps_order_and_fills_gaps():
    # An approximate search may list a row anywhere in its own list, or not
    # at all, and may leave slots empty (-1).
    found = np.array([[0, 3, 2], [2, 1, 0], [1, 0, -1]])
    np.testing.assert_array_equal(_drop_self(found, 2), [[3, 2], [2, 0], [1, 0]])
    np.testing.assert_array_equal(_drop_self(np.array([[1, -1, 2]]), 2), [[1, 0]])


def test_map_loss_prefers_neighbours_close_and_others_apart():
    rng = np.random.RandomState(0)
    codes = torch.tensor(rng.normal(size=(50, 2)), dtype=torch.float32)
    near = codes + 0.01
    far = codes.roll(7, 0)
    assert neighbor_map_loss(codes, near, 0.25, 5) < neighbor_map_loss(
        codes, far, 0.25, 5
    )
    # Spreading the non-neighbours apart lowers the loss too.
    assert neighbor_map_loss(3 * codes, 3 * near, 0.25, 5) < neighbor_map_loss(
        codes, near, 0.25, 5
    )


def test_scale_free_map_loss_leaves_the_scale_alone():
    rng = np.random.RandomState(0)
    codes = torch.tensor(rng.normal(size=(50, 2)), dtype=torch.float32)
    near = codes + torch.tensor(rng.normal(scale=0.1, size=(50, 2))).float()
    loss = neighbor_map_loss(codes, near, 0.25, 5, scale_free=True)
    scaled = neighbor_map_loss(3 * codes, 3 * near, 0.25, 5, scale_free=True)
    torch.testing.assert_close(loss, scaled)
    # It still tells neighbours from non-neighbours.
    assert loss < neighbor_map_loss(codes, codes.roll(7, 0), 0.25, 5, scale_free=True)
    # Its gradient has no part along the codes themselves (the row's and
    # the neighbour's, scaled together as one encoder's outputs are): it
    # cannot grow or shrink them, which is left to the discriminator.
    for free in (True, False):
        moving = codes.clone().requires_grad_(True)
        moving_near = near.clone().requires_grad_(True)
        neighbor_map_loss(moving, moving_near, 0.25, 5, free).backward()
        radial = (moving.grad * codes + moving_near.grad * near).sum().abs().item()
        if free:
            assert radial < 1e-4
        else:
            assert radial > 1e-2


def test_map_loss_averages_over_several_neighbours_a_row():
    rng = np.random.RandomState(0)
    codes = torch.tensor(rng.normal(size=(40, 2)), dtype=torch.float32)
    first, second = (
        codes + torch.tensor(rng.normal(scale=s, size=(40, 2))).float()
        for s in (0.1, 0.5)
    )
    # Row i's neighbours are rows 2i and 2i + 1: the attraction averages
    # over both pairs, the repulsion (among the rows) is unchanged.
    both = torch.stack([first, second], 1).reshape(80, 2)
    for free in (True, False):
        torch.testing.assert_close(
            neighbor_map_loss(codes, both, 0.25, 5, free),
            (
                neighbor_map_loss(codes, first, 0.25, 5, free)
                + neighbor_map_loss(codes, second, 0.25, 5, free)
            )
            / 2,
        )


def test_map_loss_exponent_is_umaps_b():
    # q = 1 / (1 + (d / s)^(2b)): the loss is -log q on the edges plus
    # n_negatives times the mean -log(1 - q) over the other pairs of rows.
    rng = np.random.RandomState(1)
    codes = torch.tensor(rng.normal(size=(12, 2)))
    neighbours = codes + torch.tensor(rng.normal(scale=0.3, size=(12, 2)))
    scale, b = 0.5, 0.7
    edge = ((codes - neighbours).norm(dim=1) / scale) ** (2 * b)
    pair = (torch.cdist(codes, codes) / scale) ** (2 * b)
    others = pair[~torch.eye(12, dtype=torch.bool)]
    expected = torch.log1p(edge).mean() + 5 * torch.log1p(1 / others).mean()
    torch.testing.assert_close(
        neighbor_map_loss(codes, neighbours, scale, 5, exponent=b), expected
    )
    # A heavier tail weighs far pairs less in the attraction.
    assert neighbor_map_loss(codes, neighbours * 3, scale, 0, exponent=b) < (
        neighbor_map_loss(codes, neighbours * 3, scale, 0)
    )


def test_plain_map_draws_three_neighbours_a_row(digits):
    X = digits[0][:300]
    plain = AAETransformer(max_iter=1, random_state=0).fit(X)
    heads = AAETransformer(max_iter=1, n_clusters=3, random_state=0).fit(X)
    assert plain._session.config.n_positives == 3
    assert heads._session.config.n_positives == 1
    # And a heavier tail than Student-t's with the plain map only.
    assert plain._session.config.neighbor_exponent == 0.4
    assert heads._session.config.neighbor_exponent == 1.0


def test_agreement_loss_rewards_shared_categories():
    same = torch.eye(4)
    other = torch.eye(4).roll(1, 0)
    assert category_agreement_loss(same, same) < 1e-6
    assert category_agreement_loss(same, other) > 10


def test_large_inputs_use_the_approximate_search(monkeypatch):
    # Runs where the "neighbors" extra is installed (numba compiles for
    # 20-50 s on first use, so the test extra leaves it out).
    pytest.importorskip("pynndescent")
    import skaae._neighbors as neighbors

    # Lower the threshold rather than build a large graph in a test.
    monkeypatch.setattr(neighbors, "_EXACT_MAX_ROWS", 100)
    rng = np.random.RandomState(0)
    X = rng.normal(size=(500, 8))
    approximate = nearest_neighbors(X, 10)
    assert approximate.shape == (500, 10)
    assert not np.any(approximate == np.arange(500)[:, None])
    exact = NearestNeighbors(n_neighbors=10).fit(X).kneighbors(return_distance=False)
    recall = np.mean(
        [len(set(a) & set(e)) / 10 for a, e in zip(approximate, exact, strict=True)]
    )
    assert recall > 0.9
