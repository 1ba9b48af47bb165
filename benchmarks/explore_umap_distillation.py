"""Can an MLP encoder carry UMAP's layout to new points? (issue 15 exploration)

Fits UMAP on the training rows of a split (``explore_map_settings.py``'s
splits), whitens its 2-D layout (an affine map, so 5-NN accuracy does not
change), and trains an MLP of the plain map's encoder shape (four hidden
layers of 256 ReLU units) to regress it (mean squared error, Adam at 1e-3
with cosine decay, batch 128). It prints, every quarter of the epochs, the
5-NN accuracy of the test rows' predicted codes against the training rows'
predicted codes, next to UMAP's own (test rows through ``UMAP.transform``).

If the regressed encoder places new points as well as UMAP's transform, a
parametric map is limited by its layout; if not, by how an encoder
generalises between training rows.

    python benchmarks/explore_umap_distillation.py letter --epochs 100
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from _machine import limit_threads
from explore_map_settings import split
from sklearn.neighbors import KNeighborsClassifier


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset")
    parser.add_argument("--data", default=None, help="Fashion-MNIST folder")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    limit_threads(args.threads)
    import umap

    X_train, y_train, X_test, y_test = split(args.dataset, args.data)

    def knn_accuracy(train_codes, test_codes) -> float:
        knn = KNeighborsClassifier(5).fit(train_codes, y_train)
        return knn.score(test_codes, y_test)

    start = time.perf_counter()
    reducer = umap.UMAP(random_state=args.seed).fit(X_train)
    layout = reducer.embedding_.astype(np.float64)
    umap_new = knn_accuracy(layout, reducer.transform(X_test))
    print(
        f"{args.dataset}: UMAP 5-NN accuracy of new points {umap_new:.3f} "
        f"(fit and transform {time.perf_counter() - start:.0f} s)",
        flush=True,
    )
    centred = layout - layout.mean(0)
    values, vectors = np.linalg.eigh(np.cov(centred.T))
    target = torch.as_tensor(centred @ (vectors / np.sqrt(values)), dtype=torch.float32)

    torch.manual_seed(args.seed)
    width, layers = 256, 4
    modules, n_in = [], X_train.shape[1]
    for _ in range(layers):
        modules += [torch.nn.Linear(n_in, width), torch.nn.ReLU()]
        n_in = width
    encoder = torch.nn.Sequential(*modules, torch.nn.Linear(width, 2))
    X = torch.as_tensor(X_train, dtype=torch.float32)
    X_new = torch.as_tensor(X_test, dtype=torch.float32)
    batch = 128
    steps_per_epoch = len(X) // batch
    optimizer = torch.optim.Adam(encoder.parameters(), 1e-3)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, args.epochs * steps_per_epoch
    )
    for epoch in range(1, args.epochs + 1):
        order = torch.randperm(len(X))
        for step in range(steps_per_epoch):
            rows = order[step * batch : (step + 1) * batch]
            loss = (encoder(X[rows]) - target[rows]).pow(2).sum(1).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        if epoch % max(1, args.epochs // 4) == 0:
            with torch.no_grad():
                codes, codes_new = encoder(X).numpy(), encoder(X_new).numpy()
                mse = float((encoder(X) - target).pow(2).sum(1).mean())
            new_points = knn_accuracy(codes, codes_new)
            against_layout = knn_accuracy(target.numpy(), codes_new)
            print(
                f"  epoch {epoch}: training MSE {mse:.4f} (the layout has unit "
                f"variance), 5-NN accuracy of new points {new_points:.3f} "
                f"(against UMAP's training layout: {against_layout:.3f})",
                flush=True,
            )


if __name__ == "__main__":
    main()
