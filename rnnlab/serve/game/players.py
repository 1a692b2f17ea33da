"""The served next-word models as game players: who can play, their vocabulary grouped by
case ("The" and "the" are one answer, for both sides), their class probabilities, and the
held-out sentences of a playable length.

>>> lm = player(registry, "gru")          # doctest: +SKIP
>>> class_probs(lm, [0, 5, 9]).shape      # (T, classes)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from rnnlab.serve.game.store import NotFound
from rnnlab.serve.registry import LoadedModel, ModelRegistry

WORD_LEN = (4, 14)  # playable held-out sentences: tokens (word models) ...
CHAR_LEN = (12, 40)  # ... or characters (char models)


PLAYABLE_GROUPS = ("words", "chars")  # not the recall-task pair: its text is not a language


def causal_names(reg: ModelRegistry, groups: tuple[str, ...] = PLAYABLE_GROUPS) -> list[str]:
    """The models one can play against: next-word models (fill-in models cannot play) of
    ``groups`` (a model's ``meta["group"]``, "words" when it has none)."""
    return [
        n for n in reg.names()
        if reg.get(n).causal and reg.get(n).meta.get("group", "words") in groups
    ]  # fmt: skip


def player(reg: ModelRegistry, name: str) -> LoadedModel:
    """The model ``name`` if one can play against it, else ``NotFound`` listing those one can."""
    playable = causal_names(reg)
    if name not in playable:
        what = "is not a next-word model" if name in reg else "is unknown"
        raise NotFound(
            f"model {name!r} {what}; models you can play against: {', '.join(playable) or 'none'}"
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
    """The model's vocabulary classes (cached per model)."""
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
    special = {int(of_t[i]) for i in (tok.eos_id, tok.unk_id) if i is not None and 0 <= i < len(of)}
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
    unk = tok.unk_id
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
