"""The demo's models on ordinary text (issue 17): what each is, and how it reads sentences a
teacher would type.

    python benchmarks/demo_models.py              # the shipped demo models
    python benchmarks/demo_models.py --smoke      # two tiny word models trained here (~10 s)

Per model: size on disk, parameters, held-out metric and training time (from its model card,
``rnnlab.serve.cards``). For the word models, on the sentences of
``benchmarks/ordinary_sentences.txt`` (written for this benchmark, everyday topics, none of
them a line of the Tatoeba eng-fra-74k corpus: checked here on every run): the share of
tokens mapped to ``<unk>`` and the mean surprise in bits per token, beside an add-one smoothed
unigram model of the same training text over the model's vocabulary (``<unk>`` included) on
the same tokens. Then ``/api/trace`` p50 latency (the real app through ``TestClient``) for a
20-word sentence and a 70-word paragraph made of those sentences. Markdown to stdout.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from fastapi.testclient import TestClient

HERE = Path(__file__).resolve().parent
SENTENCES = HERE / "ordinary_sentences.txt"  # 8-14 words: longer than any training sentence
SHORT = HERE / "ordinary_short.txt"  # 5-8 words: the length of the training sentences
EN_FR = HERE.parent.parent / "shared" / "data" / "eng-fra" / "eng-fra-74k.txt"

TrainText = Callable[[str], str]  # model name -> the text it was trained on


# ---- the models: the one place to adapt when the demo registry changes -------------------------


def load_models(smoke: bool, workdir: Path):
    """``(registry, train_text)``: the demo models (or, with ``smoke``, two tiny word models
    trained now on the built-in corpus) and, per model name, its training text."""
    from rnnlab.data.builtin import corpus_text, sentences
    from rnnlab.serve.registry import ModelRegistry

    if not smoke:
        from rnnlab.serve.demo import demo_registry
        from rnnlab.tasks.demo.sources import demo_models

        train = corpus_text("train")
        return demo_registry(demo_models(no_train=True)), lambda _name: train

    from rnnlab.tasks.lm.train import train_lm

    text = "\n".join(sentences("train")[:3000]) + "\n"
    val = "\n".join(sentences("val")[:150]) + "\n"
    reg = ModelRegistry()
    for name, cell in (("rnn", "rnn"), ("gru", "gru")):
        train_lm(
            text,
            workdir / name,
            level="word",
            val=val,
            cell=cell,
            layers=1,
            hidden=32,
            embed=16,
            seq_len=16,
            batch=16,
            steps=60,
            lr=1e-2,
            dropout=0.0,
            progress=False,
        )
        reg.add_run(name, workdir / name, heldout=val, meta={"command": "--smoke (tiny)"})
    return reg, lambda _name: text


# ---- the sentences ---------------------------------------------------------------------------


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s.strip().lower())


def read_sentences(path: Path) -> list[str]:
    return [s.strip() for s in path.read_text(encoding="utf-8").splitlines() if s.strip()]


def surprise_table(words: list, lines: list[str], path: Path, corpus: Path, train_text) -> None:
    """Unknown share and mean surprise of the word models on one file of ordinary sentences,
    beside the unigram of the same training text."""
    overlap = corpus_overlap(lines, corpus)
    if overlap is None:
        check = f"{corpus} is absent: not checked against the corpus"
    elif overlap:
        check = f"WARNING, in the corpus: {overlap}"
    else:
        check = f"none is a line of {corpus.name}'s English side"
    n_words = [len(x.split()) for x in lines]
    print(
        f"\n{len(lines)} ordinary sentences of {min(n_words)}-{max(n_words)} words "
        f"({path.name}; {check})."
    )
    print(
        "Surprise: mean −log2 p over the same tokens (words and punctuation); the last two"
        " columns leave out the `<unk>` targets (how likely a model finds `<unk>` depends on"
        " how often its training text had one).\n"
    )
    print(
        "| model | tokens | unknown (<unk>) | surprise, bits/token | unigram, bits/token "
        "| surprise, known tokens | unigram, known tokens |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for lm in words:
        o = ordinary_text(lm, lines, train_text(lm.name))
        note = "" if lm.causal else " (fill-in: each word from both sides)"
        print(
            f"| {lm.label}{note} | {o['tokens']} | {100 * o['unk']:.1f}% | {o['bits']:.2f} "
            f"| {o['unigram']:.2f} | {o['bits_known']:.2f} | {o['unigram_known']:.2f} |"
        )


def corpus_overlap(lines: list[str], corpus: Path) -> list[str] | None:
    """The lines that are also an English line of ``corpus`` (None: the file is absent)."""
    if not corpus.is_file():
        return None
    with corpus.open(encoding="utf-8") as f:
        english = {_norm(row.split("\t", 1)[0]) for row in f}
    return [s for s in lines if _norm(s) in english]


def paragraph(lines: list[str], words: int) -> str:
    """The first ``words`` whitespace-separated words of the sentences, run together."""
    return " ".join(" ".join(lines).split()[:words])


# ---- surprise beside a unigram ----------------------------------------------------------------


def unigram_bits(tok, train_text: str) -> torch.Tensor:
    """−log2 p(token) under an add-one smoothed unigram of ``train_text`` over the vocabulary."""
    ids = torch.as_tensor(tok.encode(train_text), dtype=torch.long)
    counts = torch.bincount(ids, minlength=len(tok)).double() + 1.0
    return -(counts / counts.sum()).log2()


def ordinary_text(lm, lines: list[str], train_text: str) -> dict[str, float]:
    """Unknown share, mean model surprise and mean unigram surprise over the same tokens."""
    from rnnlab.serve.analysis import trace

    uni = unigram_bits(lm.tokenizer, train_text)
    unk = lm.tokenizer.unk_id
    n = n_unk = 0
    model_bits: list[float] = []
    uni_bits: list[float] = []
    known: list[bool] = []  # an <unk> target is easy to guess: also score the known ones alone
    for s in lines:
        tr = trace(lm, s, k=1)
        start = 1 if lm.causal else 0  # a next-word model's ⟨s⟩ step is nobody's word
        ids = tr["ids"][start:]
        n += len(ids)
        n_unk += sum(i == unk for i in ids)
        # step t scores the word after t (next-word model) or the word at t (fill-in)
        for step, i in zip(tr["steps"][:-1] if lm.causal else tr["steps"], ids):
            assert step["bits"] is not None
            model_bits.append(step["bits"])
            uni_bits.append(float(uni[i]))
            known.append(i != unk)

    def mean(xs: list[float], only_known: bool = False) -> float:
        kept = [x for x, k in zip(xs, known) if k or not only_known]
        return statistics.fmean(kept) if kept else float("nan")

    return {
        "tokens": n,
        "unk": n_unk / max(1, n),
        "bits": mean(model_bits),
        "unigram": mean(uni_bits),
        "bits_known": mean(model_bits, True),
        "unigram_known": mean(uni_bits, True),
    }


# ---- latency ---------------------------------------------------------------------------------


def p50_ms(client: TestClient, body: dict, reps: int) -> str:
    r = client.post("/api/trace", json=body)  # warm-up, and a check that it works
    if r.status_code != 200:
        return f"refused: {r.json().get('detail', r.status_code)}"
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        client.post("/api/trace", json=body).raise_for_status()
        ts.append((time.perf_counter() - t0) * 1e3)
    return f"{statistics.median(ts):.1f} ms"


# ---- the report --------------------------------------------------------------------------------


def _size(n: int | None) -> str:
    return "–" if n is None else f"{n / 1e6:.2f} MB"


def _secs(s: float | None) -> str:
    return "–" if s is None else f"{s:.0f} s"


def _metric(card: dict) -> str:
    rows = card["metric_rows"]
    return f"{rows[0]['label']} {rows[0]['value']:.3g}" if rows else "–"


def recall_pair(pair: list) -> None:
    """The gradient view's default pair: held-out recall accuracy, the key's share of the
    gradient by gap (median of 30 lines), and the verdict the page prints on its preset line."""
    if len(pair) != 2:
        return
    import statistics

    from rnnlab.data.synthetic import recall_lines
    from rnnlab.serve.gradients import default_word, gradient_verdict, gradients
    from rnnlab.tasks.demo.recall import VAL_LINES, key_gradient, recall_accuracy, recall_corpus

    val = recall_corpus(0)[1].splitlines()
    print(f"\nRecall pair: accuracy on the {VAL_LINES} held-out lines (chance 1 in 8) and "
          "‖∂L/∂h_key‖ / ‖∂L/∂h_target‖, median of 30 lines per gap (seed 99).\n")  # fmt: skip
    gaps = (10, 20, 30, 40)
    print("| model | recall accuracy | " + " | ".join(f"gap {g}" for g in gaps) + " |")
    print("|---|---:|" + "---:|" * len(gaps))
    for lm in pair:
        row = [f"{100 * recall_accuracy(lm.model, val):.1f}%"]
        for g in gaps:
            ls = recall_lines(30, 99, min_gap=g, max_gap=g)
            row.append(f"{statistics.median(key_gradient(lm.model, x) for x in ls):.2g}")
        print(f"| {lm.label} | " + " | ".join(row) + " |")
    line = recall_lines(1, 7, min_gap=30, max_gap=30)[0]
    a, b = (gradients(lm, line) for lm in pair)
    v = gradient_verdict(a, b, default_word(line, a["target_index"] - a["offset"]))
    print(f"\nThe page's default line ({len(line.split())} words): {v['text']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--smoke", action="store_true", help="two tiny word models trained here")
    ap.add_argument("--reps", type=int, default=30, help="requests per latency cell")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--corpus", type=Path, default=EN_FR, help="eng-fra-74k.txt to check against")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    from rnnlab.bench import machine
    from rnnlab.errors import InputError
    from rnnlab.serve.app import create_app
    from rnnlab.serve.cards import card

    lines = read_sentences(SENTENCES)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            reg, train_text = load_models(args.smoke, Path(tmp))
        except InputError as e:
            sys.exit(f"no demo models to measure: {e} (or run with --smoke)")
        reg.load_all()
        models = [reg.get(n) for n in reg.names()]

        print(f"{len(models)} models{' (--smoke: tiny, trained here)' if args.smoke else ''}\n")
        print("| model | group | parameters | size on disk | held-out metric | training time |")
        print("|---|---|---:|---:|---|---:|")
        for lm in models:
            c = card(lm)
            print(
                f"| {lm.label} | {c['group']} | {c['params']:,} | {_size(c['size_bytes'])} "
                f"| {_metric(c)} | {_secs(c['training_seconds'])} |"
            )

        words = [lm for lm in models if card(lm)["group"] == "words"]
        for path in (SHORT, SENTENCES):
            surprise_table(words, read_sentences(path), path, args.corpus, train_text)

        recall_pair([lm for lm in models if card(lm)["group"] == "recall"])

        short, para = paragraph(lines, 20), paragraph(lines, 70)
        client = TestClient(create_app(reg))
        print(
            f"\n`/api/trace` p50 over {args.reps} requests, {args.threads} thread(s); the texts are"
            f" the first 20 and 70 words of the sentences above.\n"
        )
        print("| model | 20-word sentence | 70-word paragraph |")
        print("|---|---:|---:|")
        for lm in models:
            cells = [
                p50_ms(client, {"model": lm.name, "text": t, "k": 5}, args.reps)
                for t in (short, para)
            ]
            print(f"| {lm.label} | {cells[0]} | {cells[1]} |")
    print(f"\n{machine()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")


if __name__ == "__main__":
    main()
