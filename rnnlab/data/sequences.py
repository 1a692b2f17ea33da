"""Labelled sequences for classification: a CSV, a directory of text files per class, MNIST-1D.

A ``Samples`` holds raw inputs (``texts`` for token models, ``features`` for numeric ones) and
string labels; the classifier turns them into tensors.

* CSV (with a header): a ``label`` column and either a ``text`` column (tokenized into chars or
  words) or a ``sequence`` column of numbers: steps separated by spaces or ``;``, features of
  one step separated by ``,`` (``"0.1 0.5 0.2"`` = 3 steps × 1 feature; ``"1,2;3,4"`` = 2 × 2).
* a directory ``root/<class>/<file>``: every UTF-8 file in a class folder is one text sample.
* ``mnist1d``: the MNIST-1D dataset (Greydanus & Kobak 2024) generated locally by the
  ``mnist1d`` package with its default arguments: 4,000 train + 1,000 test, 40 steps × 1.

>>> s = load_samples("reviews.csv")           # doctest: +SKIP
>>> s.kind, len(s), s.classes                 # doctest: +SKIP
('text', 2000, ['neg', 'pos'])
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rnnlab.errors import InputError
from rnnlab.io import read_text

MNIST1D = "mnist1d"


@dataclass
class Samples:
    kind: str  # "text" or "features"
    labels: list[str]
    texts: list[str] | None = None
    features: list[np.ndarray] | None = None  # each (T, F) float32
    source: str = ""

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def classes(self) -> list[str]:
        """Distinct labels, numerically sorted when all are integers ("2" before "10")."""
        names = set(self.labels)
        numeric = all(re.fullmatch(r"-?\d+", c) for c in names)
        return sorted(names, key=int) if numeric else sorted(names)

    def subset(self, idx: list[int] | np.ndarray) -> Samples:
        idx = [int(i) for i in idx]
        return Samples(
            self.kind,
            [self.labels[i] for i in idx],
            None if self.texts is None else [self.texts[i] for i in idx],
            None if self.features is None else [self.features[i] for i in idx],
            self.source,
        )


def parse_sequence(text: str, where: str = "sequence") -> np.ndarray:
    """``"0.1 0.5"`` → (2, 1); ``"1,2;3,4"`` → (2, 2). Every step needs the same feature count."""
    steps = [s for s in re.split(r"[;\s]+", text.strip()) if s]
    if not steps:
        raise InputError(f"{where} is empty: give numbers separated by spaces")
    try:
        rows = [[float(v) for v in s.split(",")] for s in steps]
    except ValueError:
        raise InputError(
            f"{where} is not a list of numbers: {text[:60]!r} (steps separated by spaces or ';', "
            "features by ',')"
        ) from None
    widths = {len(r) for r in rows}
    if len(widths) != 1:
        raise InputError(f"{where} has steps with different feature counts {sorted(widths)}")
    arr = np.asarray(rows, dtype=np.float32)
    if not np.isfinite(arr).all():
        raise InputError(f"{where} contains NaN or infinity")
    return arr


def load_csv(path: str | Path) -> Samples:
    """A CSV with a header naming ``label`` and ``text`` or ``sequence``."""
    text = read_text(path, "CSV file")
    try:
        return _parse_csv(text, path)
    except csv.Error as e:  # a stray carriage return, a field over csv's size limit, ...
        raise InputError(f"CSV file {path} cannot be parsed: {e}") from None


def _parse_csv(text: str, path: str | Path) -> Samples:
    reader = csv.DictReader(io.StringIO(text, newline=""))  # newline="": csv handles \r\n
    cols = [c.strip().lower() for c in (reader.fieldnames or [])]
    reader.fieldnames = cols
    if "label" not in cols or not ({"text", "sequence"} & set(cols)):
        raise InputError(
            f"CSV file {path} needs a header with a 'label' column and a 'text' or 'sequence' "
            f"column; found {cols}"
        )
    if {"text", "sequence"} <= set(cols):
        raise InputError(f"CSV file {path} has both 'text' and 'sequence' columns; keep one")
    kind = "text" if "text" in cols else "features"
    labels, texts, feats = [], [], []
    for n, row in enumerate(reader, start=2):
        label = (row.get("label") or "").strip()
        value = row.get("text" if kind == "text" else "sequence")
        if not label or value is None or not value.strip():
            raise InputError(f"{path} line {n}: empty label or {kind} (every row needs both)")
        labels.append(label)
        if kind == "text":
            texts.append(value)
        else:
            feats.append(parse_sequence(value, f"{path} line {n}"))
    if not labels:
        raise InputError(f"CSV file {path} has a header but no rows")
    if kind == "features" and len({f.shape[1] for f in feats}) != 1:
        raise InputError(f"{path}: rows have different numbers of features per step")
    return Samples(kind, labels, texts or None, feats or None, str(path))


def load_text_dir(root: str | Path) -> Samples:
    """``root/<class>/<file>``: one text sample per file; hidden files are skipped."""
    root = Path(root)
    dirs = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if not dirs:
        raise InputError(
            f"{root} has no class folders: expected {root}/<class>/<file>.txt for each class"
        )
    labels, texts = [], []
    for d in dirs:
        files = sorted(f for f in d.rglob("*") if f.is_file() and not f.name.startswith("."))
        if not files:
            raise InputError(f"class folder {d} is empty: put at least one text file in it")
        for f in files:
            texts.append(read_text(f, "text sample"))
            labels.append(d.name)
    return Samples("text", labels, texts, None, str(root))


def load_samples(data: str | Path) -> Samples:
    """A CSV file, a directory of class folders, or ``mnist1d`` (train split)."""
    if str(data) == MNIST1D and not Path(data).exists():
        return mnist1d()[0]
    p = Path(data)
    if not p.exists():
        raise InputError(
            f"data {p} does not exist: give a CSV file, a folder of class folders, or 'mnist1d'"
        )
    return load_text_dir(p) if p.is_dir() else load_csv(p)


def mnist1d(seed: int | None = None) -> tuple[Samples, Samples]:
    """(train, test) of MNIST-1D made locally by ``mnist1d.data.make_dataset`` with the package's
    default arguments (``seed`` overrides its 42). No download: ``make_dataset`` only computes.
    The global NumPy RNG it reseeds is restored afterwards."""
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError:
        raise InputError("MNIST-1D needs the mnist1d package: pip install mnist1d") from None
    args = get_dataset_args()
    if seed is not None:
        args.seed = seed
    state = np.random.get_state()
    try:
        d = make_dataset(args)
    finally:
        np.random.set_state(state)

    def split(x: np.ndarray, y: np.ndarray, name: str) -> Samples:
        feats = [row.astype(np.float32)[:, None] for row in x]
        return Samples("features", [str(int(v)) for v in y], None, feats, f"mnist1d:{name}")

    return split(d["x"], d["y"], "train"), split(d["x_test"], d["y_test"], "test")
