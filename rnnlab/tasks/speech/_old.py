"""Speech recognition: audio → log-mel frames → strided conv → (bi)GRU/LSTM → CTC → digits.

Data: the Free Spoken Digit Dataset (``rnnlab.data.audio``). Two tasks, one model kind:
``digits`` (isolated digits, one label per recording) and ``connected`` (2-7 recordings of one
speaker joined by short random silences, optionally with noise). Both train with CTC
(Graves et al. 2006) over 11 symbols (blank + 10 digits) and decode greedily (best path) or
with a prefix beam search. Metrics: exact-match accuracy, WER and CER (jiwer).

    rnnlab speech train --data ../shared/data/fsdd --task digits --time-budget 5m --out runs/digits
    rnnlab speech eval runs/digits              # accuracy, WER, CER, confusion.png
    rnnlab speech transcribe runs/digits my_recording.wav

>>> m = AcousticModel(40, hidden=16)
>>> logp, lengths = m(torch.randn(2, 50, 40), torch.tensor([50, 30]))
>>> logp.shape, lengths.tolist()                 # 4x fewer frames after the conv front end
(torch.Size([2, 13, 11]), [13, 8])
"""

from __future__ import annotations

import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import torch
import typer
from torch import Tensor, nn

from rnnlab.data.audio import FeatureConfig, Recording
from rnnlab.errors import CheckpointError, InputError

app = typer.Typer(help="Speech recognition: audio to text with CTC.", no_args_is_help=True)

BLANK = 0
SYMBOLS = ["_", *"0123456789"]  # CTC output symbols: index 0 is the blank, d + 1 is digit d
TASKS = ("digits", "connected")


def ids_to_text(ids: list[int]) -> str:
    """Label ids (1..10) → ``"3 1 4"`` (digits as space-separated words, for WER)."""
    return " ".join(SYMBOLS[i] for i in ids if i != BLANK)


# ---- model ---------------------------------------------------------------------------------


class AcousticModel(nn.Module):
    """Features (B, T, F) → conv front end (each layer halves T) → recurrent layer →
    per-frame log-probabilities over blank + digits.

    The front end cuts the number of recurrent steps (the cost) by ``2 ** conv_layers``;
    40 ms output frames are still far shorter than a spoken digit.
    """

    def __init__(
        self,
        n_features: int,
        *,
        n_symbols: int = len(SYMBOLS),
        conv_layers: int = 2,
        channels: int = 128,
        cell: str = "gru",
        hidden: int = 128,
        layers: int = 2,
        bidirectional: bool = True,
        dropout: float = 0.1,
    ):
        super().__init__()
        from rnnlab.core import make_rnn

        if not 0 <= conv_layers <= 4:
            raise InputError(f"--conv-layers must be 0..4, got {conv_layers}")
        convs, size = [], n_features
        for _ in range(conv_layers):
            convs += [nn.Conv1d(size, channels, 5, stride=2, padding=2), nn.GELU()]
            size = channels
        self.conv_layers = conv_layers
        self.front = nn.Sequential(*convs)
        self.rnn = make_rnn(
            cell, size, hidden, layers, dropout=dropout, bidirectional=bidirectional
        )
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden * (2 if bidirectional else 1), n_symbols)

    def out_lengths(self, lengths: Tensor) -> Tensor:
        for _ in range(self.conv_layers):  # Conv1d(k=5, s=2, p=2): floor((L - 1) / 2) + 1
            lengths = (lengths - 1) // 2 + 1
        return lengths

    def encode(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """The recurrent layer's input (B, T', C) and its lengths."""
        x = x.transpose(1, 2)  # (B, F, T) for Conv1d
        for k in range(self.conv_layers):
            # zero the padding before each conv, so a short utterance in a batch gives the
            # same frames as alone (a conv of zeros is not zero after the bias and GELU)
            x = x * (torch.arange(x.shape[-1])[None, None, :] < lengths[:, None, None])
            x = self.front[2 * k + 1](self.front[2 * k](x))
            lengths = (lengths - 1) // 2 + 1  # Conv1d(k=5, s=2, p=2): floor((L - 1) / 2) + 1
        return x.transpose(1, 2), lengths

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        h, lengths = self.encode(x, lengths)
        out, _ = self.rnn(h, lengths=lengths)
        return torch.log_softmax(self.head(self.drop(out)), -1), lengths


def ctc_loss(logp: Tensor, lengths: Tensor, labels: list[list[int]]) -> Tensor:
    """Mean over the batch of the CTC loss per label (``reduction="mean"`` divides each
    utterance's loss by its number of labels, so long strings do not dominate)."""
    targets = torch.tensor([i for y in labels for i in y], dtype=torch.long)
    tl = torch.tensor([len(y) for y in labels], dtype=torch.long)
    return nn.functional.ctc_loss(
        logp.transpose(0, 1), targets, lengths, tl, blank=BLANK, zero_infinity=True
    )


# ---- decoding ------------------------------------------------------------------------------


def greedy_decode(logp: np.ndarray | Tensor) -> list[int]:
    """Best path: the most likely symbol per frame, repeats merged, blanks dropped.

    >>> greedy_decode(np.log(np.array([[.1, .9, 0], [.1, .9, 0], [.9, .1, 0], [.1, .9, 0]]) + 1e-9))
    [1, 1]
    """
    best = np.asarray(logp).argmax(-1)
    return [int(s) for i, s in enumerate(best) if s != BLANK and (i == 0 or s != best[i - 1])]


def beam_decode(logp: np.ndarray | Tensor, beam: int = 8) -> list[int]:
    """CTC prefix beam search (Hannun et al. 2014, no language model): keeps the ``beam``
    most probable label prefixes, summing over all alignments of each prefix, so it can beat
    the best path when a label's probability is split over several paths."""
    logp = np.asarray(logp, dtype=np.float64)
    # prefix -> [log P(prefix, ends in blank), log P(prefix, ends in a label)]
    beams: dict[tuple[int, ...], list[float]] = {(): [0.0, -math.inf]}
    lae, ninf = np.logaddexp, -math.inf
    for t in range(len(logp)):
        nxt: dict[tuple[int, ...], list[float]] = {}
        for prefix, (pb, pnb) in beams.items():
            total = lae(pb, pnb)
            ext = [(prefix, total + logp[t, BLANK], ninf)]  # (prefix, add to pb, add to pnb)
            for s in range(1, logp.shape[1]):
                p = logp[t, s]
                if prefix and prefix[-1] == s:
                    ext.append((prefix, ninf, pnb + p))  # the same label continues
                    ext.append(((*prefix, s), ninf, pb + p))  # a repeat needs a blank between
                else:
                    ext.append(((*prefix, s), ninf, total + p))
            for q, db, dnb in ext:
                cur = nxt.setdefault(q, [ninf, ninf])
                cur[0], cur[1] = lae(cur[0], db), lae(cur[1], dnb)
        beams = dict(sorted(nxt.items(), key=lambda kv: -lae(*kv[1]))[:beam])
    return list(max(beams.items(), key=lambda kv: lae(*kv[1]))[0])


# ---- data ----------------------------------------------------------------------------------


def _collate(feats: list[Tensor]) -> tuple[Tensor, Tensor]:
    lengths = torch.tensor([len(f) for f in feats])
    return nn.utils.rnn.pad_sequence(feats, batch_first=True), lengths


class Corpus:
    """Recordings of one split loaded into memory, with their features (computed once)."""

    def __init__(self, recs: list[Recording], fcfg: FeatureConfig):
        from rnnlab.data.audio import features, load_audio

        self.recs, self.fcfg = recs, fcfg
        self.waves = [load_audio(r.path, fcfg.rate) for r in recs]
        self.feats = [features(w, fcfg) for w in self.waves]
        self.by_speaker: dict[str, list[int]] = {}
        for i, r in enumerate(recs):
            self.by_speaker.setdefault(r.speaker, []).append(i)


def connected_set(
    corpus: Corpus, n: int, seed: int, min_digits: int, max_digits: int, snr_db: float | None
) -> tuple[list[Tensor], list[list[int]]]:
    """``n`` connected-digit utterances (features, labels) drawn reproducibly from ``corpus``."""
    from rnnlab.data.audio import features

    rng = np.random.default_rng((seed, 13))
    feats, labels = [], []
    for _ in range(n):
        w, y = _one_connected(corpus, rng, min_digits, max_digits, snr_db)
        feats.append(features(w, corpus.fcfg))
        labels.append(y)
    return feats, labels


def _one_connected(corpus, rng, min_digits, max_digits, snr_db) -> tuple[np.ndarray, list[int]]:
    from rnnlab.data.audio import concat_digits

    speakers = sorted(corpus.by_speaker)
    pool = corpus.by_speaker[speakers[int(rng.integers(len(speakers)))]]
    idx = [
        pool[int(i)]
        for i in rng.integers(0, len(pool), int(rng.integers(min_digits, max_digits + 1)))
    ]
    snr = None if snr_db is None else float(rng.uniform(snr_db, snr_db + 20))
    w = concat_digits([corpus.waves[i] for i in idx], rng, corpus.fcfg.rate, snr_db=snr)
    return w, [corpus.recs[i].digit + 1 for i in idx]


class SpeechStream:
    """Training batches: isolated recordings (shuffled epochs) or freshly synthesised connected
    strings. Batch ``k`` is a function of ``(seed, k)``, so ``--resume`` is exact."""

    def __init__(self, corpus: Corpus, task: str, batch: int, seed: int, conn: dict[str, Any]):
        self.corpus, self.task, self.batch, self.seed, self.conn = corpus, task, batch, seed, conn
        self.k = 0

    def __next__(self) -> tuple[Tensor, Tensor, list[list[int]]]:
        from rnnlab.data.audio import features, spec_augment

        rng = np.random.default_rng((self.seed, 17, self.k))
        n = len(self.corpus.recs)
        if self.task == "digits":
            epoch, pos = divmod(self.k * self.batch, n)
            order = np.random.default_rng((self.seed, 19, epoch)).permutation(n)
            idx = np.resize(np.roll(order, -pos), self.batch)
            feats = [self.corpus.feats[i] for i in idx]
            labels = [[self.corpus.recs[i].digit + 1] for i in idx]
        else:
            feats, labels = [], []
            for _ in range(self.batch):
                w, y = _one_connected(
                    self.corpus,
                    rng,
                    self.conn["min_digits"],
                    self.conn["max_digits"],
                    self.conn["snr_db"],
                )
                feats.append(features(w, self.corpus.fcfg))
                labels.append(y)
        self.k += 1
        x, lengths = _collate([spec_augment(f, rng) for f in feats])
        return x, lengths, labels

    def state_dict(self) -> dict[str, int]:
        return {"k": self.k}

    def load_state_dict(self, state: dict[str, int]) -> None:
        self.k = int(state["k"])


# ---- metrics -------------------------------------------------------------------------------


def _posteriors(
    model: AcousticModel,
    feats: list[Tensor],
    labels: list[list[int]] | None = None,
    batch: int = 64,
) -> tuple[list[np.ndarray], float]:
    """Per-utterance (T', V) log-probabilities (numpy) and, given labels, the mean CTC loss."""
    out, loss = [], 0.0
    model.eval()
    with torch.no_grad():
        for i in range(0, len(feats), batch):
            x, lengths = _collate(feats[i : i + batch])
            logp, ol = model(x, lengths)
            out += [logp[j, : ol[j]].numpy() for j in range(len(ol))]
            if labels is not None:
                loss += float(ctc_loss(logp, ol, labels[i : i + batch])) * len(ol)
    return out, loss / max(1, len(feats))


def score(
    model: AcousticModel, feats: list[Tensor], labels: list[list[int]], beam: int = 1
) -> dict[str, Any]:
    """CTC loss, exact-match accuracy, WER and CER (jiwer) and the digit confusion matrix
    (index 10 = no digit: a deletion in its row, an insertion in its column).

    For single-digit references ``acc_forced`` is the accuracy when the answer must be one digit
    (the digit whose one-label CTC probability is highest)."""
    import jiwer

    posts, loss = _posteriors(model, feats, labels)
    hyps = [greedy_decode(p) if beam <= 1 else beam_decode(p, beam) for p in posts]
    refs_t, hyps_t = [ids_to_text(y) for y in labels], [ids_to_text(h) for h in hyps]
    words = jiwer.process_words(refs_t, hyps_t)
    conf = np.zeros((11, 11), dtype=np.int64)
    for al, r, h in zip(words.alignments, refs_t, hyps_t):
        r, h = r.split(), h.split()
        for c in al:
            if c.type in ("equal", "substitute"):
                for a, b in zip(
                    r[c.ref_start_idx : c.ref_end_idx], h[c.hyp_start_idx : c.hyp_end_idx]
                ):
                    conf[int(a), int(b)] += 1
            elif c.type == "delete":
                for a in r[c.ref_start_idx : c.ref_end_idx]:
                    conf[int(a), 10] += 1
            else:
                for b in h[c.hyp_start_idx : c.hyp_end_idx]:
                    conf[10, int(b)] += 1
    m: dict[str, Any] = {
        "loss": loss,
        "acc": float(np.mean([h == y for h, y in zip(hyps, labels)])),
        "wer": float(words.wer),
        "cer": float(
            jiwer.cer([r.replace(" ", "") for r in refs_t], [h.replace(" ", "") for h in hyps_t])
        ),
        "n": len(feats),
        "confusion": conf.tolist(),
    }
    if all(len(y) == 1 for y in labels):
        m["acc_forced"] = float(
            np.mean(
                [
                    p[:, 1:].max(0).argmax() + 1 == y[0]
                    for p, y in zip(_one_label_scores(posts), labels)
                ]
            )
        )
    return m


def _one_label_scores(posts: list[np.ndarray]) -> list[np.ndarray]:
    """Per utterance a (1, 11) row: log P(label sequence = [d]) for each digit d (column 0 is
    unused), from the CTC forward pass with a one-label target."""
    out = []
    for p in posts:
        lp = torch.from_numpy(p).unsqueeze(1).expand(-1, 10, -1)
        s = -nn.functional.ctc_loss(
            lp,
            torch.arange(1, 11),
            torch.full((10,), len(p)),
            torch.ones(10, dtype=torch.long),
            reduction="none",
        )
        out.append(torch.cat([torch.tensor([-math.inf]), s]).numpy()[None, :])
    return out


def plot_confusion(conf: list[list[int]] | np.ndarray, path: str | Path, title: str) -> None:
    """Write the confusion matrix as a PNG (atomically)."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rnnlab.io import atomic_write_bytes

    c = np.asarray(conf)
    names = [*"0123456789", "∅"]
    fig, ax = plt.subplots(figsize=(6.2, 5.4))
    ax.imshow(np.log1p(c), cmap="Blues")
    for i in range(c.shape[0]):
        for j in range(c.shape[1]):
            if c[i, j]:
                dark = np.log1p(c[i, j]) > 0.6 * np.log1p(c.max())
                ax.text(
                    j,
                    i,
                    str(c[i, j]),
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if dark else "black",
                )
    ax.set_xticks(range(11), names)
    ax.set_yticks(range(11), names)
    ax.set_xlabel("recognised (∅ = nothing: a deletion)")
    ax.set_ylabel("spoken (∅ = nothing: an insertion)")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())


# ---- train / load --------------------------------------------------------------------------


def _eval_sets(cfg: dict[str, Any], data: str | Path, splits: tuple[str, ...]):
    """Rebuild the run's splits from its config: {name: (features, labels)} and the train
    corpus when asked for."""
    from rnnlab.data.audio import fsdd_index, split_recordings

    fcfg = FeatureConfig(**cfg["features"])
    sp = cfg["split"]
    parts = split_recordings(fsdd_index(data), sp["kind"], sp["seed"], sp.get("test_speaker"))
    out: dict[str, Any] = {}
    for name in splits:
        corpus = Corpus(parts[name], fcfg)
        if name == "train":
            out[name] = corpus
        elif cfg["task"] == "digits":
            out[name] = (corpus.feats, [[r.digit + 1] for r in corpus.recs])
        else:
            c = cfg["connected"]
            n = c["n_val"] if name == "val" else c["n_test"]
            s = sp["seed"] * 1000 + (1 if name == "val" else 2)
            out[name] = connected_set(corpus, n, s, c["min_digits"], c["max_digits"], c["snr_db"])
    return out


def train_speech(
    data: str | Path,
    out: str | Path,
    *,
    task: str = "digits",
    split: str = "random",
    test_speaker: str | None = None,
    features: str = "logmel",
    conv_layers: int | None = None,
    channels: int = 128,
    cell: str = "gru",
    hidden: int = 128,
    layers: int = 2,
    bidirectional: bool = True,
    dropout: float = 0.1,
    batch: int = 32,
    lr: float = 3e-3,
    steps: int | None = None,
    time_budget: float | None = None,
    eval_every: int = 200,
    min_digits: int = 2,
    max_digits: int = 7,
    snr_db: float | None = None,
    n_val: int = 200,
    n_test: int = 500,
    seed: int = 0,
    init: str | Path | None = None,
    resume: bool = False,
    progress: bool = True,
    threads: int = 1,
) -> dict[str, Any]:
    """Train an acoustic model with CTC; the best model by validation loss is kept in ``out``
    and scored on the test split. Returns ``{"val": metrics, "test": metrics, ...}``."""
    from rnnlab.data.audio import fsdd_index, split_recordings
    from rnnlab.tasks.memory import cpu_settings
    from rnnlab.train.checkpoint import load_run, load_weights_into, save_run
    from rnnlab.train.loop import TrainConfig, fit
    from rnnlab.train.util import set_seed

    if task not in TASKS:
        raise InputError(f"unknown task {task!r}: choose digits or connected")
    if not 1 <= min_digits <= max_digits <= 20:
        raise InputError(
            f"need 1 <= --min-digits <= --max-digits <= 20, got {min_digits}, {max_digits}"
        )
    if steps is None and time_budget is None:
        steps = 2000
    if conv_layers is None:  # connected strings are long: 80 ms frames keep the RNN affordable
        conv_layers = 3 if task == "connected" else 2
    set_seed(seed)
    fcfg = FeatureConfig(kind=features)
    recs = fsdd_index(data)
    if split == "speaker" and test_speaker is None:
        test_speaker = split_recordings(recs, split, seed)["test"][0].speaker
    conn = dict(
        min_digits=min_digits, max_digits=max_digits, snr_db=snr_db, n_val=n_val, n_test=n_test
    )
    arch = dict(
        n_features=fcfg.dim,
        conv_layers=conv_layers,
        channels=channels,
        cell=cell,
        hidden=hidden,
        layers=layers,
        bidirectional=bidirectional,
        dropout=dropout,
    )
    config: dict[str, Any] = {
        "task": "speech",
        "speech_task": task,
        "model": arch,
        "features": asdict(fcfg),
        "symbols": SYMBOLS,
        "data": str(data),
        "split": {"kind": split, "seed": seed, "test_speaker": test_speaker},
        "connected": conn,
        "train": dict(batch=batch, lr=lr, steps=steps, time_budget=time_budget, seed=seed),
    }
    if init is not None:  # transfer: start from another speech run (its architecture wins)
        from rnnlab.train.checkpoint import read_config

        arch = dict(read_config(init).get("model") or arch)
        config["model"], config["init"] = arch, str(init)
    model = AcousticModel(**arch)
    if init is not None and not resume:
        tensors, _ = load_run(init, task="speech")
        load_weights_into(model, tensors, str(init))
    with cpu_settings(threads):
        sets = _eval_sets({**config, "task": task}, data, ("train", "val"))
        stream = SpeechStream(sets["train"], task, batch, seed, conn)
        xva, yva = sets["val"]

        def step_fn(b):
            x, lengths, labels = b
            logp, ol = model(x, lengths)
            return ctc_loss(logp, ol, labels), int(lengths.sum())

        def eval_fn() -> dict[str, float]:
            m = score(model, xva, yva)
            return {"val_loss": m["loss"], "val_wer": m["wer"], "val_acc": m["acc"]}

        def save_fn(d: Path, metrics: dict) -> None:
            save_run(d, model.state_dict(), {**config, "metrics": metrics})

        warmup = max(1, min(100, (steps or 10**9) // 10))
        cfg = TrainConfig(steps=steps, time_budget=time_budget, lr=lr, clip=1.0, warmup=warmup)
        cfg.eval_every = eval_every
        summary = fit(
            model,
            cfg,
            out,
            data=stream,
            step_fn=step_fn,
            eval_fn=eval_fn,
            save_fn=save_fn,
            resume=resume,
            progress=progress,
        )
        tensors, _ = load_run(out, task="speech")
        load_weights_into(model, tensors, str(out))
        xte, yte = _eval_sets({**config, "task": task}, data, ("test",))["test"]
        result: dict[str, Any] = {
            "steps": summary["steps"],
            "seconds": round(summary["elapsed"], 1),
            "stop_reason": summary["stop_reason"],
            "params": sum(p.numel() for p in model.parameters()),
            "val": score(model, xva, yva),
            "test": score(model, xte, yte),
        }
    brief = {k: result[k] for k in ("steps", "seconds", "params")}
    for s in ("val", "test"):
        brief[s] = {k: v for k, v in result[s].items() if k != "confusion"}
    save_run(out, model.state_dict(), {**config, "metrics": brief})
    return result


class Recognizer:
    """A trained speech model loaded from a run directory (``load_speech``).

    >>> rec = load_speech("runs/digits")                          # doctest: +SKIP
    >>> rec.transcribe_file("7_jackson_0.wav")["text"]             # doctest: +SKIP
    '7'
    """

    def __init__(self, model: AcousticModel, config: dict[str, Any]):
        self.model, self.config = model, config
        self.fcfg = FeatureConfig(**config["features"])
        self.task = config.get("speech_task", "digits")

    @property
    def frame_seconds(self) -> float:
        """Duration of one output frame (the hop times the conv front end's stride)."""
        return self.fcfg.hop * 2**self.model.conv_layers / self.fcfg.rate

    def transcribe(self, wave: np.ndarray, beam: int = 1) -> dict[str, Any]:
        """``{"text", "digits", "features" (T, F), "log_probs" (T', 11)}`` for mono samples at
        the model's rate."""
        from rnnlab.data.audio import features

        if len(wave) == 0:
            raise InputError("the audio has no samples")
        f = features(wave, self.fcfg)
        logp = _posteriors(self.model, [f])[0][0]
        ids = greedy_decode(logp) if beam <= 1 else beam_decode(logp, beam)
        return {
            "text": ids_to_text(ids),
            "digits": [i - 1 for i in ids],
            "features": f.numpy(),
            "log_probs": logp,
        }

    def transcribe_file(self, path: str | Path, beam: int = 1) -> dict[str, Any]:
        from rnnlab.data.audio import load_audio

        return self.transcribe(load_audio(path, self.fcfg.rate), beam)


def load_speech(run_dir: str | Path) -> Recognizer:
    """Rebuild a trained model (eval mode); a run of another task is a ``CheckpointError``."""
    from rnnlab.train.checkpoint import load_run, load_weights_into

    tensors, cfg = load_run(run_dir, task="speech")
    try:
        model = AcousticModel(**cfg["model"])
        FeatureConfig(**cfg["features"])
    except (KeyError, TypeError) as e:
        raise CheckpointError(f"{run_dir}/config.json is incomplete ({e}); retrain it") from None
    load_weights_into(model, tensors, str(run_dir))
    model.eval()
    return Recognizer(model, cfg)


# ---- CLI -----------------------------------------------------------------------------------


def _print_metrics(m: dict[str, Any], title: str) -> None:
    line = f"{title}: accuracy {m['acc']:.2%}  WER {m['wer']:.2%}  CER {m['cer']:.2%}"
    if "acc_forced" in m:
        line += f"  (one-digit forced: {m['acc_forced']:.2%})"
    typer.echo(line + f"  [{m['n']} utterances]")


@app.command("train")
def train_cmd(
    data: Path = typer.Option(..., "--data", help="FSDD folder (holds recordings/*.wav)."),
    task: str = typer.Option("digits", help="digits (isolated) or connected (2-7 digit strings)."),
    out: Path = typer.Option(None, "--out", help="Run directory (default runs/speech-TASK)."),
    split: str = typer.Option("random", help="random, speaker (held-out speaker) or official."),
    test_speaker: str = typer.Option(
        None, "--test-speaker", help="Speaker held out by --split speaker."
    ),
    feats: str = typer.Option("logmel", "--features", help="logmel (40) or mfcc (13)."),
    cell: str = typer.Option("gru", help="rnn, gru, lstm, mingru or minlstm."),
    bidirectional: bool = typer.Option(True, "--bidirectional/--unidirectional", help="biRNN."),
    hidden: int = typer.Option(128, help="Hidden units per layer and direction."),
    layers: int = typer.Option(2, help="Stacked recurrent layers."),
    conv_layers: int = typer.Option(
        None, "--conv-layers", help="Strided conv layers, each halves T (digits 2, connected 3)."
    ),
    dropout: float = typer.Option(0.1, help="Dropout between layers and before the output."),
    batch: int = typer.Option(32, help="Utterances per step."),
    lr: float = typer.Option(3e-3, help="Peak learning rate (AdamW, warmup + cosine)."),
    steps: int = typer.Option(None, help="Train for this many steps (default 2000)."),
    time_budget: str = typer.Option(None, "--time-budget", help="Or for this long, e.g. 5m."),
    eval_every: int = typer.Option(200, "--eval-every", help="Validate every N steps."),
    min_digits: int = typer.Option(2, "--min-digits", help="Connected: shortest string."),
    max_digits: int = typer.Option(7, "--max-digits", help="Connected: longest string."),
    noise: float = typer.Option(
        None, "--noise", help="Connected: add white noise, SNR from this to +20 dB."
    ),
    seed: int = typer.Option(0, help="Random seed (also fixes the split)."),
    init: Path = typer.Option(
        None, "--init", help="Start from this speech run's weights (e.g. digits → connected)."
    ),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out exactly."),
    threads: int = typer.Option(1, help="CPU threads (1 is fastest on a busy machine)."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Train a CTC acoustic model on FSDD; print validation and test accuracy, WER, CER."""
    from rnnlab.train.util import parse_duration

    budget = parse_duration(time_budget)
    out = out or Path(f"runs/speech-{task}")
    res = train_speech(
        data,
        out,
        task=task,
        split=split,
        test_speaker=test_speaker,
        features=feats,
        conv_layers=conv_layers,
        cell=cell,
        hidden=hidden,
        layers=layers,
        bidirectional=bidirectional,
        dropout=dropout,
        batch=batch,
        lr=lr,
        steps=steps,
        time_budget=budget,
        eval_every=eval_every,
        min_digits=min_digits,
        max_digits=max_digits,
        snr_db=noise,
        seed=seed,
        init=init,
        resume=resume,
        progress=not quiet,
        threads=threads,
    )
    typer.echo(f"{res['steps']} steps in {res['seconds']:.0f} s, {res['params']:,} parameters")
    _print_metrics(res["val"], "validation")
    _print_metrics(res["test"], "test")
    typer.echo(f"model: {out}")


@app.command("eval")
def eval_cmd(
    run: Path = typer.Argument(..., help="Run directory."),
    data: Path = typer.Option(None, "--data", help="FSDD folder (default: the one it trained on)."),
    on: str = typer.Option("test", "--split", help="Score the test or val split of the run."),
    beam: int = typer.Option(1, help="Beam width (1 = greedy best path)."),
    png: Path = typer.Option(
        None, "--png", help="Confusion matrix image (default RUN/confusion.png)."
    ),
    json_out: Path = typer.Option(None, "--json", help="Also write the metrics here."),
) -> None:
    """Accuracy, WER and CER on the run's test split (rebuilt from its seed) + confusion PNG."""
    from rnnlab.tasks.memory import cpu_settings

    if on not in ("test", "val"):
        raise InputError(f"--split must be test or val, got {on!r}")
    rec = load_speech(run)
    cfg = {**rec.config, "task": rec.task}
    with cpu_settings(2):
        x, y = _eval_sets(cfg, data or cfg["data"], (on,))[on]
        m = score(rec.model, x, y, beam=beam)
    sp = cfg["split"]
    what = f"{rec.task}, {sp['kind']} split" + (
        f" (held-out speaker {sp['test_speaker']})" if sp["kind"] == "speaker" else ""
    )
    _print_metrics(m, f"{on} ({what})")
    png = png or Path(run) / "confusion.png"
    plot_confusion(m["confusion"], png, f"{Path(run).name}: {on}, {what}; WER {m['wer']:.2%}")
    typer.echo(f"confusion matrix: {png}")
    if json_out:
        from rnnlab.io import atomic_write_json

        atomic_write_json(json_out, m)


@app.command("transcribe")
def transcribe_cmd(
    run: Path = typer.Argument(..., help="Run directory."),
    files: list[Path] = typer.Argument(
        ..., help="WAV files (any rate: resampled; stereo: mixed down)."
    ),
    beam: int = typer.Option(1, help="Beam width (1 = greedy best path)."),
) -> None:
    """Print the digits recognised in each WAV file."""
    rec = load_speech(run)
    for f in files:
        r = rec.transcribe_file(f, beam)
        typer.echo(f"{f}\t{r['text'] or '(nothing recognised)'}")
