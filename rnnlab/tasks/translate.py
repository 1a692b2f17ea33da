"""Machine translation: a sequence-to-sequence model with additive (Bahdanau) attention.

Encoder: embeddings → bidirectional GRU/LSTM (``rnnlab.core.make_rnn``, ``lengths=`` for the
padding). Decoder: one GRU/LSTM cell that at each step attends over the encoder states with
``v·tanh(W_k h_j + W_q s_{t-1})`` (padding masked out), reads ``[embedding; context]`` and
predicts the next word from ``[state; context; embedding]``. ``--no-attention`` replaces the
context by the encoder's final states at every step (the Cho et al. 2014 model) for the
comparison. Trained with teacher forcing whose ratio is scheduled down over the budget;
decoded greedily or with beam search (GNMT length normalisation).

    rnnlab translate train --pairs ../shared/data/eng-fra/eng-fra.txt --time-budget 10m
    rnnlab translate run runs/translate "I am cold." --beam 5 --show-attention
    rnnlab translate eval runs/translate
    rnnlab translate plot runs/translate "I am cold."

>>> res = train_translate(None, "runs/num", steps=50, progress=False)   # doctest: +SKIP
>>> model = load_translator("runs/num"); translate(model, "twenty-one").text  # doctest: +SKIP
'vingt et un'
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import typer
from torch import Tensor, nn

from rnnlab.data import pairs as P
from rnnlab.errors import CheckpointError, InputError

app = typer.Typer(help="Machine translation: seq2seq with attention.", no_args_is_help=True)

TASK = "translate"
BUILTIN = "builtin:numbers"


# ---- model ---------------------------------------------------------------------------------


@dataclass
class Encoded:
    """What the decoder reads: encoder states, attention keys, padding mask, summary."""

    memory: Tensor  # (B, S, 2H)
    keys: Tensor | None  # (B, S, A) precomputed W_k h_j (None without attention)
    mask: Tensor  # (B, S) True on real tokens
    summary: Tensor  # (B, 2H) last forward state ‖ first backward state

    def repeat(self, k: int) -> Encoded:
        """The same encoding for ``k`` beam hypotheses (batch of 1 → k)."""
        rep = lambda t: None if t is None else t.expand(k, *t.shape[1:])  # noqa: E731
        return Encoded(rep(self.memory), rep(self.keys), rep(self.mask), rep(self.summary))


class Seq2Seq(nn.Module):
    """Bidirectional encoder + attentive decoder.

    >>> m = Seq2Seq(20, 30, hidden=16, embed=8)
    >>> logits = m(torch.tensor([[5, 6, 2]]), torch.tensor([3]), torch.tensor([[1, 7]]))
    >>> logits.shape
    torch.Size([1, 2, 30])
    """

    def __init__(
        self,
        src_vocab: int,
        tgt_vocab: int,
        *,
        cell: str = "gru",
        embed: int = 64,
        hidden: int = 128,
        layers: int = 1,
        dropout: float = 0.2,
        attention: bool = True,
        attn_dim: int | None = None,
    ):
        super().__init__()
        from rnnlab.core import make_rnn

        if cell not in ("gru", "lstm"):
            raise InputError(f"--cell must be gru or lstm for translation, got {cell!r}")
        self.cell_kind, self.attention, self.hidden = cell, attention, hidden
        H, E, A = hidden, embed, attn_dim or hidden
        self.src_emb = nn.Embedding(src_vocab, E, padding_idx=P.PAD_ID)
        self.tgt_emb = nn.Embedding(tgt_vocab, E, padding_idx=P.PAD_ID)
        self.encoder = make_rnn(cell, E, H, layers, dropout=dropout, bidirectional=True)
        self.bridge = nn.Linear(2 * H, H)  # decoder's first state from the encoder summary
        if attention:
            self.att_key = nn.Linear(2 * H, A, bias=False)
            self.att_query = nn.Linear(H, A)
            self.att_v = nn.Linear(A, 1, bias=False)
        # a cell, not a layer: attention needs the state of step t-1 before step t runs
        self.decoder = (nn.GRUCell if cell == "gru" else nn.LSTMCell)(E + 2 * H, H)
        self.pre_out = nn.Linear(H + 2 * H + E, H)
        self.out = nn.Linear(H, tgt_vocab)
        self.drop = nn.Dropout(dropout)

    # -- encoder --
    def encode(self, src: Tensor, src_len: Tensor) -> Encoded:
        x = self.drop(self.src_emb(src))
        memory, h_n = self.encoder(x, lengths=src_len)
        h = h_n[0] if isinstance(h_n, tuple) else h_n  # LSTM: (h, c)
        summary = torch.cat([h[-2], h[-1]], dim=-1)  # last layer: forward ‖ backward
        mask = torch.arange(src.shape[1], device=src.device)[None] < src_len.to(src.device)[:, None]
        keys = self.att_key(memory) if self.attention else None
        return Encoded(memory, keys, mask, summary)

    def init_state(self, enc: Encoded) -> Any:
        h = torch.tanh(self.bridge(enc.summary))
        return h if self.cell_kind == "gru" else (h, torch.zeros_like(h))

    # -- decoder --
    def attend(self, h_prev: Tensor, enc: Encoded) -> tuple[Tensor, Tensor | None]:
        """Context vector (B, 2H) and attention weights (B, S) (None without attention)."""
        if not self.attention:
            return enc.summary, None
        scores = self.att_v(torch.tanh(enc.keys + self.att_query(h_prev)[:, None])).squeeze(-1)
        weights = torch.softmax(scores.masked_fill(~enc.mask, float("-inf")), dim=-1)
        return torch.bmm(weights[:, None], enc.memory).squeeze(1), weights

    def step(self, y_prev: Tensor, state: Any, enc: Encoded) -> tuple[Tensor, Any, Tensor | None]:
        """One decoder step: previous token ids (B,) → logits (B, V), new state, attention."""
        e = self.drop(self.tgt_emb(y_prev))
        h_prev = state if self.cell_kind == "gru" else state[0]
        ctx, weights = self.attend(h_prev, enc)
        state = self.decoder(torch.cat([e, ctx], dim=-1), state)
        h = state if self.cell_kind == "gru" else state[0]
        o = torch.tanh(self.pre_out(self.drop(torch.cat([h, ctx, e], dim=-1))))
        return self.out(self.drop(o)), state, weights

    def forward(
        self, src: Tensor, src_len: Tensor, tgt_in: Tensor, teacher_ratio: float = 1.0
    ) -> Tensor:
        """Logits (B, T, V) for ``tgt_in`` (``<sos> y1 … yn``). With ``teacher_ratio`` < 1 each
        step after the first feeds, per sentence with probability 1 - ratio, the model's own
        previous prediction instead of the reference word (scheduled sampling)."""
        enc = self.encode(src, src_len)
        state = self.init_state(enc)
        y, logits = tgt_in[:, 0], []
        for t in range(tgt_in.shape[1]):
            lg, state, _ = self.step(y, state, enc)
            logits.append(lg)
            if t + 1 < tgt_in.shape[1]:
                y = tgt_in[:, t + 1]
                if teacher_ratio < 1.0:
                    own = torch.rand(y.shape[0], device=y.device) >= teacher_ratio
                    y = torch.where(own, lg.detach().argmax(-1), y)
        return torch.stack(logits, dim=1)


def seq_loss(logits: Tensor, target: Tensor, smoothing: float = 0.0) -> Tensor:
    """Mean cross-entropy over the real (non-padding) target tokens."""
    return nn.functional.cross_entropy(
        logits.flatten(0, 1), target.flatten(), ignore_index=P.PAD_ID, label_smoothing=smoothing
    )


# ---- decoding ------------------------------------------------------------------------------


@dataclass
class Hypothesis:
    ids: list[int]  # target ids, without <sos>, ending in <eos> when finished
    logp: float  # sum of log-probabilities
    attention: list[list[float]] = field(default_factory=list)  # per output step, over source

    def score(self, alpha: float) -> float:
        """GNMT length-normalised score: logp / ((5 + |y|) / 6) ** alpha."""
        return self.logp / ((5 + len(self.ids)) / 6) ** alpha


@torch.no_grad()
def greedy(model: Seq2Seq, src: Tensor, src_len: Tensor, max_steps: int) -> list[Hypothesis]:
    """Batched greedy decoding: the most likely word at every step."""
    enc = model.encode(src, src_len)
    state = model.init_state(enc)
    B = src.shape[0]
    y = torch.full((B,), P.SOS_ID, dtype=torch.long, device=src.device)
    hyps = [Hypothesis([], 0.0) for _ in range(B)]
    done = torch.zeros(B, dtype=torch.bool, device=src.device)
    for _ in range(max_steps):
        lg, state, w = model.step(y, state, enc)
        logp = torch.log_softmax(lg, -1)
        y = logp.argmax(-1)
        for b in (~done).nonzero().flatten().tolist():
            hyps[b].ids.append(int(y[b]))
            hyps[b].logp += float(logp[b, y[b]])
            if w is not None:
                hyps[b].attention.append(w[b].tolist())
        done |= y == P.EOS_ID
        if done.all():
            break
    return hyps


@torch.no_grad()
def beam_search(
    model: Seq2Seq, src: Tensor, src_len: Tensor, beam: int, max_steps: int, alpha: float = 0.6
) -> list[Hypothesis]:
    """Beam search for one sentence (``src`` of shape (1, S)); hypotheses best first by the
    length-normalised score. ``beam=1`` gives the greedy translation."""
    enc1 = model.encode(src, src_len)
    live = [Hypothesis([], 0.0)]
    state = model.init_state(enc1)
    finished: list[Hypothesis] = []
    for t in range(max_steps):
        enc = enc1.repeat(len(live))
        y = torch.tensor([h.ids[-1] if h.ids else P.SOS_ID for h in live], device=src.device)
        lg, state, w = model.step(y, state, enc)
        logp = torch.log_softmax(lg, -1)
        total = torch.tensor([h.logp for h in live], device=src.device)[:, None] + logp
        # the best 2k continuations: at most k of them end, so k stay alive
        top_v, top_i = total.flatten().topk(min(2 * beam, total.numel()))
        V = logp.shape[1]
        keep_rows, new_live = [], []
        for rank, (v, i) in enumerate(zip(top_v.tolist(), top_i.tolist())):
            row, tok = divmod(i, V)
            prev = live[row]
            # attention rows stay tensors (views) until the end: cheap to copy between beams
            h = Hypothesis(
                prev.ids + [tok], v, prev.attention + ([w[row]] if w is not None else [])
            )
            if tok == P.EOS_ID or t == max_steps - 1:
                if rank < beam:  # an ending outside the top k would have been pruned
                    finished.append(h)
            else:
                new_live.append(h)
                keep_rows.append(row)
                if len(new_live) == beam:
                    break
        if not new_live:
            break
        # stop when the best finished hypothesis beats every live one at its current length;
        # exact for alpha = 0 (log-probs only fall), the usual heuristic otherwise
        if finished and len(finished) >= beam:
            best = max(h.score(alpha) for h in finished)
            if all(h.score(alpha) < best for h in new_live):
                break
        live = new_live
        idx = torch.tensor(keep_rows, device=src.device)
        state = state[idx] if isinstance(state, Tensor) else tuple(s[idx] for s in state)
    out = sorted(finished or live, key=lambda h: h.score(alpha), reverse=True)
    for h in out:
        h.attention = [a.tolist() if isinstance(a, Tensor) else a for a in h.attention]
    return out


# ---- a loaded translator -------------------------------------------------------------------


@dataclass
class Translator:
    model: Seq2Seq
    src_vocab: P.Vocab
    tgt_vocab: P.Vocab
    config: dict[str, Any]

    @property
    def lower(self) -> bool:
        return bool(self.config.get("lower", True))


@dataclass
class Translation:
    text: str  # the detokenised translation
    src_tokens: list[str]  # source tokens as the model read them (with <eos>; <unk> marked)
    tgt_tokens: list[str]  # output tokens (with the final <eos> when produced)
    attention: list[list[float]]  # (len(tgt_tokens), len(src_tokens)); [] without attention
    score: float
    unknown: list[str]  # source words not in the vocabulary


def _src_ids(
    tr: Translator, text: str, check_len: bool = True
) -> tuple[list[int], list[str], list[str]]:
    toks = P.tokenize(text, tr.lower)
    if not toks:
        raise InputError("the sentence to translate is empty")
    max_len = tr.config.get("max_len")
    if check_len and max_len and P.n_words(text) > max_len:
        raise InputError(
            f"the sentence has {P.n_words(text)} words but this model was trained on sentences "
            f"of at most {max_len} (--max-len); split it into shorter sentences"
        )
    ids = tr.src_vocab.encode(toks) + [P.EOS_ID]
    unknown = [t for t, i in zip(toks, ids) if i == P.UNK_ID]
    shown = [t if i != P.UNK_ID else f"{t}→<unk>" for t, i in zip(toks, ids)] + [P.EOS]
    return ids, shown, unknown


def max_steps_for(n_src: int) -> int:
    return 2 * n_src + 10


def _finish(tr: Translator, hyp: Hypothesis, src_tokens: list[str], alpha: float) -> list[str]:
    """Output tokens, with ``<unk>`` replaced by the most attended source word (copying names
    and numbers through is the usual fix for a closed vocabulary)."""
    toks = []
    for k, i in enumerate(hyp.ids):
        if i == P.EOS_ID:
            toks.append(P.EOS)
            break
        tok = tr.tgt_vocab.itos[i]
        if i == P.UNK_ID and hyp.attention:
            j = max(range(len(src_tokens)), key=lambda j: hyp.attention[k][j])
            tok = src_tokens[j].split("→")[0] if src_tokens[j] != P.EOS else tok
        toks.append(tok)
    return toks


def translate(
    tr: Translator, text: str, beam: int = 5, alpha: float = 0.6, check_len: bool = True
) -> Translation:
    """Translate one sentence (beam search; ``beam=1`` = greedy)."""
    if beam < 1:
        raise InputError(f"--beam must be >= 1, got {beam}")
    ids, shown, unknown = _src_ids(tr, text, check_len)
    src = torch.tensor([ids])
    src_len = torch.tensor([len(ids)])
    tr.model.eval()
    steps = max_steps_for(len(ids))
    if beam == 1:
        hyp = greedy(tr.model, src, src_len, steps)[0]
    else:
        hyp = beam_search(tr.model, src, src_len, beam, steps, alpha)[0]
    toks = _finish(tr, hyp, shown, alpha)
    words = [t for t in toks if t != P.EOS]
    return Translation(P.detokenize(words), shown, toks, hyp.attention, hyp.score(alpha), unknown)


def translate_batch(
    tr: Translator, texts: list[str], beam: int = 1, alpha: float = 0.6, batch: int = 128
) -> list[str]:
    """Translations of many sentences (greedy decoding is batched; beam runs per sentence)."""
    if beam > 1:
        return [translate(tr, t, beam, alpha, check_len=False).text for t in texts]
    out: list[str] = []
    tr.model.eval()
    for i in range(0, len(texts), batch):
        chunk = [_src_ids(tr, t, check_len=False) for t in texts[i : i + batch]]
        src, src_len = P.pad_batch([c[0] for c in chunk])
        hyps = greedy(tr.model, src, src_len, max_steps_for(src.shape[1]))
        for h, c in zip(hyps, chunk):
            toks = [t for t in _finish(tr, h, c[1], alpha) if t != P.EOS]
            out.append(P.detokenize(toks))
    return out


def load_translator(run_dir: str | Path) -> Translator:
    """The model of a run directory, in eval mode (CheckpointError for another task)."""
    from rnnlab.train.checkpoint import load_run, load_weights_into

    tensors, cfg = load_run(run_dir, task=TASK)
    try:
        src_vocab, tgt_vocab = P.Vocab(cfg["src_vocab"]), P.Vocab(cfg["tgt_vocab"])
        model = build_model(cfg, len(src_vocab), len(tgt_vocab))
    except (KeyError, InputError) as e:
        raise CheckpointError(f"{run_dir}/config.json is incomplete or invalid ({e})") from None
    load_weights_into(model, tensors, str(run_dir))
    model.eval()
    return Translator(model, src_vocab, tgt_vocab, cfg)


def build_model(cfg: dict[str, Any], n_src: int, n_tgt: int) -> Seq2Seq:
    return Seq2Seq(
        n_src,
        n_tgt,
        cell=cfg["cell"],
        embed=cfg["embed"],
        hidden=cfg["hidden"],
        layers=cfg["layers"],
        dropout=cfg["dropout"],
        attention=cfg["attention"],
    )


# ---- data glue -----------------------------------------------------------------------------


def load_pairs(
    pairs: str | Path | None, src_lang: str, tgt_lang: str, columns: str
) -> tuple[list[P.Pair], str]:
    """The pairs to train on, oriented ``src_lang → tgt_lang``, and a description."""
    if pairs is None or str(pairs) == BUILTIN:
        if (src_lang, tgt_lang) != ("en", "fr"):
            raise InputError("the built-in number pairs are English → French only (en → fr)")
        return P.number_pairs(1000), BUILTIN
    cols = [c.strip() for c in columns.split(",")]
    if len(cols) != 2 or cols[0] == cols[1]:
        raise InputError(
            f"--columns must name the two languages of the file, e.g. en,fr; got {columns!r}"
        )
    if {src_lang, tgt_lang} != set(cols):
        raise InputError(
            f"--src-lang {src_lang} / --tgt-lang {tgt_lang} must be the two languages of the "
            f"file's columns ({cols[0]},{cols[1]}; set them with --columns)"
        )
    return P.read_pairs(pairs, swap=src_lang == cols[1]), str(Path(pairs).resolve())


def _encode(pairs: list[P.Pair], src_vocab: P.Vocab, tgt_vocab: P.Vocab, lower: bool):
    src = [src_vocab.encode(P.tokenize(p.src, lower)) + [P.EOS_ID] for p in pairs]
    tgt = [tgt_vocab.encode(P.tokenize(p.tgt, lower)) for p in pairs]
    return src, tgt


@torch.no_grad()
def _val_loss(model: Seq2Seq, src: list, tgt: list, batch: int = 256) -> dict[str, float]:
    total, n = 0.0, 0
    for i in range(0, len(src), batch):
        b = P.make_batch(src[i : i + batch], tgt[i : i + batch])
        logits = model(b.src, b.src_len, b.tgt_in)
        k = int((b.tgt_out != P.PAD_ID).sum())
        total += float(seq_loss(logits, b.tgt_out)) * k
        n += k
    return {"val_loss": total / max(n, 1)}


def _file_sha(path: str) -> str | None:
    p = Path(path)
    return hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else None


def train_translate(
    pairs: str | Path | None,
    out: str | Path,
    *,
    src_lang: str = "en",
    tgt_lang: str = "fr",
    columns: str = "en,fr",
    max_len: int | None = 10,
    lower: bool = True,
    cell: str = "gru",
    embed: int = 64,
    hidden: int = 128,
    layers: int = 1,
    dropout: float = 0.2,
    attention: bool = True,
    min_freq: int = 1,
    batch: int = 64,
    lr: float = 3e-3,
    steps: int | None = None,
    time_budget: float | None = None,
    tf_start: float = 1.0,
    tf_end: float = 0.7,
    smoothing: float = 0.1,
    seed: int = 0,
    val_frac: float = 0.05,
    test_frac: float = 0.1,
    eval_every: int = 200,
    eval_every_s: float | None = None,
    resume: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Train a translator on ``pairs`` (a pair file, or None for the built-in numbers) and
    write the run directory ``out`` (weights, config, ``split.json``, logs)."""
    from rnnlab.io import atomic_write_json
    from rnnlab.train.checkpoint import save_run
    from rnnlab.train.loop import TrainConfig, fit
    from rnnlab.train.util import set_seed

    if not 0 <= tf_end <= 1 or not 0 <= tf_start <= 1:
        raise InputError("--tf-start and --tf-end are probabilities in [0, 1]")
    if max_len is not None and max_len < 1:
        raise InputError(f"--max-len must be >= 1 (or 0 for no limit), got {max_len}")
    if batch < 1 or hidden < 1 or embed < 1:
        raise InputError("--batch, --hidden and --embed must be positive")
    warmup = min(100, steps // 10 + 1) if steps else 100
    cfg = TrainConfig(steps=steps, time_budget=time_budget, lr=lr, warmup=warmup)
    all_pairs, source = load_pairs(pairs, src_lang, tgt_lang, columns)
    kept = P.filter_pairs(all_pairs, max_len or None, lower)
    if not kept:
        raise InputError(f"no pair has at most {max_len} words: raise --max-len")
    train, val, test = P.split_pairs(kept, seed, val_frac, test_frac)
    set_seed(seed)
    src_vocab = P.Vocab.build([P.tokenize(p.src, lower) for p in train], min_freq)
    tgt_vocab = P.Vocab.build([P.tokenize(p.tgt, lower) for p in train], min_freq)
    config = dict(
        task=TASK,
        pairs=source,
        pairs_sha256=_file_sha(source),
        src_lang=src_lang,
        tgt_lang=tgt_lang,
        max_len=max_len or None,
        lower=lower,
        cell=cell,
        embed=embed,
        hidden=hidden,
        layers=layers,
        dropout=dropout,
        attention=attention,
        min_freq=min_freq,
        batch=batch,
        lr=lr,
        steps=steps,
        time_budget=time_budget,
        tf_start=tf_start,
        tf_end=tf_end,
        smoothing=smoothing,
        seed=seed,
        n_pairs=dict(
            total=len(all_pairs), kept=len(kept), train=len(train), val=len(val), test=len(test)
        ),
        src_vocab=src_vocab.to_list(),
        tgt_vocab=tgt_vocab.to_list(),
    )
    model = build_model(config, len(src_vocab), len(tgt_vocab))
    run_dir = Path(out)
    run_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_json(
        run_dir / "split.json",
        {k: [[p.src, p.tgt] for p in v] for k, v in (("val", val), ("test", test))},
    )
    tr_src, tr_tgt = _encode(train, src_vocab, tgt_vocab, lower)
    va_src, va_tgt = _encode(val, src_vocab, tgt_vocab, lower)
    data = PairBatchesWithStep(tr_src, tr_tgt, batch, seed)
    t0 = [time.monotonic()]

    def teacher_ratio() -> float:
        # the fraction of the budget used, as the loop's LR schedule computes it
        frac = 0.0
        if steps:
            frac = max(frac, data.steps / steps)
        if time_budget:
            frac = max(frac, (time.monotonic() - t0[0]) / time_budget)
        return tf_start + (tf_end - tf_start) * min(frac, 1.0)

    def step_fn(b: P.Batch) -> tuple[Tensor, int]:
        logits = model(b.src, b.src_len, b.tgt_in, teacher_ratio())
        return seq_loss(logits, b.tgt_out, smoothing), int((b.tgt_out != P.PAD_ID).sum())

    def save_fn(d: Path, metrics: dict) -> None:
        save_run(d, model.state_dict(), {**config, "metrics": metrics})

    cfg.eval_every = eval_every
    cfg.eval_every_s = eval_every_s
    summary = fit(
        model,
        cfg,
        run_dir,
        data=data,
        step_fn=step_fn,
        eval_fn=lambda: _val_loss(model, va_src, va_tgt),
        save_fn=save_fn,
        resume=resume,
        progress=progress,
    )
    return {
        "run_dir": str(run_dir),
        "steps": summary["steps"],
        "best_val_loss": summary["best"],
        "stop_reason": summary["stop_reason"],
        "elapsed": round(summary["elapsed"], 1),
        "n_pairs": config["n_pairs"],
    }


class PairBatchesWithStep(P.PairBatches):
    """``PairBatches`` counting the batches drawn (the teacher-forcing schedule's clock)."""

    def __init__(self, *a: Any, **kw: Any):
        super().__init__(*a, **kw)
        self.steps = 0

    def __next__(self) -> P.Batch:
        self.steps += 1
        return super().__next__()

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "steps": self.steps}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self.steps = int(state.get("steps", 0))


# ---- evaluation ----------------------------------------------------------------------------


def read_split(run_dir: str | Path, split: str = "test") -> list[P.Pair]:
    import json

    path = Path(run_dir) / "split.json"
    if not path.exists():
        raise CheckpointError(f"{path} is missing: the run's held-out split is unknown")
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))[split]
    except (json.JSONDecodeError, KeyError) as e:
        raise CheckpointError(f"{path} is corrupted ({e})") from None
    return [P.Pair(s, t) for s, t in rows]


def bleu_chrf(hyps: list[str], refs: list[list[str]]) -> dict[str, float]:
    """Corpus BLEU and chrF (sacrebleu, default 13a tokenisation), several references each."""
    import sacrebleu

    n = max(len(r) for r in refs)
    streams = [[r[k] if k < len(r) else None for r in refs] for k in range(n)]
    return {
        "bleu": round(sacrebleu.corpus_bleu(hyps, streams).score, 2),
        "chrf": round(sacrebleu.corpus_chrf(hyps, streams).score, 2),
    }


def evaluate_run(
    run_dir: str | Path,
    beams: tuple[int, ...] = (1, 5),
    alpha: float = 0.6,
    limit: int | None = None,
) -> dict[str, Any]:
    """BLEU/chrF on the run's held-out test split, greedy (beam 1) and with beam search.
    Each distinct test source is translated once and scored against all its translations."""
    from rnnlab.io import atomic_write_json

    tr = load_translator(run_dir)
    srcs, refs = P.references(read_split(run_dir, "test"))
    if limit:
        srcs, refs = srcs[:limit], refs[:limit]
    refs = [[P.normalize(r, tr.lower) for r in rs] for rs in refs]
    result: dict[str, Any] = {"n_sentences": len(srcs), "n_references": sum(map(len, refs))}
    examples = []
    for k in beams:
        t0 = time.monotonic()
        hyps = translate_batch(tr, srcs, beam=k, alpha=alpha)
        name = "greedy" if k == 1 else f"beam{k}"
        result[name] = {**bleu_chrf(hyps, refs), "seconds": round(time.monotonic() - t0, 1)}
        if not examples:
            examples = [{"src": s, "ref": r[0]} for s, r in zip(srcs[:5], refs)]
        for ex, h in zip(examples, hyps):
            ex[name] = h
    result["examples"] = examples
    atomic_write_json(Path(run_dir) / "eval.json", result)
    return result


# ---- plots ---------------------------------------------------------------------------------


def attention_png(t: Translation, title: str = "") -> bytes:
    """An attention heatmap (rows: output words, columns: source words) as PNG bytes."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if not t.attention:
        raise InputError(
            "this model has no attention (trained with --no-attention): nothing to plot"
        )
    rows, cols = t.tgt_tokens, t.src_tokens
    fig, ax = plt.subplots(figsize=(1.0 + 0.55 * len(cols), 1.0 + 0.45 * len(rows)))
    ax.imshow(t.attention, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    ax.set_xticks(range(len(cols)), cols, rotation=45, ha="right")
    ax.set_yticks(range(len(rows)), rows)
    ax.set_xlabel("source (encoder reads)")
    ax.set_ylabel("output (decoder writes)")
    ax.set_title(title or t.text, fontsize=10)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


# ---- CLI -----------------------------------------------------------------------------------


@app.command("train")
def train_cmd(
    pairs: str = typer.Option(
        None,
        "--pairs",
        help="Pair file 'source<TAB>target[<TAB>attribution]' (default: built-in numbers en→fr).",
    ),
    src_lang: str = typer.Option("en", "--src-lang", help="Language to translate from."),
    tgt_lang: str = typer.Option("fr", "--tgt-lang", help="Language to translate into."),
    columns: str = typer.Option("en,fr", "--columns", help="Languages of the file's two columns."),
    max_len: int = typer.Option(10, "--max-len", help="Keep pairs of at most N words (0 = all)."),
    lower: bool = typer.Option(True, "--lower/--keep-case", help="Lower-case the text."),
    cell: str = typer.Option("gru", "--cell", help="gru or lstm (encoder and decoder)."),
    embed: int = typer.Option(64, "--embed", help="Embedding size."),
    hidden: int = typer.Option(128, "--hidden", help="Hidden size (per encoder direction)."),
    layers: int = typer.Option(1, "--layers", help="Encoder layers."),
    dropout: float = typer.Option(0.2, "--dropout", help="Dropout."),
    attention: bool = typer.Option(
        True, "--attention/--no-attention", help="Bahdanau attention or a fixed context."
    ),
    min_freq: int = typer.Option(1, "--min-freq", help="Words seen fewer times become <unk>."),
    batch: int = typer.Option(64, "--batch", help="Sentence pairs per batch."),
    lr: float = typer.Option(3e-3, "--lr", help="Peak learning rate."),
    steps: int = typer.Option(None, "--steps", help="Training steps."),
    time_budget: str = typer.Option(None, "--time-budget", help="Training time, e.g. 10m."),
    tf_start: float = typer.Option(1.0, "--tf-start", help="Teacher forcing ratio at the start."),
    tf_end: float = typer.Option(
        0.7, "--tf-end", help="Teacher forcing ratio at the end (linear)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed (also fixes the val/test split)."),
    out: str = typer.Option("runs/translate", "--out", help="Run directory to write."),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out exactly."),
    threads: int = typer.Option(0, "--threads", help="CPU threads (0 = torch's default)."),
) -> None:
    """Train a translator (time or step budget) and write a run directory."""
    from rich.console import Console

    from rnnlab.train.util import parse_duration

    if threads:
        torch.set_num_threads(threads)
    budget = parse_duration(time_budget)
    if steps is None and budget is None:
        raise InputError("give a training budget: --steps N or --time-budget 5m")
    res = train_translate(
        pairs, out, src_lang=src_lang, tgt_lang=tgt_lang, columns=columns, max_len=max_len,
        lower=lower, cell=cell, embed=embed, hidden=hidden, layers=layers, dropout=dropout,
        attention=attention, min_freq=min_freq, batch=batch, lr=lr, steps=steps,
        time_budget=budget, tf_start=tf_start, tf_end=tf_end, seed=seed,
        eval_every_s=30.0 if budget and not steps else None, resume=resume,
    )  # fmt: skip
    n = res["n_pairs"]
    Console().print(
        f"[bold]{out}[/]: {res['steps']} steps in {res['elapsed']}s, best val loss "
        f"{res['best_val_loss']:.3f}; pairs train/val/test {n['train']}/{n['val']}/{n['test']} "
        f"(of {n['kept']} kept, {n['total']} read). Next: rnnlab translate eval {out}"
    )


@app.command("run")
def run_cmd(
    run: str = typer.Argument(..., help="Run directory of a translate model."),
    text: str = typer.Argument(..., help="Sentence to translate."),
    beam: int = typer.Option(5, "--beam", help="Beam size (1 = greedy)."),
    alpha: float = typer.Option(0.6, "--alpha", help="Length normalisation strength."),
    show_attention: bool = typer.Option(
        False, "--show-attention", help="Print the alignment table."
    ),
) -> None:
    """Translate one sentence."""
    from rich.console import Console
    from rich.table import Table

    tr = load_translator(run)
    t = translate(tr, text, beam=beam, alpha=alpha)
    con = Console()
    print(t.text)
    if not t.text:
        con.print("[yellow](the model produced an empty translation)[/]", highlight=False)
    if t.unknown:
        con.print(
            f"[yellow]unknown words (read as <unk>): {', '.join(t.unknown)}[/]", highlight=False
        )
    if show_attention:
        if not t.attention:
            raise InputError("this model was trained with --no-attention: no alignment to show")
        table = Table(title="attention (row: output word, columns: source words, %)")
        table.add_column("output")
        for s in t.src_tokens:
            table.add_column(s, justify="right")
        for word, row in zip(t.tgt_tokens, t.attention):
            best = max(range(len(row)), key=row.__getitem__)
            cells = [
                f"[bold]{100 * w:.0f}[/]" if j == best else f"{100 * w:.0f}"
                for j, w in enumerate(row)
            ]
            table.add_row(word, *cells)
        con.print(table)


@app.command("eval")
def eval_cmd(
    run: str = typer.Argument(..., help="Run directory of a translate model."),
    beam: int = typer.Option(5, "--beam", help="Beam size compared with greedy."),
    alpha: float = typer.Option(0.6, "--alpha", help="Length normalisation strength."),
    limit: int = typer.Option(None, "--limit", help="Score only the first N test sentences."),
) -> None:
    """BLEU and chrF on the run's held-out test split: greedy and beam search."""
    from rich.console import Console
    from rich.table import Table

    beams = (1,) if beam <= 1 else (1, beam)
    res = evaluate_run(run, beams, alpha, limit)
    table = Table(
        title=f"{run}: {res['n_sentences']} test sentences, {res['n_references']} references"
    )
    for c in ("decoding", "BLEU", "chrF", "seconds"):
        table.add_column(c)
    for k in beams:
        name = "greedy" if k == 1 else f"beam{k}"
        m = res[name]
        table.add_row(name, f"{m['bleu']:.2f}", f"{m['chrf']:.2f}", f"{m['seconds']}")
    con = Console()
    con.print(table)
    for ex in res["examples"]:
        con.print(
            f"  {ex['src']}  →  {ex.get('beam' + str(beam), ex['greedy'])}   (ref: {ex['ref']})",
            highlight=False,
        )


@app.command("plot")
def plot_cmd(
    run: str = typer.Argument(..., help="Run directory of a translate model."),
    text: str = typer.Argument(..., help="Sentence to translate."),
    beam: int = typer.Option(5, "--beam", help="Beam size (1 = greedy)."),
    out: str = typer.Option(None, "--out", help="PNG path (default RUN/attention.png)."),
) -> None:
    """Draw the attention of one translation as a heatmap PNG."""
    from rnnlab.io import atomic_write_bytes

    tr = load_translator(run)
    t = translate(tr, text, beam=beam)
    path = Path(out) if out else Path(run) / "attention.png"
    if path.suffix.lower() != ".png":
        raise InputError(f"--out must end in .png, got {path}")
    atomic_write_bytes(path, attention_png(t, f"{text} → {t.text}"))
    print(f"{t.text}\nwrote {path}")
