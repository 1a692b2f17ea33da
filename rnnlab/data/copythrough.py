"""Copy-through for a subword translator: numbers and unseen names cross by placeholder.

A model rarely learns to copy a number it has seen a few times ("Tom is 25." came out as
"tom est 55."), and a name it has never seen is spelt into pieces it cannot translate. So
before the model reads a sentence, each number, and each capitalised word that is not a
whole piece of the subword vocabulary (a name the model never learnt), is replaced by a slot
``<copy0>``, ``<copy1>``…; the slots in the output get their text back. In training, a
span is replaced only where the target has it verbatim too: the model learns to carry a
slot across, and goes on translating "three" or "Mary" (→ "Marie") as words.

>>> src, fills = mask_source("Zoltan is 25.", known=lambda w: False)
>>> src, fills
('<copy0> is <copy1>.', {'<copy0>': 'Zoltan', '<copy1>': '25'})
>>> unmask("<copy0> a <copy1> ans.", fills)
'Zoltan a 25 ans.'
>>> mask_pair("Tom has 3 cats.", "Tom a trois chats.", known=lambda w: False)
('<copy0> has 3 cats.', '<copy0> a trois chats.')
"""

from __future__ import annotations

import re
from collections.abc import Callable

SLOTS = tuple(f"<copy{i}>" for i in range(4))  # at most this many spans per sentence
_SPAN = re.compile(r"\d+(?:[.,:]\d+)*|[^\W\d_]+")


def _spans(text: str, known: Callable[[str], bool]) -> list[str]:
    """Numbers and unknown capitalised words of ``text``, each once, in order."""
    out: list[str] = []
    for m in _SPAN.finditer(text):
        s = m.group()
        name = s[0].isupper() and len(s) > 1 and not known(s)
        if (s[0].isdigit() or name) and s not in out:
            out.append(s)
    return out[: len(SLOTS)]


def _sub(text: str, span: str, slot: str) -> str:
    return re.sub(rf"(?<!\w){re.escape(span)}(?!\w)", slot, text)


def _present(text: str, span: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(span)}(?!\w)", text) is not None


def mask_source(text: str, known: Callable[[str], bool]) -> tuple[str, dict[str, str]]:
    """``text`` with its copyable spans replaced by slots, and what each slot stands for.
    ``known(word)``: is ``word`` (as the tokenizer normalises it) a whole piece of the vocabulary?"""
    fills = dict(zip(SLOTS, _spans(text, known)))
    for slot, span in fills.items():
        text = _sub(text, span, slot)
    return text, fills


def mask_pair(src: str, tgt: str, known: Callable[[str], bool]) -> tuple[str, str]:
    """A training pair with slots for the spans its target carries verbatim."""
    spans = [s for s in _spans(src, known) if _present(tgt, s)]
    for slot, span in zip(SLOTS, spans):
        src, tgt = _sub(src, span, slot), _sub(tgt, span, slot)
    return src, tgt


def unmask(text: str, fills: dict[str, str]) -> str:
    """The translation with each slot's text put back (a slot the model dropped is lost)."""
    for slot, span in fills.items():
        text = text.replace(slot, span)
    return text
