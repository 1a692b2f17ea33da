"""The shipped demo models, declared once: what each is, what it learns from, how it is trained.

``rnnlab demo --build`` (``rnnlab.tasks.demo.build``) trains every recipe from the data in
``../shared/data`` with its fixed seed and step budget, compacts the weights and records what
came of it in ``models/manifest.json``; ``rnnlab demo`` serves them without training.
No torch here: the CLI reads it.

>>> [r.name for r in RECIPES if r.group == "words"]
['rnn', 'gru', 'lstm', 'deep', 'bigru']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Recipe:
    """One shipped model. ``kind``: the task that trains it (lm, fill, translate, speech);
    ``group``: where the pages show it (words, chars, recall, translate, speech); ``data``: a
    key of ``DATA``; ``settings``: the task's settings (its train function's keywords)."""

    name: str
    label: str
    kind: str
    group: str
    data: str
    settings: dict[str, Any] = field(default_factory=dict)


# what a recipe's data key means: the shared file (under ../shared/data) and a card line
DATA: dict[str, tuple[str, str]] = {
    "english": (
        "eng-fra/eng-fra-74k.txt",
        "real everyday English: the 47,597 distinct English sentences of 73,526 Tatoeba "
        "English-French pairs (CC-BY 2.0 FR), every 20th held out",
    ),
    "shakespeare": (
        "tinyshakespeare/input.txt",
        "Tiny Shakespeare (1.1M characters of the plays, public domain), last 10% held out",
    ),
    "recall": (
        "",
        "the recall task: lines that open with a key word and end with it, after 10-30 "
        "random filler words (generated with a fixed seed by rnnlab.tasks.demo.recall)",
    ),
    "eng-fra-74k": (
        "eng-fra/eng-fra-74k.txt",
        "73,526 Tatoeba English-French pairs (CC-BY 2.0 FR), pairs of at most 12 words; "
        "validation and test split by English sentence",
    ),
    "fsdd": (
        "fsdd",
        "Free Spoken Digit Dataset (3,000 recordings, 6 speakers, CC BY-SA 4.0): strings of "
        "1-7 digits made from its recordings; official split (recordings 0-4 of each "
        "speaker and digit are the test set)",
    ),
}

# what the models of a data set are known not to do well (the model card says it)
LIMITS: dict[str, str] = {
    "english": (
        "Its sentences are short: 1 to 9 words, 95% of them at most 6. On a longer sentence "
        "the model expects the sentence to have ended after about five words, so the words "
        "after that look very surprising to it."
    ),
}

# the five word models: one size, one corpus, one budget, so only the architecture differs.
# 128-d tied embeddings (the output layer reuses them) keep each under 1.5 MB; about four
# passes over the 290k training words.
# DropConnect on the recurrent weights and whole-word embedding dropout (AWD-LSTM): on this
# corpus of short sentences they cost a little held-out perplexity (LSTM 26.2 -> 27.5) but
# keep the models from being sure every sentence ends after five words (ordinary sentences of
# 5-8 words: 9.45 -> 7.83 bits/token, unigram 8.82; of 8-14 words: 14.45 -> 9.67, unigram 9.44)
WORD: dict[str, Any] = dict(
    level="word", min_count=2, embed=128, hidden=256, tie=True, dropout=0.2, weight_drop=0.4,
    embed_dropout=0.1, seq_len=32, batch=32, lr=3e-3, warmup=100, steps=1200, eval_every=300,
    seed=0, threads=1,
)  # fmt: skip
FILL: dict[str, Any] = dict(
    cell="gru", embed=128, hidden=128, layers=1, dropout=0.2, batch=32, lr=3e-3, warmup=100,
    steps=1200, seed=0,
)  # fmt: skip

# the recall pair (rnnlab.tasks.demo.recall): the same size and recipe, only the cell differs
RECALL: dict[str, Any] = dict(
    level="word", layers=1, embed=32, hidden=64, seq_len=64, batch=32, steps=3000, lr=3e-3,
    dropout=0.0, seed=0, threads=1,
)  # fmt: skip

RECIPES: list[Recipe] = [
    Recipe("rnn", "Vanilla RNN", "lm", "words", "english", {**WORD, "cell": "rnn", "layers": 1}),
    Recipe("gru", "GRU", "lm", "words", "english", {**WORD, "cell": "gru", "layers": 1}),
    Recipe("lstm", "LSTM", "lm", "words", "english", {**WORD, "cell": "lstm", "layers": 1}),
    Recipe(
        "deep",
        "Deep GRU (2 layers)",
        "lm",
        "words",
        "english",
        {**WORD, "cell": "gru", "layers": 2},
    ),  # fmt: skip
    Recipe("bigru", "Bidirectional GRU (fill-in)", "fill", "words", "english", FILL),
    Recipe(
        "shakespeare",
        "Shakespeare, character by character (LSTM 512)",
        "lm",
        "chars",
        "shakespeare",
        dict(
            level="char",
            cell="lstm",
            layers=1,
            hidden=512,
            embed=64,
            dropout=0.1,
            seq_len=100,
            batch=32,
            lr=2e-3,
            steps=6000,
            warmup=100,
            seed=0,
            threads=1,
            eval_every=500,
        ),  # fmt: skip
    ),
    Recipe(
        "recall-rnn",
        "Vanilla RNN (recall task)",
        "lm",
        "recall",
        "recall",
        {**RECALL, "cell": "rnn"},
    ),  # fmt: skip
    Recipe(
        "recall-lstm", "LSTM (recall task)", "lm", "recall", "recall", {**RECALL, "cell": "lstm"}
    ),  # fmt: skip
    Recipe(
        "translate",
        "English → French (GRU encoder-decoder, attention)",
        "translate",
        "translate",
        "eng-fra-74k",
        dict(
            cell="gru",
            embed=128,
            hidden=192,
            layers=1,
            dropout=0.2,
            attention=True,
            max_len=12,
            tokenizer="bpe",  # no word is unknown; names and numbers are copied through
            vocab_size=4000,
            batch=64,
            lr=3e-3,
            steps=6000,
            seed=0,
            threads=2,
        ),  # fmt: skip
    ),
    Recipe(
        "speech",
        "Spoken digits (conv + bidirectional GRU, CTC)",
        "speech",
        "speech",
        "fsdd",
        dict(task="connected", split_by="official", min_digits=1, steps=1500, seed=0),
    ),
]
BY_NAME = {r.name: r for r in RECIPES}
