"""Memory challenge: a clue (a plural subject, a woman's name) and the word that depends on it
("are", "she") with more and more words in between; every served next-word model is asked live.

>>> memory_item("agreement", 2, seed=7)[0]      # doctest: +SKIP
'The dogs near the door in the garden'
"""

from __future__ import annotations

import math
import random
from typing import Any

import torch
import torch.nn.functional as F

from rnnlab.errors import InputError
from rnnlab.serve.analysis import encode, unk_flags
from rnnlab.serve.game.players import causal_names
from rnnlab.serve.registry import LoadedModel, ModelRegistry

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
CURVE_ITEMS = 40  # sentences per level of the curve: enough for a standard error of <= 8 points
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
    unk = lm.tokenizer.unk_id
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
    # score only the positions that predict an option's tokens: a log-softmax over all (B, L, V)
    # in float64 took ~80% of a curve's time (seconds on a loaded machine)
    rows, pos, tok = [], [], []
    for b, (a, e) in enumerate(spans):
        rows += [b] * (e - a)
        pos += range(a - 1, e - 1)
        tok += seqs[b][a:e]
    rows_t, tok_t = torch.tensor(rows), torch.tensor(tok)
    logp = F.log_softmax(logits[rows_t, torch.tensor(pos)].double(), dim=-1)
    picked = logp.gather(1, tok_t[:, None])[:, 0]
    out = torch.zeros(len(seqs), dtype=torch.float64).index_add_(0, rows_t, picked)
    if unk is not None:
        has_unk = [unk in seqs[b][a:e] for b, (a, e) in enumerate(spans)]
        out[torch.tensor(has_unk)] = -math.inf
    return out.view(len(prompts), len(options))


def model_answers(lm: LoadedModel, prompts: list[str], options: list[str]) -> torch.Tensor:
    """(N, len(options)): the model's probabilities renormalised over the options."""
    lp = option_logprobs(lm, prompts, options)
    if torch.isinf(lp).all(-1).any():
        raise InputError(f"{lm.label} does not know the words {' / '.join(options)}")
    return F.softmax(lp, dim=-1)


def unknown_words(lm: LoadedModel, prompt: str) -> list[str]:
    """The words of ``prompt`` that ``lm`` reads as ``<unk>`` (its answer ignores them)."""
    words, ids = encode(lm, prompt)
    return [w for w, u in zip(words, unk_flags(ids, lm.tokenizer.unk_id)) if u]


def check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise InputError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")


def levels(reg: ModelRegistry, kind: str, seed: int) -> dict[str, Any]:
    """The levels of one challenge (prompts and options; the answers stay on the server)."""
    check_kind(kind)
    if not 0 <= seed < 2**31:
        raise InputError("seed must be 0 .. 2**31-1")
    out = []
    for lv in range(LEVELS):
        prompt, options, _, dist = memory_item(kind, lv, seed)
        out.append({"level": lv, "prompt": prompt, "options": options, "distance": dist})
    return {
        "kind": kind,
        **KINDS[kind],
        "seed": seed,
        "levels": out,
        "models": [{"name": n, "label": reg.get(n).label} for n in causal_names(reg, ("words",))],
    }


def answer(reg: ModelRegistry, kind: str, level: int, seed: int, choice: str) -> dict[str, Any]:
    """The right answer and what every served next-word model would have picked; also its
    probability for the right word with the other clue (``other_clue``): if that is lower,
    the model still remembered the clue, even where its pick is wrong."""
    check_kind(kind)
    prompt, options, right, dist = memory_item(kind, level, seed)
    other = memory_item(kind, level, seed, flip=True)[0]
    if choice not in options:
        raise InputError(f"choice must be one of {options}, got {choice!r}")
    models = []
    for n in causal_names(reg, ("words",)):
        lm = reg.get(n)
        reads = {"level": lm.tokenizer.level, "unknown": unknown_words(lm, prompt)}
        try:
            p, q = model_answers(lm, [prompt, other], options)
        except InputError as e:
            models.append({"name": n, "label": lm.label, **reads, "error": str(e)})
            continue
        pick = int(p.argmax())
        # a model scores only when its answer depends on the clue: right here, and the right
        # word less likely after the other clue (a model that always says "is" never scores)
        depends = float(p[right]) > float(q[right])
        models.append(
            {
                "name": n,
                "label": lm.label,
                **reads,
                "pick": options[pick],
                "correct": pick == right and depends,
                "pick_correct": pick == right,
                "probs": {o: round(float(v), 4) for o, v in zip(options, p)},
                "other_clue": round(float(q[right]), 4),
            }
        )
    return {
        "kind": kind,
        "level": level,
        "prompt": prompt,
        "other_prompt": other,
        "distance": dist,
        "answer": options[right],
        "correct": choice == options[right],
        "choice": choice,
        "models": models,
    }


def _curve_of(lm: LoadedModel, kind: str, items: int) -> dict[str, Any]:
    cases = [memory_item(kind, lv, 1000 + i) for lv in range(LEVELS) for i in range(items)]
    flips = [memory_item(kind, lv, 1000 + i, True) for lv in range(LEVELS) for i in range(items)]
    try:
        p = model_answers(lm, [c[0] for c in cases + flips], KINDS[kind]["options"])
    except InputError as e:
        return {"error": str(e)}
    N = len(cases)
    right = torch.tensor([c[2] for c in cases])
    p_right = p[torch.arange(N), right]
    p_other = p[torch.arange(N) + N, right]  # same word, the other clue
    ok = (p[:N].argmax(-1) == right).double()
    by_level = lambda t: [round(float(a), 4) for a in t.view(LEVELS, items).mean(1)]  # noqa: E731
    # the standard error of each level's mean over its ``items`` sentences
    se = lambda t: [  # noqa: E731
        round(float(a), 4) for a in t.view(LEVELS, items).std(1, correction=0) / math.sqrt(items)
    ]
    paired, effect = (p_right > p_other).double(), p_right - p_other
    return {
        "accuracy": by_level(ok),
        "accuracy_se": se(ok),
        "p_right": by_level(p_right),
        "paired": by_level(paired),
        "paired_se": se(paired),
        "effect": by_level(effect),
        "effect_se": se(effect),
    }


def curve(reg: ModelRegistry, kind: str, items: int) -> dict[str, Any]:
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
        raise InputError(f"items must be 1..50, got {items}")
    out = []
    for n in causal_names(reg, ("words",)):
        lm = reg.get(n)
        key = f"game.curve.{kind}.{items}"
        if key not in lm.cache:
            lm.cache[key] = _curve_of(lm, kind, items)
        out.append({"name": n, "label": lm.label, **lm.cache[key]})
    dist = [[memory_item(kind, lv, 1000 + i)[3] for i in range(items)] for lv in range(LEVELS)]
    return {
        "kind": kind,
        "items": items,
        "levels": list(range(LEVELS)),
        "distance": [round(sum(d) / len(d), 2) for d in dist],
        "models": out,
    }
