"""The RNN Game (``/game``): play against a language model's memory, on the server's models.

* **Beat the RNN**: a held-out sentence is revealed token by token. Before each token the player
  guesses it (typed, or one of 4 choices in easy mode) and so does the RNN (its top-1, hidden
  until the guess is committed). Both are scored in correct guesses and surprisal in bits
  (see ``player_bits``); a round is 1 or 10 sentences.
* **Memory challenge**: a clue (a plural subject, a woman's name) and the word that depends on
  it ("are", "she") with more and more words in between; every served model is asked live.
* **Be the hidden state**: remember a stream of facts with 4 memory slots, like the fixed-size
  hidden vector, and answer a question at the end.

Game sessions live in server memory (``SessionStore``: idle TTL + a cap). The token to guess
never leaves the server before the guess for it is committed.

>>> client.post("/api/game/new", json={"model": "gru", "mode": "typed"}).json()["shown"]
... # doctest: +SKIP
['The']
"""

from __future__ import annotations

import math
import random
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch
import torch.nn.functional as F
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse
from pydantic import BaseModel, Field

from rnnlab.errors import InputError
from rnnlab.serve.analysis import START, encode
from rnnlab.serve.registry import LoadedModel, ModelRegistry

PAGE_PATH, PAGE_LABEL = "/game", "Game"
STATIC = Path(__file__).with_name("static")
TTL_S = 30 * 60  # a session idle for this long is dropped
CAP = 1000  # at most this many sessions; the least recently used goes first
N_CHOICES = 4
ROUND_SENTENCES = 10
WORD_LEN = (4, 14)  # playable held-out sentences: tokens (word models) ...
CHAR_LEN = (12, 40)  # ... or characters (char models)

router = APIRouter()


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


# ---- session store -------------------------------------------------------------------------


class SessionStore:
    """Sessions by id, dropped after ``ttl`` idle seconds; at most ``cap`` (LRU evicted).

    >>> store = SessionStore(ttl=60, cap=2)
    >>> sid = store.add({"x": 1}); store.get(sid)
    {'x': 1}
    """

    def __init__(
        self, ttl: float = TTL_S, cap: int = CAP, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl, self.cap, self.clock = ttl, cap, clock
        self._items: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def _purge(self, now: float) -> None:
        while self._items:
            sid, (seen, _) = next(iter(self._items.items()))
            if now - seen <= self.ttl:
                break
            del self._items[sid]

    def add(self, value: Any) -> str:
        sid = secrets.token_urlsafe(12)
        with self._lock:
            now = self.clock()
            self._purge(now)
            while len(self._items) >= self.cap:
                self._items.popitem(last=False)
            self._items[sid] = (now, value)
        return sid

    def get(self, sid: str) -> Any:
        """The session ``sid`` (refreshing its TTL); ``KeyError`` if unknown or expired."""
        with self._lock:
            now = self.clock()
            self._purge(now)
            _, value = self._items.pop(sid)
            self._items[sid] = (now, value)  # most recently used goes last
            return value

    def __len__(self) -> int:
        with self._lock:
            self._purge(self.clock())
            return len(self._items)


def store_of(request: Request) -> SessionStore:
    state = request.app.state
    if getattr(state, "game_store", None) is None:
        state.game_store = SessionStore()
    return state.game_store


def session_of(request: Request, sid: str, kind: str) -> Any:
    try:
        s = store_of(request).get(sid)
    except KeyError:
        raise HTTPException(
            404,
            f"unknown or expired game session {sid!r}: sessions end after "
            f"{TTL_S // 60} idle minutes; start a new game",
        ) from None
    if s.kind != kind:
        raise HTTPException(404, f"session {sid!r} is not a {kind} game")
    return s


# ---- models --------------------------------------------------------------------------------


def registry_of(request: Request) -> ModelRegistry:
    return request.app.state.registry


def causal_names(reg: ModelRegistry) -> list[str]:
    return [n for n in reg.names() if reg.get(n).causal]


def game_model(request: Request, name: str) -> LoadedModel:
    reg = registry_of(request)
    playable = causal_names(reg)
    if name not in playable:
        what = "is not a next-word model" if name in reg else "is unknown"
        raise HTTPException(
            404,
            f"model {name!r} {what}; models you can play against: {', '.join(playable) or 'none'}",
        )
    return reg.get(name)


@dataclass
class Classes:
    """Vocabulary entries grouped by case ("The" and "the" are one answer, for both sides)."""

    of: torch.Tensor  # (V,) class id of every vocabulary entry
    keys: list[str]  # casefolded text of each class
    names: list[str]  # how each class is shown (its first vocabulary spelling)
    special: set[int]  # classes nobody should guess (end of sentence, unknown, padding)
    index: dict[str, int]  # key -> class id


def classes_of(lm: LoadedModel) -> Classes:
    if "game.classes" in lm.cache:
        return lm.cache["game.classes"]
    tok = lm.tokenizer
    index: dict[str, int] = {}
    names: list[str] = []
    of = []
    for v in tok.vocab:
        key = v.casefold()
        if key not in index:
            index[key] = len(names)
            names.append(v)
        of.append(index[key])
    of_t = torch.tensor(of)
    special = {
        int(of_t[i])
        for i in (getattr(tok, a, None) for a in ("eos_id", "unk_id", "pad_id", "bos_id"))
        if isinstance(i, int) and 0 <= i < len(of)
    }
    special |= {c for c, n in enumerate(names) if not n.strip() and tok.level != "char"}
    cls = Classes(of_t, list(index), names, special, index)
    lm.cache["game.classes"] = cls
    return cls


@torch.no_grad()
def class_probs(lm: LoadedModel, ids: list[int]) -> torch.Tensor:
    """(T, K): P(next token's class | tokens ≤ t) for every position t."""
    cls = classes_of(lm)
    logits, _ = lm.model(torch.tensor([ids]))
    p = F.softmax(logits[0].double(), dim=-1)
    out = torch.zeros(p.shape[0], len(cls.names), dtype=torch.float64)
    return out.index_add_(1, cls.of, p)


def playable_sentences(lm: LoadedModel) -> list[str]:
    """Held-out sentences of a playable length with no unknown tokens (cached per model)."""
    if "game.sentences" in lm.cache:
        return lm.cache["game.sentences"]
    tok = lm.tokenizer
    unk = getattr(tok, "unk_id", None)
    lo, hi = CHAR_LEN if tok.level == "char" else WORD_LEN
    out: list[str] = []
    for line in lm.heldout_text().splitlines()[:20000]:
        line = line.strip()
        if not line:
            continue
        try:
            ids = tok.encode(line)
        except Exception:  # a tokenizer that cannot read the line: skip it
            continue
        if lo <= len(ids) <= hi and unk not in ids:
            out.append(line)
    lm.cache["game.sentences"] = out
    return out


# ---- Beat the RNN --------------------------------------------------------------------------


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
    (computed per step, so a session holds one distribution, not one per token)."""
    return class_probs(lm, s.ids[: s.lead + pos])[-1]


@dataclass
class Score:
    n: int = 0
    you_correct: int = 0
    rnn_correct: int = 0
    you_bits: float = 0.0
    rnn_bits: float = 0.0

    def add(self, you_ok: bool, rnn_ok: bool, you_b: float, rnn_b: float) -> None:
        self.n += 1
        self.you_correct += you_ok
        self.rnn_correct += rnn_ok
        self.you_bits += you_b
        self.rnn_bits += rnn_b

    def to_dict(self) -> dict[str, Any]:
        per = lambda b: round(b / self.n, 4) if self.n else None  # noqa: E731
        return {
            "n": self.n,
            "you": {
                "correct": self.you_correct,
                "bits": round(self.you_bits, 4),
                "bits_per_token": per(self.you_bits),
            },
            "rnn": {
                "correct": self.rnn_correct,
                "bits": round(self.rnn_bits, 4),
                "bits_per_token": per(self.rnn_bits),
            },
        }


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
    true token and 3 others drawn from the model's own distribution
    (flattened, so they are plausible without always being its favourites), in random order."""
    s, cls = g.sentence, classes_of(lm)
    g.probs = step_probs(lm, s, g.pos)
    g.choices = []
    if g.mode != "easy":
        return
    truth = s.truth[g.pos]
    w = g.probs.clone().clamp_min(1e-9).sqrt()
    for c in cls.special | {truth}:
        w[c] = 0.0
    rng = torch.Generator().manual_seed(hash((g.seed, g.index, g.pos)) % 2**31)
    n = min(N_CHOICES - 1, int((w > 0).sum()))
    others = torch.multinomial(w, n, replacement=False, generator=rng).tolist() if n else []
    picks = [truth, *others]
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
        min_confidence=round(1 / N_CHOICES, 4) if g.mode == "easy" else 0.01,
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
        "model": g.model,
        "label": g.label,
        "mode": g.mode,
    }


def judge(g: Game, lm: LoadedModel, guess: str, confidence: float) -> dict[str, Any]:
    """Score the committed guess for the current token; the reply is the first to name it."""
    s, cls = g.sentence, classes_of(lm)
    truth, p = s.truth[g.pos], g.probs
    if g.mode == "easy":
        names = [cls.names[c] for c in g.choices]
        if guess not in names:
            raise HTTPException(422, f"guess must be one of the choices {names}, got {guess!r}")
        if confidence < 1 / len(names) - 1e-9:
            raise HTTPException(
                422,
                f"confidence must be at least 1/{len(names)} in easy mode "
                f"(a uniform guess), got {confidence}",
            )
        mine = g.choices[names.index(guess)]
        pc = p[g.choices]
        rnn_pick = g.choices[int(pc.argmax())]
        rnn_p = float(p[truth] / pc.sum())
        n_other = len(names) - 1
    else:
        key = guess.casefold() if g.level == "char" else guess.strip().casefold()
        if not key or (g.level == "char" and len(guess) != 1):
            raise HTTPException(
                422, "type exactly one character" if g.level == "char" else "type a word"
            )
        if g.level != "char" and len(key.split()) != 1:
            raise HTTPException(422, f"type one word (no spaces), got {guess!r}")
        mine = cls.index.get(key, -1)
        q = p.clone()
        q[list(cls.special)] = -1.0
        rnn_pick = int(q.argmax())
        rnn_p = float(p[truth])
        n_other = len(cls.names) - 1
    you_ok, rnn_ok = mine == truth, rnn_pick == truth
    you_b, rnn_b = player_bits(you_ok, confidence, n_other), model_bits(rnn_p)
    g.total.add(you_ok, rnn_ok, you_b, rnn_b)
    g.per_sentence[-1].add(you_ok, rnn_ok, you_b, rnn_b)
    top_p, top_i = p.topk(min(5, p.shape[0]))
    return {
        "step": g.pos - s.first + 1,
        "truth": s.words[g.pos],
        "guess": guess,
        "confidence": confidence,
        "you": {"correct": you_ok, "bits": round(you_b, 4)},
        "rnn": {
            "guess": cls.names[rnn_pick],
            "correct": rnn_ok,
            "bits": round(rnn_b, 4),
            "p_truth": round(rnn_p, 6),
            "top": [[cls.names[int(i)], round(float(q), 5)] for q, i in zip(top_p, top_i)],
        },
        "choices": [cls.names[c] for c in g.choices] if g.mode == "easy" else None,
    }


class NewGame(BaseModel):
    model: str = Field(..., max_length=100)
    mode: Literal["easy", "typed"] = "easy"
    sentences: int = Field(
        1, ge=1, le=ROUND_SENTENCES, description=f"1, or {ROUND_SENTENCES} for a full round"
    )
    seed: int | None = Field(None, ge=0, le=2**31 - 1)


class Guess(BaseModel):
    session: str = Field(..., min_length=1, max_length=64)
    guess: str = Field(..., min_length=1, max_length=50)
    confidence: float = Field(
        0.5, ge=0.01, le=0.99, description="the probability you put on your guess"
    )


@router.get("/game", include_in_schema=False)
def game_page() -> FileResponse:
    return FileResponse(STATIC / "game.html", headers={"Cache-Control": "no-cache"})


@router.get("/api/game/models")
def game_models(request: Request) -> dict[str, Any]:
    """The next-word models one can play against (fill-in models cannot play)."""
    reg = registry_of(request)
    out = []
    for n in causal_names(reg):
        lm = reg.get(n)
        out.append(
            {
                "name": n,
                "label": lm.label,
                "level": lm.tokenizer.level,
                "vocab_size": len(lm.tokenizer),
                "sentences": len(playable_sentences(lm)),
            }
        )
    return {"models": out, "round": ROUND_SENTENCES, "choices": N_CHOICES}


@router.post("/api/game/new")
def new_game(req: NewGame, request: Request) -> dict[str, Any]:
    lm = game_model(request, req.model)
    pool = playable_sentences(lm)
    if not pool:
        raise HTTPException(
            422,
            f"model {req.model!r} has no held-out sentences to play with "
            "(serve it with the text it was validated on)",
        )
    seed = req.seed if req.seed is not None else secrets.randbelow(2**31)
    rng = random.Random(seed)
    texts = (
        rng.sample(pool, req.sentences)
        if len(pool) >= req.sentences
        else [rng.choice(pool) for _ in range(req.sentences)]
    )
    g = Game(req.model, lm.label, lm.tokenizer.level, req.mode, seed, texts)
    with g.lock:
        start_sentence(g, lm)
        g.id = store_of(request).add(g)
        return state(g, lm)


@router.get("/api/game/session/{sid}")
def game_state(sid: str, request: Request) -> dict[str, Any]:
    g = session_of(request, sid, "beat")
    with g.lock:
        return state(g, registry_of(request).get(g.model))


@router.post("/api/game/guess")
def guess(req: Guess, request: Request) -> dict[str, Any]:
    """Commit a guess: the reply reveals the token, both guesses and the model's top-5, and
    the state for the next guess (or the final summary)."""
    g = session_of(request, req.session, "beat")
    with g.lock:
        if g.finished:
            raise HTTPException(
                409, f"game {req.session!r} is finished ({summary(g)['text']}); start a new game"
            )
        lm = registry_of(request).get(g.model)
        result = judge(g, lm, req.guess, req.confidence)
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


# ---- memory challenge ----------------------------------------------------------------------

NOUNS = [
    ("dog", "dogs"),
    ("boy", "boys"),
    ("girl", "girls"),
    ("teacher", "teachers"),
    ("man", "men"),
    ("woman", "women"),
    ("cat", "cats"),
    ("student", "students"),
    ("doctor", "doctors"),
]
MODS = [
    "near the door",
    "with the red hat",
    "in the garden",
    "from the village",
    "next to my house",
    "on the old bench",
]
HE, SHE = ["Tom", "John"], ["Mary", "Anna"]
PLACES = ["park", "shop", "beach", "library", "station", "market", "museum", "zoo"]
WHENS = ["yesterday", "this morning", "on Sunday", "after school", "in the evening", "last night"]
LEVELS = 5
KINDS = {
    "agreement": {
        "title": "Subject–verb agreement",
        "explain": "Is the subject one thing or many? The verb must agree with it, "
        "however many words stand in between.",
        "options": ["is", "are"],
    },
    "pronoun": {
        "title": "Who was it?",
        "explain": "A name at the start decides the pronoun much later.",
        "options": ["he", "she"],
    },
}


def memory_item(
    kind: str, level: int, seed: int, flip: bool = False
) -> tuple[str, list[str], int, int]:
    """(prompt, options, index of the right option, distance in words from clue to blank).

    ``flip`` gives the same prompt with the other clue (plural ↔ singular, she ↔ he): a
    minimal pair, which tells memory from a mere preference for one of the two words."""
    rng = random.Random(f"{kind}:{level}:{seed}")
    options = KINDS[kind]["options"]
    if kind == "agreement":
        plural = (rng.random() < 0.5) ^ flip
        noun = rng.choice(NOUNS)[plural]
        mods = rng.sample(MODS, level)
        prompt = " ".join(["The", noun, *mods])
        return prompt, options, int(plural), sum(len(m.split()) for m in mods)
    female = (rng.random() < 0.5) ^ flip
    name = (SHE if female else HE)[rng.randrange(2)]
    if level == 0:
        words = [name, "said", "that"]
    else:
        words = [name, "went", "to", "the", rng.choice(PLACES), *rng.sample(WHENS, level - 1)]
        words.append("and")
    prompt = " ".join(words)
    return prompt, options, int(female), len(prompt.split()) - 1


@torch.no_grad()
def option_logprobs(lm: LoadedModel, prompts: list[str], options: list[str]) -> torch.Tensor:
    """(N, len(options)): log P(option | prompt) in nats, summed over the option's tokens
    (so char models work too); -inf where an option has a token the model does not know."""
    unk = getattr(lm.tokenizer, "unk_id", None)
    seqs, spans = [], []
    for prompt in prompts:
        _, base = encode(lm, prompt)
        for opt in options:
            _, ids = encode(lm, f"{prompt} {opt}")
            if ids[: len(base)] != base or len(ids) == len(base):
                raise InputError(f"cannot split {opt!r} off {prompt!r} with this tokenizer")
            seqs.append(ids)
            spans.append((len(base), len(ids)))
    L = max(len(s) for s in seqs)
    batch = torch.zeros(len(seqs), L, dtype=torch.long)
    for b, s in enumerate(seqs):
        batch[b, : len(s)] = torch.tensor(s)  # right padding: a causal model never reads it
    logits, _ = lm.model(batch)
    logp = F.log_softmax(logits.double(), dim=-1)
    out = torch.empty(len(seqs), dtype=torch.float64)
    for b, (a, e) in enumerate(spans):
        ids = seqs[b]
        if unk is not None and unk in ids[a:e]:
            out[b] = -math.inf
        else:
            out[b] = sum(float(logp[b, t - 1, ids[t]]) for t in range(a, e))
    return out.view(len(prompts), len(options))


def model_answers(lm: LoadedModel, prompts: list[str], options: list[str]) -> torch.Tensor:
    """(N, len(options)): the model's probabilities renormalised over the options."""
    lp = option_logprobs(lm, prompts, options)
    if torch.isinf(lp).all(-1).any():
        raise InputError(f"{lm.label} does not know the words {' / '.join(options)}")
    return F.softmax(lp, dim=-1)


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise HTTPException(422, f"kind must be one of {', '.join(KINDS)}, got {kind!r}")


class MemoryAnswer(BaseModel):
    kind: str = Field(..., max_length=30)
    level: int = Field(..., ge=0, lt=LEVELS)
    seed: int = Field(0, ge=0, le=2**31 - 1)
    choice: str = Field(..., max_length=20)


@router.get("/api/game/memory/levels")
def memory_levels(request: Request, kind: str = "agreement", seed: int = 0) -> dict[str, Any]:
    """The levels of one challenge (prompts and options; the answers stay on the server)."""
    check_kind(kind)
    if not 0 <= seed < 2**31:
        raise HTTPException(422, "seed must be 0 .. 2**31-1")
    levels = []
    for lv in range(LEVELS):
        prompt, options, _, dist = memory_item(kind, lv, seed)
        levels.append({"level": lv, "prompt": prompt, "options": options, "distance": dist})
    return {
        "kind": kind,
        **KINDS[kind],
        "seed": seed,
        "levels": levels,
        "models": [
            {"name": n, "label": registry_of(request).get(n).label}
            for n in causal_names(registry_of(request))
        ],
    }


@router.post("/api/game/memory/answer")
def memory_answer(req: MemoryAnswer, request: Request) -> dict[str, Any]:
    """The right answer and what every served next-word model would have picked; also its
    probability for the right word with the other clue (``other_clue``): if that is lower,
    the model still remembered the clue, even where its pick is wrong."""
    check_kind(req.kind)
    prompt, options, right, dist = memory_item(req.kind, req.level, req.seed)
    other = memory_item(req.kind, req.level, req.seed, flip=True)[0]
    if req.choice not in options:
        raise HTTPException(422, f"choice must be one of {options}, got {req.choice!r}")
    reg = registry_of(request)
    models = []
    for n in causal_names(reg):
        lm = reg.get(n)
        try:
            p, q = model_answers(lm, [prompt, other], options)
        except InputError as e:
            models.append({"name": n, "label": lm.label, "error": str(e)})
            continue
        pick = int(p.argmax())
        models.append(
            {
                "name": n,
                "label": lm.label,
                "pick": options[pick],
                "correct": pick == right,
                "probs": {o: round(float(v), 4) for o, v in zip(options, p)},
                "other_clue": round(float(q[right]), 4),
            }
        )
    return {
        "kind": req.kind,
        "level": req.level,
        "prompt": prompt,
        "other_prompt": other,
        "distance": dist,
        "answer": options[right],
        "correct": req.choice == options[right],
        "choice": req.choice,
        "models": models,
    }


@router.get("/api/game/memory/curve")
def memory_curve(request: Request, kind: str = "agreement", items: int = 12) -> dict[str, Any]:
    """Per model and level, over ``items`` random prompts per level (seeds 1000..):

    * ``accuracy``: the share where the right word gets the higher probability;
    * ``p_right``: the mean probability of the right word (of the two);
    * ``paired``: the share of minimal pairs (the same prompt with the other clue) where the
      clue moves the prediction the right way: P(right | clue) > P(right | other clue). A model
      that always says "is" scores 50% here whatever its accuracy: this is memory of the clue;
    * ``effect``: the mean of P(right | clue) − P(right | other clue), 0 = clue forgotten.
    """
    check_kind(kind)
    if not 1 <= items <= 50:
        raise HTTPException(422, f"items must be 1..50, got {items}")
    reg = registry_of(request)
    cases = [memory_item(kind, lv, 1000 + i) for lv in range(LEVELS) for i in range(items)]
    flips = [memory_item(kind, lv, 1000 + i, True) for lv in range(LEVELS) for i in range(items)]
    dist = [[c[3] for c in cases[lv * items : (lv + 1) * items]] for lv in range(LEVELS)]
    out = []
    for n in causal_names(reg):
        lm = reg.get(n)
        key = f"game.curve.{kind}.{items}"
        if key not in lm.cache:
            try:
                p = model_answers(lm, [c[0] for c in cases + flips], KINDS[kind]["options"])
            except InputError as e:
                lm.cache[key] = {"error": str(e)}
            else:
                N = len(cases)
                right = torch.tensor([c[2] for c in cases])
                p_right = p[torch.arange(N), right]
                p_other = p[torch.arange(N) + N, right]  # same word, the other clue
                ok = (p[:N].argmax(-1) == right).double()
                by_level = lambda t: [round(float(a), 4) for a in t.view(LEVELS, items).mean(1)]  # noqa: E731
                lm.cache[key] = {
                    "accuracy": by_level(ok),
                    "p_right": by_level(p_right),
                    "paired": by_level((p_right > p_other).double()),
                    "effect": by_level(p_right - p_other),
                }
        out.append({"name": n, "label": lm.label, **lm.cache[key]})
    return {
        "kind": kind,
        "items": items,
        "levels": list(range(LEVELS)),
        "distance": [round(sum(d) / len(d), 2) for d in dist],
        "models": out,
    }


# ---- be the hidden state -------------------------------------------------------------------

KEYS = "ABCDEF"


@dataclass
class HiddenGame:
    facts: list[tuple[str, int]]
    slots: int
    question: str
    kind: str = "hidden"
    pos: int = 0  # facts shown so far
    answered: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


class HiddenNew(BaseModel):
    slots: int = Field(4, ge=1, le=8)
    length: int = Field(10, ge=4, le=20)
    seed: int | None = Field(None, ge=0, le=2**31 - 1)


class HiddenStep(BaseModel):
    session: str = Field(..., min_length=1, max_length=64)


class HiddenAnswer(HiddenStep):
    answer: int = Field(..., ge=0, le=9)


def hidden_facts(length: int, seed: int) -> tuple[list[tuple[str, int]], str]:
    """A stream of updates "C = 7" over 6 keys, and the key asked about at the end."""
    rng = random.Random(seed)
    facts = [(rng.choice(KEYS), rng.randrange(10)) for _ in range(length)]
    return facts, rng.choice(sorted({k for k, _ in facts}))


@router.post("/api/game/hidden/new")
def hidden_new(req: HiddenNew, request: Request) -> dict[str, Any]:
    seed = req.seed if req.seed is not None else secrets.randbelow(2**31)
    facts, q = hidden_facts(req.length, seed)
    h = HiddenGame(facts, req.slots, q)
    sid = store_of(request).add(h)
    return {"session": sid, "slots": req.slots, "length": req.length, "keys": list(KEYS)}


@router.post("/api/game/hidden/next")
def hidden_next(req: HiddenStep, request: Request) -> dict[str, Any]:
    """The next fact, one at a time; after the last one, the question."""
    h = session_of(request, req.session, "hidden")
    with h.lock:
        if h.answered:
            raise HTTPException(409, "this game is finished; start a new one")
        if h.pos < len(h.facts):
            k, v = h.facts[h.pos]
            h.pos += 1
            return {"step": h.pos, "length": len(h.facts), "fact": {"key": k, "value": v}}
        return {
            "step": h.pos,
            "length": len(h.facts),
            "question": f"What is the last value given to {h.question}?",
            "key": h.question,
        }


@router.post("/api/game/hidden/answer")
def hidden_answer(req: HiddenAnswer, request: Request) -> dict[str, Any]:
    h = session_of(request, req.session, "hidden")
    with h.lock:
        if h.answered:
            raise HTTPException(409, "this game is finished; start a new one")
        if h.pos < len(h.facts):
            raise HTTPException(409, f"answer after the last fact ({len(h.facts) - h.pos} to go)")
        h.answered = True
        truth = [v for k, v in h.facts if k == h.question][-1]
        last = max(i for i, (k, _) in enumerate(h.facts) if k == h.question)
        # how many different keys came after it: more than the slots means it had to survive
        # a full memory
        later = len({k for k, _ in h.facts[last + 1 :]} - {h.question})
        return {
            "correct": req.answer == truth,
            "answer": truth,
            "key": h.question,
            "facts": [{"key": k, "value": v} for k, v in h.facts],
            "distance": len(h.facts) - 1 - last,
            "keys_after": later,
            "slots": h.slots,
        }
