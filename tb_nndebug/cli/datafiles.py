"""Load a labelled dataset from a file or folder: ``.npz``, ``.csv`` or images.

What ``tb-nndebug analyze DATA`` accepts. Every loader returns a
:class:`LoadedData` whose ``notes`` say what was guessed (which ``.npz`` keys,
which CSV column is the label, how images were resized), so the CLI can tell
the user. Bad input raises ``ValueError`` naming the file and what is wrong.
"""
from __future__ import annotations

import csv
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._validation import check_consistent_length

#: ``.npz`` keys tried for the features and the labels, in this order.
X_KEYS = ("x", "X", "x_train", "X_train", "features", "data", "inputs", "images")
Y_KEYS = ("y", "Y", "y_train", "Y_train", "labels", "label", "targets", "target")
#: Held-out split looked for in the same ``.npz`` when no ``--test`` is given.
X_TEST_KEYS = ("x_test", "X_test")
Y_TEST_KEYS = ("y_test", "Y_test")

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
_GREY_MODES = {"1", "L", "LA", "I", "I;16", "F"}


@dataclass(frozen=True)
class LoadedData:
    """A dataset read from disk.

    Attributes
    ----------
    x : ndarray
        Features, one sample per row (images: ``(n, h, w, channels)`` in [0, 1]).
    y : ndarray
        Labels, one per sample (ints, or strings as found in a CSV).
    source : str
        The path read.
    format : {"npz", "csv", "images"}
    notes : tuple of str
        What the loader chose on its own (keys, label column, resizing).
    feature_names : tuple of str or None
        CSV column names of ``x``.
    class_names : tuple of str or None
        Image folder names, in label order.
    x_test, y_test : ndarray or None
        A held-out split found in the same ``.npz`` file.
    """

    x: np.ndarray
    y: np.ndarray
    source: str
    format: str
    notes: tuple = ()
    feature_names: tuple | None = None
    class_names: tuple | None = None
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None


def load_data(path, *, label=None, name: str = "DATA") -> LoadedData:
    """Read a dataset from ``path``, choosing the loader by what ``path`` is.

    Parameters
    ----------
    path : str or path-like
        A ``.npz`` file (arrays ``x`` and ``y``, or a common variant of those
        names), a ``.csv`` file with one sample per row, or a folder holding
        one sub-folder of images per class.
    label : str or int, optional
        CSV only: the label column, by header name or 0-based index. Default:
        the last column.
    name : str, default="DATA"
        How error messages refer to ``path``.

    Returns
    -------
    LoadedData

    Raises
    ------
    ValueError
        Missing path, unknown format, missing label column or arrays,
        mismatched lengths, non-numeric features, unreadable images.
    """
    p = Path(os.fspath(path))
    if not p.exists():
        raise ValueError(f"{name}: no such file or folder: {str(p)!r}")
    if p.is_dir():
        if label is not None:
            raise ValueError(f"{name}: --label applies to CSV files, not to an image folder")
        return _load_image_folder(p, name)
    suffix = p.suffix.lower()
    if suffix == ".npz":
        if label is not None:
            raise ValueError(f"{name}: --label applies to CSV files, not to .npz")
        return _load_npz(p, name)
    if suffix in (".csv", ".txt"):
        return _load_csv(p, name, label)
    raise ValueError(
        f"{name}: cannot read {p.name!r}: expected a .npz file, a .csv file "
        "or a folder of class sub-folders of images"
    )


def _pick(keys_present, candidates):
    return next((k for k in candidates if k in keys_present), None)


def _load_npz(p: Path, name: str) -> LoadedData:
    try:
        z = np.load(p, allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - BadZipFile, OSError, ValueError, ...
        raise ValueError(f"{name}: {p.name!r} is not a readable .npz file ({exc})") from None
    with z:
        keys = set(z.files)
        xk, yk = _pick(keys, X_KEYS), _pick(keys, Y_KEYS)
        if xk is None or yk is None:
            raise ValueError(
                f"{name}: {p.name!r} needs a features array and a labels array; "
                f"found keys {sorted(keys)}, expected one of {X_KEYS} and one of {Y_KEYS}"
            )
        try:
            x, y = z[xk], z[yk]
        except ValueError as exc:  # object arrays need pickle
            raise ValueError(f"{name}: cannot read arrays from {p.name!r}: {exc}") from None
        notes = [f"features from key {xk!r} {tuple(x.shape)}, labels from key {yk!r}"]
        xtk, ytk = _pick(keys, X_TEST_KEYS), _pick(keys, Y_TEST_KEYS)
        x_test = y_test = None
        if xtk and ytk and xtk != xk:
            x_test, y_test = z[xtk], z[ytk]
            check_consistent_length(x_test, y_test, names=(repr(xtk), repr(ytk)), context=name,
                                    min_samples=1)
            notes.append(f"held-out split from keys {xtk!r}/{ytk!r} ({len(x_test)} samples)")
    check_consistent_length(x, y, names=(repr(xk), repr(yk)), context=name, min_samples=1)
    return LoadedData(x=x, y=y, source=str(p), format="npz", notes=tuple(notes),
                      x_test=x_test, y_test=y_test)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _looks_like_header(rows) -> bool:
    """A first row with text where the second row has a number is a header
    (a text label column alone does not make one)."""
    first = rows[0]
    if len(rows) == 1:
        return not all(_is_number(c) for c in first)
    second = rows[1]
    return any(not _is_number(a) and _is_number(b) for a, b in zip(first, second))


def _load_csv(p: Path, name: str, label) -> LoadedData:
    rows = _read_csv_rows(p, name)
    header = None
    if _looks_like_header(rows):
        header = [c.strip() for c in rows[0]]
        rows = rows[1:]
    width = len(header) if header else len(rows[0])
    if width < 2:
        raise ValueError(f"{name}: {p.name!r} needs at least two columns (features and a label)")
    names = header or [str(i) for i in range(width)]
    col, note = _label_column(label, names, p, name)
    if not rows:
        raise ValueError(f"{name}: {p.name!r} holds a header but no samples")
    _check_row_widths(rows, width, first_line=2 if header else 1, p=p, name=name)
    table = np.array(rows, dtype=object)
    feats = [j for j in range(width) if j != col]
    x = _numeric_columns(table, feats, names, p, name)
    y = _csv_labels(np.array([c.strip() for c in table[:, col]]))
    return LoadedData(x=x, y=y, source=str(p), format="csv", notes=(note,),
                      feature_names=tuple(names[j] for j in feats))


def _read_csv_rows(p: Path, name: str) -> list:
    """The non-blank rows of a CSV file (a ValueError names an unreadable or empty one)."""
    try:
        with open(p, newline="", encoding="utf-8-sig") as f:
            rows = [r for r in csv.reader(f) if r and any(c.strip() for c in r)]
    except (UnicodeDecodeError, csv.Error, OSError) as exc:
        raise ValueError(f"{name}: {p.name!r} is not a readable CSV file ({exc})") from None
    if not rows:
        raise ValueError(f"{name}: {p.name!r} is empty")
    return rows


def _label_column(label, names, p: Path, name: str) -> tuple[int, str]:
    """The index of the ``--label`` column (a name, an index, or None: the last) and a note."""
    width = len(names)
    if label is None:
        col = width - 1
        return col, f"label column {names[col]!r} (the last; choose another with --label)"
    if str(label) in names:
        col = names.index(str(label))
        return col, f"label column {names[col]!r}"
    if str(label).lstrip("-").isdigit() and -width <= int(label) < width:
        col = int(label) % width
        return col, f"label column {names[col]!r} (index {col})"
    shown = names if width <= 12 else names[:6] + ["..."] + names[-4:]
    raise ValueError(
        f"{name}: --label {label!r} is not a column of {p.name!r} "
        f"(columns: {', '.join(shown)})"
    )


def _check_row_widths(rows, width, *, first_line, p: Path, name: str) -> None:
    for i, r in enumerate(rows):
        if len(r) != width:
            raise ValueError(f"{name}: line {i + first_line} of {p.name!r} has {len(r)} "
                             f"fields, expected {width}")


def _numeric_columns(table, feats, names, p: Path, name: str) -> np.ndarray:
    """The feature columns as float64; a ValueError names the first non-numeric column."""
    try:
        return table[:, feats].astype(np.float64)
    except ValueError:
        for j in feats:
            bad = next((v for v in table[:, j] if not _is_number(v)), None)
            if bad is not None:
                raise ValueError(
                    f"{name}: column {names[j]!r} of {p.name!r} is not numeric "
                    f"(value {bad!r}); only the label column may hold text"
                ) from None
        raise


def _csv_labels(y_raw: np.ndarray) -> np.ndarray:
    """Numeric label text as ints (or floats when not whole), other text unchanged."""
    if all(_is_number(v) for v in y_raw):
        yf = y_raw.astype(np.float64)
        return yf.astype(np.int64) if np.all(yf == np.round(yf)) else yf
    return y_raw


def _load_image_folder(p: Path, name: str) -> LoadedData:
    from PIL import Image, UnidentifiedImageError

    class_dirs = sorted(d for d in p.iterdir() if d.is_dir() and not d.name.startswith("."))
    files = {
        d.name: sorted(f for f in d.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
        for d in class_dirs
    }
    files = {k: v for k, v in files.items() if v}
    if not files:
        raise ValueError(
            f"{name}: folder {str(p)!r} has no class sub-folders with images "
            f"({', '.join(IMAGE_SUFFIXES)})"
        )
    images, labels = [], []
    for cls, paths in files.items():
        for f in paths:
            try:
                with Image.open(f) as im:
                    im.load()
                    images.append(im.copy())
            except (UnidentifiedImageError, OSError) as exc:
                raise ValueError(f"{name}: cannot read image {str(f)!r} ({exc})") from None
            labels.append(cls)
    notes = [f"{len(images)} images in {len(files)} class folders"]
    grey = all(im.mode in _GREY_MODES for im in images)
    mode = "L" if grey else "RGB"
    sizes = Counter(im.size for im in images)
    size = sizes.most_common(1)[0][0]
    if len(sizes) > 1:
        notes.append(f"images resized to {size[0]}x{size[1]} (the most common size)")
    arrays = []
    for im in images:
        im = im.convert(mode)
        if im.size != size:
            im = im.resize(size, Image.BILINEAR)
        arrays.append(np.asarray(im, dtype=np.float32) / 255.0)
    x = np.stack(arrays)
    if grey:
        x = x[..., None]
    class_names = tuple(files)
    # Folders named 0..K-1 keep their number as the label (what a model trained on
    # those digits predicts); otherwise labels are the folder's rank in name order,
    # as keras.utils.image_dataset_from_directory numbers them.
    if all(c.isdigit() for c in class_names):
        y = np.array([int(c) for c in labels], dtype=np.int64)
    else:
        index = {c: i for i, c in enumerate(class_names)}
        y = np.array([index[c] for c in labels], dtype=np.int64)
        notes.append("labels numbered by folder name order: " +
                     ", ".join(f"{i}={c}" for i, c in enumerate(class_names[:10])))
    return LoadedData(x=x, y=y, source=str(p), format="images", notes=tuple(notes),
                      class_names=class_names)
