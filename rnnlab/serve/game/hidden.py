"""Be the hidden state: remember a stream of facts ("C = 7") with a few memory slots, like the
fixed-size hidden vector, and answer a question about one key at the end.

>>> h = new_hidden(slots=4, length=6, seed=2)      # doctest: +SKIP
>>> next_fact(h)["fact"]                           # doctest: +SKIP
{'key': 'A', 'value': 3}
"""

from __future__ import annotations

import random
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from rnnlab.serve.game.store import Conflict

KEYS = "ABCDEF"
MIN_BACK = 4  # the asked fact was last set at least this many facts before the end, if any was


@dataclass
class HiddenGame:
    facts: list[tuple[str, int]]
    slots: int
    question: str
    kind: str = "hidden"
    pos: int = 0  # facts shown so far
    answered: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)


def hidden_facts(length: int, seed: int) -> tuple[list[tuple[str, int]], str]:
    """A stream of updates "C = 7" over 6 keys, and the key asked about at the end: one last
    set ``MIN_BACK`` or more facts before the end where there is one (so remembering only the
    latest facts is not enough), else the one set longest ago."""
    rng = random.Random(seed)
    facts = [(rng.choice(KEYS), rng.randrange(10)) for _ in range(length)]
    back = {k: length - 1 - i for i, (k, _) in enumerate(facts)}  # the last update wins
    far = sorted(k for k, d in back.items() if d >= MIN_BACK)
    return facts, rng.choice(far) if far else max(back, key=back.get)


def newest_answer(facts: list[tuple[str, int]], slots: int, key: str) -> int | None:
    """What a memory of ``slots`` slots that always stores the newest fact (over the same
    key's slot, else over the key stored longest ago) answers for ``key``: None if pushed out.

    >>> newest_answer([("A", 1), ("B", 2), ("C", 3), ("A", 4)], 2, "A"), newest_answer(
    ...     [("A", 1), ("B", 2), ("C", 3)], 2, "A")
    (4, None)
    """
    held: dict[str, int] = {}  # insertion order = the order written
    for k, v in facts:
        held.pop(k, None)
        held[k] = v
        if len(held) > slots:
            held.pop(next(iter(held)))
    return held.get(key)


def new_hidden(slots: int, length: int, seed: int | None) -> HiddenGame:
    seed = seed if seed is not None else secrets.randbelow(2**31)
    facts, q = hidden_facts(length, seed)
    return HiddenGame(facts, slots, q)


def next_fact(h: HiddenGame) -> dict[str, Any]:
    """The next fact, one at a time; after the last one, the question (hold ``h.lock``)."""
    if h.answered:
        raise Conflict("this game is finished; start a new one")
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


def answer(h: HiddenGame, value: int) -> dict[str, Any]:
    """Score the answer, once, after the last fact (hold ``h.lock``)."""
    if h.answered:
        raise Conflict("this game is finished; start a new one")
    if h.pos < len(h.facts):
        raise Conflict(f"answer after the last fact ({len(h.facts) - h.pos} to go)")
    h.answered = True
    truth = [v for k, v in h.facts if k == h.question][-1]
    last = max(i for i, (k, _) in enumerate(h.facts) if k == h.question)
    # how many different keys came after it: more than the slots means it had to survive
    # a full memory
    later = len({k for k, _ in h.facts[last + 1 :]} - {h.question})
    return {
        "correct": value == truth,
        "answer": truth,
        "key": h.question,
        "facts": [{"key": k, "value": v} for k, v in h.facts],
        "distance": len(h.facts) - 1 - last,
        "keys_after": later,
        "slots": h.slots,
        "newest": newest_answer(h.facts, h.slots, h.question),
    }
