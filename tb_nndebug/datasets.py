"""Real datasets that travel with the package (see ``data/SOURCES.md``).

Nothing is downloaded: MNIST's test set, a 5,000-image CIFAR-10 subset, a
credit-card fraud sample and Friedland's toy files are bundled, and the
two-dimensional toy sets of the paper's Table 1 come from seeded generators.
"""
from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parent / "data"

FRIEDLAND_FILES = {
    "gauss": "gauss_100_35dB.csv",
    "circle": "circle_100_35dB.csv",
    "spiral": "spiral_100_35dB.csv",
    "xor": "xor_100_35dB.csv",
    "and": "and.csv",
    "xor_table": "xor.csv",
    "nxor": "nxor.csv",
    "random": "random.csv",
}

CIFAR10_CLASSES = (
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
)


def load_mnist_test():
    """The official MNIST test set: ``(X, y)``, X uint8 (10000, 28, 28), y uint8."""
    d = DATA_DIR / "mnist"
    with gzip.open(d / "t10k-images-idx3-ubyte.gz", "rb") as f:
        raw = f.read()
    if int.from_bytes(raw[:4], "big") != 0x803:
        raise ValueError("MNIST image file has a wrong magic number")
    X = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(d / "t10k-labels-idx1-ubyte.gz", "rb") as f:
        raw = f.read()
    if int.from_bytes(raw[:4], "big") != 0x801:
        raise ValueError("MNIST label file has a wrong magic number")
    y = np.frombuffer(raw, dtype=np.uint8, offset=8)
    return X.copy(), y.copy()


def load_cifar10_5k():
    """5,000 CIFAR-10 images: ``(x_train, y_train), (x_test, y_test)``, uint8 HWC."""
    with np.load(DATA_DIR / "cifar10" / "cifar10_5k.npz") as z:
        return (z["x_train"], z["y_train"].reshape(-1)), (z["x_test"], z["y_test"].reshape(-1))


def load_creditcard():
    """The credit-card fraud sample: ``(X, y, feature_names)``; y = Class (1 = fraud)."""
    path = DATA_DIR / "creditcard" / "creditcard_sample.csv"
    with open(path, encoding="utf-8") as f:
        header = f.readline().strip().split(",")
    data = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float64)
    return data[:, :-1], data[:, -1].astype(np.int64), header[:-1]


def load_friedland(name: str):
    """One of Friedland's data files: ``(X, y)`` with labels ±1 (or 0/1 tables)."""
    if name not in FRIEDLAND_FILES:
        raise ValueError(f"name must be one of {sorted(FRIEDLAND_FILES)}, got {name!r}")
    data = np.loadtxt(DATA_DIR / "friedland" / FRIEDLAND_FILES[name], delimiter=",", ndmin=2)
    return data[:, :-1], data[:, -1].astype(np.int64)
