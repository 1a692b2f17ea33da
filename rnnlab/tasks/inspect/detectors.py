"""Detectors: one number per token saying what it is (where in its line, inside quotes, ...),
for characters and for words. Each is computed from the tokens alone, by rules a reader can
check; ``find_cells`` ranks the units by their correlation with each.

>>> d = char_detectors(list('A (b)\\n"c"'))
>>> d["inside brackets"]
[0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]
>>> d["inside quotes"]
[0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0]
"""

from __future__ import annotations

import re
from collections.abc import Sequence

VOWELS = set("aeiouAEIOU")
OPEN, CLOSE = set("([{"), set(")]}")
# a speaker's name on a line of its own, as in the Shakespeare corpus ("KING RICHARD III:")
SPEAKER = re.compile(r"^[A-Z][A-Z ,.'\-IVX]*:$")
# ("that" opens clauses more often than it determines: it is a clause opener only)
DETERMINERS = {
    "the", "a", "an", "this", "these", "those", "my", "your", "his", "her", "its",
    "our", "their", "some", "any", "no", "every", "each",
}  # fmt: skip
# words that open a clause which runs to the next comma, semicolon or sentence end
CLAUSE_OPENERS = {
    "that", "which", "who", "whom", "whose", "because", "although", "though", "while",
    "when", "if", "since", "unless", "until", "where", "whether", "after", "before",
}  # fmt: skip
CLAUSE_ENDS = {",", ";", ".", "!", "?", ":", "<eos>", "⟨s⟩"}
SENTENCE_ENDS = {".", "!", "?", "<eos>", "⟨s⟩"}

CHAR_DETECTORS = (
    "position in line", "inside quotes", "inside brackets", "start of line", "upper case",
    "vowel", "end of sentence", "speaker line",
)  # fmt: skip
WORD_DETECTORS = ("position in sentence", "after a determiner", "inside a clause")


def char_detectors(chars: Sequence[str]) -> dict[str, list[float]]:
    """Per character (the state after reading it): its position in the line (0 = first),
    inside double quotes / brackets (the opening mark counts as inside, the closing one not),
    first of its line, upper case, vowel, sentence end (. ! ?), part of a speaker-name line."""
    out: dict[str, list[float]] = {k: [] for k in CHAR_DETECTORS}
    pos, quote, depth, prev = 0, False, 0, "\n"
    line_of: list[int] = []
    lines, cur = [], []
    for ch in chars:
        if ch == '"':
            quote = not quote
        depth = max(0, depth + (ch in OPEN) - (ch in CLOSE))
        out["position in line"].append(float(pos))
        out["inside quotes"].append(float(quote))
        out["inside brackets"].append(float(depth > 0))
        out["start of line"].append(float(prev == "\n" and ch != "\n"))
        out["upper case"].append(float(ch.isupper()))
        out["vowel"].append(float(ch in VOWELS))
        out["end of sentence"].append(float(ch in ".!?"))
        line_of.append(len(lines))
        if ch == "\n":
            lines.append("".join(cur))
            cur, pos = [], 0
        else:
            cur.append(ch)
            pos += 1
        prev = ch
    lines.append("".join(cur))
    speaker = [bool(SPEAKER.match(s.strip())) for s in lines]
    out["speaker line"] = [float(speaker[j] and c != "\n") for j, c in zip(line_of, chars)]
    return out


def word_detectors(words: Sequence[str]) -> dict[str, list[float]]:
    """Per word: its position in the sentence (0 at the sentence start token), whether the
    word before it is a determiner, and whether it lies inside a clause opened by a word such
    as "that", "which", "because" (up to the next comma, semicolon or sentence end)."""
    out: dict[str, list[float]] = {k: [] for k in WORD_DETECTORS}
    pos, clause, prev = 0, False, "<eos>"
    for w in words:
        lw = w.lower()
        if lw in SENTENCE_ENDS and w not in (".", "!", "?"):
            pos = 0  # a sentence boundary token starts the count
        out["position in sentence"].append(float(pos))
        out["after a determiner"].append(float(prev in DETERMINERS))
        if lw in CLAUSE_ENDS:
            clause = False
        out["inside a clause"].append(float(clause))
        if lw in CLAUSE_OPENERS:
            clause = True
        pos = 0 if w in (".", "!", "?") else pos + 1
        prev = lw
    return out


def detectors_for(level: str, tokens: Sequence[str]) -> dict[str, list[float]]:
    """The detectors of a char model (``level`` "char") or a word model (anything else)."""
    return char_detectors(tokens) if level == "char" else word_detectors(tokens)
