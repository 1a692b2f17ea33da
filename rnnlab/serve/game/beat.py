"""Beat the RNN: a held-out sentence is revealed token by token. Before each token the player
guesses it (typed, or one of 4 choices in easy mode) and so does the RNN (its top-1, hidden
until the guess is committed). Both are scored by one rule (``player_bits``): a guess and how
sure of it (1% .. 99%); the RNN's "how sure" is its own real probability for its guess (not
renormalised over the choices). Its plain surprisal −log2 p(truth) is kept beside, for
reference (``own``). A round is 1 or 10 sentences.

>>> g = new_game(registry, "gru", "typed", 1, seed=3)                 # doctest: +SKIP
>>> reply = guess(registry, g, "cat", 0.5); reply["result"]["truth"]  # doctest: +SKIP
"""

from __future__ import annotations

import math
import random
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

import torch

from rnnlab.errors import InputError
from rnnlab.serve.analysis import START, encode
from rnnlab.serve.game.players import (
    causal_names,
    class_probs,
    classes_of,
    playable_sentences,
    player,
)
from rnnlab.serve.game.store import Conflict
from rnnlab.serve.registry import LoadedModel, ModelRegistry

N_CHOICES = 4
ROUND_SENTENCES = 10
CONFIDENCE = (0.01, 0.99)  # how sure either player may be: from "no idea" to "sure"
DISTRACTOR_POOL = 12  # easy mode: wrong choices come from the model's top-12 next words
SHANNON_BPC = (0.6, 1.3)  # Shannon (1951): his bounds for printed English, bits per character


# ---- scoring -------------------------------------------------------------------------------


def player_bits(correct: bool, confidence: float, n_other: int) -> float:
    """The player's surprisal in bits for one guess, scored like a forecast.

    The player puts probability ``confidence`` on their guess and spreads the rest evenly over
    the ``n_other`` other possible answers (easy mode: the 3 other choices; typed: every other
    entry of the model's vocabulary), so a hit costs −log2 c and a miss −log2((1−c)/n_other).

    >>> player_bits(True, 0.5, 3), round(player_bits(False, 0.5, 3), 4)
    (1.0, 2.585)
    """
    p = confidence if correct else (1.0 - confidence) / max(n_other, 1)
    return -math.log2(p)


def model_bits(p: float) -> float:
    """The model's surprisal −log2 p of the true token (p floored at 1e-12)."""
    return -math.log2(max(p, 1e-12))


def sure(p: float) -> float:
    """A probability as a confidence either player may state: clipped to ``CONFIDENCE``.

    >>> sure(0.997), sure(0.3), sure(1e-4)
    (0.99, 0.3, 0.01)
    """
    lo, hi = CONFIDENCE
    return min(hi, max(lo, p))


@dataclass
class Score:
    n: int = 0
    chars: int = 0  # characters guessed (a word counts its space): the bits/char yardstick
    you_correct: int = 0
    rnn_correct: int = 0
    you_bits: float = 0.0
    rnn_bits: float = 0.0
    rnn_own: float = 0.0  # the RNN's plain surprisal −log2 p(truth), for reference

    def add(self, you_ok: bool, rnn_ok: bool, you_b: float, rnn_b: float, own: float = 0.0,
            chars: int = 1) -> None:  # fmt: skip
        self.n += 1
        self.chars += chars
        self.you_correct += you_ok
        self.rnn_correct += rnn_ok
        self.you_bits += you_b
        self.rnn_bits += rnn_b
        self.rnn_own += own

    def side(self, correct: int, bits: float) -> dict[str, Any]:
        return {
            "correct": correct,
            "bits": round(bits, 4),
            "bits_per_token": round(bits / self.n, 4) if self.n else None,
            "bits_per_char": round(bits / self.chars, 4) if self.chars else None,
        }

    def to_dict(self) -> dict[str, Any]:
        rnn = self.side(self.rnn_correct, self.rnn_bits)
        own = self.side(0, self.rnn_own)
        rnn["own_bits_per_token"] = own["bits_per_token"]
        rnn["own_bits_per_char"] = own["bits_per_char"]
        return {
            "n": self.n,
            "chars": self.chars,
            "you": self.side(self.you_correct, self.you_bits),
            "rnn": rnn,
        }


# ---- the game's state ----------------------------------------------------------------------


@dataclass
class Sentence:
    text: str
    words: list[str]  # tokens as read (the start token excluded)
    truth: list[int]  # class of each token
    ids: list[int]  # token ids, the start token included
    lead: int  # 1 if ids starts with the start token, else 0
    first: int = 1  # tokens shown for free before the first guess


def prepare(lm: LoadedModel, text: str) -> Sentence:
    words, ids = encode(lm, text)
    cls = classes_of(lm)
    lead = 1 if words and words[0] == START else 0  # the start token: never shown or guessed
    return Sentence(text, words[lead:], [int(cls.of[i]) for i in ids[lead:]], ids, lead)


def step_probs(lm: LoadedModel, s: Sentence, pos: int) -> torch.Tensor:
    """(K,): the model's class distribution for token ``pos``, from the tokens before it only
    (computed per step, so a session holds one distribution, not one per token; cloned, since
    a row of the (T, K) result would keep all T rows alive in the session)."""
    return class_probs(lm, s.ids[: s.lead + pos])[-1].clone()


@dataclass
class Game:
    model: str
    label: str
    level: str  # "word" | "char"
    mode: str  # "easy" | "typed"
    seed: int
    texts: list[str]
    kind: str = "beat"
    id: str = ""
    index: int = 0  # current sentence
    pos: int = 0  # index in sentence.words of the token to guess now
    sentence: Sentence | None = None
    choices: list[int] = field(default_factory=list)
    probs: torch.Tensor | None = None  # the model's distribution for the token to guess now
    total: Score = field(default_factory=Score)
    per_sentence: list[Score] = field(default_factory=list)
    finished: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def unit(self) -> str:
        return "char" if self.level == "char" else "word"


def start_sentence(g: Game, lm: LoadedModel) -> None:
    g.sentence = prepare(lm, g.texts[g.index])
    g.pos = g.sentence.first
    g.per_sentence.append(Score())
    begin_step(g, lm)


def begin_step(g: Game, lm: LoadedModel) -> None:
    """The model's distribution for the token to guess, and in easy mode the choices: the
    true token and 3 others drawn, weighted by the model's probability, from its own
    ``DISTRACTOR_POOL`` likeliest next words other than the answer (so every wrong choice is
    one the model itself finds plausible here), in random order."""
    s, cls = g.sentence, classes_of(lm)
    g.probs = step_probs(lm, s, g.pos)
    g.choices = []
    if g.mode != "easy":
        return
    truth = s.truth[g.pos]
    w = g.probs.clone()
    w[list(cls.special | {truth})] = 0.0
    pool = w.topk(min(DISTRACTOR_POOL, int((w > 0).sum()))).indices
    rng = torch.Generator().manual_seed(hash((g.seed, g.index, g.pos)) % 2**31)
    n = min(N_CHOICES - 1, len(pool))
    pick = torch.multinomial(w[pool].clamp_min(1e-12), n, replacement=False, generator=rng)
    picks = [truth, *pool[pick].tolist()]
    random.Random(f"{g.seed}:{g.index}:{g.pos}").shuffle(picks)
    g.choices = picks


def state(g: Game, lm: LoadedModel) -> dict[str, Any]:
    """What the browser may know before the next guess: the tokens so far, never the next."""
    cls = classes_of(lm)
    out: dict[str, Any] = {
        "session": g.id,
        "model": g.model,
        "label": g.label,
        "level": g.level,
        "unit": g.unit,
        "mode": g.mode,
        "n_sentences": len(g.texts),
        "sentence": g.index + 1,
        "finished": g.finished,
        "scores": g.total.to_dict(),
        "sentence_scores": g.per_sentence[-1].to_dict() if g.per_sentence else None,
    }
    if g.finished:
        out["summary"] = summary(g)
        return out
    s = g.sentence
    out.update(
        step=g.pos - s.first + 1,
        shown=s.words[: g.pos],
        choices=[cls.names[c] for c in g.choices] if g.mode == "easy" else None,
        min_confidence=CONFIDENCE[0],
    )
    return out


def summary(g: Game) -> dict[str, Any]:
    t = g.total.to_dict()
    you, rnn = t["you"]["bits_per_token"], t["rnn"]["bits_per_token"]
    text = f"you: {you:.2f} bits/{g.unit}, RNN: {rnn:.2f} bits/{g.unit}" if t["n"] else "no guesses"
    return {
        **t,
        "unit": g.unit,
        "text": text,
        "sentences": [s.to_dict() for s in g.per_sentence],
        "texts": g.texts[: len(g.per_sentence)],
        "shannon_bits_per_char": list(SHANNON_BPC),
        "model": g.model,
        "label": g.label,
        "mode": g.mode,
    }


# ---- a guess -------------------------------------------------------------------------------


def judge(g: Game, lm: LoadedModel, guess: str, confidence: float) -> dict[str, Any]:
    """Score the committed guess for the current token; the reply is the first to name it."""
    s, cls = g.sentence, classes_of(lm)
    truth, p = s.truth[g.pos], g.probs
    if g.mode == "easy":
        names = [cls.names[c] for c in g.choices]
        if guess not in names:
            raise InputError(f"guess must be one of the choices {names}, got {guess!r}")
        mine = g.choices[names.index(guess)]
        rnn_pick = g.choices[int(p[g.choices].argmax())]
        n_other = len(names) - 1
    else:
        key = guess.casefold() if g.level == "char" else guess.strip().casefold()
        if not key or (g.level == "char" and len(guess) != 1):
            raise InputError("type exactly one character" if g.level == "char" else "type a word")
        if g.level != "char" and len(key.split()) != 1:
            raise InputError(f"type one word (no spaces), got {guess!r}")
        mine = cls.index.get(key, -1)
        q = p.clone()
        q[list(cls.special)] = -1.0
        rnn_pick = int(q.argmax())
        n_other = len(cls.names) - 1
    # one rule for both: the RNN states its own real probability for its pick as how sure it
    # is (clipped to the range a person may choose), and pays what a person would
    rnn_conf, p_truth = sure(float(p[rnn_pick])), float(p[truth])
    you_ok, rnn_ok = mine == truth, rnn_pick == truth
    you_b = player_bits(you_ok, confidence, n_other)
    rnn_b, own = player_bits(rnn_ok, rnn_conf, n_other), model_bits(p_truth)
    chars = len(s.words[g.pos]) + (0 if g.level == "char" else 1)  # a word and its space
    g.total.add(you_ok, rnn_ok, you_b, rnn_b, own, chars)
    g.per_sentence[-1].add(you_ok, rnn_ok, you_b, rnn_b, own, chars)
    top_p, top_i = p.topk(min(5, p.shape[0]))
    return {
        "step": g.pos - s.first + 1,
        "truth": s.words[g.pos],
        "guess": guess,
        "confidence": confidence,
        # a typed word outside the model's vocabulary can never be right: say so
        "you": {"correct": you_ok, "bits": round(you_b, 4), "unk": mine < 0},
        "rnn": {
            "guess": cls.names[rnn_pick],
            "correct": rnn_ok,
            "bits": round(rnn_b, 4),
            "confidence": round(rnn_conf, 6),
            "p_truth": round(p_truth, 6),
            "own_bits": round(own, 4),
            "top": [[cls.names[int(i)], round(float(q), 5)] for q, i in zip(top_p, top_i)],
        },
        "choices": [cls.names[c] for c in g.choices] if g.mode == "easy" else None,
    }


# ---- the moves the router offers -----------------------------------------------------------


def roster(reg: ModelRegistry) -> dict[str, Any]:
    """The next-word models one can play against, with their playable sentence counts."""
    out = []
    for n in causal_names(reg):
        lm = reg.get(n)
        out.append({**lm.listing(), "sentences": len(playable_sentences(lm))})
    return {"models": out, "round": ROUND_SENTENCES, "choices": N_CHOICES}


def new_game(reg: ModelRegistry, model: str, mode: str, sentences: int, seed: int | None) -> Game:
    """A game of ``sentences`` held-out sentences against ``model``, at its first guess."""
    lm = player(reg, model)
    pool = playable_sentences(lm)
    if not pool:
        raise InputError(
            f"model {model!r} has no held-out sentences to play with "
            "(serve it with the text it was validated on)"
        )
    seed = seed if seed is not None else secrets.randbelow(2**31)
    rng = random.Random(seed)
    texts = (
        rng.sample(pool, sentences)
        if len(pool) >= sentences
        else [rng.choice(pool) for _ in range(sentences)]
    )
    g = Game(model, lm.label, lm.tokenizer.level, mode, seed, texts)
    start_sentence(g, lm)
    return g


def guess(reg: ModelRegistry, g: Game, text: str, confidence: float) -> dict[str, Any]:
    """Commit a guess: the reply reveals the token, both guesses and the model's top-5, and
    the state for the next guess (or the final summary). Call it holding ``g.lock``."""
    if g.finished:
        raise Conflict(f"game {g.id!r} is finished ({summary(g)['text']}); start a new game")
    lm = reg.get(g.model)
    result = judge(g, lm, text, confidence)
    g.pos += 1
    done = g.pos >= len(g.sentence.words)
    reply: dict[str, Any] = {"result": result, "sentence_done": done}
    if done:
        reply["sentence_text"] = g.sentence.text
        reply["sentence_scores"] = g.per_sentence[-1].to_dict()
        g.index += 1
        if g.index >= len(g.texts):
            g.finished = True
        else:
            start_sentence(g, lm)
    else:
        begin_step(g, lm)
    reply["state"] = state(g, lm)
    return reply
