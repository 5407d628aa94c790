"""Load a labelled dataset from a file or folder: ``.npz``, ``.csv`` or images.

What ``tb-nndebug analyze DATA`` accepts. Every loader returns a
:class:`LoadedData` whose ``notes`` say what was guessed (which ``.npz`` keys,
which CSV column is the label, how images were resized, which samples were
kept), so the CLI can tell the user. Bad input raises ``ValueError`` naming the
file and what is wrong.

Memory is bounded before anything is decoded. Each loader learns the size of
what it would hold from the file's own description — an ``.npz`` member's
shape and dtype from its ``.npy`` header, an image's size and mode from its
header, a CSV's width from its first row — keeps at most ``max_samples``
samples (a seeded random subset, drawn with ``random_state``) and refuses,
naming the file and the budget, when the kept samples and the measures'
working memory (:func:`measure_bytes`) would exceed ``memory_budget``. Only
the kept samples are decoded: ``.npz`` members are streamed block by block,
images are decoded one by one into a preallocated array, CSV rows are parsed
as they are read (a reservoir sample keeps ``max_samples`` of them).
"""
from __future__ import annotations

import csv
import math
import os
import re
import stat
import warnings
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .._validation import check_consistent_length, check_int, check_random_state

#: ``.npz`` keys tried for the features and the labels, in this order.
X_KEYS = ("x", "X", "x_train", "X_train", "features", "data", "inputs", "images")
Y_KEYS = ("y", "Y", "y_train", "Y_train", "labels", "label", "targets", "target")
#: Held-out split looked for in the same ``.npz`` when no ``--test`` is given.
X_TEST_KEYS = ("x_test", "X_test")
Y_TEST_KEYS = ("y_test", "Y_test")

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
_GREY_MODES = {"1", "L", "LA", "I", "I;16", "F"}

#: Samples kept at most (a seeded random subset beyond), as the callback's ``max_samples``.
DEFAULT_MAX_SAMPLES = 20000
#: Bytes the loaded data and the measures' working memory may take (``--memory-budget``).
DEFAULT_MEMORY_BUDGET = 2 * 2**30
#: Working memory of the measures per value of one sample, beyond the data itself:
#: the projection's randomized PCA holds a (values x 12) float64 matrix and copies of
#: it (about 160 bytes per value, measured: 2 samples of 9,000,000 values -> 1.4 GB),
#: the CSG's 50-component PCA of wide inputs about three times that.
WORK_BYTES_PER_VALUE = 168
CSG_WORK_BYTES_PER_VALUE = 480
#: The measures' own buffers besides (sampled rows, chunks): ``measures._chunks.SAMPLE_BYTES``.
_MEASURE_SAMPLE_BYTES = 256 * 2**20
#: Longest physical CSV line read (a file without newlines is not read whole).
MAX_CSV_LINE = 16 * 2**20
_BLOCK_BYTES = 16 * 2**20

_UNITS = {"": 1, "B": 1, "K": 2**10, "KB": 2**10, "KIB": 2**10, "M": 2**20, "MB": 2**20,
          "MIB": 2**20, "G": 2**30, "GB": 2**30, "GIB": 2**30, "T": 2**40, "TB": 2**40,
          "TIB": 2**40}


def parse_bytes(text, *, name: str = "--memory-budget") -> int:
    """A size such as ``"512MB"``, ``"2GB"``, ``"1.5G"`` or ``"100000"`` in bytes.

    Units are binary (``1KB`` = 1024 bytes) and case-insensitive.

    Raises
    ------
    ValueError
        Naming ``name`` when ``text`` is not a positive size.
    """
    m = re.fullmatch(r"\s*([0-9]+(?:\.[0-9]*)?)\s*([A-Za-z]*)\s*", str(text))
    unit = m.group(2).upper() if m else None
    if m is None or unit not in _UNITS or float(m.group(1)) * _UNITS[unit] < 1:
        raise ValueError(f"{name} must be a size such as 512MB or 2GB, got {text!r}")
    return int(float(m.group(1)) * _UNITS[unit])


def format_bytes(n: float) -> str:
    """``n`` bytes as ``"1.2 GB"`` / ``"512 MB"`` (binary units)."""
    for unit, size in (("TB", 2**40), ("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} B"


def measure_bytes(n_samples: int, values_per_sample: int, bytes_per_sample: float, *,
                  csg: bool = True) -> int:
    """Bytes the loaded samples and the measures' working memory take together (an estimate,
    on the high side; the framework's own memory, TensorFlow's, is not counted)."""
    held = n_samples * bytes_per_sample
    per_value = CSG_WORK_BYTES_PER_VALUE if csg else WORK_BYTES_PER_VALUE
    return int(held + min(held, _MEASURE_SAMPLE_BYTES) + per_value * values_per_sample)


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
        What the loader chose on its own (keys, label column, resizing, subsets).
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


@dataclass(frozen=True)
class _Limits:
    """What a loader may keep: samples, bytes, and how to draw the subset."""

    name: str
    max_samples: int
    budget: int
    random_state: int
    csg: bool

    def keep(self, n: int) -> np.ndarray | None:
        """Sorted indices of a seeded random subset of ``max_samples`` of ``n``, or None (all)."""
        if n <= self.max_samples:
            return None
        rng = check_random_state(self.random_state)
        return np.sort(rng.choice(n, size=self.max_samples, replace=False))

    def check(self, need: int, what: str) -> None:
        if need > self.budget:
            raise ValueError(
                f"{self.name}: {what} needs about {format_bytes(need)} to load and measure, "
                f"more than --memory-budget {format_bytes(self.budget)}; lower --max-samples "
                "or raise --memory-budget")


def load_data(path, *, label=None, name: str = "DATA", max_samples: int = DEFAULT_MAX_SAMPLES,
              memory_budget: int = DEFAULT_MEMORY_BUDGET, random_state=0,
              csg: bool = True) -> LoadedData:
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
    max_samples : int, default=20000
        Samples kept at most; beyond, a seeded random subset (``random_state``).
    memory_budget : int, default=2 GB
        Bytes the kept samples and the measures' working memory may take
        (:func:`measure_bytes`); larger data is refused before it is decoded.
    random_state : int, default=0
        Draws the subset kept when there are more than ``max_samples`` samples.
    csg : bool, default=True
        Whether the CSG will be computed (its working memory is counted).

    Returns
    -------
    LoadedData

    Raises
    ------
    ValueError
        Missing path, not a regular file, unknown format, missing label column
        or arrays, mismatched lengths, non-numeric or non-finite features,
        unreadable images, data beyond ``memory_budget``.
    """
    limits = _Limits(name, check_int(max_samples, name="--max-samples"),
                     check_int(memory_budget, name="--memory-budget"), random_state, csg)
    check_random_state(random_state)
    p = Path(os.fspath(path))
    if not p.exists():
        raise ValueError(f"{name}: no such file or folder: {str(p)!r}")
    if p.is_dir():
        if label is not None:
            raise ValueError(f"{name}: --label applies to CSV files, not to an image folder")
        return _load_image_folder(p, limits)
    _check_regular_file(p, name)
    suffix = p.suffix.lower()
    if suffix == ".npz":
        if label is not None:
            raise ValueError(f"{name}: --label applies to CSV files, not to .npz")
        return _load_npz(p, limits)
    if suffix in (".csv", ".txt"):
        return _load_csv(p, limits, label)
    raise ValueError(
        f"{name}: cannot read {p.name!r}: expected a .npz file, a .csv file "
        "or a folder of class sub-folders of images"
    )


def _check_regular_file(p: Path, name: str) -> None:
    """Refuse FIFOs, devices and sockets: reading one would block or never end."""
    mode = p.stat().st_mode
    if not stat.S_ISREG(mode):
        kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(mode) else
                "a socket" if stat.S_ISSOCK(mode) else "a device" if
                stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
        raise ValueError(f"{name}: {str(p)!r} is {kind}; give a regular file or a folder")


def _pick(keys_present, candidates):
    return next((k for k in candidates if k in keys_present), None)


# ---------------------------------------------------------------------------- .npz


@dataclass(frozen=True)
class _Member:
    key: str
    info: zipfile.ZipInfo
    shape: tuple
    fortran: bool
    dtype: np.dtype

    @property
    def row_bytes(self) -> int:
        return int(np.prod(self.shape[1:], dtype=np.int64)) * self.dtype.itemsize

    @property
    def values_per_row(self) -> int:
        return int(np.prod(self.shape[1:], dtype=np.int64))


def _read_header(f, key: str, p: Path, name: str):
    try:
        version = np.lib.format.read_magic(f)
        read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                else np.lib.format.read_array_header_2_0)
        shape, fortran, dtype = read(f)
    except Exception as exc:  # noqa: BLE001 - ValueError, EOFError, zlib errors, ...
        raise ValueError(f"{name}: {p.name!r} is not a valid .npz file (member {key!r}: "
                         f"{_one_line(exc)})") from None
    if dtype.hasobject:
        raise ValueError(f"{name}: {p.name!r} holds an object array {key!r} (pickled Python "
                         "objects); it is refused because loading it would run code: save "
                         "numeric or string arrays")
    return tuple(int(d) for d in shape), bool(fortran), dtype


def _one_line(exc) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _npz_members(z: zipfile.ZipFile, p: Path, name: str) -> dict:
    """``key -> _Member`` of every ``.npy`` member, read from the headers only."""
    members = {}
    for info in z.infolist():
        if not info.filename.endswith(".npy"):
            continue
        key = info.filename[:-4]
        with z.open(info) as f:
            shape, fortran, dtype = _read_header(f, key, p, name)
        members[key] = _Member(key, info, shape, fortran, dtype)
    if not members:
        raise ValueError(f"{name}: {p.name!r} is not a valid .npz file (it holds no arrays)")
    return members


def _read_rows(z: zipfile.ZipFile, m: _Member, idx, p: Path, name: str) -> np.ndarray:
    """Rows ``idx`` (sorted; None: all) of member ``m``, streamed block by block."""
    n = m.shape[0]
    with z.open(m.info) as f:
        _read_header(f, m.key, p, name)
        if m.fortran and len(m.shape) > 1:  # column-major: rows are not contiguous
            whole = _read_exact(f, n * m.row_bytes, m, p, name)
            arr = np.frombuffer(whole, dtype=m.dtype).reshape(m.shape[::-1]).T
            return np.ascontiguousarray(arr if idx is None else arr[idx])
        keep = np.arange(n) if idx is None else idx
        out = np.empty((len(keep),) + m.shape[1:], dtype=m.dtype)
        rows_per_block = max(1, _BLOCK_BYTES // max(m.row_bytes, 1))
        done = 0
        for start in range(0, n, rows_per_block):
            if done == len(keep):
                break
            stop = min(n, start + rows_per_block)
            buf = _read_exact(f, (stop - start) * m.row_bytes, m, p, name)
            block = np.frombuffer(buf, dtype=m.dtype).reshape((stop - start,) + m.shape[1:])
            upto = done + int(np.searchsorted(keep[done:], stop))
            out[done:upto] = block[keep[done:upto] - start]
            done = upto
    return out


def _read_exact(f, nbytes: int, m: _Member, p: Path, name: str) -> bytes:
    try:
        buf = f.read(nbytes)
    except Exception as exc:  # noqa: BLE001 - zlib.error, BadZipFile (CRC), OSError
        raise ValueError(f"{name}: {p.name!r} is not a valid .npz file (member {m.key!r}: "
                         f"{_one_line(exc)})") from None
    if len(buf) != nbytes:
        raise ValueError(f"{name}: {p.name!r} is truncated: member {m.key!r} holds fewer "
                         f"bytes than its shape {m.shape} declares")
    return buf


def _npz_pair(z, members, xk, yk, limits: _Limits, p: Path, split: str):
    """Features and labels of keys ``xk``/``yk``, the kept rows only, and a note on them."""
    mx, my = members[xk], members[yk]
    for m in (mx, my):
        if not m.shape:
            raise ValueError(f"{limits.name}: array {m.key!r} of {p.name!r} is a scalar; it "
                             "needs one row per sample")
    check_consistent_length(np.empty((mx.shape[0], 0)), np.empty((my.shape[0], 0)),
                            names=(repr(xk), repr(yk)), context=limits.name, min_samples=1)
    n = mx.shape[0]
    idx = limits.keep(n)
    kept = n if idx is None else len(idx)
    limits.check(measure_bytes(kept, mx.values_per_row, mx.row_bytes + my.row_bytes,
                               csg=limits.csg),
                 f"{split} {xk!r} of {p.name!r} ({kept} samples of shape {mx.shape[1:]} "
                 f"{mx.dtype})")
    x = _read_rows(z, mx, idx, p, limits.name)
    y = _read_rows(z, my, idx, p, limits.name)
    note = None if idx is None else (
        f"kept {kept} of {n} {split} samples (a seeded random subset: --max-samples, --seed)")
    return x, y, note


def _load_npz(p: Path, limits: _Limits) -> LoadedData:
    name = limits.name
    try:
        z = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ValueError(f"{name}: {p.name!r} is not a readable .npz file: not a zip archive "
                         f"of .npy arrays ({_one_line(exc)})") from None
    with z:
        members = _npz_members(z, p, name)
        keys = set(members)
        xk, yk = _pick(keys, X_KEYS), _pick(keys, Y_KEYS)
        if xk is None or yk is None:
            raise ValueError(
                f"{name}: {p.name!r} needs a features array and a labels array; "
                f"found keys {sorted(keys)}, expected one of {X_KEYS} and one of {Y_KEYS}"
            )
        x, y, kept_note = _npz_pair(z, members, xk, yk, limits, p, "training")
        notes = [f"features from key {xk!r} {tuple(members[xk].shape)}, labels from key {yk!r}"]
        notes += [kept_note] if kept_note else []
        xtk, ytk = _pick(keys, X_TEST_KEYS), _pick(keys, Y_TEST_KEYS)
        x_test = y_test = None
        if xtk and ytk and xtk != xk:
            held = _Limits(name, limits.max_samples, max(1, limits.budget - _held_bytes(x, y)),
                           limits.random_state, csg=False)
            x_test, y_test, test_note = _npz_pair(z, members, xtk, ytk, held, p, "held-out")
            notes.append(f"held-out split from keys {xtk!r}/{ytk!r} ({len(x_test)} samples)")
            notes += [test_note] if test_note else []
    _check_finite_rows(x, f"{name}: array {xk!r} of {p.name!r}")
    if x_test is not None:
        _check_finite_rows(x_test, f"{name}: array {xtk!r} of {p.name!r}")
    return LoadedData(x=x, y=y, source=str(p), format="npz", notes=tuple(notes),
                      x_test=x_test, y_test=y_test)


def _held_bytes(*arrays) -> int:
    return sum(a.nbytes for a in arrays)


def _check_finite_rows(x: np.ndarray, what: str) -> None:
    """Raise naming the first sample holding NaN or an infinity (checked in blocks)."""
    if x.dtype.kind not in "fc":
        if x.dtype.kind not in "biu":
            raise ValueError(f"{what} must be numeric, got dtype {x.dtype}")
        return
    step = max(1, _BLOCK_BYTES // max(x[:1].nbytes, 1))
    for start in range(0, len(x), step):
        ok = np.isfinite(x[start:start + step].reshape(min(step, len(x) - start), -1))
        if not ok.all():
            row, col = np.argwhere(~ok)[0]
            value = x[start:start + step].reshape(ok.shape)[row, col]
            raise ValueError(f"{what} holds {value} in sample {start + int(row)} (value "
                             f"{int(col)}); features must be finite numbers")


# ---------------------------------------------------------------------------- CSV


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _looks_like_header(first, second) -> bool:
    """A first row with text where the second row has a number is a header
    (a text label column alone does not make one)."""
    if second is None:
        return not all(_is_number(c) for c in first)
    return any(not _is_number(a) and _is_number(b) for a, b in zip(first, second))


def _csv_lines(f, p: Path, name: str):
    """The file's lines, each read with a length limit (a file without newlines, such as
    a sparse or binary one, is refused instead of read whole)."""
    number = 0
    while True:
        line = f.readline(MAX_CSV_LINE)
        if not line:
            return
        number += 1
        if len(line) >= MAX_CSV_LINE and not line.endswith("\n"):
            raise ValueError(f"{name}: line {number} of {p.name!r} is longer than "
                             f"{MAX_CSV_LINE:,} characters; not a CSV file of samples")
        yield line


class _Reservoir:
    """A seeded uniform sample of ``k`` rows of a stream (Vitter's algorithm R), grown
    within the memory budget."""

    def __init__(self, width: int, limits: _Limits, what: str):
        self.k, self.width, self.limits, self.what = limits.max_samples, width, limits, what
        self.rng = check_random_state(limits.random_state)
        self.x = np.empty((0, width))
        self.y: list = []
        self.order = np.empty(0, dtype=np.int64)
        self.seen = 0

    def _grow(self):
        cap = min(self.k, max(1024, 2 * len(self.x)))
        self.limits.check(measure_bytes(cap, self.width, self.width * 8 + 64,
                                        csg=self.limits.csg),
                          f"{self.what} ({cap} rows of {self.width} features)")
        self.x = np.resize(self.x, (cap, self.width))
        self.order = np.resize(self.order, cap)

    def add(self, values, label) -> None:
        i, self.seen = self.seen, self.seen + 1
        if i < self.k:
            if i == len(self.x):
                self._grow()
            slot = i
            self.y.append(label)
        else:
            slot = int(self.rng.randint(0, i + 1))
            if slot >= self.k:
                return
            self.y[slot] = label
        self.x[slot] = values
        self.order[slot] = i

    def arrays(self):
        n = len(self.y)
        rank = np.argsort(self.order[:n], kind="stable")  # back to file order
        return self.x[:n][rank], np.array(self.y)[rank]


def _load_csv(p: Path, limits: _Limits, label) -> LoadedData:
    name = limits.name
    try:
        with open(p, newline="", encoding="utf-8-sig") as f:
            reader = csv.reader(_csv_lines(f, p, name))
            rows = ((r, reader.line_num) for r in reader if r and any(c.strip() for c in r))
            first, second = next(rows, None), next(rows, None)
            if first is None:
                raise ValueError(f"{name}: {p.name!r} is empty")
            header = None
            pending = [r for r in (first, second) if r is not None]
            if _looks_like_header(first[0], second[0] if second else None):
                header = [c.strip() for c in first[0]]
                pending = pending[1:]
            names, col, note = _csv_columns(header, len(first[0]), label, p, name)
            if not pending:
                raise ValueError(f"{name}: {p.name!r} holds a header but no samples")
            feats = [j for j in range(len(names)) if j != col]
            sample = _Reservoir(len(feats), limits, f"{p.name!r}")
            parse = _RowParser(len(names), feats, col, names, p, name)
            for r, line in pending:
                sample.add(*parse(r, line))
            for r, line in rows:
                sample.add(*parse(r, line))
    except (UnicodeDecodeError, csv.Error, OSError) as exc:
        raise ValueError(f"{name}: {p.name!r} is not a readable CSV file "
                         f"({_one_line(exc)})") from None
    x, y_raw = sample.arrays()
    notes = [note]
    if sample.seen > len(x):
        notes.append(f"kept {len(x)} of {sample.seen} rows (a seeded random subset: "
                     "--max-samples, --seed)")
    return LoadedData(x=x, y=_csv_labels(y_raw), source=str(p), format="csv",
                      notes=tuple(notes), feature_names=tuple(names[j] for j in feats))


def _csv_columns(header, first_width: int, label, p: Path, name: str):
    """``(column names, label column, note)``; at least two columns are needed."""
    width = len(header) if header else first_width
    if width < 2:
        raise ValueError(f"{name}: {p.name!r} needs at least two columns "
                         "(features and a label)")
    names = header or [str(i) for i in range(width)]
    col, note = _label_column(label, names, p, name)
    return names, col, note


class _RowParser:
    """One CSV row -> (float features, label text), naming the line and column of a
    ragged row, a non-numeric or a non-finite feature."""

    def __init__(self, width, feats, col, names, p: Path, name: str):
        self.width, self.feats, self.col, self.names = width, feats, col, names
        self.p, self.name = p, name

    def __call__(self, row, line: int):
        if len(row) != self.width:
            raise ValueError(f"{self.name}: line {line} of {self.p.name!r} has {len(row)} "
                             f"fields, expected {self.width}")
        try:
            values = [float(row[j]) for j in self.feats]
        except ValueError:
            j = next(j for j in self.feats if not _is_number(row[j]))
            raise ValueError(
                f"{self.name}: column {self.names[j]!r} of {self.p.name!r} is not numeric "
                f"(value {row[j]!r} on line {line}); only the label column may hold text"
            ) from None
        if not all(map(math.isfinite, values)):
            j = next(j for j, v in zip(self.feats, values) if not math.isfinite(v))
            raise ValueError(
                f"{self.name}: line {line}, column {self.names[j]!r} of {self.p.name!r} holds "
                f"{row[j].strip()!r}; features must be finite numbers")
        return values, row[self.col].strip()


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


def _csv_labels(y_raw: np.ndarray) -> np.ndarray:
    """Numeric label text as ints (or floats when not whole), other text unchanged."""
    if all(_is_number(v) for v in y_raw):
        yf = y_raw.astype(np.float64)
        if not np.isfinite(yf).all():
            return y_raw
        return yf.astype(np.int64) if np.all(yf == np.round(yf)) else yf
    return y_raw


# ---------------------------------------------------------------------------- images


def _image_files(p: Path, name: str) -> dict:
    """``class name -> sorted image files`` of the class sub-folders of ``p``."""
    class_dirs = sorted(d for d in p.iterdir() if d.is_dir() and not d.name.startswith("."))
    files = {}
    for d in class_dirs:
        found = sorted(f for f in d.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
        for f in found:
            if not f.is_file():  # a FIFO named a.png would block the reader
                _check_regular_file(f, name)
        if found:
            files[d.name] = found
    if not files:
        raise ValueError(
            f"{name}: folder {str(p)!r} has no class sub-folders with images "
            f"({', '.join(IMAGE_SUFFIXES)})"
        )
    return files


def _open_image(f: Path, name: str):
    """``Image.open`` (the header only), with PIL's decompression-bomb check made an error."""
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            return Image.open(f)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise ValueError(f"{name}: image {str(f)!r} is refused as a decompression bomb "
                         f"({_one_line(exc)})") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"{name}: cannot read image {str(f)!r} ({_one_line(exc)})") from None


def _load_image_folder(p: Path, limits: _Limits) -> LoadedData:
    name = limits.name
    files = _image_files(p, name)
    paths = [(cls, f) for cls, fs in files.items() for f in fs]
    idx = limits.keep(len(paths))
    kept = paths if idx is None else [paths[i] for i in idx]
    heads = []
    for _, f in kept:  # sizes and modes from the headers: nothing is decoded yet
        with _open_image(f, name) as im:
            heads.append((im.size, im.mode))
    notes = [f"{len(paths)} images in {len(files)} class folders"]
    if idx is not None:
        notes.append(f"kept {len(kept)} of {len(paths)} images (a seeded random subset: "
                     "--max-samples, --seed)")
    grey = all(mode in _GREY_MODES for _, mode in heads)
    mode, channels = ("L", 1) if grey else ("RGB", 3)
    sizes = Counter(size for size, _ in heads)
    size = sizes.most_common(1)[0][0]
    if len(sizes) > 1:
        notes.append(f"images resized to {size[0]}x{size[1]} (the most common size)")
    values = size[0] * size[1] * channels
    # decoding one image holds it in its own mode (up to 4 bytes a pixel) and as float32
    largest = max(w * h for (w, h), _ in heads) * (4 + 4 * channels)
    limits.check(measure_bytes(len(kept), values, values * 4, csg=limits.csg) + largest,
                 f"folder {str(p)!r} ({len(kept)} images of {size[0]}x{size[1]}x{channels})")
    x = np.empty((len(kept), size[1], size[0], channels), dtype=np.float32)
    for i, (_, f) in enumerate(kept):
        x[i] = _decode(f, mode, size, name)[..., None] if grey else _decode(f, mode, size, name)
    labels = [cls for cls, _ in kept]
    y, label_note = _folder_labels(labels, tuple(files))
    notes += [label_note] if label_note else []
    return LoadedData(x=x, y=y, source=str(p), format="images", notes=tuple(notes),
                      class_names=tuple(files))


def _decode(f: Path, mode: str, size, name: str) -> np.ndarray:
    from PIL import Image

    with _open_image(f, name) as im:
        try:
            im.load()
            im = im.convert(mode)
        except (OSError, ValueError, Image.DecompressionBombError) as exc:
            raise ValueError(f"{name}: cannot read image {str(f)!r} "
                             f"({_one_line(exc)})") from None
        if im.size != size:
            im = im.resize(size, Image.BILINEAR)
        return np.asarray(im, dtype=np.float32) / 255.0


def _folder_labels(labels, class_names):
    """Folders named 0..K-1 keep their number as the label (what a model trained on those
    digits predicts); otherwise labels are the folder's rank in name order, as
    keras.utils.image_dataset_from_directory numbers them."""
    if all(c.isdigit() for c in class_names):
        return np.array([int(c) for c in labels], dtype=np.int64), None
    index = {c: i for i, c in enumerate(class_names)}
    note = "labels numbered by folder name order: " + ", ".join(
        f"{i}={c}" for i, c in enumerate(class_names[:10]))
    return np.array([index[c] for c in labels], dtype=np.int64), note
