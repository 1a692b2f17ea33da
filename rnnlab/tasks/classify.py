"""Sequence classification: tokens or features → (bi)RNN → pooling (last / mean / attention) → label.

Data (``rnnlab.data.sequences``): a CSV (``label`` + ``text`` or ``sequence``), a directory of
text files per class, or ``mnist1d``. Metrics: accuracy, macro-F1 and the confusion matrix.

    rnnlab classify train --data reviews.csv --out runs/cls --cell gru --bidirectional --pool attention --steps 2000
    rnnlab classify eval runs/cls --data test.csv
    rnnlab classify predict runs/cls "what a wonderful film"

>>> res = train_classifier("mnist1d", "runs/m1d", cell="gru", steps=3000)   # doctest: +SKIP
>>> res["test"]["acc"]                                                     # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
import typer
from torch import Tensor, nn

from rnnlab.data.sequences import MNIST1D, Samples, load_samples, parse_sequence
from rnnlab.errors import CheckpointError, InputError

app = typer.Typer(help="Sequence classification.", no_args_is_help=True)

POOLS = ("last", "mean", "attention")


# ---- metrics -------------------------------------------------------------------------------


def confusion_matrix(y_true: list[int] | np.ndarray, y_pred: list[int] | np.ndarray, n: int):
    """(n, n) counts: row = true class, column = predicted class.

    >>> confusion_matrix([0, 1, 1], [0, 1, 0], 2).tolist()
    [[1, 0], [1, 1]]
    """
    cm = np.zeros((n, n), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return cm


def macro_f1(cm: np.ndarray) -> float:
    """Unweighted mean of per-class F1 = 2TP / (2TP + FP + FN) over the classes that occur
    (as a true or a predicted label), like scikit-learn's ``f1_score(average="macro")``."""
    tp = np.diag(cm).astype(float)
    denom = cm.sum(0) + cm.sum(1)  # 2TP + FP + FN
    seen = denom > 0
    return float((2 * tp[seen] / denom[seen]).mean()) if seen.any() else 0.0


# ---- model ---------------------------------------------------------------------------------


class SequenceClassifier(nn.Module):
    """Embedding (token ids) or raw features → recurrent layer → pooling → dropout → linear.

    >>> m = SequenceClassifier(3, n_features=2, cell="gru", hidden=8, pool="mean")
    >>> m(torch.randn(4, 7, 2), torch.tensor([7, 3, 5, 1])).shape
    torch.Size([4, 3])
    """

    def __init__(
        self,
        n_classes: int,
        *,
        vocab_size: int | None = None,
        n_features: int | None = None,
        embed: int = 64,
        cell: str = "gru",
        hidden: int = 128,
        layers: int = 1,
        bidirectional: bool = False,
        dropout: float = 0.0,
        pool: str = "last",
    ):
        super().__init__()
        from rnnlab.core import make_rnn

        if pool not in POOLS:
            raise InputError(f"unknown pooling {pool!r}: choose {', '.join(POOLS)}")
        if (vocab_size is None) == (n_features is None):
            raise ValueError("give exactly one of vocab_size (tokens) or n_features")
        self.pool = pool
        self.embed = nn.Embedding(vocab_size, embed) if vocab_size else None
        size_in = embed if vocab_size else n_features
        self.rnn = make_rnn(
            cell, size_in, hidden, layers, dropout=dropout, bidirectional=bidirectional
        )
        self.dirs = 2 if bidirectional else 1
        width = hidden * self.dirs
        if pool == "attention":  # additive attention: score_t = v · tanh(W o_t + b)
            self.att_proj = nn.Linear(width, width)
            self.att_v = nn.Linear(width, 1, bias=False)
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(width, n_classes)

    def inputs(self, x: Tensor) -> Tensor:
        return self.embed(x) if self.embed is not None else x

    def pooled(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor | None]:
        """(B, width) sequence vectors, and the attention weights (B, T) when pooling by it."""
        if bool((lengths == x.shape[1]).all()):
            # no padding in this batch: skip the lengths path (packed kernels cost 3x for a GRU)
            out, h_n = self.rnn(self.inputs(x))
        else:
            out, h_n = self.rnn(self.inputs(x), lengths=lengths)
        if self.pool == "last":  # final state of each direction of the top layer
            h = h_n[0] if isinstance(h_n, tuple) else h_n
            return torch.cat(list(h[-self.dirs :]), -1), None
        mask = torch.arange(out.shape[1], device=out.device)[None, :] < lengths[:, None]
        if self.pool == "mean":
            s = (out * mask.unsqueeze(-1)).sum(1) / lengths.unsqueeze(1).to(out.dtype)
            return s, None
        score = self.att_v(torch.tanh(self.att_proj(out))).squeeze(-1)
        w = torch.softmax(score.masked_fill(~mask, float("-inf")), dim=1)
        return (w.unsqueeze(-1) * out).sum(1), w

    def forward(self, x: Tensor, lengths: Tensor) -> Tensor:
        return self.head(self.drop(self.pooled(x, lengths)[0]))


# ---- encoding ------------------------------------------------------------------------------


class Encoder:
    """Raw samples → tensors: a tokenizer (text) or per-feature standardisation (features)."""

    def __init__(self, kind: str, tokenizer=None, mean=None, std=None, max_len: int = 400):
        self.kind, self.tokenizer, self.max_len = kind, tokenizer, max_len
        self.mean = None if mean is None else np.asarray(mean, dtype=np.float32)
        self.std = None if std is None else np.asarray(std, dtype=np.float32)

    @classmethod
    def fit(cls, s: Samples, level: str = "char", max_len: int = 400) -> Encoder:
        if s.kind == "text":
            from rnnlab.data.tokenize import CharTokenizer, WordTokenizer

            if level not in ("char", "word"):
                raise InputError(f"--level must be char or word, got {level!r}")
            tok = (CharTokenizer if level == "char" else WordTokenizer).fit(s.texts)
            return cls("text", tok, max_len=max_len)
        allf = np.concatenate(s.features, 0)
        return cls("features", None, allf.mean(0), allf.std(0) + 1e-6, max_len)

    @property
    def n_features(self) -> int | None:
        return None if self.mean is None else len(self.mean)

    def encode(self, s: Samples) -> list[Tensor]:
        if s.kind != self.kind:
            raise InputError(f"this model reads {self.kind} inputs, the data holds {s.kind}")
        if self.kind == "text":
            unk = self.tokenizer.unk_id
            return [
                torch.tensor((self.tokenizer.encode(t) or [unk])[: self.max_len]) for t in s.texts
            ]
        if s.features[0].shape[1] != self.n_features:
            raise InputError(
                f"this model reads {self.n_features} features per step, the data has "
                f"{s.features[0].shape[1]}"
            )
        return [torch.from_numpy((f[: self.max_len] - self.mean) / self.std) for f in s.features]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "tokenizer": self.tokenizer.to_dict() if self.tokenizer else None,
            "mean": None if self.mean is None else self.mean.tolist(),
            "std": None if self.std is None else self.std.tolist(),
            "max_len": self.max_len,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Encoder:
        tok = None
        if d.get("tokenizer"):
            from rnnlab.data.tokenize import tokenizer_from_dict

            tok = tokenizer_from_dict(d["tokenizer"])
        return cls(d["kind"], tok, d.get("mean"), d.get("std"), d.get("max_len", 400))


def collate(seqs: list[Tensor]) -> tuple[Tensor, Tensor]:
    """Pad to the longest sequence; padded steps are masked by ``lengths`` in the layer."""
    lengths = torch.tensor([len(s) for s in seqs])
    return nn.utils.rnn.pad_sequence(seqs, batch_first=True), lengths


class EpochStream:
    """Shuffled minibatches; the order of epoch e is a function of (seed, e): exact resume."""

    def __init__(self, seqs: list[Tensor], labels: Tensor, batch: int, seed: int):
        self.seqs, self.labels, self.batch, self.seed = seqs, labels, batch, seed
        self.epoch, self.pos = 0, 0

    def __next__(self):
        order = np.random.default_rng((self.seed, self.epoch)).permutation(len(self.seqs))
        idx = order[self.pos : self.pos + self.batch]
        self.pos += self.batch
        if self.pos >= len(order):
            self.epoch, self.pos = self.epoch + 1, 0
        x, lengths = collate([self.seqs[i] for i in idx])
        return x, lengths, self.labels[idx]

    def state_dict(self) -> dict[str, int]:
        return {"epoch": self.epoch, "pos": self.pos}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.epoch, self.pos = int(state["epoch"]), int(state["pos"])


def evaluate(
    model: SequenceClassifier, seqs: list[Tensor], labels: Tensor, batch: int = 256
) -> dict[str, Any]:
    """Loss, accuracy, macro-F1 and the confusion matrix of ``model`` on encoded sequences."""
    model.eval()
    logits = []
    with torch.no_grad():
        for i in range(0, len(seqs), batch):
            x, lengths = collate(seqs[i : i + batch])
            logits.append(model(x, lengths))
    lg = torch.cat(logits)
    pred = lg.argmax(-1)
    cm = confusion_matrix(labels.numpy(), pred.numpy(), lg.shape[1])
    return {
        "loss": float(nn.functional.cross_entropy(lg, labels)),
        "acc": float((pred == labels).float().mean()),
        "macro_f1": macro_f1(cm),
        "confusion": cm.tolist(),
    }


# ---- train / load / predict ------------------------------------------------------------------


def _split(n: int, val_frac: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    if not 0 < val_frac < 1:
        raise InputError(f"--val-frac must be in (0, 1), got {val_frac}")
    order = np.random.default_rng((seed, 10**6)).permutation(n)
    n_val = max(1, int(round(n * val_frac)))
    if n - n_val < 1:
        raise InputError(f"only {n} samples: too few to hold out a validation split")
    return order[n_val:], order[:n_val]


def train_classifier(
    data: str | Path | Samples,
    out: str | Path,
    *,
    test: str | Path | Samples | None = None,
    cell: str = "gru",
    bidirectional: bool = False,
    pool: str = "last",
    hidden: int = 128,
    layers: int = 1,
    embed: int = 64,
    dropout: float = 0.0,
    level: str = "char",
    max_len: int = 400,
    batch: int = 64,
    lr: float = 3e-3,
    steps: int | None = 2000,
    time_budget: float | None = None,
    val_frac: float = 0.1,
    eval_every: int = 200,
    seed: int = 0,
    resume: bool = False,
    progress: bool = True,
    threads: int = 1,
) -> dict[str, Any]:
    """Train a classifier; the best model by validation loss is kept in ``out`` and scored on
    ``test`` (for ``mnist1d``: its official test split). Returns val/test metrics."""
    from rnnlab.tasks.memory import cpu_settings
    from rnnlab.train.checkpoint import load_run, load_weights_into, save_run
    from rnnlab.train.loop import TrainConfig, fit
    from rnnlab.train.util import set_seed

    samples = data if isinstance(data, Samples) else load_samples(data)
    if str(test) == MNIST1D or (test is None and str(data) == MNIST1D):
        from rnnlab.data.sequences import mnist1d

        test = mnist1d()[1]  # the official test split
    classes = samples.classes
    if len(classes) < 2:
        raise InputError(f"{samples.source} has one class ({classes}); need at least two")
    set_seed(seed)
    tr_idx, va_idx = _split(len(samples), val_frac, seed)
    train, val = samples.subset(tr_idx), samples.subset(va_idx)
    enc = Encoder.fit(train, level, max_len)
    cidx = {c: i for i, c in enumerate(classes)}
    ytr = torch.tensor([cidx[c] for c in train.labels])
    yva = torch.tensor([cidx[c] for c in val.labels])
    xtr, xva = enc.encode(train), enc.encode(val)
    arch = dict(
        n_classes=len(classes),
        vocab_size=len(enc.tokenizer) if enc.tokenizer else None,
        n_features=enc.n_features,
        embed=embed,
        cell=cell,
        hidden=hidden,
        layers=layers,
        bidirectional=bidirectional,
        dropout=dropout,
        pool=pool,
    )
    model = SequenceClassifier(**arch)
    config = {
        "task": "classify",
        "model": arch,
        "classes": classes,
        "encoder": enc.to_dict(),
        "data": samples.source,
        "train": dict(level=level, batch=batch, lr=lr, steps=steps, seed=seed, val_frac=val_frac),
    }

    def step_fn(b):
        x, lengths, y = b
        return nn.functional.cross_entropy(model(x, lengths), y), int(lengths.sum())

    def eval_fn() -> dict[str, float]:
        m = evaluate(model, xva, yva)
        return {"val_loss": m["loss"], "val_acc": m["acc"], "val_macro_f1": m["macro_f1"]}

    def save_fn(d: Path, metrics: dict) -> None:
        save_run(d, model.state_dict(), {**config, "metrics": metrics})

    cfg = TrainConfig(steps=steps, time_budget=time_budget, lr=lr, clip=1.0, eval_every=eval_every)
    with cpu_settings(threads):
        if not resume:  # the initial model is the first checkpoint (never a stale one)
            save_fn(Path(out), {"step": 0})
        summary = fit(
            model,
            cfg,
            out,
            data=EpochStream(xtr, ytr, batch, seed),
            step_fn=step_fn,
            eval_fn=eval_fn,
            save_fn=save_fn,
            resume=resume,
            progress=progress,
        )
        tensors, _ = load_run(out, task="classify")
        load_weights_into(model, tensors, str(out))
        result: dict[str, Any] = {
            "steps": summary["steps"],
            "seconds": round(summary["elapsed"], 1),
            "stop_reason": summary["stop_reason"],
            "val": evaluate(model, xva, yva),
            "params": sum(p.numel() for p in model.parameters()),
        }
        if test is not None:
            ts = test if isinstance(test, Samples) else load_samples(test)
            result["test"] = _score_samples(model, enc, classes, ts)
    save_run(out, model.state_dict(), {**config, "metrics": _brief(result)})
    return result


def _brief(result: dict[str, Any]) -> dict[str, Any]:
    keep = ("loss", "acc", "macro_f1")
    out = {k: result[k] for k in ("steps", "seconds", "params") if k in result}
    for split in ("val", "test"):
        if split in result:
            out[split] = {k: result[split][k] for k in keep}
    return out


def _score_samples(model, enc: Encoder, classes: list[str], s: Samples) -> dict[str, Any]:
    unknown = sorted(set(s.labels) - set(classes))
    if unknown:
        raise InputError(
            f"{s.source} has labels the model never saw: {unknown[:5]} (known: {classes[:10]})"
        )
    cidx = {c: i for i, c in enumerate(classes)}
    return evaluate(model, enc.encode(s), torch.tensor([cidx[c] for c in s.labels]))


class Classifier:
    """A trained classifier loaded from a run directory (``load_classifier``)."""

    def __init__(self, model: SequenceClassifier, encoder: Encoder, classes: list[str], config):
        self.model, self.encoder, self.classes, self.config = model, encoder, classes, config

    def evaluate(self, data: str | Path | Samples) -> dict[str, Any]:
        s = data if isinstance(data, Samples) else load_samples(data)
        if str(data) == MNIST1D:
            from rnnlab.data.sequences import mnist1d

            s = mnist1d()[1]
        return _score_samples(self.model, self.encoder, self.classes, s)

    def predict(self, inputs: list[str]) -> list[list[tuple[str, float]]]:
        """Class probabilities (most likely first) for raw texts, or for sequences written as in
        the CSV ``sequence`` column when the model reads features."""
        if self.encoder.kind == "text":
            s = Samples("text", ["?"] * len(inputs), list(inputs))
        else:
            feats = [parse_sequence(t, f"input {i + 1}") for i, t in enumerate(inputs)]
            s = Samples("features", ["?"] * len(inputs), None, feats)
        x, lengths = collate(self.encoder.encode(s))
        self.model.eval()
        with torch.no_grad():
            p = torch.softmax(self.model(x, lengths), -1)
        return [sorted(zip(self.classes, row.tolist()), key=lambda t: -t[1]) for row in p]


def load_classifier(run_dir: str | Path) -> Classifier:
    """Rebuild a trained classifier (eval mode); a run of another task is a CheckpointError."""
    from rnnlab.train.checkpoint import load_run, load_weights_into

    tensors, cfg = load_run(run_dir, task="classify")
    try:
        model = SequenceClassifier(**cfg["model"])
        enc = Encoder.from_dict(cfg["encoder"])
    except (KeyError, TypeError) as e:
        raise CheckpointError(f"{run_dir}/config.json is incomplete ({e}); retrain it") from None
    load_weights_into(model, tensors, str(run_dir))
    model.eval()
    return Classifier(model, enc, cfg["classes"], cfg)


# ---- CLI -----------------------------------------------------------------------------------


def print_metrics(m: dict[str, Any], classes: list[str], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    con = Console()
    con.print(f"[bold]{title}[/]: accuracy {m['acc']:.2%}   macro-F1 {m['macro_f1']:.3f}")
    if len(classes) > 20:
        con.print(f"(confusion matrix of {len(classes)} classes omitted; see --json)")
        return
    t = Table(title="confusion matrix (rows: true, columns: predicted)", show_lines=False)
    t.add_column("")
    for c in classes:
        t.add_column(c[:10], justify="right")
    for c, row in zip(classes, m["confusion"]):
        t.add_row(c[:10], *[str(v) for v in row])
    con.print(t)


DATA_HELP = "CSV (label + text or sequence column), a folder of class folders, or 'mnist1d'."


@app.command("train")
def train_cmd(
    data: str = typer.Option(..., "--data", help=DATA_HELP),
    out: Path = typer.Option(Path("runs/classify"), "--out", help="Run directory to write."),
    test: str = typer.Option(None, "--test", help="Test data scored with the best model."),
    cell: str = typer.Option("gru", help="rnn, rnn_relu, gru, lstm, mingru or minlstm."),
    bidirectional: bool = typer.Option(False, "--bidirectional/--unidirectional", help="biRNN."),
    pool: str = typer.Option("last", help="last (final states), mean or attention."),
    hidden: int = typer.Option(128, help="Hidden units per layer and direction."),
    layers: int = typer.Option(1, help="Stacked recurrent layers."),
    embed: int = typer.Option(64, help="Embedding size (text inputs)."),
    dropout: float = typer.Option(0.0, help="Dropout before the classifier and between layers."),
    level: str = typer.Option("char", help="Text inputs: char or word tokens."),
    max_len: int = typer.Option(400, "--max-len", help="Longer sequences are cut to this."),
    batch: int = typer.Option(64, help="Sequences per step."),
    lr: float = typer.Option(3e-3, help="Peak learning rate (AdamW, warmup + cosine)."),
    steps: int = typer.Option(None, help="Train for this many steps (default 2000)."),
    time_budget: str = typer.Option(None, "--time-budget", help="Or for this long, e.g. 5m."),
    val_frac: float = typer.Option(0.1, "--val-frac", help="Share of --data held out for val."),
    eval_every: int = typer.Option(200, "--eval-every", help="Validate every N steps."),
    seed: int = typer.Option(0, help="Random seed."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out exactly."),
    threads: int = typer.Option(1, help="CPU threads (1 is fastest for small models)."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Train a classifier; print validation (and test) accuracy, macro-F1, confusion matrix."""
    from rnnlab.train.util import parse_duration

    if max_len < 1:
        raise InputError(f"--max-len must be >= 1, got {max_len}")
    budget = parse_duration(time_budget)
    res = train_classifier(
        data,
        out,
        test=test,
        cell=cell,
        bidirectional=bidirectional,
        pool=pool,
        hidden=hidden,
        layers=layers,
        embed=embed,
        dropout=dropout,
        level=level,
        max_len=max_len,
        batch=batch,
        lr=lr,
        steps=steps if steps or budget else 2000,
        time_budget=budget,
        val_frac=val_frac,
        eval_every=eval_every,
        seed=seed,
        resume=resume,
        progress=not quiet,
        threads=threads,
    )
    classes = load_classifier(out).classes
    typer.echo(f"{res['steps']} steps in {res['seconds']:.0f} s, {res['params']:,} parameters")
    print_metrics(res["val"], classes, "validation")
    if "test" in res:
        print_metrics(res["test"], classes, "test")
    typer.echo(f"model: {out}")


@app.command("eval")
def eval_cmd(
    run: Path = typer.Argument(..., help="Run directory."),
    data: str = typer.Option(..., "--data", help=DATA_HELP + " ('mnist1d': its test split)"),
    json_out: Path = typer.Option(None, "--json", help="Also write the metrics here."),
) -> None:
    """Accuracy, macro-F1 and the confusion matrix of a trained classifier on labelled data."""
    clf = load_classifier(run)
    m = clf.evaluate(data)
    print_metrics(m, clf.classes, Path(str(data)).name)
    if json_out:
        from rnnlab.io import atomic_write_json

        atomic_write_json(json_out, {"classes": clf.classes, **m})


@app.command("predict")
def predict_cmd(
    run: Path = typer.Argument(..., help="Run directory."),
    inputs: list[str] = typer.Argument(
        None, help="Texts (or sequences like '0.1 0.5 0.2' for feature models)."
    ),
    file: Path = typer.Option(None, "--file", help="One input per line."),
    top: int = typer.Option(3, help="Show this many classes."),
) -> None:
    """The most likely classes of each input."""
    from rnnlab.io import read_text

    items = list(inputs or [])
    if file:
        items += [ln for ln in read_text(file, "input file").splitlines() if ln.strip()]
    if not items:
        raise InputError("nothing to classify: give texts as arguments or --file")
    clf = load_classifier(run)
    for text, probs in zip(items, clf.predict(items)):
        shown = "  ".join(f"{c} {p:.1%}" for c, p in probs[: max(1, top)])
        typer.echo(f"{probs[0][0]}\t{shown}\t{text[:60]}")
